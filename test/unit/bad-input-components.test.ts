import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun, settle } from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";
import type { SwarmClusterLike } from "../../components/cluster/types";
import { divertUnhandledRejections } from "../helpers/unhandled";

// Secrets are made at run time: no key- or password-shaped literal lives in the repository.
const PRIVATE_KEY = `key-${crypto.randomBytes(16).toString("hex")}`;
const BAD_PASSWORD = `pw${crypto.randomBytes(2).toString("hex")}`; // too short for every tool

/** One bad input: which component, which argument, the value, and what the error must show as received. */
interface BadInput {
  component: string;
  argument: string;
  value: unknown;
  /** What the message shows after "received" when it is not the value itself (a count, a secret placeholder). */
  received?: unknown;
  /** The value must not appear in the message (a secret). */
  secret?: boolean;
  /** The whole message after the component prefix, where a case pins it exactly. */
  message?: string;
  /** A known gap: the component accepts this value today (reported, asserted so a fix shows up). */
  gap?: string;
  build: () => unknown;
}

/** What the suite saw for one bad input, written to docs/results/bad-input.json. */
interface Refusal {
  component: string;
  argument: string;
  value: string;
  message: string;
  resourcesRegistered: number;
}

let run: MockRun;
let lib: typeof import("../../index");
let docker: typeof import("@pulumi/docker");
let validation: typeof import("../../components/validation");
let cluster: SwarmClusterLike;

const host = (n: number, name = `node-${n}`): SwarmHost => ({
  name,
  connection: { host: `10.0.0.${n}`, user: "root", privateKey: pulumi.secret(PRIVATE_KEY) },
  advertiseAddr: `10.0.0.${n}`,
});

beforeAll(async () => {
  run = await installMocks();
  docker = await import("@pulumi/docker");
  lib = await import("../../index");
  validation = await import("../../components/validation");
  cluster = {
    provider: new docker.Provider("fixture-swarm", { host: "ssh://root@10.0.0.1:22" }),
    managerHost: host(1, "manager-1"),
    managerAddress: pulumi.output("10.0.0.1:2377"),
    spansNetworks: false,
  };
  await settle();
}, 60_000); // imports the whole library: more than jest's 5 s default on a busy machine

// ---------------------------------------------------------------------------------------------
// Valid base arguments per component; each case changes one argument.
type ClusterArgs = import("../../components/cluster/args").SwarmClusterArgs;
type ExistingServer = import("../../components/hosts/existing").ExistingServerArgs;
type ExistingDefaults = import("../../components/hosts/existing").ExistingHostsDefaults;
type AwsArgs = import("../../components/hosts/aws/awsHosts").AwsHostsArgs;
type AliArgs = import("../../components/hosts/alicloud/alicloudHosts").AlicloudHostsArgs;
type NetArgs = import("../../components/workloads/overlayNetwork").OverlayNetworkArgs;
type SvcArgs = import("../../components/workloads/serviceTypes").SwarmServiceArgs;
type StackArgs = import("../../components/workloads/composeStack").ComposeStackArgs;
type GitLabArgs = import("../../components/cicd/gitlabHost").GitLabHostArgs;
type JenkinsArgs = import("../../components/cicd/jenkinsHost").JenkinsHostArgs;
type HarborArgs = import("../../components/cicd/harborHost").HarborHostArgs;
type SonarArgs = import("../../components/cicd/sonarqubeHost").SonarQubeHostArgs;
type TrustArgs = import("../../components/cicd/registryTrust").RegistryTrustArgs;

/** Casts a deliberately wrong value past the type checker (the user's config may be untyped YAML). */
const bad = <T>(value: unknown): T => value as T;

const nodes = (): ClusterArgs["nodes"] => [
  { host: host(1), role: "manager" },
  { host: host(2), role: "worker" },
];
const swarmCluster = (over: Partial<ClusterArgs>) => () =>
  new lib.SwarmCluster("c", { nodes: nodes(), ...over });
const withNode = (i: number, over: Record<string, unknown>) => {
  const list = nodes();
  list[i] = { ...list[i], ...over } as ClusterArgs["nodes"][number];
  return list;
};
const withHost = (i: number, over: Partial<SwarmHost>) => withNode(i, { host: { ...host(i + 1), ...over } });
const servers = (over: Partial<ExistingServer> = {}): ExistingServer[] => [
  { name: "tencent-1", host: "203.0.113.7", privateKey: pulumi.secret(PRIVATE_KEY), ...over },
];
const existing =
  (list: ExistingServer[], defaults: ExistingDefaults = {}) =>
  () =>
    lib.existingHosts(list, defaults);
const awsBase: AwsArgs = { count: 3, adminCidrs: ["203.0.113.7/32"], region: "eu-central-1" };
const aws =
  (over: Partial<AwsArgs>, name = "aws") =>
  () =>
    new lib.AwsHosts(name, { ...awsBase, ...over });
const aliBase: AliArgs = { count: 3, adminCidrs: ["203.0.113.7/32"], region: "cn-hangzhou" };
const ali = (over: Partial<AliArgs>) => () => new lib.AlicloudHosts("ali", { ...aliBase, ...over });
const net = (over: Partial<NetArgs>) => () => new lib.OverlayNetwork("net", { cluster, ...over });
let services = 0;
// Each service gets its own name: the cluster keeps a registry of service names and published ports.
const svc = (over: Partial<SvcArgs>) => () =>
  new lib.SwarmService(`svc${++services}`, { cluster, image: "nginx:1.27", ...over });
const stack = (over: Partial<StackArgs>) => () =>
  new lib.ComposeStack("stk", {
    cluster,
    composeContent: "services:\n  web:\n    image: nginx:1.27\n",
    ...over,
  });
const ciHost = host(50, "ci-1");
const gitlab = (over: Partial<GitLabArgs>) => () => new lib.GitLabHost("gl", { host: ciHost, ...over });
const jenkins = (over: Partial<JenkinsArgs>) => () => new lib.JenkinsHost("jk", { host: ciHost, ...over });
const HARBOR_SHA = "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const harbor = (over: Partial<HarborArgs>) => () =>
  new lib.HarborHost("hb", { host: ciHost, installerSha256: HARBOR_SHA, ...over });
