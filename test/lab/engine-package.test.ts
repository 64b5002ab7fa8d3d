import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineResult, EngineStack, REPO, cliVersion, recordOp } from "../engine/engine";
import { PackedPackage, packRepository, userProject } from "../engine/packedPackage";
import { compileExamples, exportedValueNames, readmeBlocks } from "../helpers/readmeExamples";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(30 * 60_000);

/**
 * A user's program, written as a user writes it: it imports the package by its name and nothing
 * else of this repository. Its servers, keys and registry come from stack config.
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { existingHosts, OverlayNetwork, SwarmCluster, SwarmService } from "pulumi-swarm";

const config = new pulumi.Config();
const servers = config.requireObject<{ name: string; address: string }[]>("servers");
const hostKey = config.require("hostKey");

const group = existingHosts(
  servers.map((s) => ({ name: s.name, host: s.address, hostKey })),
  { privateKey: config.requireSecret("privateKey") },
);
// The registry arrives as an Output (as a HarborHost's address would): checked when it resolves.
const registry = pulumi.output(config.require("registry"));

const cluster = new SwarmCluster("pkg", {
  nodes: group.hosts.map((host, i) => ({
    host,
    role: i === 0 ? "manager" : "worker",
    labels: { tier: i === 0 ? "control" : "web" },
  })),
  network: group.clusterNetwork,
  insecureRegistries: [registry],
});
const net = new OverlayNetwork("pkg-net", { cluster, networkName: "pkg-net" });
const web = new SwarmService("pkg-web", {
  cluster,
  serviceName: "pkg-web",
  image: "lab/busybox:latest",
  command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
  replicas: 2,
  endpointMode: "dnsrr",
  networks: [net],
});

export const nodeIds = cluster.nodeIds;
export const managerAddress = cluster.managerAddress;
export const serviceId = web.serviceId;
`;

interface StateResource {
  urn: string;
  type: string;
}

/**
 * The package as users install it (issue 16): `npm pack` (prepack builds bin/), the tarball
 * installed into an empty Pulumi TypeScript project in a temp directory (dependencies linked to
 * this repository's installed copies, see test/engine/packedPackage.ts), and that project run by
 * the REAL CLI and Node.js language host in its own directory on lab 161 (1 manager + 1 worker):
 * `up`, a `preview` with no changes, `destroy`. The README's TypeScript examples compile against
 * the installed package.
 */
