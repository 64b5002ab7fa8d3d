import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun, settle, valueOf } from "../helpers/mocks";
import { divertUnhandledRejections } from "../helpers/unhandled";
import type * as api from "../../index";

/*
 * Values that can come from another resource are Inputs: an Output is taken as is and held, when it
 * resolves, to the rule and message a known value gets, before any resource uses it.
 */

let run: MockRun;
let lib: typeof api;
const rejections: string[] = [];
/** The rejections themselves (errors): what they are tied to matters, not only their text. */
const reasons: unknown[] = [];
let restore = () => {};

beforeAll(async () => {
  run = await installMocks({
    newResource: (args) =>
      args.type === "command:remote:Command" && args.name.endsWith("-init")
        ? {
            ...args.inputs,
            stdout: '{"clusterId":"c","nodeId":"id-1","workerToken":"w","managerToken":"m","unlockKey":""}\n',
          }
        : undefined,
  });
  lib = await import("../../index");
  restore = divertUnhandledRejections((reason) => {
    reasons.push(reason);
    rejections.push(String((reason as Error)?.message ?? reason));
  });
});
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 4000));
  restore();
}, 30_000);

const host = (n: number): api.SwarmHost => ({
  name: `node-${n}`,
  connection: { host: `10.0.0.${n}`, user: "root", privateKey: pulumi.secret("K") },
  advertiseAddr: `10.0.0.${n}`,
});

