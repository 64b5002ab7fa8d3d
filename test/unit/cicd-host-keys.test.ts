/**
 * Host key pins of the delivery platform's components and of bastions, under mocks (issue 12,
 * item 4): each component that reaches a host over SSH pins the host's key like the SwarmCluster
 * does (`<component>-<host>-host-key`), one pin per distinct bastion
 * (`<component>-bastion.<address>[-<port>]-host-key`), every command depends on its host's pins,
 * hosts that come pinned from the cluster are not pinned again, `hostKeys: "off"` pins nothing, and
 * bad `hostKeys` / `acceptHostKeys` are refused before anything is created. What the pins do
 * against a real sshd is in test/lab (compose-host, engine-host-keys).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretInput, MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { pinnedClusterAnswer } from "../helpers/pinnedClusterMocks";
import type { SwarmHost } from "../../components/hosts/types";

jest.setTimeout(60_000);

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
const COMMAND = "command:remote:Command";
const FINGERPRINT = `SHA256:${"A".repeat(43)}`;
const COMPOSE = "services:\n  app:\n    image: busybox\n";
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
/** What a mocked pin "learns": one key per host (or bastion label). */
const learned = (host: string) => `ssh-ed25519 AAAAC3${Buffer.from(`learned:${host}`).toString("base64")}`;
const GIVEN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGivenGivenGivenGivenGivenGivenGivenGiven";

type Lib = typeof import("../../index");
interface Conn {
  host: string;
  hostKey?: string;
  proxy?: { host: string; port?: number; hostKey?: string };
}

let run: MockRun;
let lib: Lib;
let sshDir = "";

beforeAll(async () => {
  sshDir = fs.mkdtempSync(path.join(os.tmpdir(), "cicd-hk-ssh-"));
  process.env.PULUMI_SWARM_SSH_DIR = sshDir;
  run = await installMocks({
    newResource: (args) => {
      if (args.type.startsWith("tls:"))
        return {
          ...(args.inputs as Record<string, unknown>),
          privateKeyOpenssh: "PRIVATE",
          privateKeyPem: "PRIVATE",
          publicKeyOpenssh: "ssh-ed25519 AAAAPUBLIC\n",
          certPem: CA,
          certRequestPem: "CSR",
        };
      return pinnedClusterAnswer(args, learned);
    },
  });
  lib = await import("../../index");
});

afterAll(() => {
  delete process.env.PULUMI_SWARM_SSH_DIR;
  fs.rmSync(sshDir, { recursive: true, force: true });
});

/** A server reached directly (or through `bastion`), with the lab-free addresses of a mocks test. */
const server = (name: string, address: string, extra: { hostKey?: string } = {}): SwarmHost =>
  lib.existingHosts([{ name, host: address, privateKey: "SSHKEY", ...extra }]).hosts[0];

const connectionOf = (name: string | { inputs: Record<string, unknown> }) =>
  unwrapSecrets((typeof name === "string" ? run.named(name) : name).inputs.connection) as Conn;
const commandsOf = (prefix: string) => run.ofType(COMMAND).filter((r) => r.name.startsWith(prefix));
const pinsOf = (prefix: string) =>
  run
    .ofType(DYNAMIC)
    .filter((r) => r.name.startsWith(prefix) && r.name.endsWith("-host-key"))
    .map((r) => r.name)
    .sort();

