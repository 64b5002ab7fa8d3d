import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Unit tests build clusters whose Docker provider writes key files (components/cluster/dockerSsh.ts):
 * one throwaway directory for the whole run instead of the user's ~/.pulumi-swarm (workers inherit it).
 */
export default function unitGlobalSetup(): void {
  process.env.PULUMI_SWARM_SSH_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-swarm-unit-ssh-"));
}
