import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, isSecretOutput, MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { installCloudMocks } from "../helpers/cloudMocks";
import type { AlicloudHostsArgs } from "../../components/hosts/alicloud/alicloudHosts";
import { renderDockerUserData } from "../../components/hosts/scripts/cloudinit";

// Loading @pulumi/aws and @pulumi/alicloud takes seconds on a busy machine.
jest.setTimeout(60_000);

const RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule";
const INSTANCE = "alicloud:ecs/instance:Instance";

/** A rule as "name | policy | protocol | ports | source | priority", sorted. */
function ruleLines(run: MockRun, prefix: string): string[] {
  return run
    .ofType(RULE)
    .filter((r) => r.name.startsWith(`${prefix}-`))
    .map((r) => {
      const i = unwrapSecrets(r.inputs) as Record<string, unknown>;
      const source = i.cidrIp ?? `sg:${i.sourceSecurityGroupId}`;
      return `${r.name} | ${i.policy} | ${i.ipProtocol} | ${i.portRange} | ${source} | ${i.priority}`;
    })
    .sort();
}

describe("AlicloudHosts", () => {
  let run: MockRun;
  let AlicloudHosts: typeof import("../../components/hosts/alicloud/alicloudHosts").AlicloudHosts;
  const base: AlicloudHostsArgs = { count: 5, adminCidrs: ["203.0.113.7/32"], region: "cn-hangzhou" };

  beforeAll(async () => {
    run = await installCloudMocks({
      vswitches: { "vsw-bp1aaa": "cn-hangzhou-h", "vsw-bp1bbb": "cn-hangzhou-k" },
    });
    ({ AlicloudHosts } = await import("../../components/hosts/alicloud/alicloudHosts"));
  });

  it("uses the alicloud provider handed in opts.providers (credentials, assume-role) instead of making one for region", async () => {
    const alicloud = await import("@pulumi/alicloud");
    const mine = new alicloud.Provider("mine", { region: "cn-hangzhou", profile: "ops" });
    const hosts = new AlicloudHosts("own", base, { providers: { alicloud: mine } });
    await valueOf(hosts.privateIps);
    await settle();
    expect(run.resources.filter((r) => r.name === "own-provider")).toEqual([]);
    const instance = run.named("own-1");
    expect(instance.provider).toMatch(/::mine::/);
  });

  describe("created VPC, 3 managers + 2 workers, defaults", () => {
    let hosts: InstanceType<typeof AlicloudHosts>;
    beforeAll(async () => {
      hosts = new AlicloudHosts("ali", base);
      await valueOf(hosts.privateIps);
      await settle();
    });

    it("looks up the instance type by size, the zones offering it, and the Ubuntu image", () => {
      const call = (token: string) => run.calls.find((c) => c.token === token)?.inputs;
      expect(call("alicloud:ecs/getInstanceTypes:getInstanceTypes")).toEqual({
        cpuCoreCount: 2,
        memorySize: 4,
        instanceChargeType: "PostPaid",
        networkType: "Vpc",
        sortedBy: "Price",
      });
      expect(call("alicloud:index/getZones:getZones")).toEqual({
        availableResourceCreation: "VSwitch",
        availableInstanceType: "ecs.u1-c1m2.large",
        instanceChargeType: "PostPaid",
        networkType: "Vpc",
      });
      expect(call("alicloud:ecs/getImages:getImages")).toEqual({
        nameRegex: "^ubuntu_24_04_x64",
        owners: "system",
        mostRecent: true,
      });
    });

    it("creates a region provider, a VPC and one vSwitch per zone", () => {
      expect(run.named("ali-provider").inputs).toMatchObject({ region: "cn-hangzhou" });
      expect(run.named("ali-1").provider).toMatch(/ali-provider/);
      expect(run.named("ali-vpc").inputs).toMatchObject({ vpcName: "swarm-ali", cidrBlock: "10.42.0.0/16" });
      const switches = run.ofType("alicloud:vpc/switch:Switch").filter((r) => r.name.startsWith("ali-"));
      expect(switches.map((s) => [s.name, s.inputs.zoneId, s.inputs.cidrBlock, s.inputs.vpcId])).toEqual([
        ["ali-vsw-1", "cn-hangzhou-h", "10.42.0.0/24", "ali-vpc-id"],
        ["ali-vsw-2", "cn-hangzhou-j", "10.42.1.0/24", "ali-vpc-id"],
        ["ali-vsw-3", "cn-hangzhou-k", "10.42.2.0/24", "ali-vpc-id"],
      ]);
    });

    it("spreads instances round-robin over the zones with exact inputs", async () => {
      const instances = run.ofType(INSTANCE).filter((r) => r.name.startsWith("ali-"));
      expect(instances.map((r) => [r.name, r.inputs.availabilityZone, r.inputs.vswitchId])).toEqual([
        ["ali-1", "cn-hangzhou-h", "ali-vsw-1-id"],
        ["ali-2", "cn-hangzhou-j", "ali-vsw-2-id"],
        ["ali-3", "cn-hangzhou-k", "ali-vsw-3-id"],
        ["ali-4", "cn-hangzhou-h", "ali-vsw-1-id"],
        ["ali-5", "cn-hangzhou-j", "ali-vsw-2-id"],
      ]);
      const i = run.named("ali-4").inputs;
      expect(i).toMatchObject({
        instanceName: "ali-4",
        hostName: "ali-4",
        imageId: "ubuntu_24_04_x64_20G_alibase_20250101.vhd",
        instanceType: "ecs.u1-c1m2.large",
        instanceChargeType: "PostPaid",
        securityGroups: ["ali-sg-id"],
        keyName: "swarm-ali-test",
        internetMaxBandwidthOut: 10,
        internetChargeType: "PayByTraffic",
        systemDiskCategory: "cloud_essd",
        systemDiskSize: 40,
        tags: { "pulumi-swarm:cluster": "ali", Name: "ali-4" },
      });
      expect(isSecretInput(i.userData)).toBe(true);
      const script = Buffer.from(String(unwrapSecrets(i.userData)), "base64").toString();
      expect(script).toContain("install -y --no-install-recommends docker.io");
      // Root needs no docker group (positive control: a non-root user gets one, see aws-alicloud-shared).
      expect(script).toContain(renderDockerUserData({ user: "root" }));
      expect(script).toContain("ed25519_public: ssh-ed25519 AAAAGENERATED");
      expect(await valueOf(hosts.zones)).toEqual([
        "cn-hangzhou-h",
        "cn-hangzhou-j",
        "cn-hangzhou-k",
        "cn-hangzhou-h",
        "cn-hangzhou-j",
      ]);
    });

    it("isolates members by default and opens exactly the swarm ports and SSH", () => {
      expect(run.named("ali-sg").inputs).toMatchObject({
        vpcId: "ali-vpc-id",
        innerAccessPolicy: "Drop",
        securityGroupType: "normal",
      });
      expect(ruleLines(run, "ali")).toEqual([
        "ali-in-gossip-7946-tcp-members | accept | tcp | 7946/7946 | sg:ali-sg-id | 1",
        "ali-in-gossip-7946-udp-members | accept | udp | 7946/7946 | sg:ali-sg-id | 1",
        "ali-in-overlay-4789-udp-members | accept | udp | 4789/4789 | sg:ali-sg-id | 1",
        "ali-in-ssh-22-tcp-203-0-113-7-32 | accept | tcp | 22/22 | 203.0.113.7/32 | 1",
        "ali-in-swarm-2377-tcp-members | accept | tcp | 2377/2377 | sg:ali-sg-id | 1",
      ]);
      expect(run.named("ali-in-swarm-2377-tcp-members").inputs).toEqual({
        type: "ingress",
        securityGroupId: "ali-sg-id",
        description: "swarm management (members only)",
        ipProtocol: "tcp",
        portRange: "2377/2377",
        nicType: "intranet",
        policy: "accept",
        priority: 1,
        sourceSecurityGroupId: "ali-sg-id",
      });
    });

    it("generates an RSA 4096 key, imports it and keeps the private key secret", async () => {
      expect(run.named("ali-ssh-key").inputs).toEqual({ algorithm: "RSA", rsaBits: 4096 });
      expect(run.named("ali-key").inputs).toMatchObject({
        keyPairName: "swarm-ali-test",
        publicKey: "ssh-rsa AAAAGENERATED",
      });
      expect(await isSecretOutput(hosts.privateKey!)).toBe(true);
      expect(await isSecretOutput(hosts.hosts[0].connection.privateKey as pulumi.Output<string>)).toBe(true);
    });

    it("outputs SwarmHosts: SSH to the public IP as root, advertise the private IP", async () => {
      const h = hosts.hosts[4];
      expect(h.name).toBe("ali-5");
      expect(h.connection.user).toBe("root");
      expect(await valueOf(pulumi.output(h.connection.host))).toBe((await valueOf(hosts.publicIps))[4]);
      expect(await valueOf(pulumi.output(h.advertiseAddr))).toBe((await valueOf(hosts.privateIps))[4]);
      expect(h.dependsOn).toContain(hosts.instances[4]);
      expect(h.dependsOn).toHaveLength(1 + 1 + 5);
      expect(await valueOf(hosts.vswitchIds)).toEqual(["ali-vsw-1-id", "ali-vsw-2-id", "ali-vsw-3-id"]);
      expect(await valueOf(hosts.instanceType)).toBe("ecs.u1-c1m2.large");
      expect(hosts.spansNetworks).toBe(false);
    });
  });

  describe("across networks (peers in Huawei and Tencent clouds)", () => {
    let hosts: InstanceType<typeof AlicloudHosts>;
    beforeAll(async () => {
      hosts = new AlicloudHosts("xc", { ...base, count: 1, peerCidrs: ["203.0.113.50/32"] });
      await valueOf(hosts.publicIps);
      await settle();
    });

    it("opens the swarm ports to members' and peers' /32s, ESP as 'all' narrowed to what ECS cannot name", async () => {
      const [ip] = await valueOf(hosts.publicIps);
      expect(hosts.spansNetworks).toBe(true);
      expect(await valueOf(pulumi.output(hosts.hosts[0].advertiseAddr))).toBe(ip);
      expect(ruleLines(run, "xc")).toEqual(
        [
          "xc-deny-docker-api-203-0-113-50-32 | drop | tcp | 2375/2376 | 203.0.113.50/32 | 1",
          `xc-deny-docker-api-xc-1 | drop | tcp | 2375/2376 | ${ip}/32 | 1`,
          "xc-esp-only-gre-203-0-113-50-32 | drop | gre | -1/-1 | 203.0.113.50/32 | 50",
          `xc-esp-only-gre-xc-1 | drop | gre | -1/-1 | ${ip}/32 | 50`,
          "xc-esp-only-icmp-203-0-113-50-32 | drop | icmp | -1/-1 | 203.0.113.50/32 | 50",
          `xc-esp-only-icmp-xc-1 | drop | icmp | -1/-1 | ${ip}/32 | 50`,
          "xc-esp-only-tcp-203-0-113-50-32 | drop | tcp | 1/65535 | 203.0.113.50/32 | 50",
          `xc-esp-only-tcp-xc-1 | drop | tcp | 1/65535 | ${ip}/32 | 50`,
          "xc-esp-only-udp-203-0-113-50-32 | drop | udp | 1/65535 | 203.0.113.50/32 | 50",
          `xc-esp-only-udp-xc-1 | drop | udp | 1/65535 | ${ip}/32 | 50`,
          "xc-in-esp-203-0-113-50-32 | accept | all | -1/-1 | 203.0.113.50/32 | 100",
          `xc-in-esp-xc-1 | accept | all | -1/-1 | ${ip}/32 | 100`,
          "xc-in-gossip-7946-tcp-203-0-113-50-32 | accept | tcp | 7946/7946 | 203.0.113.50/32 | 1",
          `xc-in-gossip-7946-tcp-xc-1 | accept | tcp | 7946/7946 | ${ip}/32 | 1`,
          "xc-in-gossip-7946-udp-203-0-113-50-32 | accept | udp | 7946/7946 | 203.0.113.50/32 | 1",
          `xc-in-gossip-7946-udp-xc-1 | accept | udp | 7946/7946 | ${ip}/32 | 1`,
          "xc-in-overlay-4789-udp-203-0-113-50-32 | accept | udp | 4789/4789 | 203.0.113.50/32 | 1",
          `xc-in-overlay-4789-udp-xc-1 | accept | udp | 4789/4789 | ${ip}/32 | 1`,
          "xc-in-ssh-22-tcp-203-0-113-7-32 | accept | tcp | 22/22 | 203.0.113.7/32 | 1",
          "xc-in-swarm-2377-tcp-203-0-113-50-32 | accept | tcp | 2377/2377 | 203.0.113.50/32 | 1",
          `xc-in-swarm-2377-tcp-xc-1 | accept | tcp | 2377/2377 | ${ip}/32 | 1`,
        ].sort(),
      );
    });
  });

  it("places hosts in given vSwitches after looking up their zones", async () => {
    const imageLookups = () => run.calls.filter((c) => c.token === "alicloud:ecs/getImages:getImages").length;
    const before = imageLookups();
    const hosts = new AlicloudHosts("given", {
      count: 3,
      adminCidrs: ["203.0.113.7/32"],
      vpcId: "vpc-bp1given",
      vswitchIds: ["vsw-bp1aaa", "vsw-bp1bbb"],
      instanceType: "ecs.g7.large",
      imageId: "m-custom",
    });
    await settle();
    const calls = run.calls.filter((c) => c.token === "alicloud:vpc/getSwitches:getSwitches");
    expect(calls.map((c) => c.inputs)).toContainEqual({
      ids: ["vsw-bp1aaa", "vsw-bp1bbb"],
      vpcId: "vpc-bp1given",
    });
    expect(await valueOf(hosts.zones)).toEqual(["cn-hangzhou-h", "cn-hangzhou-k", "cn-hangzhou-h"]);
    await settle();
    const instances = run.ofType(INSTANCE).filter((r) => r.name.startsWith("given-"));
    expect(instances.map((r) => r.inputs.vswitchId)).toEqual(["vsw-bp1aaa", "vsw-bp1bbb", "vsw-bp1aaa"]);
    expect(instances[0].inputs).toMatchObject({ instanceType: "ecs.g7.large", imageId: "m-custom" });
    expect(instances[0].inputs.availabilityZone).toBeUndefined();
    expect(run.ofType("alicloud:vpc/network:Network").filter((r) => r.name.startsWith("given"))).toEqual([]);
    expect(run.named("given-sg").inputs.vpcId).toBe("vpc-bp1given");
    expect(imageLookups()).toBe(before);
  });

  it.each<[string, Partial<AlicloudHostsArgs>, string]>([
    [
      "bad region",
      { region: "hangzhou" },
      'region: received "hangzhou". Use an Alibaba Cloud region id such as "cn-hangzhou" or "ap-southeast-1".',
    ],
    [
      "bad zone",
      { zoneIds: ["cn-hangzhou"] },
      'zoneIds[0]: received "cn-hangzhou". Use a zone id such as "cn-hangzhou-h" or "ap-southeast-1a".',
    ],
    [
      "zone of another region",
      { zoneIds: ["cn-beijing-a"] },
      'zoneIds[0]: received "cn-beijing-a". Use a zone of region "cn-hangzhou", e.g. "cn-hangzhou-h".',
    ],
    [
      "bad cidr",
      { adminCidrs: ["300.1.1.1/32"] },
      'adminCidrs[0]: received "300.1.1.1/32". Use an IPv4 CIDR block with no host bits set, e.g. "10.0.0.0/16" or "203.0.113.7/32".',
    ],
    [
      "world ssh",
      { adminCidrs: ["10.0.0.0/8", "0.0.0.0/0"] },
      'adminCidrs[1]: received "0.0.0.0/0". SSH open to the whole internet needs `allowSshFromAnywhere: true`; prefer your own /32.',
    ],
    [
      "vpc cidr too small",
      { vpcCidr: "10.42.0.0/25" },
      'vpcCidr: received "10.42.0.0/25". Use a block between /8 and /24 that holds 3 /24 vSwitch(es), e.g. "10.42.0.0/16".',
    ],
    [
      "public vpc cidr",
      { vpcCidr: "8.8.0.0/16" },
      'vpcCidr: received "8.8.0.0/16". Use a private block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16).',
    ],
    [
      "too many zones for list",
      { zoneIds: ["cn-hangzhou-h"], zoneCount: 2 },
      "zoneCount: received 2. Only 1 zone(s) given; list more or lower zoneCount.",
    ],
    [
      "no bandwidth, no bastion",
      { internetMaxBandwidthOut: 0 },
      "internetMaxBandwidthOut: received 0. Without public bandwidth the hosts get no public IP and are reachable only through `bastion`; set one.",
    ],
    [
      "bad instance type",
      { instanceType: "g7.large" },
      'instanceType: received "g7.large". Use an ECS instance type such as "ecs.g7.large".',
    ],
    [
      "vswitches without vpc",
      { vswitchIds: ["vsw-1"] },
      "vpcId: received undefined. With `vswitchIds`, give the VPC they belong to.",
    ],
    [
      "bad host prefix",
      { hostNamePrefix: "Node_" },
      `hostNamePrefix: received "Node_". Use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (it becomes part of resource names and hostnames).`,
    ],
  ])("refuses %s before creating anything", (_label, patch, message) => {
    const count = run.resources.length;
    expect(() => new AlicloudHosts("bad", { ...base, ...patch } as AlicloudHostsArgs)).toThrow(
      `swarm:hosts:AlicloudHosts "bad": ${message}`,
    );
    expect(run.resources.length).toBe(count);
  });
});
