/** The schema of `pulumi-swarm:hosts`: where the machines come from (lab, existing, AWS, Alibaba Cloud, hybrid). */
import { z } from "zod";
import { rules } from "../../index";
import {
  bool,
  cidr,
  dnsLabel,
  hostAddress,
  int,
  ipv4,
  loginUser,
  nonEmptyList,
  oneOf,
  port,
  ruled,
  str,
  stringMap,
} from "./fields";

/** Lab hosts live in 10.213.<lab id>.0/24 (test/lab/hosts/labhosts.sh); the lab stack dials nothing else. */
const LAB_NETWORK = /^10\.213\.\d{1,3}\.\d{1,3}$/;

const adminCidrs = nonEmptyList(
  cidr(),
  'List the networks allowed to SSH in, e.g. ["203.0.113.0/24"] (your office or VPN); "0.0.0.0/0" needs allowSshFromAnywhere: true.',
);

const servicePort = z.strictObject(
  {
    port: port(),
    toPort: port().optional(),
    protocol: oneOf(["tcp", "udp"] as const).optional(),
    cidrs: nonEmptyList(cidr(), 'List who may reach the port, e.g. ["0.0.0.0/0"] for a public web port.'),
    description: str("Use a short text.").optional(),
  },
  { error: 'Use { port: 443, cidrs: ["0.0.0.0/0"] }.' },
);

const tags = stringMap("Use a map of tag names to string values.");

const labServer = z.strictObject(
  {
    name: dnsLabel(),
    address: str('Use the lab host\'s address, 10.213.<lab>.<n> (e.g. "10.213.1.11").').regex(LAB_NETWORK, {
      error:
        'Use the lab host\'s address, 10.213.<lab>.<n> (e.g. "10.213.1.11"): the lab stack only dials hosts of the lab network.',
    }),
  },
  { error: 'Use { name: "lab1-1", address: "10.213.1.11" }.' },
);

const labHosts = z.strictObject({
  kind: z.literal("lab"),
  privateKeyPath: str(
    "Use the absolute path of the lab's SSH key, e.g. /tmp/pulumi-swarm-lab/lab1/id_ed25519.",
  ).regex(/^\/\S+$/, {
    error: "Use the absolute path of the lab's SSH key, e.g. /tmp/pulumi-swarm-lab/lab1/id_ed25519.",
  }),
  hostKeyPath: str(
    "Use the absolute path of the lab hosts' SSH host public key, e.g. /tmp/pulumi-swarm-lab/lab1/ssh_host_ed25519_key.pub.",
  )
    .regex(/^\/\S+$/, {
      error:
        "Use the absolute path of the lab hosts' SSH host public key, e.g. /tmp/pulumi-swarm-lab/lab1/ssh_host_ed25519_key.pub.",
    })
    .optional(),
  user: loginUser().default("root"),
  servers: nonEmptyList(labServer, "List the lab hosts: [{ name: lab1-1, address: 10.213.1.11 }, ...]."),
});

const existingServer = z.strictObject(
  {
    name: dnsLabel(),
    address: str("Use the IPv4 address or DNS name SSH dials.").refine(
      (v) => (/^[\d.]+$/.test(v) ? rules.isIpv4(v) : rules.isHostAddress(v)),
      { error: "Use the IPv4 address or DNS name SSH dials." },
    ),
    advertiseAddr: ipv4("Use the IPv4 address the other swarm nodes reach this server on.").optional(),
    user: loginUser().optional(),
    port: port().optional(),
    hostKey: str('Use the server\'s SSH host public key line, e.g. "ssh-ed25519 AAAA...".').optional(),
  },
  { error: 'Use { name: "huawei-1", address: "203.0.113.21" }.' },
);

const bastion = z.strictObject(
  {
    host: hostAddress("Use the bastion's IPv4 address or DNS name."),
    port: port().optional(),
    user: loginUser().optional(),
    hostKey: ruled(
      str('Use the bastion\'s SSH host public key line, e.g. "ssh-ed25519 AAAA...".'),
      rules.requireHostKey,
    ).optional(),
  },
  { error: 'Use { host: "203.0.113.5", user: "ubuntu" }.' },
);

const existingGroup = {
  user: loginUser().default("root"),
  port: port().default(22),
  servers: nonEmptyList(
    existingServer,
    'List the servers: [{ name: "srv-1", address: "203.0.113.21" }, ...].',
  ),
  bastion: bastion.optional(),
  dialErrorLimit: int(-1, 1000, "Use a whole number of SSH dial attempts, or -1 for no limit.").optional(),
};