describe("every delivery-platform component pins the keys of the hosts it reaches", () => {
  const cases: [string, string, () => unknown, string[]][] = [
    [
      "ComposeHost",
      "ch-",
      () => new lib.ComposeHost("ch", { host: server("tools-1", "203.0.113.21"), composeContent: COMPOSE }),
      ["ch-tools-1-host-key"],
    ],
    [
      "GitLabHost",
      "gl-",
      () => new lib.GitLabHost("gl", { host: server("gitlab-1", "203.0.113.22") }),
      ["gl-gitlab-1-host-key"],
    ],
    [
      "SonarQubeHost",
      "sq-",
      () => new lib.SonarQubeHost("sq", { host: server("sonar-1", "203.0.113.23") }),
      ["sq-sonar-1-host-key"],
    ],
    [
      "HarborHost",
      "hb-",
      () =>
        new lib.HarborHost("hb", {
          host: server("harbor-1", "203.0.113.24"),
          installerSha256: "0".repeat(64),
        }),
      ["hb-harbor-1-host-key"],
    ],
    [
      "JenkinsHost",
      "jk-",
      () =>
        new lib.JenkinsHost("jk", {
          host: server("jenkins-1", "203.0.113.25"),
          authorizeOn: [server("mgr-1", "203.0.113.26")],
          deployTargets: [{ service: "web", repository: "203.0.113.24/team/web" }],
        }),
      ["jk-jenkins-1-host-key", "jk-mgr-1-host-key"],
    ],
    [
      "RegistryTrust",
      "rt-",
      () =>
        new lib.RegistryTrust("rt", {
          hosts: [server("node-1", "203.0.113.27"), server("node-2", "203.0.113.28")],
          registry: "203.0.113.24:443",
          caCertificate: CA,
        }),
      ["rt-node-1-host-key", "rt-node-2-host-key"],
    ],
    [
      "DeployKey",
      "dk-",
      () =>
        new lib.DeployKey("dk", {
          managers: [server("mgr-2", "203.0.113.29")],
          publicKey: "ssh-ed25519 AAAAPUBLIC",
          targets: [{ service: "web", repository: "203.0.113.24/team/web" }],
        }),
      ["dk-mgr-2-host-key"],
    ],
  ];

  it.each(cases)(
    "%s: one pin per host, and every command connects with the learned key and depends on the pin",
    async (component, prefix, build, pins) => {
      build();
      await settle();
      expect(pinsOf(prefix)).toEqual(pins);
      const byAddress = new Map<string, string>();
      for (const name of pins) {
        const pin = run.named(name);
        expect(pin.inputs).toMatchObject({ kind: "swarm:cluster:HostKey", component, given: "", accept: "" });
        expect(pin.inputs.owner).toBe(prefix.slice(0, -1));
        expect(isSecretInput(pin.inputs.connection)).toBe(true);
        byAddress.set(connectionOf(name).host, name);
      }
      const commands = commandsOf(prefix);
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) {
        const conn = connectionOf(command);
        const pin = byAddress.get(conn.host)!;
        expect([command.name, conn.hostKey]).toEqual([
          command.name,
          learned(String(run.named(pin).inputs.host)),
        ]);
        // Nothing reaches the host before its pin compared the key: the engine orders by this.
        expect([command.name, run.dependenciesOf(command.name)]).toEqual([
          command.name,
          expect.arrayContaining([pin]),
        ]);
      }
    },
  );

  it("a given key is pinned as given, stays verbatim in the connection, and the command still waits for the pin", async () => {
    new lib.ComposeHost("gk", {
      host: server("tools-2", "203.0.113.31", { hostKey: GIVEN }),
      composeContent: COMPOSE,
    });
    await settle();
    expect(run.named("gk-tools-2-host-key").inputs.given).toBe(GIVEN);
    expect(connectionOf("gk-compose").hostKey).toBe(GIVEN);
    // No data flows from the pin here: the dependency is the explicit dependsOn.
    expect(run.dependenciesOf("gk-compose")).toContain("gk-tools-2-host-key");
  });

  it('hostKeys: "off" pins nothing and leaves the connections as given', async () => {
    new lib.ComposeHost("off", {
      host: server("tools-3", "203.0.113.32"),
      composeContent: COMPOSE,
      hostKeys: "off",
    });
    new lib.RegistryTrust("offrt", {
      hosts: [server("node-3", "203.0.113.33")],
      registry: "203.0.113.24:443",
      caCertificate: CA,
      hostKeys: "off",
    });
    await settle();
    expect([...pinsOf("off-"), ...pinsOf("offrt-")]).toEqual([]);
    expect(connectionOf("off-compose").hostKey).toBeUndefined();
    expect(connectionOf("offrt-node-3").hostKey).toBeUndefined();
    expect(run.dependenciesOf("off-compose")).toEqual([]);
  });

  it("acceptHostKeys reaches the pin of the host it names", async () => {
    new lib.JenkinsHost("acc", {
      host: server("jenkins-2", "203.0.113.34"),
      authorizeOn: [server("mgr-3", "203.0.113.35")],
      deployTargets: [{ service: "web", repository: "203.0.113.24/team/web" }],
      acceptHostKeys: { "mgr-3": FINGERPRINT },
    });
    await settle();
    expect(run.named("acc-mgr-3-host-key").inputs.accept).toBe(FINGERPRINT);
    expect(run.named("acc-jenkins-2-host-key").inputs.accept).toBe("");
  });
});

