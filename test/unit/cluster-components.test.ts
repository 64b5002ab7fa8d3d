import { scriptOf } from "../../components/shell";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  installMocks,
  isSecretInput,
  isSecretOutput,
  MockRun,
  unwrapSecrets,
  valueOf,
} from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";
import type { SwarmClusterArgs } from "../../components/cluster/args";

// Tokens are made at run time so no token-shaped literal lives in the repository.
const fake = (prefix: string) => `${prefix}-${crypto.randomBytes(12).toString("hex")}`;
const WORKER_TOKEN = fake("worker");
const MANAGER_TOKEN = fake("manager");
const UNLOCK_KEY = fake("unlock");

describe("SwarmCluster under mocks", () => {
  let run: MockRun;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;

  const host = (n: number): SwarmHost => ({
    name: `node-${n}`,
    connection: { host: `10.0.0.${n}`, user: "ubuntu", privateKey: pulumi.secret("PRIVATE-KEY") },
    advertiseAddr: `10.0.0.${n}`,
  });

  beforeAll(async () => {
    run = await installMocks({
      newResource: (args) => {
        // A node's state resource reports the node id the swarm gave its host.
        const node = /-node-(\d+)-node$/.exec(args.name);
        if (args.type === "pulumi-nodejs:dynamic:Resource" && node)
          return { ...args.inputs, nodeId: `id-${node[1]}` };
        if (args.type !== "command:remote:Command") return undefined;
        if (args.name.endsWith("-init")) {
          const summary = {
            clusterId: "cluster1",
            nodeId: "id-1",
            workerToken: WORKER_TOKEN,
            managerToken: MANAGER_TOKEN,
            unlockKey: UNLOCK_KEY,
          };
          return { ...args.inputs, stdout: `${JSON.stringify(summary)}\n` };
        }
        const match = /-node-(\d+)-join$/.exec(args.name);
        if (match) return { ...args.inputs, stdout: `id-${match[1]}\n` };
        return { ...args.inputs, stdout: "ok\n" };
      },
    });
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
  });

  const build = (name: string, extra: Partial<SwarmClusterArgs> = {}) =>
    new SwarmCluster(name, {
      nodes: [
        { host: host(1), role: "manager", labels: { zone: "a" } },
        { host: host(2), role: "manager" },
        { host: host(3), role: "manager" },
        { host: host(4), role: "worker", availability: "drain" },
        { host: host(5), role: "worker" },
      ],
      autolock: true,
      insecureRegistries: ["harbor.internal:80"],
      ...extra,
    });

  it("creates exactly the resources of a 3-manager + 2-worker swarm", async () => {
    const cluster = build("prod");
    await valueOf(cluster.nodeIds);
    await valueOf(cluster.provider.urn);
    const mine = run.resources.filter((r) => r.name.startsWith("prod-"));
    const names = mine.map((r) => r.name).sort();
    const perNode = (n: number) =>
      ["host-key", "join", "node", "prepare", "registration"].map((s) => `prod-node-${n}-${s}`);
    expect(names).toEqual(
      ["prod-docker", "prod-init", "prod-swarm", ...[1, 2, 3, 4, 5].flatMap(perNode)].sort(),
    );
    expect(run.named("prod-docker").type).toBe("pulumi:providers:docker");
    expect(mine.filter((r) => r.type === "command:remote:Command")).toHaveLength(16);
    // Each node's drift-prone state is one dynamic resource with a read (not a Command).
    expect(
      mine
        .filter((r) => r.type === "pulumi-nodejs:dynamic:Resource")
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      ...[1, 2, 3, 4, 5].flatMap((n) => [`prod-node-${n}-host-key`, `prod-node-${n}-node`]),
      "prod-swarm",
    ]);
    expect(await valueOf(cluster.nodeIds)).toEqual({
      "node-1": "id-1",
      "node-2": "id-2",
      "node-3": "id-3",
      "node-4": "id-4",
      "node-5": "id-5",
    });
    expect(await valueOf(cluster.managerAddress)).toBe("10.0.0.1:2377");
    expect(cluster.managerHost.name).toBe("node-1");
    expect(cluster.managerNames).toEqual(["node-1", "node-2", "node-3"]);
    expect(run.named("prod-docker").inputs).toMatchObject({ host: "ssh://ubuntu@10.0.0.1:22" });
  });

  it("readies every host at once and joins the managers one at a time, each after the previous one", async () => {
    const cluster = build("order");
    await valueOf(cluster.nodeIds);
    const deps = (n: number, step: string) =>
      run.dependenciesOf(`order-node-${n}-${step}`).filter((d) => !d.endsWith("-host-key"));
    // No prepare step waits for another step: it writes configuration, and a member's dockerd
    // restart waits for its membership step (scripts/restart.ts).
    for (const n of [1, 2, 3, 4, 5]) expect(deps(n, "prepare")).toEqual([]);
    // Each manager's membership step (where its dockerd restarts, when it must) follows the
    // previous manager's, and the swarm resource's quorum probe.
    expect(deps(1, "join")).toEqual(
      expect.arrayContaining(["order-init", "order-swarm", "order-node-1-prepare"]),
    );
    expect(deps(2, "join")).toEqual(
      expect.arrayContaining(["order-swarm", "order-node-2-prepare", "order-node-1-join"]),
    );
    expect(deps(3, "join")).toEqual(
      expect.arrayContaining(["order-swarm", "order-node-3-prepare", "order-node-2-join"]),
    );
    expect(deps(3, "join")).not.toContain("order-node-1-join");
    // Workers join once the first manager is in, not after the others.
    for (const n of [4, 5]) {
      expect(deps(n, "join")).toEqual(
        expect.arrayContaining(["order-swarm", `order-node-${n}-prepare`, "order-node-1-join"]),
      );
      expect(deps(n, "join")).not.toContain("order-node-2-join");
      expect(deps(n, "join")).not.toContain("order-node-3-join");
    }
  });

  it("keeps tokens and the unlock key secret, and out of every command string and name", async () => {
    const cluster = build("sec");
    for (const output of [cluster.managerJoinToken, cluster.workerJoinToken, cluster.unlockKey]) {
      expect(await isSecretOutput(output)).toBe(true);
    }
    expect(await valueOf(cluster.workerJoinToken)).toBe(WORKER_TOKEN);
    expect(await valueOf(cluster.unlockKey)).toBe(UNLOCK_KEY);
    await valueOf(cluster.provider.urn);
    const commands = run.resources.filter(
      (r) => r.name.startsWith("sec-") && r.type === "command:remote:Command",
    );
    for (const c of commands) {
      const text = JSON.stringify({
        name: c.name,
        create: c.inputs.create,
        update: c.inputs.update,
        delete: c.inputs.delete,
      });
      for (const secret of [WORKER_TOKEN, MANAGER_TOKEN, UNLOCK_KEY, "PRIVATE-KEY"])
        expect(text).not.toContain(secret);
      expect(isSecretInput(c.inputs.connection)).toBe(true);
    }
    const joins = commands.filter((c) => c.name.endsWith("-join"));
    expect(joins).toHaveLength(5);
    for (const j of joins) expect(isSecretInput(j.inputs.stdin)).toBe(true);
    const workerStdin = String(unwrapSecrets(run.named("sec-node-4-join").inputs.stdin));
    const [body, unlock, clusterId] = workerStdin.split("\n");
    expect(JSON.parse(body)).toEqual({
      ListenAddr: "0.0.0.0:2377",
      AdvertiseAddr: "10.0.0.4",
      RemoteAddrs: ["10.0.0.1:2377", "10.0.0.2:2377", "10.0.0.3:2377"],
      JoinToken: WORKER_TOKEN,
    });
    expect([unlock, clusterId]).toEqual([UNLOCK_KEY, "cluster1"]);
    const manager3 = JSON.parse(
      String(unwrapSecrets(run.named("sec-node-3-join").inputs.stdin)).split("\n")[0],
    );
    expect(manager3.JoinToken).toBe(MANAGER_TOKEN);
    expect(manager3.RemoteAddrs).toEqual(["10.0.0.1:2377", "10.0.0.2:2377"]);
    expect(run.named("sec-init").inputs.logging).toBe("none");
  });

  it("renders each node's settings and swarm options into the scripts", async () => {
    const cluster = build("opt", {
      dataPathPort: 4790,
      certExpiry: "90d",
      defaultAddrPool: ["10.20.0.0/16"],
      defaultAddrPoolMaskLength: 26,
    });
    await valueOf(cluster.provider.urn);
    const init = scriptOf(String(run.named("opt-init").inputs.create));
    expect(init).toContain(
      "dk swarm init '--advertise-addr' '10.0.0.1' '--listen-addr' '0.0.0.0:2377' '--data-path-port' '4790' '--cert-expiry' '2160h0m0s' '--default-addr-pool' '10.20.0.0/16' '--default-addr-pool-mask-length' '26' '--autolock'",
    );
    expect(init).toContain("OTHER_MANAGERS=('10.0.0.2' '10.0.0.3')");
    const prepare = scriptOf(String(run.named("opt-node-2-prepare").inputs.create));
    expect(prepare).toContain(`merge_daemon_json '{"insecure-registries":["harbor.internal:80"]}'`);
    expect(prepare).toContain("PEERS=('10.0.0.1' '10.0.0.3' '10.0.0.4' '10.0.0.5')");
    expect(prepare).toContain("SWARM_PORTS=('2377/tcp' '7946/tcp' '7946/udp' '4790/udp')");
    const settings = run.named("opt-node-1-node");
    // The first manager is administered from the second, so removing it is done from a manager that stays.
    expect((unwrapSecrets(settings.inputs.adminConnection) as { host: string }).host).toBe("10.0.0.2");
    expect((unwrapSecrets(settings.inputs.connection) as { host: string }).host).toBe("10.0.0.1");
    expect(settings.inputs).toMatchObject({ role: "manager", labels: { zone: "a" }, availability: "active" });
    expect(run.named("opt-node-4-node").inputs).toMatchObject({
      role: "worker",
      labels: {},
      availability: "drain",
    });
    expect(
      (unwrapSecrets(run.named("opt-node-4-node").inputs.adminConnection) as { host: string }).host,
    ).toBe("10.0.0.1");
  });

  const three = () => [
    { host: host(1), role: "manager" as const },
    { host: host(2), role: "manager" as const },
    { host: host(3), role: "worker" as const },
  ];

  it.each<[string, Partial<SwarmClusterArgs>, string]>([
    [
      "no nodes",
      { nodes: [] },
      'nodes: received []. Declare at least one node: [{ host, role: "manager" }].',
    ],
    [
      "no manager",
      { nodes: [{ host: host(1), role: "worker" }] },
      'nodes: received "1 workers, 0 managers". Give at least one node role "manager" (3 or 5 for a cluster that survives losing managers).',
    ],
    [
      "even managers",
      { nodes: three() },
      'nodes: received "2 managers". An even number of managers tolerates no more failures than 1 and risks a split vote: use 1 or 3, or set allowEvenManagers: true for a transition.',
    ],
    [
      "duplicate host name",
      {
        nodes: [
          { host: host(1), role: "manager" },
          { host: host(1), role: "worker" },
        ],
      },
      'nodes[1].host.name: received "node-1". nodes[0] already uses this host name; each host appears once, in one role.',
    ],
    [
      "a host in two roles",
      {
        nodes: [
          { host: host(1), role: "manager" },
          { host: { ...host(1), name: "again" }, role: "worker" },
        ],
      },
      'nodes[1].host.connection.host: received "10.0.0.1:22". nodes[0] is the same machine; a host can be in the swarm once, in one role.',
    ],
    [
      "bad role",
      { nodes: [{ host: host(1), role: "boss" as never }] },
      'nodes[0].role: received "boss". Use "manager" or "worker".',
    ],
    [
      "bad availability",
      { nodes: [{ host: host(1), role: "manager", availability: "off" as never }] },
      'nodes[0].availability: received "off". Use "active", "pause" or "drain".',
    ],
    [
      "reserved label",
      { nodes: [{ host: host(1), role: "manager", labels: { "pulumi-swarm.claim": "x" } }] },
      'nodes[0].labels: received "pulumi-swarm.claim". Use label keys of letters, digits, ".", "_", "-" or "/" (not starting with "pulumi-swarm.", which this library uses).',
    ],
    [
      "insecure registry with a path",
      { insecureRegistries: ["http://harbor/v2"] },
      'insecureRegistries[0]: received "http://harbor/v2". Use "host:port" (e.g. "harbor.internal:80") or a CIDR, with no scheme and no path: a path stops dockerd from starting.',
    ],
    [
      "insecure registry: the whole internet",
      { insecureRegistries: ["0.0.0.0/0"] },
      'insecureRegistries[0]: received "0.0.0.0/0". This switches off TLS for every registry in a block wider than /16 (public ones included); name the registry\'s own "host:port", or its subnet of /16 or narrower.',
    ],
    [
      "insecure registry: a /8",
      { insecureRegistries: ["10.0.0.0/16", "10.0.0.0/8"] },
      'insecureRegistries[1]: received "10.0.0.0/8". This switches off TLS for every registry in a block wider than /16 (public ones included); name the registry\'s own "host:port", or its subnet of /16 or narrower.',
    ],
    [
      "insecure registry: all of IPv6",
      { insecureRegistries: ["::/0"] },
      'insecureRegistries[0]: received "::/0". IPv6 blocks are not accepted here (::/0 would switch off TLS for every registry); name the registry\'s own "host:port".',
    ],
    ...[
      "docker.io",
      "registry-1.docker.io:443",
      "index.docker.io",
      "ghcr.io",
      "quay.io",
      "eu.gcr.io",
      "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
    ].map((registry): [string, Partial<SwarmClusterArgs>, string] => [
      `insecure registry: public ${registry}`,
      { insecureRegistries: [registry] },
      `insecureRegistries[0]: received "${registry}". This is a public registry: switching its TLS off lets anyone on the path serve any image; remove it (only your own plain-HTTP registry belongs here).`,
    ]),
    [
      "mirror with a path",
      { registryMirrors: ["https://mirror.example.com/docker"] },
      'registryMirrors[0]: received "https://mirror.example.com/docker". Use an http(s) URL with no path, e.g. "https://mirror.example.com".',
    ],
    [
      "bad data path port",
      { dataPathPort: 7946 },
      "dataPathPort: received 7946. Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).",
    ],
    [
      "bad address pool",
      { defaultAddrPool: ["10.20.0.1/16"] },
      'defaultAddrPool[0]: received "10.20.0.1/16". Use an IPv4 CIDR block with no host bits set, e.g. "10.20.0.0/16".',
    ],
    [
      "bad mask",
      { defaultAddrPool: ["10.20.0.0/16"], defaultAddrPoolMaskLength: 12 },
      "defaultAddrPoolMaskLength: received 12. Use a prefix length between 16 (the pool's) and 29, e.g. 24.",
    ],
    [
      "bad firewall mode",
      { hostFirewall: "ufw" as never },
      'hostFirewall: received "ufw". Use "auto" (open swarm ports in an active ufw/firewalld) or "none".',
    ],
    [
      "short cert expiry",
      { certExpiry: "30m" },
      'certExpiry: received "30m". Docker needs at least 1h; use e.g. "2160h" (90 days, the default).',
    ],
    [
      "unparseable cert expiry",
      { certExpiry: "soon" },
      'certExpiry: received "soon". Use a duration such as "2160h" or "90d" (units d, h, m, s), at least 1h.',
    ],
  ])("refuses %s before creating anything", (_label, extra, message) => {
    const before = run.resources.length;
    const args: SwarmClusterArgs = { nodes: [{ host: host(1), role: "manager" }], ...extra };
    expect(() => new SwarmCluster("bad", args)).toThrow(`swarm:cluster:SwarmCluster "bad": ${message}`);
    expect(run.resources.length).toBe(before);
  });

  it("never sets triggers (a trigger change replaces a Command, running its destructive delete)", async () => {
    const a = build("rerun-a", { reconcile: "2026-11-01" });
    const b = build("rerun-b", { reconcile: "2026-11-02" });
    await Promise.all([valueOf(a.provider.urn), valueOf(b.provider.urn)]);
    const commands = (prefix: string) =>
      run.resources.filter((r) => r.name.startsWith(prefix) && r.type === "command:remote:Command");
    for (const c of commands("rerun-")) expect(c.inputs.triggers).toBeUndefined();
    // A new `reconcile` value changes the scripts' text: an update that re-runs them, not a replacement.
    for (const suffix of ["node-2-prepare", "node-2-join"]) {
      const before = scriptOf(String(run.named(`rerun-a-${suffix}`).inputs.create));
      const after = scriptOf(String(run.named(`rerun-b-${suffix}`).inputs.create));
      expect(before).toMatch(/# pulumi-swarm: runs again when this changes: [0-9a-f]{16}\n/);
      expect(after).not.toBe(before);
      // Apart from the marker (and the cluster's own name and claim), the script is the same.
      const plain = (text: string) =>
        text
          .replace(/changes: [0-9a-f]{16}/, "")
          .replace(/rerun-[ab]/g, "rerun")
          .replace(/\b[0-9a-f]{20}\b/g, "claim");
      expect(plain(after)).toBe(plain(before));
    }
    // The node state resource carries `reconcile` as a plain input: a change is an in-place update.
    expect(run.named("rerun-a-node-2-node").inputs.reconcile).toBe("2026-11-01");
    expect(run.named("rerun-b-node-2-node").inputs.reconcile).toBe("2026-11-02");
  });

  it("creates no Docker provider with dockerProvider: false, and says so when it is read", async () => {
    const cluster = build("noprov", { dockerProvider: false });
    await valueOf(cluster.nodeIds);
    expect(
      run.resources.filter((r) => r.name.startsWith("noprov-") && r.type === "pulumi:providers:docker"),
    ).toHaveLength(0);
    expect(cluster.ready).toHaveLength(5);
    expect(() => cluster.provider).toThrow(
      'SwarmCluster "noprov": provider was not created (dockerProvider: false); remove that argument to use Docker resources on this cluster',
    );
  });

  it("tells the workloads its data path port, so a service cannot publish it", async () => {
    const cluster = build("dpp", { dataPathPort: 4800 });
    expect(cluster.dataPathPort).toBe(4800);
    expect(build("dpp-default").dataPathPort).toBe(4789);
    const { SwarmService } = await import("../../components/workloads/swarmService");
    expect(
      () =>
        new SwarmService("dpp-svc", {
          cluster,
          image: "nginx:1.27",
          ports: [{ target: 4800, published: 4800, protocol: "udp" }],
        }),
    ).toThrow(/ports\[0\]\.published: received 4800/);
  });

  it("accepts an even manager count when allowed", () => {
    expect(() => new SwarmCluster("even", { nodes: three(), allowEvenManagers: true })).not.toThrow();
  });
});

describe("insecureRegistries accepts what an internal plain-HTTP registry needs", () => {
  it.each([
    "10.1.0.0/16",
    "192.168.7.0/24",
    "harbor.internal:80",
    "10.0.0.5:5000",
    "notdocker.io",
    "docker.io.internal",
  ])("accepts %s", async (registry) => {
    const { validateInsecureRegistry } = await import("../../components/cluster/validate");
    expect(() => validateInsecureRegistry("insecureRegistries[0]", registry)).not.toThrow();
  });
});
