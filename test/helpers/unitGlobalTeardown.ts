import * as fs from "fs";
import * as os from "os";

/** Removes the key directory unitGlobalSetup made (only that kind of directory). */
export default function unitGlobalTeardown(): void {
  const dir = process.env.PULUMI_SWARM_SSH_DIR;
  if (dir?.startsWith(`${os.tmpdir()}/pulumi-swarm-unit-ssh-`))
    fs.rmSync(dir, { recursive: true, force: true });
}
