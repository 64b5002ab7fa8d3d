/**
 * The real Pulumi engine for tests: the CLI, language runtime and the real command and docker
 * providers built by scripts/setup-pulumi-tools.sh, driven through the Automation API with a
 * throwaway file backend. Programs are inline (they run in the test's process and talk to the real
 * CLI over gRPC) or a project directory (`EngineStack.fromDir`: the CLI starts the Node.js language
 * host on it, exactly as `pulumi up` in that directory does); the CLI runs the real provider
 * plugins. Nothing here stands in for a plugin.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import {
  type EngineEvent,
  LocalWorkspace,
  PulumiCommand,
  type OpMap,
  type OutputMap,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";

const run = promisify(execFile);
export const REPO = path.resolve(__dirname, "..", "..");
const TOOLS = process.env.PULUMI_TOOLS_DIR ?? path.join(REPO, ".pulumi-tools");
const BIN = path.join(TOOLS, "bin");
const PULUMI_HOME = process.env.PULUMI_HOME ?? path.join(TOOLS, "home");

/** Why the engine cannot run here (tools not set up), or undefined when it can. */
export function engineUnavailableReason(): string | undefined {
  const needed = [
    path.join(BIN, "pulumi"),
    path.join(BIN, "pulumi-language-nodejs"),
    path.join(PULUMI_HOME, "plugins", "resource-command-v1.2.1", "pulumi-resource-command"),
    path.join(PULUMI_HOME, "plugins", "resource-docker-v5.2.0", "pulumi-resource-docker"),
  ];
  const missing = needed.filter((f) => !fs.existsSync(f));
  return missing.length > 0
    ? `the Pulumi toolchain is not set up (missing ${missing.map((m) => path.relative(REPO, m)).join(", ")}): run scripts/setup-pulumi-tools.sh`
    : undefined;
}

/** The environment every engine run gets: offline, local backend, lab passphrase. */
export function engineEnv(backendDir: string): Record<string, string> {
  return {
    PATH: `${BIN}:${process.env.PATH ?? ""}`,
    PULUMI_HOME,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "pulumi-swarm-lab-only",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    NODE_PATH: path.join(REPO, "node_modules"),
  };
}

/** Resource changes of an operation without the "same" count: empty means nothing changed. */
export function changes(summary: OpMap | Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(summary ?? {})) if (op !== "same" && n) out[op] = n;
  return out;
}

/** What one engine operation ended with. */
export interface EngineResult {
  ok: boolean;
  seconds: number;
  changes: Record<string, number>;
  outputs: OutputMap;
  /** The engine's own output of this operation. */
  output: string;
  /** The error's message when it failed. */
  error?: string;
}

/**
 * Runs one engine operation, prints it and adds its timing line to `timings`; when it failed (and
 * `mustSucceed`), throws with the engine's error and the tail of its output.
 */
export async function recordOp(
  timings: string[],
  title: string,
  fn: () => Promise<EngineResult>,
  mustSucceed = true,
): Promise<EngineResult> {
  const result = await fn();
  const line = `${title}: ${result.seconds.toFixed(1)} s, changes ${JSON.stringify(result.changes)}${result.ok ? "" : " FAILED"}`;
  timings.push(line);
  console.log(`engine ${line}`);
  if (mustSucceed && !result.ok)
    throw new Error(`${result.error}\n--- engine output (tail)\n${result.output.slice(-8000)}`);
  return result;
}

/** One `pulumi` CLI run: its command (`up`, `stack select`, ...), start (epoch ms) and wall time. */
export interface CliRun {
  command: string;
  startedAt: number;
  seconds: number;
}

/** The CLI, each of its runs timed into `runs` (an internal method of PulumiCommand, wrapped, not replaced). */
async function timedCommand(runs: CliRun[]): Promise<PulumiCommand> {
  const pulumiCommand = await PulumiCommand.get({ root: TOOLS, skipVersionCheck: false });
  const cli = pulumiCommand as unknown as { run: (args: string[], ...rest: unknown[]) => Promise<unknown> };
  const run = cli.run.bind(pulumiCommand);
  cli.run = async (args, ...rest) => {
    const started = Date.now();
    try {
      return await run(args, ...rest);
    } finally {
      runs.push({
        startedAt: started,
        command: args[0] === "stack" ? `stack ${args[1]}` : args[0],
        seconds: (Date.now() - started) / 1000,
      });
    }
  };
  return pulumiCommand;
}

/** One stack on a fresh local backend, driven by the real CLI. */
export class EngineStack {
  /** Every line the engine printed, across all operations (for leak checks). */
  readonly log: string[] = [];
  /** When set, receives every engine event of each operation (per-resource timings, e.g. bench/). */
  onEvent?: (event: EngineEvent) => void;

  private constructor(
    readonly stack: Stack,
    /** The inline program; undefined for a project directory (the language host runs its `main`). */
    private program: PulumiFn | undefined,
    readonly workDir: string,
    private readonly env: Record<string, string>,
    /** True when the work directory is the caller's (a project directory): remove() keeps it. */
    private readonly ownsNothing = false,
    /**
     * Every CLI run of this stack, its start (epoch ms) and wall time: the operation itself (`up`, `preview`, ...)
     * and what the Automation API runs around it (`stack select`, `stack output`, `stack history`).
     */
    readonly cliRuns: CliRun[] = [],
  ) {}