describe("Inputs where a value can come from another resource", () => {
  it("nodes built in a variable need no `as const`; labels may hold Outputs", async () => {
    const nodes = [
      { host: host(1), role: "manager", labels: { zone: pulumi.output("a") } },
      { host: host(2), role: "worker", availability: "drain" },
    ];
    const cluster = new lib.SwarmCluster("vars", { nodes, dockerProvider: false });
    await valueOf(cluster.nodeIds);
    const state = run.resources.find((r) => r.name === "vars-node-1-node");
    expect(state?.inputs.labels).toEqual({ zone: "a" });
    expect(run.resources.find((r) => r.name === "vars-node-2-node")?.inputs.availability).toBe("drain");
  });

  it("a bad role from a variable still fails at construction, naming it", () => {
    const nodes = [{ host: host(1), role: "boss" }];
    expect(() => new lib.SwarmCluster("role", { nodes })).toThrow(
      'swarm:cluster:SwarmCluster "role": nodes[0].role: received "boss". Use "manager" or "worker".',
    );
  });

  it("insecureRegistries and registryMirrors take Outputs (a Harbor's address)", async () => {
    const cluster = new lib.SwarmCluster("reg", {
      nodes: [{ host: host(1), role: "manager" }],
      insecureRegistries: [pulumi.output("10.0.0.9:80")],
      registryMirrors: [pulumi.output("https://mirror.internal")],
      dockerProvider: false,
    });
    await valueOf(cluster.nodeIds);
    expect(String(run.named("reg-node-1-prepare").inputs.create)).toContain(
      '{"insecure-registries":["10.0.0.9:80"],"registry-mirrors":["https://mirror.internal"]}',
    );
  });

  /** Commands that would run something on a host (a registration without `create` runs nothing). */
  const hostCommandsSince = (before: number) =>
    run.resources
      .slice(before)
      .filter((r) => r.type === "command:remote:Command" && r.inputs.create !== undefined)
      .map((r) => r.name);

  /** The rejections since `seen` that carry `message`. */
  const refusals = (seen: number, message: string) =>
    reasons.slice(seen).filter((r) => r instanceof Error && r.message.includes(message)) as Error[];

  // These two come after a SwarmCluster, whose dynamic providers' serialization left a debugger
  // session on: the registry case once grew past 20 GB here (its check threw after an await; see
  // late-refusal.test.ts, which also covers the language host's own setup).
  it("a registry Output that resolves to a bad value is the cluster's ResourceError; nothing runs on a host", async () => {
    const before = run.resources.length;
    const seen = reasons.length;
    const cluster = new lib.SwarmCluster("badreg", {
      nodes: [{ host: host(1), role: "manager" }],
      insecureRegistries: [pulumi.output("10.0.0.9:80/v2")],
      dockerProvider: false,
    });
    await settle();
    await new Promise((r) => setTimeout(r, 200));
    const errors = refusals(
      seen,
      'swarm:cluster:SwarmCluster "badreg": insecureRegistries[0]: received "10.0.0.9:80/v2". Use "host:port" (e.g. "harbor.internal:80") or a CIDR, with no scheme and no path: a path stops dockerd from starting.',
    );
    expect(errors.length).toBeGreaterThan(0);
    // Tied to the cluster: the engine reports it on the component's URN.
    expect(errors.every((e) => pulumi.ResourceError.isInstance(e) && e.resource === cluster)).toBe(true);
    expect(hostCommandsSince(before)).toEqual([]);
  });

  it("a CA certificate Output that is not PEM is RegistryTrust's ResourceError; no trust command", async () => {
    const before = run.resources.length;
    const seen = reasons.length;
    const trust = new lib.RegistryTrust("badca", {
      hosts: [host(1)],
      registry: pulumi.output("10.0.0.9"),
      caCertificate: pulumi.output<string | undefined>("not a certificate"),
    });
    await settle();
    await new Promise((r) => setTimeout(r, 200));
    const errors = refusals(
      seen,
      'swarm:cicd:RegistryTrust "badca": caCertificate: received "(not PEM)". Give a PEM certificate starting with -----BEGIN CERTIFICATE-----.',
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => pulumi.ResourceError.isInstance(e) && e.resource === trust)).toBe(true);
    expect(hostCommandsSince(before)).toEqual([]);
  });

  it("an Output label is held to the label rule when it resolves", async () => {
    new lib.SwarmCluster("badlabel", {
      nodes: [{ host: host(1), role: "manager", labels: pulumi.output({ "pulumi-swarm.x": "y" }) }],
      dockerProvider: false,
    });
    await settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(rejections.join("\n")).toContain(
      'swarm:cluster:SwarmCluster "badlabel": nodes[0].labels: received "pulumi-swarm.x". Use label keys',
    );
    expect(run.resources.filter((r) => r.name === "badlabel-node-1-node")).toEqual([]);
  });

  it("the documented Harbor wiring compiles without a cast: registry and CA as Outputs", async () => {
    const harbor = {
      registry: pulumi.output("10.0.0.9"),
      caCertificate: pulumi.output<string | undefined>(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
      ),
    };
    const trust = new lib.RegistryTrust("trust", {
      hosts: [host(1)],
      registry: harbor.registry,
      caCertificate: harbor.caCertificate,
    });
    expect(await valueOf(trust.certificateDir)).toBe("/etc/docker/certs.d/10.0.0.9");
    const auth: api.RegistryAuth = {
      server: harbor.registry,
      username: "robot",
      password: pulumi.secret("p"),
    };
    expect(auth.server).toBe(harbor.registry);
  });

  it("adminCidrs take Outputs, checked when they resolve; known ones keep their rule names", async () => {
    const fw = await import("../../components/hosts/firewall");
    const rules = fw.swarmFirewallRules({
      adminCidrs: ["203.0.113.7/32", pulumi.output("198.51.100.0/24")],
      advertise: "private",
      encryptedOverlays: false,
    });
    const ssh = rules.find((r) => r.purpose === "ssh");
    expect(ssh?.sources.map((s) => (s.kind === "cidr" ? s.label : s.kind))).toEqual([
      "203-0-113-7-32",
      "admin1",
    ]);
    const world = fw.swarmFirewallRules(
      { adminCidrs: [pulumi.output("0.0.0.0/0")], advertise: "private", encryptedOverlays: false },
      { type: "swarm:hosts:AwsHosts", name: "w" },
    );
    const source = world.find((r) => r.purpose === "ssh")?.sources[0];
    let message = "";
    try {
      await (
        pulumi.output(source?.kind === "cidr" ? source.cidr : "") as unknown as {
          promise(): Promise<unknown>;
        }
      ).promise();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'swarm:hosts:AwsHosts "w": adminCidrs[0]: received "0.0.0.0/0". SSH open to the whole internet needs `allowSshFromAnywhere: true`; prefer your own /32.',
    );
  });
});
