import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, isSecretOutput, MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { installCloudMocks } from "../helpers/cloudMocks";
import { divertUnhandledRejections } from "../helpers/unhandled";
import type { AwsHostsArgs } from "../../components/hosts/aws/awsHosts";

// Loading @pulumi/aws and @pulumi/alicloud takes seconds on a busy machine.
jest.setTimeout(60_000);

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const INSTANCE = "aws:ec2/instance:Instance";

/** A rule as "name | protocol | ports | source", sorted: the table the docs show. */
function ruleLines(run: MockRun, prefix: string): string[] {
  return run
    .ofType(INGRESS)
    .filter((r) => r.name.startsWith(`${prefix}-in-`))
    .map((r) => {
      const i = unwrapSecrets(r.inputs) as Record<string, unknown>;
      const ports = i.fromPort === undefined ? "-" : `${i.fromPort}-${i.toPort}`;
      const source = i.cidrIpv4 ?? `sg:${i.referencedSecurityGroupId}`;
      return `${r.name} | ${i.ipProtocol} | ${ports} | ${source}`;
    })
    .sort();
}

describe("AwsHosts", () => {
  let run: MockRun;
  let AwsHosts: typeof import("../../components/hosts/aws/awsHosts").AwsHosts;
  const base: AwsHostsArgs = { count: 5, adminCidrs: ["203.0.113.7/32"], region: "eu-central-1" };

  beforeAll(async () => {
    run = await installCloudMocks({
      subnets: {
        "subnet-0aaaaaaaaaaaaaaa1": "eu-central-1a",
        "subnet-0aaaaaaaaaaaaaaa2": "eu-central-1a",
        "subnet-0aaaaaaaaaaaaaaa3": "eu-central-1b",
      },
    });
    ({ AwsHosts } = await import("../../components/hosts/aws/awsHosts"));
  });

  describe("one VPC, 3 managers + 2 workers, defaults", () => {
    let hosts: InstanceType<typeof AwsHosts>;
    beforeAll(async () => {
      hosts = new AwsHosts("aws", base);
      await valueOf(hosts.privateIps);
      await settle();
    });

    it("looks up the newest Ubuntu 24.04 AMI, the zones and the default VPC", () => {
      const ami = run.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi");
      expect(ami?.inputs).toEqual({
        owners: ["099720109477"],
        mostRecent: true,
        filters: [
          { name: "name", values: ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"] },
          { name: "virtualization-type", values: ["hvm"] },
          { name: "architecture", values: ["x86_64"] },
          { name: "root-device-type", values: ["ebs"] },
        ],
        region: "eu-central-1",
      });
      expect(
        run.calls.find((c) => c.token === "aws:index/getAvailabilityZones:getAvailabilityZones")?.inputs,
      ).toEqual({
        state: "available",
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        region: "eu-central-1",
      });
      expect(run.calls.find((c) => c.token === "aws:ec2/getVpc:getVpc")?.inputs).toEqual({
        default: true,
        region: "eu-central-1",
      });
    });

    it("spreads the instances round-robin over three sorted zones", async () => {
      const instances = run.ofType(INSTANCE).filter((r) => r.name.startsWith("aws-"));
      expect(instances.map((r) => r.name)).toEqual(["aws-1", "aws-2", "aws-3", "aws-4", "aws-5"]);
      expect(instances.map((r) => r.inputs.availabilityZone)).toEqual([
        "eu-central-1a",
        "eu-central-1b",
        "eu-central-1c",
        "eu-central-1a",
        "eu-central-1b",
      ]);
      expect(await valueOf(hosts.zones)).toEqual([
        "eu-central-1a",
        "eu-central-1b",
        "eu-central-1c",
        "eu-central-1a",
        "eu-central-1b",
      ]);
    });

    it("creates each instance with exact inputs", () => {
      const i = run.named("aws-2").inputs;
      expect(i).toMatchObject({
        ami: "ami-0123456789abcdef0",
        instanceType: "t3.medium",
        vpcSecurityGroupIds: ["aws-sg-id"],
        keyName: "aws-key-kp",
        associatePublicIpAddress: true,
        rootBlockDevice: { volumeSize: 30, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        tags: { "pulumi-swarm:cluster": "aws", Name: "aws-2" },
        region: "eu-central-1",
      });
      expect(i.subnetId).toBeUndefined();
      // The user data holds the instance's private host key: a secret.
      expect(isSecretInput(i.userData)).toBe(true);
      const userData = String(unwrapSecrets(i.userData));
      expect(userData).toContain(
        "apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends docker.io",
      );
      expect(userData).toContain("usermod -aG docker 'ubuntu'");
      expect(userData).toContain("ed25519_public: ssh-ed25519 AAAAGENERATED");
    });

    it("puts the security group in the default VPC and opens exactly the swarm ports, SSH and egress", () => {
      expect(run.named("aws-sg").inputs).toMatchObject({ vpcId: "vpc-0default", revokeRulesOnDelete: true });
      expect(ruleLines(run, "aws")).toEqual([
        "aws-in-gossip-7946-tcp-members | tcp | 7946-7946 | sg:aws-sg-id",
        "aws-in-gossip-7946-udp-members | udp | 7946-7946 | sg:aws-sg-id",
        "aws-in-overlay-4789-udp-members | udp | 4789-4789 | sg:aws-sg-id",
        "aws-in-ssh-22-tcp-203-0-113-7-32 | tcp | 22-22 | 203.0.113.7/32",
        "aws-in-swarm-2377-tcp-members | tcp | 2377-2377 | sg:aws-sg-id",
      ]);
      expect(run.named("aws-in-swarm-2377-tcp-members").inputs).toEqual({
        securityGroupId: "aws-sg-id",
        description: "swarm management (members only)",
        ipProtocol: "tcp",
        fromPort: 2377,
        toPort: 2377,
        referencedSecurityGroupId: "aws-sg-id",
        region: "eu-central-1",
      });
      expect(run.named("aws-out-all").inputs).toMatchObject({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
      expect(hosts.spansNetworks).toBe(false);
    });

    it("generates an ED25519 key and keeps the private key secret", async () => {
      expect(run.named("aws-ssh-key").inputs).toEqual({ algorithm: "ED25519" });
      expect(run.named("aws-key").inputs.publicKey).toBe("ssh-ed25519 AAAAGENERATED");
      expect(hosts.privateKey).toBeDefined();
      expect(await isSecretOutput(hosts.privateKey!)).toBe(true);
      expect(await valueOf(hosts.privateKey!)).toContain("GENERATED");
      expect(await isSecretOutput(hosts.hosts[0].connection.privateKey as pulumi.Output<string>)).toBe(true);
    });

    it("outputs SwarmHosts: SSH to the public IP as ubuntu, advertise the private IP", async () => {
      const h = hosts.hosts[2];
      expect(h.name).toBe("aws-3");
      expect(await valueOf(pulumi.output(h.connection.host))).toMatch(/^198\.51\.100\.\d+$/);
      expect(h.connection.user).toBe("ubuntu");
      expect(h.connection.port).toBe(22);
      expect(h.connection.dialErrorLimit).toBe(60);
      const privateIp = await valueOf(pulumi.output(h.advertiseAddr));
      expect(privateIp).toMatch(/^10\.0\.0\.\d+$/);
      expect((await valueOf(hosts.privateIps))[2]).toBe(privateIp);
      expect(h.dependsOn).toContain(hosts.instances[2]);
      expect(h.dependsOn).toHaveLength(1 + 1 + 5 + 1); // instance, group, 5 ingress rules, egress
      expect((await valueOf(hosts.instanceIds))[0]).toBe("aws-1-id");
      expect(await valueOf(hosts.securityGroupId)).toBe("aws-sg-id");
    });
  });

  describe("across networks", () => {
    let hosts: InstanceType<typeof AwsHosts>;
    beforeAll(async () => {
      hosts = new AwsHosts("x", { ...base, count: 2, peerCidrs: ["203.0.113.50/32", "203.0.113.51/32"] });
      await valueOf(hosts.publicIps);
      await settle();
    });

    it("advertises public IPs and opens swarm ports and ESP to members' and peers' /32s only", async () => {
      const ips = await valueOf(hosts.publicIps);
      expect(hosts.spansNetworks).toBe(true);
      expect(await valueOf(pulumi.output(hosts.hosts[1].advertiseAddr))).toBe(ips[1]);
      const lines = ruleLines(run, "x");
      const swarmKeys = ["esp", "gossip-7946-tcp", "gossip-7946-udp", "overlay-4789-udp", "swarm-2377-tcp"];
      const expected: string[] = ["x-in-ssh-22-tcp-203-0-113-7-32 | tcp | 22-22 | 203.0.113.7/32"];
      const ports: Record<string, string> = {
        esp: "50 | -",
        "gossip-7946-tcp": "tcp | 7946-7946",
        "gossip-7946-udp": "udp | 7946-7946",
        "overlay-4789-udp": "udp | 4789-4789",
        "swarm-2377-tcp": "tcp | 2377-2377",
      };
      for (const key of swarmKeys) {
        expected.push(`x-in-${key}-203-0-113-50-32 | ${ports[key]} | 203.0.113.50/32`);
        expected.push(`x-in-${key}-203-0-113-51-32 | ${ports[key]} | 203.0.113.51/32`);
        expected.push(`x-in-${key}-x-1 | ${ports[key]} | ${ips[0]}/32`);
        expected.push(`x-in-${key}-x-2 | ${ports[key]} | ${ips[1]}/32`);
      }
      expect(lines).toEqual(expected.sort());
      expect(run.named("x-in-esp-x-1").inputs).not.toHaveProperty("fromPort");
    });
  });

  it("subnets in too few zones: the group's ResourceError, tied to it, once the lookup answers", async () => {
    // The rejected zones reach the instances' inputs too; the runtime leaves those unawaited.
    const restore = divertUnhandledRejections(() => {});
    try {
      const hosts = new AwsHosts("onezone", {
        ...base,
        count: 2,
        zoneCount: 2,
        vpcId: "vpc-0given",
        subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
      });
      let error: unknown;
      try {
        await (hosts.zones as unknown as { promise(): Promise<unknown> }).promise();
      } catch (err) {
        error = err;
      }
      expect(pulumi.ResourceError.isInstance(error)).toBe(true);
      expect((error as pulumi.ResourceError).resource).toBe(hosts);
      expect((error as Error).message).toBe(
        'swarm:hosts:AwsHosts "onezone": subnetIds: received ["subnet-0aaaaaaaaaaaaaaa1","subnet-0aaaaaaaaaaaaaaa2"]. They are in 1 zone(s) (eu-central-1a); the spread needs 2: give them in more zones or lower zoneCount.',
      );
      await settle();
      expect(run.ofType(INSTANCE).filter((r) => r.name.startsWith("onezone-"))).toEqual([]);
    } finally {
      await new Promise((r) => setTimeout(r, 200));
      restore();
    }
  });

  it("places hosts round-robin in given subnets and checks their zones", async () => {
    const hosts = new AwsHosts("sub", {
      ...base,
      count: 3,
      vpcId: "vpc-0given",
      subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa3"],
    });
    expect(await valueOf(hosts.zones)).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1a"]);
    await settle();
    expect(
      run
        .ofType(INSTANCE)
        .filter((r) => r.name.startsWith("sub-"))
        .map((r) => r.inputs.subnetId),
    ).toEqual(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa3", "subnet-0aaaaaaaaaaaaaaa1"]);
    expect(run.named("sub-sg").inputs.vpcId).toBe("vpc-0given");
    expect(
      run.calls.filter((c) => c.token === "aws:ec2/getSubnet:getSubnet").map((c) => c.inputs.id),
    ).toEqual(expect.arrayContaining(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa3"]));
  });

  it("uses a given key pair without generating one, and reaches hosts through a bastion", async () => {
    const before = run.ofType("tls:index/privateKey:PrivateKey").length;
    const hosts = new AwsHosts("bast", {
      ...base,
      count: 1,
      publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGivenKey me@laptop",
      privateKey: "GIVEN-PRIVATE",
      bastion: { host: "198.51.100.200", user: "jump" },
      installDocker: false,
      ami: "ami-0fedcba9876543210",
    });
    await settle();
    // No login key is generated; the one instance gets its own host key only.
    expect(
      run
        .ofType("tls:index/privateKey:PrivateKey")
        .slice(before)
        .map((r) => r.name),
    ).toEqual(["bast-1-host-key"]);
    expect(hosts.privateKey).toBeUndefined();
    const inputs = run.named("bast-1").inputs;
    expect(inputs).toMatchObject({ ami: "ami-0fedcba9876543210", associatePublicIpAddress: false });
    // installDocker: false leaves only the host key part in the user data.
    const userData = String(unwrapSecrets(inputs.userData));
    expect(userData).toContain("ed25519_public: ssh-ed25519 AAAAGENERATED");
    expect(userData).not.toContain("text/x-shellscript");
    expect(userData).not.toContain("docker.io");
    expect(run.named("bast-key").inputs.publicKey).toBe(
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGivenKey me@laptop",
    );
    const c = hosts.hosts[0].connection;
    expect(await valueOf(pulumi.output(c.host))).toBe(await valueOf(hosts.instances[0].privateIp));
    const proxy = c.proxy as { host: string; user: string; privateKey: pulumi.Output<string> };
    expect(proxy).toMatchObject({ host: "198.51.100.200", user: "jump", port: 22 });
    expect(await isSecretOutput(proxy.privateKey)).toBe(true);
    expect(await valueOf(proxy.privateKey)).toBe("GIVEN-PRIVATE");
    expect(await isSecretOutput(c.privateKey as pulumi.Output<string>)).toBe(true);
  });

  it("opens published service ports only to the CIDRs asked for", async () => {
    new AwsHosts("web", {
      ...base,
      count: 1,
      servicePorts: [
        { port: 443, cidrs: ["0.0.0.0/0"] },
        { port: 8000, toPort: 8010, protocol: "udp", cidrs: ["10.1.0.0/16"] },
      ],
    });
    await settle();
    expect(ruleLines(run, "web").filter((l) => l.includes("svc"))).toEqual([
      "web-in-svc-443-tcp-0-0-0-0-0 | tcp | 443-443 | 0.0.0.0/0",
      "web-in-svc-8000-8010-udp-10-1-0-0-16 | udp | 8000-8010 | 10.1.0.0/16",
    ]);
  });

  it.each<[string, Partial<AwsHostsArgs>, string]>([
    [
      "bad region",
      { region: "Frankfurt" },
      'region: received "Frankfurt". Use an AWS region name such as "eu-central-1" or "us-east-1".',
    ],
    [
      "zone of another region",
      { availabilityZones: ["us-east-1a"] },
      'availabilityZones[0]: received "us-east-1a". Use a zone of region "eu-central-1", e.g. "eu-central-1a".',
    ],
    [
      "bad zone",
      { availabilityZones: ["eu-central-1"] },
      'availabilityZones[0]: received "eu-central-1". Use an availability zone name such as "eu-central-1a".',
    ],
    [
      "no admin cidrs",
      { adminCidrs: [] },
      'adminCidrs: received []. Give the CIDR blocks allowed to SSH in, e.g. ["203.0.113.7/32"] (there is no default).',
    ],
    [
      "bad cidr",
      { adminCidrs: ["10.0.0.1/16"] },
      'adminCidrs[0]: received "10.0.0.1/16". Use an IPv4 CIDR block with no host bits set, e.g. "10.0.0.0/16" or "203.0.113.7/32".',
    ],
    [
      "world ssh",
      { adminCidrs: ["0.0.0.0/0"] },
      'adminCidrs[0]: received "0.0.0.0/0". SSH open to the whole internet needs `allowSshFromAnywhere: true`; prefer your own /32.',
    ],
    [
      "world peers",
      { peerCidrs: ["0.0.0.0/0"] },
      'peerCidrs[0]: received "0.0.0.0/0". Swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    ],
    [
      "service on swarm port",
      { servicePorts: [{ port: 2370, toPort: 2380, cidrs: ["0.0.0.0/0"] }] },
      'servicePorts[0].port: received "2370-2380". Port 2375 is SSH, a swarm port or the Docker API; it is opened only by the rules that own it (or never).',
    ],
    ["zero count", { count: 0 }, "count: received 0. Use a whole number of hosts between 1 and 100."],
    [
      "too many zones for given list",
      { availabilityZones: ["eu-central-1a"], zoneCount: 2 },
      "zoneCount: received 2. Only 1 zone(s) given; list more or lower zoneCount.",
    ],
    [
      "vpc without subnets",
      { vpcId: "vpc-1" },
      "subnetIds: received undefined. With `vpcId`, list the subnets to place the hosts in.",
    ],
    [
      "public key without private",
      { publicKey: "ssh-ed25519 AAAA" },
      "privateKey: received undefined. Give the private key matching `publicKey`; SSH needs it to run the cluster's scripts.",
    ],
    [
      "public advertise without public ip",
      { bastion: { host: "198.51.100.9" }, peerCidrs: ["203.0.113.9/32"] },
      'advertise: received "public". Hosts advertise public addresses (set, or implied by peerCidrs) but get no public IP; set associatePublicIp: true.',
    ],
    [
      "data path port",
      { dataPathPort: 80 },
      "dataPathPort: received 80. Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).",
    ],
  ])("refuses %s before creating anything", (_label, patch, message) => {
    const count = run.resources.length;
    expect(() => new AwsHosts("bad", { ...base, ...patch } as AwsHostsArgs)).toThrow(
      `swarm:hosts:AwsHosts "bad": ${message}`,
    );
    expect(run.resources.length).toBe(count);
  });

  it("accepts SSH from anywhere only with the explicit opt-in", async () => {
    new AwsHosts("open", { ...base, count: 1, adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true });
    await settle();
    expect(run.named("open-in-ssh-22-tcp-0-0-0-0-0").inputs.cidrIpv4).toBe("0.0.0.0/0");
  });
});