describe("hosts that come pinned from the SwarmCluster are not pinned again", () => {
  it("RegistryTrust over cluster.hosts, DeployKey and JenkinsHost on cluster.managerHost use the cluster's pins", async () => {
    const nodes = [server("node-1", "10.9.0.1"), server("node-2", "10.9.0.2")];
    const cluster = new lib.SwarmCluster("cl", {
      nodes: [
        { host: nodes[0], role: "manager" },
        { host: nodes[1], role: "worker" },
      ],
      dockerProvider: false,
    });
    new lib.RegistryTrust("clrt", { hosts: cluster.hosts, registry: "10.9.0.9:443", caCertificate: CA });
    new lib.DeployKey("cldk", {
      managers: [cluster.managerHost],
      publicKey: "ssh-ed25519 AAAAPUBLIC",
      targets: [{ service: "web", repository: "10.9.0.9/team/web" }],
    });
    new lib.JenkinsHost("cljk", {
      host: server("jenkins-3", "10.9.0.3"),
      authorizeOn: [cluster.managerHost],
      deployTargets: [{ service: "web", repository: "10.9.0.9/team/web" }],
    });
    await valueOf(cluster.nodeIds);
    await settle();
    expect(cluster.hosts.map((h) => h.name)).toEqual(["node-1", "node-2"]);
    expect(pinsOf("cl-")).toEqual(["cl-node-1-host-key", "cl-node-2-host-key"]);
    expect([...pinsOf("clrt-"), ...pinsOf("cldk-")]).toEqual([]);
    expect(pinsOf("cljk-")).toEqual(["cljk-jenkins-3-host-key"]);
    for (const [command, pin, host] of [
      ["clrt-node-1", "cl-node-1-host-key", "node-1"],
      ["clrt-node-2", "cl-node-2-host-key", "node-2"],
      ["cldk-node-1", "cl-node-1-host-key", "node-1"],
      ["cljk-authorize-node-1", "cl-node-1-host-key", "node-1"],
    ]) {
      expect([command, connectionOf(command).hostKey]).toEqual([command, learned(host)]);
      expect([command, run.dependenciesOf(command)]).toEqual([command, expect.arrayContaining([pin])]);
    }
  });

  it("acceptHostKeys for such a host is refused with where to accept it instead", async () => {
    const cluster = new lib.SwarmCluster("cl2", {
      nodes: [{ host: server("node-1", "10.9.1.1"), role: "manager" }],
      dockerProvider: false,
    });
    await settle();
    const before = run.resources.length;
    expect(
      () =>
        new lib.RegistryTrust("cl2rt", {
          hosts: cluster.hosts,
          registry: "10.9.1.9:443",
          caCertificate: CA,
          acceptHostKeys: { "node-1": FINGERPRINT },
        }),
    ).toThrow(
      'swarm:cicd:RegistryTrust "cl2rt": acceptHostKeys["node-1"]: received "node-1". Host "node-1" comes pinned (from SwarmCluster.hosts or .managerHost): accept its new key with acceptHostKeys on the component that pinned it.',
    );
    await settle();
    expect(run.resources.length).toBe(before);
  });
});

