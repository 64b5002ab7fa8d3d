import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { PackedPackage, packRepository, userProject } from "../engine/packedPackage";
import { ProcessPeaks, watchDescendants } from "../engine/processWatch";
import { describeLab, Lab, useTempSshDir } from "./lab";

jest.setTimeout(30 * 60_000);

/**
 * A user's program with arguments that arrive as Outputs (a Harbor's address and CA would), read
 * from stack config so each stack can give a bad one. Besides the library's components it has a
 * dynamic resource of its own.
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { existingHosts, RegistryTrust, SwarmCluster } from "pulumi-swarm";

const config = new pulumi.Config();
const server = config.requireObject<{ name: string; address: string }>("server");
const group = existingHosts([{ name: server.name, host: server.address, hostKey: config.require("hostKey") }], {
  privateKey: config.requireSecret("privateKey"),
});
const registry = pulumi.output(config.require("registry"));
if (config.require("component") === "cluster") {
  new SwarmCluster("late", { nodes: [{ host: group.hosts[0], role: "manager" }], insecureRegistries: [registry] });
} else {
  new RegistryTrust("late", { hosts: group.hosts, registry, caCertificate: pulumi.output(config.get("registryCa")) });
}

const mine: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: "mine-1", outs: inputs };
  },
};
class Mine extends pulumi.dynamic.Resource {
  constructor(name: string) {
    super(mine, name, { note: "the user's own dynamic resource" });
  }
}
new Mine("user-own");
`;

interface StateResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
}

/**
 * Late refusals through the REAL engine (lab 181, 1 host), as users run programs: the packed
 * package installed in a project that the CLI runs with the Node.js language host. That host
 * opens a V8 debugger session before every program and records each uncaught error with
 * util.inspect, the two things that once turned a refused Output into a program growing past
 * 20 GB while `pulumi up` hung. Each `up` must fail within seconds with the component's error
 * naming the argument, run nothing on the host, and keep the program's memory small.
 */
