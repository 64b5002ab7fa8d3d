/**
 * A user's `pulumi up`, measured: the benchmark's inline program (bench/cluster.ts) runs inside the
 * benchmark's own process, which loads the library, @pulumi/pulumi and the closure serializer once
 * for all operations. A user's `pulumi up` starts a new Node.js language host every time, which
 * loads them again and, for a TypeScript program, compiles it with ts-node (type-checked unless
 * PULUMI_NODEJS_TRANSPILE_ONLY=true). This part measures that path on the same lab hosts: the
 * package as users install it (`npm pack`, test/engine/packedPackage.ts), a TypeScript project
 * importing it by name, run from its directory by the real CLI and language host.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineStack } from "../test/engine/engine";
import { packRepository, userProject } from "../test/engine/packedPackage";
import type { Lab } from "../test/lab/lab";
import { measured, MemorySampler } from "./measure";
import { round, type UserProjectFigure } from "./table";

/** The same cluster as the inline program, written as a user writes it. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { existingHosts, SwarmCluster } from "pulumi-swarm";

const config = new pulumi.Config();
const servers = config.requireObject<{ name: string; address: string }[]>("servers");
const managers = config.requireNumber("managers");
const group = existingHosts(
  servers.map((s) => ({ name: s.name, host: s.address, hostKey: config.require("hostKey") })),
  { privateKey: config.requireSecret("privateKey") },
);
const cluster = new SwarmCluster("bench", {
  nodes: group.hosts.map((host, i) => ({ host, role: i < managers ? "manager" : "worker" })),
});
export const nodeIds = cluster.nodeIds;
`;

/** The packed package and the project, made once per benchmark run. */
export class UserProject {
  private constructor(
    private readonly work: string,
    readonly projectDir: string,
    readonly modules: string,
    /** `npm pack` (with its build) and the install into the project, s. */
    readonly prepareSeconds: number,
  ) {}

  static async make(): Promise<UserProject> {
    const started = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-user-"));
    const pkg = await packRepository(path.join(work, "pack"));
    const projectDir = path.join(work, "project");
    const modules = await userProject(projectDir, "swarm-bench-user", pkg, PROGRAM);
    return new UserProject(work, projectDir, modules, (Date.now() - started) / 1000);
  }

  /**
   * On the lab's first `managers + workers` hosts, out of any swarm: `up`, then a no-change `up`
   * and a `preview` type-checked (Pulumi's default for TypeScript) and again transpile-only, then
   * `destroy`. Each operation's time is its `pulumi` CLI run.
   */
  async measure(lab: Lab, managers: number, workers: number): Promise<UserProjectFigure> {
    const sampler = new MemorySampler();
    const stack = await EngineStack.fromDir(this.projectDir, `lab${lab.id}-user`, {
      // Only the project's node_modules: what the package declares, as for a user.
      NODE_PATH: this.modules,
      PULUMI_SWARM_SSH_DIR: process.env.PULUMI_SWARM_SSH_DIR ?? "",
    });
    let destroyed = false;
    try {
      await stack.stack.setAllConfig({
        servers: {
          value: JSON.stringify(
            lab.hosts.slice(0, managers + workers).map((h) => ({ name: h.name, address: h.ip })),
          ),
        },
        managers: { value: String(managers) },
        hostKey: { value: lab.hostPublicKey },
        privateKey: { value: lab.privateKey, secret: true },
      });
      const up = await measured(sampler, stack, () => stack.up());
      const typeChecked = {
        noChangeUp: await measured(sampler, stack, () => stack.up()),
        preview: await measured(sampler, stack, () => stack.preview()),
      };
      stack.setEnv("PULUMI_NODEJS_TRANSPILE_ONLY", "true");
      const transpileOnly = {
        noChangeUp: await measured(sampler, stack, () => stack.up()),
        preview: await measured(sampler, stack, () => stack.preview()),
      };
      stack.setEnv("PULUMI_NODEJS_TRANSPILE_ONLY", undefined);
      const destroy = await measured(sampler, stack, () => stack.destroy());
      destroyed = destroy.ok;
      return {
        managers,
        workers,
        prepareSeconds: round(this.prepareSeconds, 1),
        up,
        typeChecked,
        transpileOnly,
        destroy,
      };
    } finally {
      // What a failed run left on the hosts goes (cleanUp destroys, once more after a refresh).
      if (destroyed) await stack.remove();
      else await stack.cleanUp();
    }
  }

  remove(): void {
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}