describe("bastions: one pin per distinct bastion, and the hop to it verified", () => {
  const behind = (
    names: string[],
    bastion: { host: pulumi.Input<string>; port?: number; hostKey?: string },
    first = 1,
  ): SwarmHost[] =>
    lib.existingHosts(
      names.map((name, i) => ({ name, host: `10.9.2.${first + i}` })),
      { privateKey: "SSHKEY", bastion },
    ).hosts;

  it("a cluster behind two bastions: two bastion pins, each host's pin and commands wait for its bastion's pin and carry its key", async () => {
    const nodes = [
      ...behind(["node-1", "node-2", "node-3"], { host: "198.51.100.5" }),
      ...behind(["node-4"], { host: "198.51.100.6", port: 2222 }, 4),
    ];
    const cluster = new lib.SwarmCluster("bc", {
      nodes: nodes.map((host, i) => ({ host, role: i === 0 ? "manager" : "worker" })),
      acceptHostKeys: { "bastion:198.51.100.6:2222": FINGERPRINT },
      dockerProvider: false,
    });
    await valueOf(cluster.nodeIds);
    await settle();
    expect(pinsOf("bc-")).toEqual([
      "bc-bastion.198.51.100.5-host-key",
      "bc-bastion.198.51.100.6-2222-host-key",
      "bc-node-1-host-key",
      "bc-node-2-host-key",
      "bc-node-3-host-key",
      "bc-node-4-host-key",
    ]);
    const first = run.named("bc-bastion.198.51.100.5-host-key");
    expect(first.inputs).toMatchObject({
      host: "bastion:198.51.100.5",
      component: "SwarmCluster",
      accept: "",
    });
    expect(connectionOf(first.name)).toMatchObject({ host: "198.51.100.5" });
    expect(connectionOf(first.name).proxy).toBeUndefined();
    expect(run.named("bc-bastion.198.51.100.6-2222-host-key").inputs.accept).toBe(FINGERPRINT);

    const bastionOf = (n: number) =>
      n < 4
        ? { pin: "bc-bastion.198.51.100.5-host-key", key: learned("bastion:198.51.100.5") }
        : { pin: "bc-bastion.198.51.100.6-2222-host-key", key: learned("bastion:198.51.100.6:2222") };
    for (const n of [1, 2, 3, 4]) {
      const pin = `bc-node-${n}-host-key`;
      // The host's own probe goes through the bastion with the bastion's pinned key.
      expect([pin, connectionOf(pin).proxy?.hostKey]).toEqual([pin, bastionOf(n).key]);
      expect([pin, run.dependenciesOf(pin)]).toEqual([pin, expect.arrayContaining([bastionOf(n).pin])]);
    }
    const commands = commandsOf("bc-node-");
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands) {
      const conn = connectionOf(command);
      const n = Number(/^10\.9\.2\.(\d)$/.exec(conn.host)![1]);
      expect([command.name, conn.hostKey, conn.proxy?.hostKey]).toEqual([
        command.name,
        learned(`node-${n}`),
        bastionOf(n).key,
      ]);
      expect([command.name, run.dependenciesOf(command.name)]).toEqual([
        command.name,
        expect.arrayContaining([`bc-node-${n}-host-key`, bastionOf(n).pin]),
      ]);
    }
  });

  it("a bastion's given key is pinned as given and kept verbatim in the proxy", async () => {
    new lib.ComposeHost("bg", {
      host: behind(["tools-1"], { host: "198.51.100.7", hostKey: GIVEN })[0],
      composeContent: COMPOSE,
    });
    await settle();
    expect(pinsOf("bg-")).toEqual(["bg-bastion.198.51.100.7-host-key", "bg-tools-1-host-key"]);
    expect(run.named("bg-bastion.198.51.100.7-host-key").inputs.given).toBe(GIVEN);
    expect(connectionOf("bg-compose").proxy?.hostKey).toBe(GIVEN);
    expect(run.dependenciesOf("bg-compose")).toEqual(
      expect.arrayContaining(["bg-bastion.198.51.100.7-host-key", "bg-tools-1-host-key"]),
    );
  });

  it("a bastion whose address is an Output is still one bastion (one pin, named after its first host)", async () => {
    const nodes = behind(["node-1", "node-2"], { host: pulumi.output("198.51.100.8") });
    new lib.RegistryTrust("bo", { hosts: nodes, registry: "10.9.0.9:443", caCertificate: CA });
    await settle();
    expect(pinsOf("bo-")).toEqual([
      "bo-bastion.of.node-1-host-key",
      "bo-node-1-host-key",
      "bo-node-2-host-key",
    ]);
    expect(run.named("bo-bastion.of.node-1-host-key").inputs.host).toBe("bastion:198.51.100.8");
  });

  it('hostKeys: "off" pins no bastion either', async () => {
    new lib.ComposeHost("bf", {
      host: behind(["tools-1"], { host: "198.51.100.9" })[0],
      composeContent: COMPOSE,
      hostKeys: "off",
    });
    await settle();
    expect(pinsOf("bf-")).toEqual([]);
    expect(connectionOf("bf-compose").proxy?.hostKey).toBeUndefined();
  });
});