const sonar = (over: Partial<SonarArgs>) => () => new lib.SonarQubeHost("sq", { host: ciHost, ...over });
const trustBase = (): TrustArgs => ({
  hosts: [host(1), host(2)],
  registry: "10.0.1.5:443",
  caCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
});
const trust = (over: Partial<TrustArgs>) => () => new lib.RegistryTrust("rt", { ...trustBase(), ...over });

/** The table: component, argument, bad value, how to build it. */
const cases: BadInput[] = [];
const add = (
  component: string,
  argument: string,
  value: unknown,
  build: () => unknown,
  extra: Partial<Pick<BadInput, "received" | "secret" | "gap" | "message">> = {},
) => cases.push({ component, argument, value, build, ...extra });

// SwarmCluster
{
  const C = "SwarmCluster";
  add(C, "nodes", [], swarmCluster({ nodes: [] }));
  add(C, "nodes", undefined, swarmCluster({ nodes: bad(undefined) }));
  add(C, "nodes[0].host", undefined, swarmCluster({ nodes: withNode(0, { host: undefined }) }));
  add(C, "nodes[0].host.name", "Node_1", swarmCluster({ nodes: withHost(0, { name: "Node_1" }) }));
  add(C, "nodes[1].host.name", "node-1", swarmCluster({ nodes: withHost(1, { name: "node-1" }) }));
  add(
    C,
    "nodes[1].host.connection.host",
    "10.0.0.1",
    swarmCluster({ nodes: withHost(1, { connection: host(1).connection }) }),
    { received: "10.0.0.1:22" },
  );
  add(
    C,
    "nodes[0].host.advertiseAddr",
    "10.0.0.1 ",
    swarmCluster({ nodes: withHost(0, { advertiseAddr: "10.0.0.1 " }) }),
  );
  add(C, "nodes[0].role", "leader", swarmCluster({ nodes: withNode(0, { role: "leader" }) }));
  add(C, "nodes[1].availability", "off", swarmCluster({ nodes: withNode(1, { availability: "off" }) }));
  add(
    C,
    "nodes[0].labels",
    "pulumi-swarm.claim",
    swarmCluster({ nodes: withNode(0, { labels: { "pulumi-swarm.claim": "x" } }) }),
  );
  add(C, "nodes[0].labels", "bad key", swarmCluster({ nodes: withNode(0, { labels: { "bad key": "x" } }) }));
  add(C, "nodes[0].labels.zone", "a,b", swarmCluster({ nodes: withNode(0, { labels: { zone: "a,b" } }) }));
  add(C, "nodes[0].labels.zone", 7, swarmCluster({ nodes: withNode(0, { labels: { zone: 7 } }) }));
  add(C, "nodes", "no manager", swarmCluster({ nodes: withNode(0, { role: "worker" }) }), {
    received: "2 workers, 0 managers",
  });
  add(
    C,
    "nodes",
    "2 managers",
    swarmCluster({
      nodes: [
        { host: host(1), role: "manager" },
        { host: host(2), role: "manager" },
      ],
    }),
  );
  add(
    C,
    "nodes",
    "9 managers",
    swarmCluster({
      nodes: Array.from({ length: 9 }, (_, i) => ({ host: host(i + 1), role: "manager" as const })),
    }),
  );
  add(C, "dataPathPort", 70000, swarmCluster({ dataPathPort: 70000 }));
  add(C, "dataPathPort", 80, swarmCluster({ dataPathPort: 80 }));
  add(C, "dataPathPort", 7946, swarmCluster({ dataPathPort: 7946 }));
  add(C, "dataPathPort", 4789.5, swarmCluster({ dataPathPort: 4789.5 }));
  add(C, "defaultAddrPool[0]", "10.0.0.1/8", swarmCluster({ defaultAddrPool: ["10.0.0.1/8"] }));
  add(C, "defaultAddrPool[1]", "fd00::/8", swarmCluster({ defaultAddrPool: ["10.20.0.0/16", "fd00::/8"] }));
  add(
    C,
    "defaultAddrPoolMaskLength",
    30,
    swarmCluster({ defaultAddrPool: ["10.20.0.0/16"], defaultAddrPoolMaskLength: 30 }),
  );
  add(
    C,
    "defaultAddrPoolMaskLength",
    8,
    swarmCluster({ defaultAddrPool: ["10.20.0.0/16"], defaultAddrPoolMaskLength: 8 }),
  );
  add(C, "hostFirewall", "ufw", swarmCluster({ hostFirewall: bad("ufw") }));
  add(
    C,
    "insecureRegistries[0]",
    "http://harbor:80",
    swarmCluster({ insecureRegistries: ["http://harbor:80"] }),
  );
  add(C, "insecureRegistries[0]", "harbor:80/v2", swarmCluster({ insecureRegistries: ["harbor:80/v2"] }));
  add(C, "insecureRegistries[0]", "harbor:99999", swarmCluster({ insecureRegistries: ["harbor:99999"] }));
  for (const registry of [
    "0.0.0.0/0",
    "10.0.0.0/8",
    "::/0",
    "docker.io",
    "registry-1.docker.io:443",
    "ghcr.io",
    "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
  ]) {
    add(C, "insecureRegistries[0]", registry, swarmCluster({ insecureRegistries: [registry] }));
  }
  add(
    C,
    "registryMirrors[0]",
    "ftp://mirror.example.com",
    swarmCluster({ registryMirrors: ["ftp://mirror.example.com"] }),
  );
  add(
    C,
    "registryMirrors[0]",
    "https://mirror.example.com/x",
    swarmCluster({ registryMirrors: ["https://mirror.example.com/x"] }),
  );
  add(
    C,
    "registryMirrors[0]",
    "mirror.example.com",
    swarmCluster({ registryMirrors: ["mirror.example.com"] }),
  );
  add(C, "certExpiry", "30m", swarmCluster({ certExpiry: "30m" }));
  add(C, "certExpiry", "ninety days", swarmCluster({ certExpiry: "ninety days" }));
  add(C, "certExpiry", "", swarmCluster({ certExpiry: "" }));
  add(C, "installDocker", "yes", swarmCluster({ installDocker: bad("yes") }), {
    message: `installDocker: received "yes". Use true or false (a boolean, not a string or a number).`,
  });
  add(C, "autolock", "true", swarmCluster({ autolock: bad("true") }), {
    message: `autolock: received "true". Use true or false (a boolean, not a string or a number).`,
  });
  add(C, "spansNetworks", 1, swarmCluster({ spansNetworks: bad(1) }), {
    message: `spansNetworks: received 1. Use true or false (a boolean, not a string or a number).`,
  });
  add(C, "allowEvenManagers", "no", swarmCluster({ allowEvenManagers: bad("no") }), {
    message: `allowEvenManagers: received "no". Use true or false (a boolean, not a string or a number).`,
  });
  add(
    C,
    "dockerSshOpts",
    "-o StrictHostKeyChecking=no",
    swarmCluster({ dockerSshOpts: bad("-o StrictHostKeyChecking=no") }),
    {
      message:
        'dockerSshOpts: received "-o StrictHostKeyChecking=no". Use a list of ssh options, one word each, e.g. ["-o", "ServerAliveInterval=30"].',
    },
  );
}

