import { spawnSync } from "child_process";
import * as path from "path";
import { labUnavailableReason } from "./lab";

/**
 * Before the lab suites: provide the real Pulumi toolchain (scripts/setup-pulumi-tools.sh: cached
 * in seconds, ~20 min cold on 2 cores, progress on stderr). Where the lab cannot run at all the
 * suites say so themselves; a failed setup fails the run.
 */
export default function globalSetup(): void {
  if (labUnavailableReason()) return;
  const script = path.join(__dirname, "..", "..", "scripts", "setup-pulumi-tools.sh");
  const result = spawnSync("bash", [script], { stdio: ["ignore", process.stderr, process.stderr] });
  if (result.status !== 0) {
    throw new Error(
      `scripts/setup-pulumi-tools.sh failed (exit ${result.status}): the lab suites need the real Pulumi toolchain`,
    );
  }
}