describe("bad hostKeys / acceptHostKeys are refused before anything is created", () => {
  const tools = () =>
    lib.existingHosts([{ name: "tools-1", host: "203.0.113.41", privateKey: "K" }]).hosts[0];
  const viaBastion = () =>
    lib.existingHosts([
      { name: "tools-1", host: "10.9.3.1", privateKey: "K", bastion: { host: "198.51.100.5" } },
    ]).hosts[0];
  it.each([
    [
      "ComposeHost",
      () => new lib.ComposeHost("bad", { host: tools(), composeContent: COMPOSE, hostKeys: "yes" as "pin" }),
      'swarm:cicd:ComposeHost "bad": hostKeys: received "yes". Use "pin" (default) or "off".',
    ],
    [
      "ComposeHost",
      () =>
        new lib.ComposeHost("bad", {
          host: viaBastion(),
          composeContent: COMPOSE,
          acceptHostKeys: { "tools-9": FINGERPRINT },
        }),
      `acceptHostKeys["tools-9"]: received "tools-9". Use the name of one of this ComposeHost's hosts: tools-1, bastion:198.51.100.5.`,
    ],
    [
      "ComposeHost",
      () =>
        new lib.ComposeHost("bad", {
          host: tools(),
          composeContent: COMPOSE,
          acceptHostKeys: { "tools-1": "SHA256:short" },
        }),
      'acceptHostKeys["tools-1"]: received "SHA256:short". Use the SHA-256 fingerprint the refusal printed',
    ],
    [
      "DeployKey",
      () =>
        new lib.DeployKey("bad", {
          managers: [tools()],
          publicKey: "ssh-ed25519 AAAAPUBLIC",
          targets: [{ service: "web", repository: "10.9.0.9/team/web" }],
          hostKeys: "off",
          acceptHostKeys: { "tools-1": FINGERPRINT },
        }),
      'swarm:cicd:DeployKey "bad": acceptHostKeys: received',
    ],
  ])("%s: %#", async (_component, build, message) => {
    await settle();
    const before = run.resources.length;
    expect(build).toThrow(message);
    await settle();
    expect(run.resources.length).toBe(before);
  });

  it("a bastion's label is a valid acceptHostKeys name", async () => {
    new lib.ComposeHost("okb", {
      host: viaBastion(),
      composeContent: COMPOSE,
      acceptHostKeys: { "bastion:198.51.100.5": FINGERPRINT },
    });
    await settle();
    expect(run.named("okb-bastion.198.51.100.5-host-key").inputs.accept).toBe(FINGERPRINT);
  });
});