const awsRegion = str('Use an AWS region name such as "eu-central-1".').refine(rules.isAwsRegion, {
  error: 'Use an AWS region name such as "eu-central-1".',
});
const alicloudRegion = str('Use an Alibaba Cloud region id such as "cn-hangzhou".').refine(
  rules.isAlicloudRegion,
  {
    error: 'Use an Alibaba Cloud region id such as "cn-hangzhou".',
  },
);
const awsInstanceType = ruled(
  str('Use an EC2 instance type such as "t3.medium".'),
  rules.requireAwsInstanceType,
);
const alicloudInstanceType = ruled(
  str('Use an ECS instance type such as "ecs.g7.large".'),
  rules.requireAlicloudInstanceType,
);
const zoneCount = int(1, 10, "Use a whole number of zones between 1 and the number of hosts.");
const publicKey = ruled(
  str('Use an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... me@host".'),
  rules.requirePublicKey,
);

const awsGroup = {
  region: awsRegion,
  adminCidrs,
  allowSshFromAnywhere: bool().optional(),
  namePrefix: dnsLabel().default("node"),
  instanceType: awsInstanceType.default("t3.medium"),
  rootVolumeSize: int(8, 16384, "Use a whole number of GiB between 8 and 16384.").optional(),
  zoneCount: zoneCount.optional(),
  availabilityZones: nonEmptyList(
    str('Use availability zone names such as "eu-central-1a".'),
    'List zones such as ["eu-central-1a", "eu-central-1b"], or leave it out.',
  ).optional(),
  ubuntuRelease: oneOf(["24.04", "22.04"] as const).optional(),
  architecture: oneOf(["x86_64", "arm64"] as const).optional(),
  servicePorts: z.array(servicePort, { error: "Use a list of { port, cidrs }." }).optional(),
  publicKey: publicKey.optional(),
  tags: tags.optional(),
};

const alicloudGroup = {
  region: alicloudRegion,
  adminCidrs,
  allowSshFromAnywhere: bool().optional(),
  namePrefix: dnsLabel().default("ali"),
  instanceType: alicloudInstanceType.optional(),
  cpuCores: int(1, 256, "Use a whole number of vCPUs, e.g. 2.").optional(),
  memoryGb: int(1, 4096, "Use a whole number of GiB, e.g. 4.").optional(),
  zoneCount: zoneCount.optional(),
  zoneIds: nonEmptyList(
    str('Use zone ids such as "cn-hangzhou-h".'),
    'List zones such as ["cn-hangzhou-h", "cn-hangzhou-j"], or leave it out.',
  ).optional(),
  vpcCidr: cidr('Use a private IPv4 block such as "10.42.0.0/16".').optional(),
  systemDiskSize: int(20, 32768, "Use a whole number of GiB between 20 and 32768.").optional(),
  internetMaxBandwidthOut: int(
    1,
    1024,
    "Use the public bandwidth in Mbps, 1-1024 (hosts need a public IP).",
  ).optional(),
  servicePorts: z.array(servicePort, { error: "Use a list of { port, cidrs }." }).optional(),
  publicKey: publicKey.optional(),
  tags: tags.optional(),
};

export const KINDS_FIX =
  'Use kind "lab" (the built-in lab hosts), "existing" (servers you have), "aws", "alicloud" or "hybrid" (Alibaba Cloud managers + existing servers).';

export const hostsSchema = z.discriminatedUnion(
  "kind",
  [
    labHosts,
    z.strictObject({ kind: z.literal("existing"), ...existingGroup }),
    z.strictObject({ kind: z.literal("aws"), ...awsGroup }),
    z.strictObject({ kind: z.literal("alicloud"), ...alicloudGroup }),
    z.strictObject({
      kind: z.literal("hybrid"),
      alicloud: z.strictObject(alicloudGroup, {
        error: 'Use { region: "cn-hangzhou", adminCidrs: [...] } for the Alibaba Cloud managers.',
      }),
      existing: z.strictObject(existingGroup, {
        error: "Use { servers: [{ name, address }, ...] } for the servers in the other cloud.",
      }),
    }),
  ],
  { error: KINDS_FIX },
);

/** The parsed `pulumi-swarm:hosts` (defaults applied). */
export type HostsConfig = z.output<typeof hostsSchema>;
