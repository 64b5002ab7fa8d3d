import { countsByType, fakeSecret, installStackMocks, settleAll, stackFile } from "./stacks-helpers";
import { isSecretInput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";

/** The hybrid stack file (Alibaba Cloud managers + existing servers elsewhere) under mocks. */
describe("stack hybrid (stacks/Pulumi.hybrid.yaml) under mocks", () => {
  const existingKey = fakeSecret("existing-servers-key");
  let run: MockRun;
  let built: import("../../stacks/program").BuiltStack;
  let missingKey: unknown;

  beforeAll(async () => {
    run = await installStackMocks("hybrid", { alicloudRegion: "cn-hangzhou" });
    const { buildStack, loadStackFile } = await import("../../stacks/program");
    const config = loadStackFile(stackFile("hybrid"));
    try {
      buildStack(config, {});
    } catch (err) {
      missingKey = err;
    }
    expect(run.resources).toEqual([]);
    built = buildStack(config, { sshPrivateKey: existingKey });
    await settleAll(built.outputs.nodeIds, built.outputs.networks, built.cluster.provider.urn);
  }, 120_000);

  it("refuses to start without the existing servers' key, naming the secret key", () => {
    expect((missingKey as Error).message).toBe(
      "pulumi-swarm:sshPrivateKey: received nothing. The servers of pulumi-swarm:hosts.existing.servers need the SSH private key: `pulumi config set --secret pulumi-swarm:sshPrivateKey < ~/.ssh/id_ed25519`.",
    );
  });

  it("creates exactly this resource set", () => {
    expect(countsByType(run)).toEqual({
      "alicloud:ecs/ecsKeyPair:EcsKeyPair": 1,
      "alicloud:ecs/instance:Instance": 3,
      "alicloud:ecs/securityGroup:SecurityGroup": 1,
      // 31 + 4 drops (tcp, udp, icmp, gre) narrowing the ESP fallback of each of 5 sources.
      "alicloud:ecs/securityGroupRule:SecurityGroupRule": 51,
      "alicloud:vpc/network:Network": 1,
      "alicloud:vpc/switch:Switch": 3,
      "command:remote:Command": 16,
      "pulumi-nodejs:dynamic:Resource": 11, // + one host-key pin per swarm node
      "docker:index/network:Network": 1,
      "docker:index/service:Service": 1,
      "pulumi:providers:alicloud": 1,
      "pulumi:providers:docker": 1,
      "swarm:hosts:AlicloudHosts": 1,
      "swarm:cluster:SwarmCluster": 1,
      "swarm:workloads:OverlayNetwork": 1,
      "swarm:workloads:SwarmService": 1,
      "tls:index/privateKey:PrivateKey": 4, // + one SSH host key per instance
    });
    // No delivery platform in this stack.
    expect(run.resources.filter((r) => r.type.startsWith("swarm:cicd:"))).toEqual([]);
  });

  it("makes the 3 Alibaba Cloud hosts the managers, one per zone, and the existing servers the workers", async () => {
    const instances = run.ofType("alicloud:ecs/instance:Instance");
    expect(instances.map((i) => i.inputs.hostName)).toEqual(["ali-1", "ali-2", "ali-3"]);
    const switches = run.ofType("alicloud:vpc/switch:Switch");
    expect(new Set(switches.map((s) => s.inputs.zoneId))).toEqual(
      new Set(["cn-hangzhou-h", "cn-hangzhou-j", "cn-hangzhou-k"]),
    );
    expect(built.outputs.managers).toEqual(["ali-1", "ali-2", "ali-3"]);
    expect(built.outputs.workers).toEqual(["huawei-1", "tencent-1"]);
    expect(await valueOf(built.outputs.nodeIds)).toEqual({
      "ali-1": "id-ali-1",
      "ali-2": "id-ali-2",
      "ali-3": "id-ali-3",
      "huawei-1": "id-huawei-1",
      "tencent-1": "id-tencent-1",
    });
  });

  it("crosses clouds on public addresses: managers advertise public IPs, peers admitted by /32", async () => {
    expect(await valueOf(built.outputs.managerAddress)).toBe("198.51.100.1:2377");
    const rules = run.ofType("alicloud:ecs/securityGroupRule:SecurityGroupRule");
    const sources = new Set(rules.map((r) => r.inputs.cidrIp));
    expect(sources.has("192.0.2.21/32")).toBe(true);
    expect(sources.has("192.0.2.22/32")).toBe(true);
    // Swarm ports are never open to the world; SSH only to the admin CIDR.
    for (const r of rules.filter((x) => x.inputs.cidrIp === "0.0.0.0/0"))
      expect(r.inputs.policy).toBe("drop");
    const ssh = rules.filter((r) => r.inputs.portRange === "22/22");
    expect(ssh.map((r) => r.inputs.cidrIp)).toEqual(["203.0.113.0/24"]);
  });

  it("reaches the existing servers with the secret key, each with its own user", () => {
    const join = (host: string) => run.named(`hybrid-${host}-join`);
    for (const host of ["huawei-1", "tencent-1"]) {
      expect(isSecretInput(join(host).inputs.connection)).toBe(true);
      expect(unwrapSecrets(join(host).inputs.connection)).toMatchObject({
        privateKey: existingKey,
        port: 22,
      });
    }
    expect(unwrapSecrets(join("huawei-1").inputs.connection)).toMatchObject({
      host: "192.0.2.21",
      user: "root",
    });
    expect(unwrapSecrets(join("tencent-1").inputs.connection)).toMatchObject({
      host: "192.0.2.22",
      user: "ubuntu",
    });
    // Nothing secret in the command strings.
    for (const c of run.ofType("command:remote:Command")) {
      // (A registration has no create: it exists for its delete.)
      expect(JSON.stringify(unwrapSecrets(c.inputs.create) ?? "")).not.toContain(existingKey);
    }
  });

  it("encrypts the overlay (the swarm spans networks) and opens ESP in host firewalls", () => {
    const [network] = run.ofType("docker:index/network:Network");
    expect(network.inputs).toMatchObject({ name: "backend", options: { encrypted: "true" } });
    expect(String(unwrapSecrets(run.named("hybrid-huawei-1-prepare").inputs.create))).toContain(
      "ALLOW_ESP=1",
    );
    const [whoami] = run.ofType("docker:index/service:Service");
    expect(whoami.inputs).toMatchObject({
      name: "whoami",
      taskSpec: { placement: { constraints: ["node.labels.site==external"] } },
    });
  });
});