describeLab(
  "The packed package installed in a user's project, run by the real engine (lab 161: 1 manager + 1 worker)",
  () => {
    const LAB_ID = 161;
    const GATEWAY_REGISTRY = `10.213.${LAB_ID}.1:5000`;
    let lab: Lab;
    let pkg: PackedPackage;
    let work = "";
    let projectDir = "";
    let modules = "";
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let savedAgent: string | undefined;
    let destroyed = false;
    const timings: string[] = [];

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };

    /** A stack of the user's project with the lab's servers and `registry` in its config. */
    async function projectStack(name: string, registry: string): Promise<EngineStack> {
      const s = await EngineStack.fromDir(projectDir, name, {
        // Only the project's node_modules: a dependency the package does not declare is missing.
        NODE_PATH: modules,
        PULUMI_SWARM_SSH_DIR: process.env.PULUMI_SWARM_SSH_DIR ?? "",
      });
      await s.stack.setAllConfig({
        servers: {
          value: JSON.stringify(lab.hosts.map((h) => ({ name: h.name, address: h.ip }))),
        },
        hostKey: { value: lab.hostPublicKey },
        privateKey: { value: lab.privateKey, secret: true },
        registry: { value: registry },
      });
      return s;
    }

    async function stateResources(s: EngineStack): Promise<StateResource[]> {
      const exported = JSON.parse(await s.exportState()) as { deployment: { resources?: StateResource[] } };
      return exported.deployment.resources ?? [];
    }

    beforeAll(async () => {
      savedAgent = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      work = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-swarm-package-"));
      const started = Date.now();
      pkg = await packRepository(path.join(work, "pack"));
      projectDir = path.join(work, "user-project");
      modules = await userProject(projectDir, "swarm-package-user", pkg, PROGRAM);
      console.log(
        `npm pack + install in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path.basename(pkg.tarball)}, ${pkg.size} bytes, ${pkg.files.length} files:\n  ${pkg.files.join("\n  ")}`,
      );
      lab = await Lab.fresh(LAB_ID, 2);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID}: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      releaseSshDir = useTempSshDir();
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
      releaseSshDir();
      if (work) fs.rmSync(work, { recursive: true, force: true });
      await lab?.release();
    });

    it("packs built JS and declarations only: no sources, tests, stacks, maps or secrets", () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
        main: string;
        types: string;
      };
      expect(pkg.name).toBe("pulumi-swarm");
      expect(pkg.files).toEqual(
        expect.arrayContaining(["package.json", "README.md", manifest.main, manifest.types]),
      );
      const unexpected = pkg.files.filter(
        (f) => !["package.json", "README.md"].includes(f) && !/^bin\/.+\.(js|d\.ts)$/.test(f),
      );
      expect(unexpected).toEqual([]);
      expect(pkg.files.filter((f) => /^(bin\/)?(test|stacks|scripts|bench|examples)\//.test(f))).toEqual([]);
      // Every module the entry point reaches is in it (the components tree, built).
      const sources = fs
        .readdirSync(path.join(REPO, "components"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `bin/components/${f.replace(/\.ts$/, ".js")}`);
      expect(sources.filter((f) => !pkg.files.includes(f))).toEqual([]);
      const installed = path.join(modules, "pulumi-swarm");
      expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
      expect(fs.existsSync(path.join(installed, "bin", "index.d.ts"))).toBe(true);
    });

    it("the README's TypeScript examples compile against the installed package", () => {
      const dir = path.join(projectDir, "readme");
      fs.mkdirSync(dir);
      try {
        const entry = path.join(modules, "pulumi-swarm", "bin", "index.d.ts");
        const problems = compileExamples(
          readmeBlocks(path.join(REPO, "README.md")),
          exportedValueNames(entry),
          dir,
          {
            typeRoots: [path.join(modules, "@types")],
            types: ["node"],
          },
        );
        expect(problems).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);

    it("up, a preview with no changes, destroy: the installed package through the real engine", async () => {
      stack = await projectStack(`lab${LAB_ID}`, GATEWAY_REGISTRY);
      const up = await op("up (installed package: cluster, network, service)", () => engine().up());
      expect(Object.keys(up.changes)).toEqual(["create"]);
      console.log(
        `pulumi up of the installed package, summary: ${JSON.stringify(up.changes)}; tail:\n${up.output.slice(-2500)}`,
      );
      const [manager, worker] = lab.hosts;
      const nodes = await lab.nodes(manager.name);
      expect(nodes.map((n) => [n.hostname, n.role, n.state, n.labels.tier]).sort()).toEqual(
        [
          [manager.name, "manager", "ready", "control"],
          [worker.name, "worker", "ready", "web"],
        ].sort(),
      );
      expect(up.outputs.nodeIds?.value).toEqual(Object.fromEntries(nodes.map((n) => [n.hostname, n.id])));
      expect(up.outputs.managerAddress?.value).toBe(`${manager.ip}:2377`);
      const daemon = await lab.sh(worker.name, "cat /etc/docker/daemon.json");
      expect(daemon).toContain(GATEWAY_REGISTRY);
      const running = async () =>
        (
          await lab.sh(
            manager.name,
            "docker service ps pkg-web --filter desired-state=running --format '{{.CurrentState}}'",
          )
        )
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("Running")).length;
      expect(await eventually(180, async () => (await running()) === 2)).toBe(true);

      const preview = await op("preview (no change)", () => engine().preview());
      expect(preview.changes).toEqual({});

      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      // Destroying the cluster takes the nodes out of the swarm (the service went with it).
      for (const host of lab.hosts)
        expect((await lab.sh(host.name, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
          "inactive",
        );
      expect(await stateResources(engine())).toEqual([]);
    });
  },
  { engine: true },
);