describeLab(
  "A refused Output argument fails pulumi up at once, through the real engine (lab 181: 1 host)",
  () => {
    const LAB_ID = 181;
    /**
     * The program's process is killed past this, failing the test (it once reached 21 GB; the
     * language host type-checking the program against the package's declarations takes ~1 GB).
     */
    const LIMIT_MB = 2500;
    let lab: Lab;
    let pkg: PackedPackage;
    let work = "";
    let projectDir = "";
    let modules = "";
    const stacks: EngineStack[] = [];
    let releaseSshDir = () => {};
    const timings: string[] = [];

    async function projectStack(name: string, config: Record<string, string>): Promise<EngineStack> {
      const s = await EngineStack.fromDir(projectDir, name, {
        NODE_PATH: modules,
        PULUMI_SWARM_SSH_DIR: process.env.PULUMI_SWARM_SSH_DIR ?? "",
      });
      stacks.push(s);
      const [host] = lab.hosts;
      await s.stack.setAllConfig({
        server: { value: JSON.stringify({ name: host.name, address: host.ip }) },
        hostKey: { value: lab.hostPublicKey },
        privateKey: { value: lab.privateKey, secret: true },
        ...Object.fromEntries(Object.entries(config).map(([k, value]) => [k, { value }])),
      });
      return s;
    }

    async function stateResources(s: EngineStack): Promise<StateResource[]> {
      const exported = JSON.parse(await s.exportState()) as { deployment: { resources?: StateResource[] } };
      return exported.deployment.resources ?? [];
    }

    /** `pulumi up` of `s` under the memory watch; the up, the peaks and the logins it caused. */
    async function watchedUp(title: string, s: EngineStack) {
      const offset = lab.sshdLogSize(lab.hosts[0].name);
      const watch = watchDescendants(LIMIT_MB);
      let peaks: ProcessPeaks;
      let up: EngineResult;
      try {
        up = await recordOp(timings, title, () => s.up(), false);
      } finally {
        peaks = watch.stop();
      }
      console.log(
        `${title}: ${up.seconds.toFixed(1)} s, program peak ${peaks.programPeakMb} MB (largest process ${peaks.peakMb} MB: ${peaks.peakCommand})\n${up.output.slice(-3000)}`,
      );
      return { up, peaks, logins: lab.loginsSince(lab.hosts[0].name, offset) };
    }

    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-swarm-late-"));
      pkg = await packRepository(path.join(work, "pack"));
      projectDir = path.join(work, "user-project");
      modules = await userProject(projectDir, "swarm-late-refusal", pkg, PROGRAM);
      lab = await Lab.fresh(LAB_ID, 1);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID}: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      releaseSshDir = useTempSshDir();
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      for (const s of stacks) await s.cleanUp();
      releaseSshDir();
      if (work) fs.rmSync(work, { recursive: true, force: true });
      await lab?.release();
    });

    it("SwarmCluster: an insecureRegistries Output that resolves to a path is the cluster's error; nothing runs on the host", async () => {
      const s = await projectStack(`lab${LAB_ID}-cluster`, {
        component: "cluster",
        registry: "10.0.0.9:80/v2",
      });
      const { up, peaks, logins: seen } = await watchedUp("up (cluster, refused registry Output)", s);
      expect(peaks.killed).toEqual([]);
      expect(up.ok).toBe(false);
      expect(up.error).toContain(
        'swarm:cluster:SwarmCluster "late": insecureRegistries[0]: received "10.0.0.9:80/v2". Use "host:port" (e.g. "harbor.internal:80") or a CIDR, with no scheme and no path',
      );
      expect(up.seconds).toBeLessThan(120);
      expect(peaks.programPeakMb).toBeGreaterThan(0);
      expect(peaks.programPeakMb).toBeLessThan(1500);
      // Nothing logged in to the host: no script ran there (the pin only reads the host key).
      expect(seen).toEqual([]);
      const resources = await stateResources(s);
      const commands = resources.filter((r) => r.type === "command:remote:Command");
      // Only the node's registration record, which has no create (its delete deregisters).
      expect(commands.map((r) => r.urn.split("::").pop())).toEqual([
        `late-${lab.hosts[0].name}-registration`,
      ]);
      expect(commands[0].inputs?.create).toBeUndefined();
      // The user's own dynamic resource was created beside the library's.
      expect(resources.filter((r) => r.urn.endsWith("::user-own")).map((r) => r.type)).toEqual([
        "pulumi-nodejs:dynamic:Resource",
      ]);
      expect(
        (await lab.sh(lab.hosts[0].name, "cat /etc/docker/daemon.json 2>/dev/null || true")).includes(
          "10.0.0.9",
        ),
      ).toBe(false);
    });

    it("RegistryTrust: a caCertificate Output that is not PEM is the trust's error; nothing runs on the host", async () => {
      const s = await projectStack(`lab${LAB_ID}-trust`, {
        component: "trust",
        registry: "10.0.0.9",
        registryCa: "not a certificate",
      });
      const { up, peaks, logins: seen } = await watchedUp("up (trust, refused CA Output)", s);
      expect(peaks.killed).toEqual([]);
      expect(up.ok).toBe(false);
      expect(up.error).toContain(
        'swarm:cicd:RegistryTrust "late": caCertificate: received "(not PEM)". Give a PEM certificate starting with -----BEGIN CERTIFICATE-----.',
      );
      expect(up.seconds).toBeLessThan(120);
      expect(peaks.programPeakMb).toBeLessThan(1500);
      expect(seen).toEqual([]);
      const resources = await stateResources(s);
      expect(resources.filter((r) => r.type === "command:remote:Command")).toEqual([]);
      expect(resources.filter((r) => r.urn.endsWith("::user-own")).length).toBe(1);
      expect(
        (
          await lab.sh(
            lab.hosts[0].name,
            "test -e /etc/docker/certs.d/10.0.0.9 && echo present || echo absent",
          )
        ).trim(),
      ).toBe("absent");
    });
  },
  { engine: true },
);
