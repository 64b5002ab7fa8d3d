import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { REPO } from "./engine";

const run = promisify(execFile);

/**
 * The library as it was at `commit` (its components, index.ts and package.json, extracted with
 * `git archive` into a new temporary directory next to a symlink to this repo's node_modules), so
 * an upgrade test can run an older release in this process against the same stack and backend.
 * Returns the directory; the caller removes it.
 */
export async function extractLibrary(commit: string, label: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-swarm-${label}-`));
  await run("bash", [
    "-c",
    `git -C ${REPO} archive ${commit} components index.ts package.json | tar -x -C ${dir}`,
  ]);
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}