// existingHosts (a function: a plain ValidationError, nothing registered at all)
{
  const C = "existingHosts";
  add(C, "servers", [], existing([]));
  add(C, "servers[0].name", "Tencent_1", existing(servers({ name: "Tencent_1" })));
  add(C, "servers[1].name", "tencent-1", existing([...servers(), ...servers({ host: "203.0.113.8" })]));
  add(C, "servers[0].host", "bad host!", existing(servers({ host: "bad host!" })));
  add(C, "servers[0].advertiseAddr", "10.0.0.1/24", existing(servers({ advertiseAddr: "10.0.0.1/24" })));
  add(C, "servers[0].port", 0, existing(servers({ port: 0 })));
  add(C, "servers[0].port", 70000, existing(servers({ port: 70000 })));
  add(C, "servers[0].user", "root; reboot", existing(servers({ user: "root; reboot" })));
  add(C, "servers[0].privateKey", undefined, existing(servers({ privateKey: undefined })));
  add(C, "servers[0].privateKey", "", existing(servers({ privateKey: "  " })), { received: "(empty)" });
  add(C, "defaults.port", -1, existing(servers(), { port: -1 }));
  add(C, "defaults.dialErrorLimit", -2, existing(servers(), { dialErrorLimit: -2 }));
  add(C, "servers[0].bastion.host", "bastion host", existing(servers({ bastion: { host: "bastion host" } })));
  add(C, "servers[0].bastion.port", 0, existing(servers({ bastion: { host: "203.0.113.1", port: 0 } })));
  add(
    C,
    "servers[0].bastion.hostKey",
    "not a host key",
    existing(servers({ bastion: { host: "203.0.113.1", hostKey: "not a host key" } })),
  );
  add(C, "servers[0].hostKey", "not a host key", existing(servers({ hostKey: "not a host key" })), {
    message:
      'servers[0].hostKey: received "not a host key". Use the server\'s SSH host public key line, e.g. "ssh-ed25519 AAAA..." (its /etc/ssh/ssh_host_ed25519_key.pub).',
  });
}