  /** A new stack of `project` with `program`, its state in a fresh temporary backend. */
  static async create(project: string, program: PulumiFn, stackName = "test"): Promise<EngineStack> {
    const reason = engineUnavailableReason();
    if (reason) throw new Error(reason);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-${project}-`));
    const backend = path.join(workDir, "state");
    fs.mkdirSync(backend);
    const env = engineEnv(backend);
    const cliRuns: CliRun[] = [];
    const pulumiCommand = await timedCommand(cliRuns);
    const stack = await LocalWorkspace.createStack(
      { projectName: project, stackName, program },
      {
        workDir,
        envVars: env,
        pulumiHome: PULUMI_HOME,
        pulumiCommand,
        projectSettings: { name: project, runtime: "nodejs", backend: { url: env.PULUMI_BACKEND_URL } },
      },
    );
    return new EngineStack(stack, program, workDir, env, false, cliRuns);
  }

  /**
   * A new stack of the Pulumi project in `projectDir` (its Pulumi.yaml, package.json and
   * node_modules), run by the CLI and the Node.js language host in that directory as a user's
   * `pulumi up` runs it; its state in a fresh temporary backend. `env` is added to the engine's
   * environment (the program runs in its own process, not in the test's).
   */
  static async fromDir(
    projectDir: string,
    stackName = "test",
    env: Record<string, string> = {},
  ): Promise<EngineStack> {
    const reason = engineUnavailableReason();
    if (reason) throw new Error(reason);
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-state-"));
    const allEnv = { ...engineEnv(backend), ...env };
    const cliRuns: CliRun[] = [];
    const pulumiCommand = await timedCommand(cliRuns);
    const stack = await LocalWorkspace.createStack(
      { stackName, workDir: projectDir },
      { workDir: projectDir, envVars: allEnv, pulumiHome: PULUMI_HOME, pulumiCommand },
    );
    const engine = new EngineStack(stack, undefined, projectDir, allEnv, true, cliRuns);
    engine.stateDir = backend;
    return engine;
  }

  /** Sets one variable of the engine's environment for the next operations, or removes it (undefined). */
  setEnv(name: string, value: string | undefined): void {
    const vars = (this.stack.workspace as LocalWorkspace).envVars;
    if (value === undefined) delete vars[name];
    else vars[name] = value;
  }

  /** The backend directory of a {@link fromDir} stack (removed with the stack). */
  private stateDir?: string;

  private async op(
    what: string,
    fn: (
      onOutput: (line: string) => void,
    ) => Promise<{ summary?: { resourceChanges?: OpMap }; outputs?: OutputMap; changeSummary?: OpMap }>,
  ): Promise<EngineResult> {
    const lines: string[] = [];
    const onOutput = (text: string) => {
      lines.push(text);
      this.log.push(text);
      if (process.env.ENGINE_VERBOSE) process.stderr.write(text);
    };
    const start = Date.now();
    try {
      const r = await fn(onOutput);
      return {
        ok: true,
        seconds: (Date.now() - start) / 1000,
        changes: changes(r.summary?.resourceChanges ?? r.changeSummary),
        outputs: r.outputs ?? {},
        output: lines.join(""),
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.push(message);
      return {
        ok: false,
        seconds: (Date.now() - start) / 1000,
        changes: {},
        outputs: {},
        output: lines.join(""),
        error: `${what} failed: ${message}`,
      };
    }
  }

  /** `pulumi up` (with `program` replacing the current inline one when given). */
  up(program?: PulumiFn, opts: { refresh?: boolean } = {}): Promise<EngineResult> {
    if (program) this.program = program;
    return this.op("up", (onOutput) =>
      this.stack.up({
        program: this.program,
        onOutput,
        onEvent: this.onEvent,
        refresh: opts.refresh,
        color: "never",
      }),
    );
  }

  /** `pulumi preview` (with `--diff`), the plan in the engine's words. */
  preview(program?: PulumiFn, opts: { refresh?: boolean } = {}): Promise<EngineResult> {
    if (program) this.program = program;
    return this.op("preview", (onOutput) =>
      this.stack.preview({
        program: this.program,
        onOutput,
        onEvent: this.onEvent,
        refresh: opts.refresh,
        diff: true,
        color: "never",
      }),
    );
  }

  /** `pulumi refresh`. */
  refresh(): Promise<EngineResult> {
    return this.op("refresh", (onOutput) => this.stack.refresh({ onOutput, color: "never" }));
  }

  /** `pulumi destroy`. */
  destroy(): Promise<EngineResult> {
    return this.op("destroy", (onOutput) =>
      this.stack.destroy({ onOutput, onEvent: this.onEvent, color: "never" }),
    );
  }

  /** `pulumi stack export` through the CLI, secrets encrypted (the Automation API's export decrypts them). */
  async exportState(): Promise<string> {
    const { stdout } = await run("pulumi", ["stack", "export", "--stack", this.stack.name], {
      cwd: this.workDir,
      env: { ...process.env, ...this.env },
      maxBuffer: 64 << 20,
    });
    return stdout;
  }

  /**
   * A suite's last word: destroy what is left (once more after a refresh when the first destroy
   * fails, e.g. on a host that went away), then remove the stack. Never throws.
   */
  async cleanUp(): Promise<void> {
    const down = await this.destroy();
    if (!down.ok) {
      console.log(`cleanup destroy failed, refreshing and retrying: ${down.error?.slice(-2000)}`);
      await this.refresh();
      await this.destroy();
    }
    await this.remove();
  }

  /**
   * Removes the stack's state and its work directory (the resources must be gone already); for a
   * {@link fromDir} stack, its state and the stack's config file, not the project directory.
   */
  async remove(): Promise<void> {
    await this.stack.workspace.removeStack(this.stack.name, { force: true }).catch(() => undefined);
    if (this.ownsNothing) {
      if (this.stateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
      fs.rmSync(path.join(this.workDir, `Pulumi.${this.stack.name}.yaml`), { force: true });
      return;
    }
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** The version the built CLI reports. */
export function cliVersion(): string {
  return execFileSync(path.join(BIN, "pulumi"), ["version"], { encoding: "utf8" }).trim();
}
