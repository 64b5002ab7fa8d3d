import { countsByType, installStackMocks, settleAll, stackFile, TOKENS } from "./stacks-helpers";
import { isSecretInput, isSecretOutput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";

/** The dev stack file, run through the real program under mocks: a broken stack file fails here. */
describe("stack dev (stacks/Pulumi.dev.yaml) under mocks", () => {
  let run: MockRun;
  let built: import("../../stacks/program").BuiltStack;

  beforeAll(async () => {
    run = await installStackMocks("dev", { awsRegion: "eu-central-1" });
    const { buildStack, loadStackFile } = await import("../../stacks/program");
    built = buildStack(loadStackFile(stackFile("dev")));
    await settleAll(built.outputs.nodeIds, built.outputs.networks, built.cluster.provider.urn);
  }, 120_000);

  it("creates exactly this resource set", () => {
    expect(countsByType(run)).toEqual({
      "aws:ec2/instance:Instance": 2,
      "aws:ec2/keyPair:KeyPair": 1,
      "aws:ec2/securityGroup:SecurityGroup": 1,
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 6,
      "command:remote:Command": 7,
      "pulumi-nodejs:dynamic:Resource": 5, // + one host-key pin per swarm node
      "docker:index/network:Network": 1,
      "docker:index/service:Service": 1,
      "pulumi:providers:docker": 1,
      "swarm:hosts:AwsHosts": 1,
      "swarm:cluster:SwarmCluster": 1,
      "swarm:workloads:OverlayNetwork": 1,
      "swarm:workloads:SwarmService": 1,
      "tls:index/privateKey:PrivateKey": 3, // + one SSH host key per instance
    });
    // No delivery platform in dev.
    expect(run.resources.filter((r) => r.type.startsWith("swarm:cicd:"))).toEqual([]);
  });

  it("runs 1 manager + 1 worker on two small instances in two zones", async () => {
    const instances = run.ofType("aws:ec2/instance:Instance");
    expect(instances.map((i) => i.name)).toEqual(["dev-1", "dev-2"]);
    for (const i of instances) {
      expect(i.inputs).toMatchObject({
        instanceType: "t3.small",
        region: "eu-central-1",
        rootBlockDevice: { volumeSize: 20, volumeType: "gp3", encrypted: true },
        tags: { environment: "dev", Name: i.name },
      });
    }
    expect(new Set(instances.map((i) => i.inputs.availabilityZone)).size).toBe(2);
    expect(built.outputs.managers).toEqual(["dev-1"]);
    expect(built.outputs.workers).toEqual(["dev-2"]);
    expect(await valueOf(built.outputs.nodeIds)).toEqual({ "dev-1": "id-dev-1", "dev-2": "id-dev-2" });
    // Inside one VPC the nodes advertise private addresses (the mocks number them 10.0.0.<n>).
    expect(await valueOf(built.outputs.managerAddress)).toBe("10.0.0.1:2377");
    expect(await valueOf(built.outputs.sshAddresses)).toEqual({
      "dev-1": "198.51.100.1",
      "dev-2": "198.51.100.2",
    });
  });

  it("opens SSH to the admin CIDR and the web port to everyone, swarm ports to members only", () => {
    const rules = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const ssh = rules.find((r) => r.inputs.fromPort === 22)!;
    expect(ssh.inputs).toMatchObject({ cidrIpv4: "203.0.113.0/24", toPort: 22, ipProtocol: "tcp" });
    const web = rules.find((r) => r.inputs.fromPort === 8080)!;
    expect(web.inputs).toMatchObject({ cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp" });
    const others = rules.filter((r) => r !== ssh && r !== web);
    expect(others.map((r) => [r.inputs.fromPort, r.inputs.ipProtocol]).sort()).toEqual([
      [2377, "tcp"],
      [4789, "udp"],
      [7946, "tcp"],
      [7946, "udp"],
    ]);
    for (const r of others) expect(r.inputs.cidrIpv4).toBeUndefined();
    expect(rules.some((r) => r.inputs.ipProtocol === "50")).toBe(false);
  });

  it("puts nginx x2 on an unencrypted overlay, published on 8080 through the routing mesh", () => {
    const [network] = run.ofType("docker:index/network:Network");
    expect(network.inputs).toMatchObject({ name: "backend", driver: "overlay", attachable: true });
    expect(network.inputs.options).toBeUndefined();
    const web = run.ofType("docker:index/service:Service")[0];
    expect(web.inputs).toMatchObject({
      name: "web",
      mode: { replicated: { replicas: 2 } },
      endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: "ingress" }] },
      taskSpec: { containerSpec: { image: "nginx:1.27-alpine" }, networksAdvanceds: [{ id: "backend-id" }] },
      updateConfig: { parallelism: 1, delay: "10s", order: "start-first" },
    });
    expect(web.provider).toContain("dev-docker");
  });

  it("keeps the generated SSH key, join tokens and unlock key secret", async () => {
    for (const o of [
      built.outputs.sshPrivateKeys,
      built.outputs.managerJoinToken,
      built.outputs.workerJoinToken,
      built.outputs.unlockKey,
      built.outputs.adminCredentials,
    ]) {
      expect(await isSecretOutput(o)).toBe(true);
    }
    expect(await valueOf(built.outputs.workerJoinToken)).toBe(TOKENS.worker);
    expect(Object.keys(await valueOf(built.outputs.sshPrivateKeys))).toEqual(["dev"]);
    for (const c of run.ofType("command:remote:Command")) {
      expect(isSecretInput(c.inputs.connection)).toBe(true);
      // (A registration has no create: it exists for its delete.)
      expect(JSON.stringify(unwrapSecrets(c.inputs.create) ?? "")).not.toContain(TOKENS.worker);
    }
    expect(await valueOf(built.outputs.urls)).toEqual({});
  });
});