// AwsHosts and AlicloudHosts share the common cloud arguments; each is fed them.
for (const [C, make] of [
  ["AwsHosts", aws],
  ["AlicloudHosts", ali],
] as [string, (over: Partial<AwsArgs & AliArgs>) => () => unknown][]) {
  add(C, "count", 0, make({ count: 0 }));
  add(C, "count", 101, make({ count: 101 }));
  add(C, "count", 2.5, make({ count: 2.5 }));
  add(C, "hostNamePrefix", "Swarm_Node", make({ hostNamePrefix: "Swarm_Node" }));
  add(C, "hostNamePrefix", "h".repeat(59), make({ hostNamePrefix: "h".repeat(59) }));
  add(C, "adminCidrs", [], make({ adminCidrs: [] }));
  add(C, "adminCidrs[0]", "203.0.113.7", make({ adminCidrs: ["203.0.113.7"] }));
  add(C, "adminCidrs[0]", "0.0.0.0/0", make({ adminCidrs: ["0.0.0.0/0"] }));
  add(C, "adminCidrs[0]", "0.0.0.0/1", make({ adminCidrs: ["0.0.0.0/1"] }));
  add(
    C,
    "adminCidrs",
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    make({ adminCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"] }),
  );
  add(
    C,
    "peerCidrs",
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"],
    make({ peerCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"] }),
  );
  add(C, "peerCidrs[0]", "0.0.0.0/0", make({ peerCidrs: ["0.0.0.0/0"] }));
  add(C, "peerCidrs[0]", "198.51.100.7/33", make({ peerCidrs: ["198.51.100.7/33"] }));
  add(C, "advertise", "both", make({ advertise: bad("both") }));
  add(C, "dataPathPort", 2377, make({ dataPathPort: 2377 }));
  add(C, "dataPathPort", 80, make({ dataPathPort: 80 }));
  add(C, "servicePorts[0].port", 22, make({ servicePorts: [{ port: 22, cidrs: ["0.0.0.0/0"] }] }));
  add(
    C,
    "servicePorts[0].port",
    "2370-2380",
    make({ servicePorts: [{ port: 2370, toPort: 2380, cidrs: ["0.0.0.0/0"] }] }),
  );
  add(C, "servicePorts[0].port", 0, make({ servicePorts: [{ port: 0, cidrs: ["0.0.0.0/0"] }] }));
  add(
    C,
    "servicePorts[0].toPort",
    79,
    make({ servicePorts: [{ port: 80, toPort: 79, cidrs: ["0.0.0.0/0"] }] }),
  );
  add(
    C,
    "servicePorts[0].protocol",
    "icmp",
    make({ servicePorts: [{ port: 80, protocol: bad("icmp"), cidrs: ["0.0.0.0/0"] }] }),
  );
  add(
    C,
    "servicePorts[1].port",
    80,
    make({
      servicePorts: [
        { port: 80, cidrs: ["0.0.0.0/0"] },
        { port: 80, cidrs: ["10.0.0.0/8"] },
      ],
    }),
  );
  add(C, "servicePorts[0].cidrs", [], make({ servicePorts: [{ port: 80, cidrs: [] }] }));
  add(C, "servicePorts[0].cidrs[0]", "everyone", make({ servicePorts: [{ port: 80, cidrs: ["everyone"] }] }));
  add(C, "publicKey", "AAAAC3Nza", make({ publicKey: "AAAAC3Nza", privateKey: pulumi.secret(PRIVATE_KEY) }));
  add(C, "privateKey", undefined, make({ publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me@host" }));
  add(C, "publicKey", undefined, make({ privateKey: pulumi.secret(PRIVATE_KEY) }));
  add(C, "privateKey", "", make({ publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", privateKey: " " }), {
    received: "(empty)",
  });
  add(C, "sshUser", "Admin!", make({ sshUser: "Admin!" }));
  add(C, "bastion.host", "jump host", make({ bastion: { host: "jump host" } }));
  add(C, "bastion.port", 65536, make({ bastion: { host: "203.0.113.1", port: 65536 } }));
  add(C, "dialErrorLimit", 0, make({ dialErrorLimit: 0 }));
  add(C, 'tags[""]', "x", make({ tags: { "": "x" } }));
  add(C, 'tags["team"]', 5, make({ tags: bad({ team: 5 }) }));
  add(C, "zoneCount", 0, make({ zoneCount: 0 }));
  add(C, "zoneCount", 4, make({ zoneCount: 4 }));
  add(C, "encryptedOverlays", "yes", make({ encryptedOverlays: bad("yes") }), {
    message: `encryptedOverlays: received "yes". Use true or false (a boolean, not a string or a number).`,
  });
  add(C, "installDocker", "no", make({ installDocker: bad("no") }), {
    message: `installDocker: received "no". Use true or false (a boolean, not a string or a number).`,
  });
  add(
    C,
    "adminCidrs[0]",
    '0.0.0.0/0 with allowSshFromAnywhere: "true"',
    make({ adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: bad("true") }),
    { received: "0.0.0.0/0" },
  );
}
{
  const C = "AwsHosts";
  add(C, "hostNamePrefix", "My_Hosts", aws({}, "My_Hosts"));
  add(C, "region", "Frankfurt", aws({ region: "Frankfurt" }));
  add(C, "subnetIds", undefined, aws({ vpcId: "vpc-0123456789abcdef0" }));
  add(C, "vpcId", undefined, aws({ subnetIds: ["subnet-0123456789abcdef0"] }));
  add(C, "subnetIds", [], aws({ vpcId: "vpc-0123456789abcdef0", subnetIds: [] }));
  add(C, "subnetIds[0]", "sn-1", aws({ vpcId: "vpc-0123456789abcdef0", subnetIds: ["sn-1"] }));
  add(
    C,
    "availabilityZones",
    ["eu-central-1a"],
    aws({
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0"],
      availabilityZones: ["eu-central-1a"],
    }),
  );
  add(C, "availabilityZones", [], aws({ availabilityZones: [] }));
  add(C, "availabilityZones[0]", "us-east-1a", aws({ availabilityZones: ["us-east-1a"] }));
  add(C, "availabilityZones[0]", "zone-a", aws({ availabilityZones: ["zone-a"] }));
  add(
    C,
    "availabilityZones",
    ["eu-central-1a", "eu-central-1a"],
    aws({ availabilityZones: ["eu-central-1a", "eu-central-1a"] }),
  );
  add(C, "zoneCount", 3, aws({ availabilityZones: ["eu-central-1a", "eu-central-1b"], zoneCount: 3 }));
  add(C, "rootVolumeSize", 4, aws({ rootVolumeSize: 4 }));
  add(C, "rootVolumeSize", 20000, aws({ rootVolumeSize: 20000 }));
  add(C, "rootVolumeType", "st1", aws({ rootVolumeType: bad("st1") }));
  add(C, "instanceType", "large", aws({ instanceType: "large" }));
  add(C, "ubuntuRelease", "20.04", aws({ ubuntuRelease: bad("20.04") }));
  add(C, "architecture", "arm", aws({ architecture: bad("arm") }));
  add(C, "associatePublicIp", "yes", aws({ associatePublicIp: bad("yes") }), {
    message: `associatePublicIp: received "yes". Use true or false (a boolean, not a string or a number).`,
  });
}
{
  const C = "AlicloudHosts";
  add(C, "region", "Hangzhou", ali({ region: "Hangzhou" }));
  add(C, "vswitchIds", undefined, ali({ vpcId: "vpc-bp1abc" }));
  add(C, "vpcId", undefined, ali({ vswitchIds: ["vsw-bp1abc"] }));
  add(C, "vswitchIds", [], ali({ vpcId: "vpc-bp1abc", vswitchIds: [] }));
  add(
    C,
    "zoneIds",
    ["cn-hangzhou-h"],
    ali({ vpcId: "vpc-bp1abc", vswitchIds: ["vsw-bp1abc"], zoneIds: ["cn-hangzhou-h"] }),
  );
  add(
    C,
    "vpcCidr",
    "10.42.0.0/16",
    ali({ vpcId: "vpc-bp1abc", vswitchIds: ["vsw-bp1abc"], vpcCidr: "10.42.0.0/16" }),
  );
  add(C, "vswitchIds[0]", "subnet-1", ali({ vpcId: "vpc-bp1abc", vswitchIds: ["subnet-1"] }));
  add(C, "zoneIds", [], ali({ zoneIds: [] }));
  add(C, "zoneIds[0]", "cn-beijing-a", ali({ zoneIds: ["cn-beijing-a"] }));
  add(C, "zoneIds", ["cn-hangzhou-h", "cn-hangzhou-h"], ali({ zoneIds: ["cn-hangzhou-h", "cn-hangzhou-h"] }));
  add(C, "zoneCount", 2, ali({ zoneIds: ["cn-hangzhou-h"], zoneCount: 2 }));
  add(C, "vpcCidr", "8.8.0.0/16", ali({ vpcCidr: "8.8.0.0/16" }));
  add(C, "vpcCidr", "10.42.0.0/25", ali({ vpcCidr: "10.42.0.0/25" }));
  add(C, "vpcCidr", "10.42.0.0/24", ali({ vpcCidr: "10.42.0.0/24" }));
  add(C, "instanceType", "g7.large", ali({ instanceType: "g7.large" }));
  add(C, "cpuCores", 0, ali({ cpuCores: 0 }));
  add(C, "memoryGb", -1, ali({ memoryGb: -1 }));
  add(C, "imageNameRegex", "^ubuntu_(24", ali({ imageNameRegex: "^ubuntu_(24" }));
  add(C, "internetMaxBandwidthOut", 101, ali({ internetMaxBandwidthOut: 101 }));
  add(C, "internetMaxBandwidthOut", 0, ali({ internetMaxBandwidthOut: 0 }));
  add(
    C,
    "advertise",
    "public",
    ali({ internetMaxBandwidthOut: 0, advertise: "public", bastion: { host: "203.0.113.1" } }),
  );
  add(C, "internetChargeType", "Free", ali({ internetChargeType: bad("Free") }));
  add(C, "systemDiskCategory", "hdd", ali({ systemDiskCategory: bad("hdd") }));
  add(C, "systemDiskSize", 10, ali({ systemDiskSize: 10 }));
}

// OverlayNetwork
{
  const C = "OverlayNetwork";
  add(C, "cluster", undefined, net({ cluster: bad(undefined) }));
  add(C, "networkName", "front end", net({ networkName: "front end" }));
  add(C, "subnet", "10.30.0.1/24", net({ subnet: "10.30.0.1/24" }));
  add(C, "gateway", "10.30.0.1", net({ gateway: "10.30.0.1" }));
  add(C, "gateway", "10.31.0.1", net({ subnet: "10.30.0.0/24", gateway: "10.31.0.1" }));
  add(C, "ipRange", "10.30.0.0/25", net({ ipRange: "10.30.0.0/25" }));
  add(C, "ipRange", "10.30.1.0/25", net({ subnet: "10.30.0.0/24", ipRange: "10.30.1.0/25" }));
  add(C, "driverOptions.encrypted", "", net({ driverOptions: { encrypted: "" } }));
  add(C, "attachable", "yes", net({ attachable: bad("yes") }), {
    message: `attachable: received "yes". Use true or false (a boolean, not a string or a number).`,
  });
  add(C, "labels.bad key", "bad key", net({ labels: { "bad key": "x" } }), {
    message: `labels.bad key: received "bad key". Use label keys of letters, digits, '.', '-', '_' or '/'.`,
  });
}

// SwarmService
{
  const C = "SwarmService";
  add(C, "cluster", undefined, svc({ cluster: bad(undefined) }));
  add(C, "serviceName", "Web App", svc({ serviceName: "Web App" }));
  add(C, "image", undefined, svc({ image: bad(undefined) }));
  add(C, "image", "Nginx::latest", svc({ image: "Nginx::latest" }));
  add(C, "mode", "daemon", svc({ mode: bad("daemon") }));
  add(C, "replicas", 3, svc({ mode: "global", replicas: 3 }));
  add(C, "replicas", -1, svc({ replicas: -1 }));
  add(C, "replicas", 1.5, svc({ replicas: 1.5 }));
  add(C, "endpointMode", "rr", svc({ endpointMode: bad("rr") }));
  add(C, "maxReplicasPerNode", -1, svc({ maxReplicasPerNode: -1 }));
  add(C, "env.A=B", "A=B", svc({ env: { "A=B": "x" } }));
  for (const published of [22, 2375, 2376, 2377, 7946, 4789]) {
    add(C, "ports[0].published", published, svc({ ports: [{ target: 80, published }] }));
  }
  add(
    C,
    "ports[0].published",
    4800,
    // Built when the case runs: the fixture cluster exists only after beforeAll.
    () =>
      svc({
        cluster: { ...cluster, dataPathPort: 4800 },
        ports: [{ target: 80, published: 4800, mode: "host" }],
      })(),
  );
  add(C, "command", "nginx -g daemon off;", svc({ command: bad("nginx -g daemon off;") }));
  add(C, "args", [1], svc({ args: bad([1]) }));
  add(C, "ports[0].target", 0, svc({ ports: [{ target: 0, published: 80 }] }));
  add(C, "ports[0].published", 70000, svc({ ports: [{ target: 80, published: 70000 }] }));
  add(C, "ports[0].protocol", "icmp", svc({ ports: [{ target: 80, published: 80, protocol: bad("icmp") }] }));
  add(C, "ports[0].mode", "direct", svc({ ports: [{ target: 80, published: 80, mode: bad("direct") }] }));
  add(
    C,
    "ports[1].published",
    80,
    svc({
      ports: [
        { target: 80, published: 80 },
        { target: 81, published: 80 },
      ],
    }),
  );
  add(C, "ports[0].mode", "ingress", svc({ endpointMode: "dnsrr", ports: [{ target: 80, published: 80 }] }));
  add(C, "ports[0].published", undefined, svc({ ports: [{ target: 80, mode: "host" }] }));
  add(
    C,
    "ports[0].mode",
    "host",
    svc({ replicas: 2, ports: [{ target: 80, published: 8080, mode: "host" }] }),
  );
  add(C, "mounts[0].target", "data", svc({ mounts: [{ type: "volume", source: "data", target: "data" }] }));
  add(
    C,
    "mounts[0].source",
    "my volume",
    svc({ mounts: [{ type: "volume", source: "my volume", target: "/data" }] }),
  );
  add(
    C,
    "mounts[0].source",
    "relative/dir",
    svc({ mounts: [{ type: "bind", source: "relative/dir", target: "/data" }] }),
  );
  add(
    C,
    "mounts[0].server",
    "nfs server",
    svc({
      mounts: [{ type: "nfs", source: "share", target: "/data", server: "nfs server", path: "/export" }],
    }),
  );
  add(
    C,
    "mounts[0].path",
    "export",
    svc({ mounts: [{ type: "nfs", source: "share", target: "/data", server: "10.0.0.9", path: "export" }] }),
  );
  add(
    C,
    "mounts[0].options",
    "rw addr=1.2.3.4",
    svc({
      mounts: [
        {
          type: "nfs",
          source: "share",
          target: "/data",
          server: "10.0.0.9",
          path: "/export",
          options: "rw addr=1.2.3.4",
        },
      ],
    }),
  );
  add(C, "mounts[0].mode", 0o10000, svc({ mounts: [{ type: "tmpfs", target: "/tmp", mode: 0o10000 }] }));
  add(C, "mounts[0].size", "huge", svc({ mounts: [{ type: "tmpfs", target: "/tmp", size: "huge" }] }));
  add(C, "mounts[0].type", "overlay", svc({ mounts: [bad({ type: "overlay", target: "/x" })] }));
  add(
    C,
    "mounts[1].target",
    "/data",
    svc({
      mounts: [
        { type: "tmpfs", target: "/data" },
        { type: "tmpfs", target: "/data" },
      ],
    }),
  );
  add(C, "healthcheck.test", 5, svc({ healthcheck: { test: bad(5) } }));
  add(C, "healthcheck.retries", -1, svc({ healthcheck: { test: "curl -f http://localhost/", retries: -1 } }));
  add(C, "healthcheck.interval", "often", svc({ healthcheck: { test: "true", interval: "often" } }));
  add(C, "constraints[0]", "node.role=worker", svc({ constraints: ["node.role=worker"] }));
  add(C, "constraints[0]", "node.role==boss", svc({ constraints: ["node.role==boss"] }));
  add(C, "placementPreferences[0]", "zone", svc({ placementPreferences: ["zone"] }));
  add(C, "resources.limits.cpus", 0, svc({ resources: { limits: { cpus: 0 } } }));
  add(C, "resources.limits.memory", "lots", svc({ resources: { limits: { memory: "lots" } } }));
  add(C, "resources.limits.memory", "1M", svc({ resources: { limits: { memory: "1M" } } }));
  add(
    C,
    "resources.reservations.cpus",
    2,
    svc({ resources: { limits: { cpus: 1 }, reservations: { cpus: 2 } } }),
  );
  add(C, "restartPolicy.condition", "always", svc({ restartPolicy: { condition: bad("always") } }));
  add(C, "restartPolicy.maxAttempts", -1, svc({ restartPolicy: { maxAttempts: -1 } }));
  add(C, "restartPolicy.delay", "later", svc({ restartPolicy: { delay: "later" } }));
  add(C, "updatePolicy.parallelism", -1, svc({ updatePolicy: { parallelism: -1 } }));
  add(C, "updatePolicy.failureAction", "explode", svc({ updatePolicy: { failureAction: bad("explode") } }));
  add(C, "updatePolicy.maxFailureRatio", 2, svc({ updatePolicy: { maxFailureRatio: 2 } }));
  add(C, "updatePolicy.order", "random", svc({ updatePolicy: { order: bad("random") } }));
  add(C, "updatePolicy.delay", "soon", svc({ updatePolicy: { delay: "soon" } }));
  add(C, "updatePolicy.monitor", "-5s", svc({ updatePolicy: { monitor: "-5s" } }));
  add(
    C,
    "rollbackPolicy.failureAction",
    "rollback",
    svc({ rollbackPolicy: { failureAction: bad("rollback") } }),
  );
  add(C, "stopGracePeriod", "forever", svc({ stopGracePeriod: "forever" }));
  add(
    C,
    "secrets[0].name",
    "db password",
    svc({ secrets: [{ name: "db password", data: pulumi.secret("x") }] }),
  );
  add(C, "secrets[0]", "neither", svc({ secrets: [{ name: "db" }] }));
  add(
    C,
    "secrets[1].name",
    "db",
    svc({
      secrets: [
        { name: "db", data: pulumi.secret("x") },
        { name: "db", data: pulumi.secret("y") },
      ],
    }),
  );
  add(
    C,
    "secrets[0].mode",
    0o1000,
    svc({ secrets: [{ name: "db", data: pulumi.secret("x"), mode: 0o1000 }] }),
  );
  add(C, "configs[0].name", "app config", svc({ configs: [{ name: "app config", data: "x" }] }));
  add(
    C,
    "configs[0].fileName",
    "../etc/passwd",
    svc({ configs: [{ name: "app", data: "x", fileName: "../etc/passwd" }] }),
    {
      message:
        'configs[0].fileName: received "../etc/passwd". Use a file name or an absolute path without ".." segments; the config is mounted at it inside the container.',
    },
  );
  add(C, "labels.bad key", "bad key", svc({ labels: { "bad key": "x" } }));
  add(C, "containerLabels.bad key", "bad key", svc({ containerLabels: { "bad key": "x" } }));
  add(C, "networks[0]", "no id", svc({ networks: [bad({})] }));
  add(
    C,
    "registryAuth.server",
    "",
    svc({ registryAuth: { server: "", username: "u", password: pulumi.secret("p") } }),
  );
  add(C, "waitForConvergence", true, svc({ mode: "global", waitForConvergence: true }));
  add(C, "waitForConvergence.timeout", "a while", svc({ waitForConvergence: { timeout: "a while" } }));
  add(C, "user", "root;id", svc({ user: "root;id" }), {
    message:
      'user: received "root;id". Use "user", "uid", "user:group" or "uid:gid", e.g. "nginx" or "101:101".',
  });
  add(C, "workdir", "app", svc({ workdir: "app" }));
}

// ComposeStack
{
  const C = "ComposeStack";
  add(C, "cluster", undefined, stack({ cluster: bad(undefined) }));
  add(
    C,
    "cluster.managerHost",
    "no connection",
    // Built when the case runs: the fixture cluster exists only after beforeAll.
    () => stack({ cluster: { ...cluster, managerHost: bad({ name: "m" }) } })(),
  );
  add(C, "stackName", "My Stack", stack({ stackName: "My Stack" }));
  add(C, "composeFile", "neither", stack({ composeContent: undefined }), {
    received: "neither composeFile nor composeContent",
  });
  add(C, "composeFile", "both", stack({ composeFile: "/etc/hostname" }), {
    received: "both composeFile and composeContent",
  });
  add(
    C,
    "composeFile",
    "/nonexistent/compose.yml",
    stack({ composeContent: undefined, composeFile: "/nonexistent/compose.yml" }),
  );
  add(C, "composeContent", "version: '3'", stack({ composeContent: "version: '3'\n" }), {
    received: "content without a top-level services: key",
  });
  add(C, "environment.1TAG", "1TAG", stack({ environment: { "1TAG": "x" } }));
  for (const name of ["PATH", "IFS", "DOCKER_HOST", "LD_PRELOAD", "HOME", "BASH_ENV"]) {
    add(C, `environment.${name}`, name, stack({ environment: { [name]: "x" } }));
  }
  add(C, "resolveImage", "sometimes", stack({ resolveImage: bad("sometimes") }));
  add(C, "removeTimeoutSeconds", -5, stack({ removeTimeoutSeconds: -5 }));
  add(C, "prune", "yes", stack({ prune: bad("yes") }), {
    message: `prune: received "yes". Use true or false (a boolean, not a string or a number).`,
  });
}

// The delivery platform hosts share host/address/dataDir/healthTimeoutSeconds/requirements/hostSize.
for (const [C, make] of [
  ["GitLabHost", gitlab],
  ["JenkinsHost", jenkins],
  ["HarborHost", harbor],
  ["SonarQubeHost", sonar],
] as [string, (over: Record<string, unknown>) => () => unknown][]) {
  add(C, "host", undefined, make({ host: undefined }));
  add(C, "host", "(no connection)", make({ host: { name: "ci-1" } }));
  add(C, "host.name", "CI_1", make({ host: { ...ciHost, name: "CI_1" } }));
  add(C, "address", "localhost", make({ address: "localhost" }));
  add(C, "address", "ci host", make({ address: "ci host" }));
  add(C, "dataDir", "srv/ci", make({ dataDir: "srv/ci" }));
  add(C, "dataDir", "/", make({ dataDir: "/" }));
  add(C, "dataDir", "/srv/../etc", make({ dataDir: "/srv/../etc" }));
  add(C, "healthTimeoutSeconds", 5, make({ healthTimeoutSeconds: 5 }));
  add(C, "requirements.cpus", 0.5, make({ requirements: { cpus: 0.5 } }));
  add(C, "requirements.memoryGiB", -1, make({ requirements: { memoryGiB: -1 } }));
  add(
    C,
    "hostSize.cpus",
    3,
    make({ requirements: { cpus: 4 }, hostSize: { cpus: 3, memoryGiB: 64, diskGiB: 500 } }),
  );
  add(C, "hostSize.memoryGiB", 0.5, make({ hostSize: { cpus: 16, memoryGiB: 0.5, diskGiB: 500 } }));
  add(C, "hostSize.diskGiB", 1, make({ hostSize: { cpus: 16, memoryGiB: 64, diskGiB: 1 } }));
  add(C, "httpPort", 0, make({ httpPort: 0 }));
  add(C, "version", "latest!", make({ version: "latest!" }));
  add(C, "hostKeys", "maybe", make({ hostKeys: "maybe" }), {
    message: 'hostKeys: received "maybe". Use "pin" (default) or "off".',
  });
  add(C, 'acceptHostKeys["ci-9"]', "ci-9", make({ acceptHostKeys: { "ci-9": `SHA256:${"A".repeat(43)}` } }), {
    message: `acceptHostKeys["ci-9"]: received "ci-9". Use the name of one of this ${C}'s hosts: ci-1.`,
  });
  add(C, 'acceptHostKeys["ci-1"]', "MD5:aa", make({ acceptHostKeys: { "ci-1": "MD5:aa" } }));
}
add("GitLabHost", "sshPort", 9999, gitlab({ sshPort: 9999 }));
add("GitLabHost", "sshPort", 70000, gitlab({ sshPort: 70000 }));
add("GitLabHost", "sshPort", 22, gitlab({ sshPort: 22 }), {
  message:
    "sshPort: received 22. Port 22 is the host's own sshd (the cluster's scripts use it); give GitLab's SSH another port, e.g. 2222 (the default).",
});
add("GitLabHost", "rootPassword", BAD_PASSWORD, gitlab({ rootPassword: pulumi.secret(BAD_PASSWORD) }), {
  received: "(secret, not shown)",
  secret: true,
  gap: "a secret Output is known only when it resolves: refused then, with the message of a known value, before any command takes it (checked-inputs.test.ts), but after the preflight is registered",
});
add("GitLabHost", "rootPassword", BAD_PASSWORD, gitlab({ rootPassword: BAD_PASSWORD }), {
  received: "(secret, not shown)",
  secret: true,
});
add("JenkinsHost", "agentPort", 8080, jenkins({ agentPort: 8080 }));
add("JenkinsHost", "authorizeOn", "manager-1", jenkins({ authorizeOn: bad("manager-1") }));
add("JenkinsHost", "authorizeOn[0].name", "Manager_1", jenkins({ authorizeOn: [host(1, "Manager_1")] }));
add(
  "JenkinsHost",
  "authorizeOn[1].name",
  "manager-1",
  jenkins({ authorizeOn: [host(1, "manager-1"), host(2, "manager-1")] }),
);
add("HarborHost", "adminPassword", BAD_PASSWORD, harbor({ adminPassword: BAD_PASSWORD }), {
  received: "(secret, not shown)",
  secret: true,
});
add("HarborHost", "tls", "yes", harbor({ tls: bad("yes") }));
add("HarborHost", "httpsPort", 80, harbor({ httpsPort: 80 }));
add("HarborHost", "version", "2.15", harbor({ version: "2.15" }));
add("HarborHost", "installer", "usb", harbor({ installer: bad("usb") }));
add(
  "HarborHost",
  "installerUrl",
  "ftp://example.com/harbor.tgz",
  harbor({ installerUrl: "ftp://example.com/harbor.tgz" }),
);
add("HarborHost", "installerSha256", "abc123", harbor({ installerSha256: "abc123" }));
add("HarborHost", "installerSha256", undefined, harbor({ installerSha256: bad(undefined) }));
add(
  "HarborHost",
  "installerUrl",
  "http://mirror.example.com/harbor.tgz",
  harbor({ installerUrl: "http://mirror.example.com/harbor.tgz" }),
);
add("HarborHost", "extraNames[0]", "harbor host", harbor({ extraNames: ["harbor host"] }));
add("HarborHost", "certificateValidityHours", 1, harbor({ certificateValidityHours: 1 }));
add("HarborHost", "caValidityHours", 100, harbor({ certificateValidityHours: 200, caValidityHours: 100 }));
add("HarborHost", "withTrivy", "yes", harbor({ withTrivy: bad("yes") }), {
  message: `withTrivy: received "yes". Use true or false (a boolean, not a string or a number).`,
});
add("SonarQubeHost", "adminPassword", BAD_PASSWORD, sonar({ adminPassword: BAD_PASSWORD }), {
  received: "(secret, not shown)",
  secret: true,
});
add("SonarQubeHost", "postgresVersion", "17 alpine", sonar({ postgresVersion: "17 alpine" }));

// RegistryTrust
{
  const C = "RegistryTrust";
  add(C, "hosts", [], trust({ hosts: [] }));
  add(C, "hosts[0].name", "Node_1", trust({ hosts: [host(1, "Node_1")] }));
  add(C, "hosts[1].name", "node-1", trust({ hosts: [host(1), host(2, "node-1")] }));
  add(C, "registry", undefined, trust({ registry: bad(undefined) }));
  add(C, "registry", "https://harbor.internal/", trust({ registry: "https://harbor.internal/" }));
  add(C, "caCertificate", undefined, trust({ caCertificate: bad(undefined) }));
  add(C, "caCertificate", "not a certificate", trust({ caCertificate: "not a certificate" }), {
    received: "(not PEM)",
  });
  add(C, "hostKeys", "maybe", trust({ hostKeys: bad("maybe") }));
  add(
    C,
    "acceptHostKeys",
    { "node-1": `SHA256:${"A".repeat(43)}` },
    trust({
      hostKeys: "off",
      acceptHostKeys: { "node-1": `SHA256:${"A".repeat(43)}` },
    }),
    {
      message: `acceptHostKeys: received {"node-1":"SHA256:${"A".repeat(43)}"}. Host keys are not pinned with hostKeys: "off"; remove acceptHostKeys or pin.`,
    },
  );
}

// ---------------------------------------------------------------------------------------------

const refusals: Refusal[] = [];
const accepted: { component: string; argument: string; value: string; gap: string; lateError?: string }[] =
  [];
const late: string[] = [];
const onLate = (reason: unknown) => late.push(String(reason));

describe("every public component refuses bad input before creating anything", () => {
  // A value a component accepts keeps running after its case; its later (async) failures are
  // collected here instead of failing whichever case runs at that moment.
  let restoreRejections = () => {};
  beforeAll(() => {
    restoreRejections = divertUnhandledRejections(onLate);
  });
  afterAll(() => {
    restoreRejections();
    const dir = process.env.PROOF_RESULTS_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "bad-input.json"),
      `${JSON.stringify({ tried: cases.length, refused: refusals.length, accepted, refusals }, null, 2)}\n`,
    );
  });

  const title = (c: BadInput) =>
    `${c.component}: ${c.argument} = ${JSON.stringify(c.value) ?? "undefined"} ${c.gap ? "is refused when the Output resolves, not in the constructor" : "is refused"}`;

  it.each(cases.map((c, i) => [i, title(c)] as const))("#%i %s", async (i) => {
    const c = cases[i];
    await settle();
    const before = run.resources.length;
    const lateBefore = late.length;
    let error: unknown;
    try {
      c.build();
    } catch (err) {
      error = err;
    }
    await settle();
    const registered = run.resources.length - before;
    // A secret is never written to the results, not even a throwaway one.
    const shown = c.secret
      ? "(a too-short password, generated at run time)"
      : validation.describeValue(c.value);
    if (c.gap) {
      // An Output's value is unknown in the constructor: the check is that it IS refused when it
      // resolves, naming the argument and never the secret (this fails if the refusal goes away).
      expect(error).toBeUndefined();
      for (
        let i = 0;
        i < 50 && !late.slice(lateBefore).some((l) => l.includes(`${c.argument}: received`));
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      const refusal = late.slice(lateBefore).find((l) => l.includes(`${c.argument}: received`));
      // (The engine prefixes it with the property it was serializing, e.g. "stdin".)
      expect(refusal).toMatch(new RegExp(`swarm:[a-z]+:${c.component} "[^"]+": ${c.argument}: received `));
      const received = validation.describeValue("received" in c ? c.received : c.value);
      expect(refusal).toContain(`${c.argument}: received ${received}. `);
      if (c.secret) expect(refusal).not.toContain(String(c.value));
      accepted.push({
        component: c.component,
        argument: c.argument,
        value: shown,
        gap: c.gap,
        ...(c.secret && late.length > lateBefore
          ? { lateError: late[lateBefore].split("\n")[0].slice(0, 300) }
          : {}),
      });
      if (c.secret) for (const line of late) expect(line).not.toContain(String(c.value));
      return;
    }
    if (error === undefined) {
      throw new Error(
        `${c.component} accepted ${c.argument} = ${shown} (${registered} resources registered)`,
      );
    }
    const message = (error as Error).message;
    refusals.push({
      component: c.component,
      argument: c.argument,
      value: shown,
      message,
      resourcesRegistered: registered,
    });
    expect(registered).toBe(0);
    const received = validation.describeValue("received" in c ? c.received : c.value);
    expect(message).toContain(`${c.argument}: received ${received}. `);
    if (c.component === "existingHosts") {
      expect(error).toBeInstanceOf(validation.ValidationError);
    } else {
      expect(error).toBeInstanceOf(pulumi.ResourceError);
      expect(message).toMatch(new RegExp(`^swarm:[a-z]+:${c.component} "[^"]+": `));
    }
    if (c.secret) expect(message).not.toContain(String(c.value));
    if (c.message) expect(message.replace(/^swarm:[a-z]+:\w+ "[^"]+": /, "")).toBe(c.message);
    // A fix follows the value: more than the bare "argument: received value."
    expect(message.split(`received ${received}. `)[1]?.length ?? 0).toBeGreaterThan(10);
  });

  it("tried every public component", () => {
    expect(new Set(cases.map((c) => c.component))).toEqual(
      new Set([
        "SwarmCluster",
        "existingHosts",
        "AwsHosts",
        "AlicloudHosts",
        "OverlayNetwork",
        "SwarmService",
        "ComposeStack",
        "GitLabHost",
        "JenkinsHost",
        "HarborHost",
        "SonarQubeHost",
        "RegistryTrust",
      ]),
    );
  });
});
