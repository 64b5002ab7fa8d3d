import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Runs host scripts of the delivery platform locally with bash, in a sandbox directory whose
 * PATH holds only the tools named (real ones linked, fakes written): no real docker, curl or
 * network is ever reachable from these scripts.
 */
export interface Sandbox {
  dir: string;
  bin: string;
  run(script: string, options?: { input?: string; env?: Record<string, string> }): RunResult;
  write(relative: string, content: string, mode?: number): string;
  read(relative: string): string;
  exists(relative: string): boolean;
  cleanup(): void;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const REAL_TOOLS = [
  "awk",
  "base64",
  "basename",
  "cat",
  "chmod",
  "cmp",
  "cp",
  "cut",
  "df",
  "dirname",
  "grep",
  "head",
  "id",
  "install",
  "mkdir",
  "mktemp",
  "mv",
  "rm",
  "rmdir",
  "sed",
  "sha256sum",
  "sleep",
  "stat",
  "tail",
  "tar",
  "gzip",
  "touch",
  "tr",
];

function which(tool: string): string {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const candidate = path.join(dir, tool);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`test needs ${tool}`);
}

export function sandbox(fakes: Record<string, string> = {}): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cicd-test-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  for (const tool of REAL_TOOLS) {
    if (!(tool in fakes)) fs.symlinkSync(which(tool), path.join(bin, tool));
  }
  for (const [tool, body] of Object.entries(fakes)) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  const bash = which("bash");
  return {
    dir,
    bin,
    run(script, options = {}) {
      // As asRemoteCommand runs it: the command's stdin on fd 0 and on fd 3.
      const result = spawnSync(bash, ["-c", `exec 3<&0\n${script}`], {
        input: options.input ?? "",
        env: { PATH: bin, HOME: path.join(dir, "home"), LC_ALL: "C", ...options.env },
        cwd: dir,
        encoding: "utf8",
        timeout: 20_000,
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    write(relative, content, mode = 0o644) {
      const file = path.join(dir, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content, { mode });
      return file;
    },
    read: (relative) => fs.readFileSync(path.join(dir, relative), "utf8"),
    exists: (relative) => fs.existsSync(path.join(dir, relative)),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
