/**
 * The stack config of the pulumi-swarm program: one zod schema for every `pulumi-swarm:*` key of a
 * `stacks/Pulumi.<env>.yaml`, and the translation of zod's issues into errors a user can act on:
 * each names the config key (in `pulumi config set --path` syntax), the value received and the fix.
 */
import { z } from "zod";
import { describeValue, isDnsLabel, isHostAddress, isIpv4, isIpv4Cidr } from "../components/validation";
import { isAwsRegion, awsZoneRegion } from "../components/hosts/aws/validation";
import { alicloudZoneRegion, isAlicloudRegion } from "../components/hosts/alicloud/validation";

/** The Pulumi project name: the namespace of every config key of this program. */
export const PROJECT = "pulumi-swarm";

/** The structured (plain) config keys. */
export const CONFIG_KEYS = {
  hosts: `${PROJECT}:hosts`,
  cluster: `${PROJECT}:cluster`,
  workloads: `${PROJECT}:workloads`,
  cicd: `${PROJECT}:cicd`,
} as const;

/** The secret config keys, always read with `getSecret` and set with `pulumi config set --secret`. */
export const SECRET_KEYS = {
  sshPrivateKey: `${PROJECT}:sshPrivateKey`,
  composeSecrets: `${PROJECT}:composeSecrets`,
  gitlabRootPassword: `${PROJECT}:gitlabRootPassword`,
  harborAdminPassword: `${PROJECT}:harborAdminPassword`,
  sonarqubeAdminPassword: `${PROJECT}:sonarqubeAdminPassword`,
} as const;

/** Lab hosts live in 10.213.<lab id>.0/24 (test/lab/hosts/labhosts.sh); the lab stack dials nothing else. */
const LAB_NETWORK = /^10\.213\.\d{1,3}\.\d{1,3}$/;

// ---------------------------------------------------------------------------------------------
// Field builders: every field carries its own fix, used for a wrong type, a missing value and a
// failed check alike.

const LABEL_FIX =
  "Use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit (it becomes part of resource and host names).";

const str = (fix: string) => z.string({ error: fix });
const bool = (fix = "Use true or false.") => z.boolean({ error: fix });
const int = (min: number, max: number, fix: string) =>
  z.number({ error: fix }).int({ error: fix }).min(min, { error: fix }).max(max, { error: fix });
const dnsLabel = (fix = LABEL_FIX) => str(fix).refine(isDnsLabel, { error: fix });
const ipv4 = (fix: string) => str(fix).refine(isIpv4, { error: fix });
const hostAddress = (fix: string) => str(fix).refine(isHostAddress, { error: fix });
const cidr = (fix = 'Use an IPv4 CIDR block with no host bits set, e.g. "203.0.113.0/24".') =>
  str(fix).refine(isIpv4Cidr, { error: fix });
const port = (fix = "Use a whole port number between 1 and 65535.") => int(1, 65535, fix);
const loginUser = (fix = 'Use a plain login name such as "root" or "ubuntu".') =>
  str(fix).regex(/^[a-z_][a-z0-9_-]*$/, { error: fix });
const stringMap = (fix: string) =>
  z.record(z.string({ error: fix }), z.string({ error: fix }), { error: fix });
const nonEmptyList = <T extends z.ZodType>(item: T, fix: string) =>
  z.array(item, { error: fix }).min(1, { error: fix });
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `Use one of ${values.map((v) => `"${v}"`).join(", ")}.` });

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

// ---------------------------------------------------------------------------------------------
// pulumi-swarm:hosts

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
      (v) => (/^[\d.]+$/.test(v) ? isIpv4(v) : isHostAddress(v)),
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

const awsRegion = str('Use an AWS region name such as "eu-central-1".').refine(isAwsRegion, {
  error: 'Use an AWS region name such as "eu-central-1".',
});
const alicloudRegion = str('Use an Alibaba Cloud region id such as "cn-hangzhou".').refine(isAlicloudRegion, {
  error: 'Use an Alibaba Cloud region id such as "cn-hangzhou".',
});
const awsInstanceType = str('Use an EC2 instance type such as "t3.medium".').regex(
  /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
  {
    error: 'Use an EC2 instance type such as "t3.medium".',
  },
);
const alicloudInstanceType = str('Use an ECS instance type such as "ecs.g7.large".').regex(
  /^ecs\.[a-z0-9-]+\.[a-z0-9]+$/,
  { error: 'Use an ECS instance type such as "ecs.g7.large".' },
);
const zoneCount = int(1, 10, "Use a whole number of zones between 1 and the number of hosts.");
const publicKey = str('Use an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... me@host".').regex(
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( \S.*)?$/,
  { error: 'Use an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... me@host".' },
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

const KINDS_FIX =
  'Use kind "lab" (the built-in lab hosts), "existing" (servers you have), "aws", "alicloud" or "hybrid" (Alibaba Cloud managers + existing servers).';

const hostsSchema = z.discriminatedUnion(
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

// ---------------------------------------------------------------------------------------------
// pulumi-swarm:cluster

const MANAGERS_FIX = "Use an odd number of managers: 1, 3, 5 or 7 (3 survives losing one).";
const labelMap = z.record(
  str("Use label keys of letters, digits, '.', '_', '-' or '/'.").regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/,
    {
      error: "Use label keys of letters, digits, '.', '_', '-' or '/'.",
    },
  ),
  str("Use a single-line string without commas.").regex(/^[^\n\r,]{0,256}$/, {
    error: "Use a single-line string without commas, at most 256 characters.",
  }),
  { error: 'Use a map of label names to values, e.g. { tier: "web" }.' },
);

const clusterSchema = z.strictObject({
  name: dnsLabel().default("swarm"),
  managers: int(1, 7, MANAGERS_FIX).refine((n) => n % 2 === 1, { error: MANAGERS_FIX }),
  workers: int(0, 100, "Use a whole number of workers between 0 and 100.").default(0),
  managerLabels: labelMap.optional(),
  workerLabels: labelMap.optional(),
  managerAvailability: oneOf(["active", "drain"] as const).default("active"),
  autolock: bool().optional(),
  encryptOverlays: bool().optional(),
  certExpiry: str('Use a duration such as "2160h" or "90d".')
    .regex(/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/, {
      error: 'Use a duration such as "2160h" or "90d" (units d, h, m, s).',
    })
    .optional(),
  dataPathPort: int(1024, 49151, "Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).")
    .refine((p) => p !== 2377 && p !== 7946, {
      error: "Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).",
    })
    .optional(),
  defaultAddrPool: nonEmptyList(
    cidr('Use an IPv4 CIDR block such as "10.20.0.0/16".'),
    'List blocks such as ["10.20.0.0/16"].',
  ).optional(),
  defaultAddrPoolMaskLength: int(8, 29, "Use a prefix length between the pool's and 29, e.g. 24.").optional(),
  hostFirewall: oneOf(["auto", "none"] as const).optional(),
  installDocker: bool().optional(),
  registryMirrors: z
    .array(str('Use an http(s) URL such as "https://mirror.example.com".'), {
      error: 'Use a list of URLs such as ["https://mirror.example.com"].',
    })
    .optional(),
  insecureRegistries: z
    .array(str('Use "host:port" or a CIDR.'), { error: 'Use a list such as ["registry.internal:5000"].' })
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// pulumi-swarm:workloads

const swarmName = (what: string) =>
  str(`Use a ${what} name of letters, digits, '_', '.' or '-' (starting with a letter or digit).`).regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    { error: `Use a ${what} name of letters, digits, '_', '.' or '-' (starting with a letter or digit).` },
  );
const durationText = str('Use a duration such as "10s" or "1m30s".').regex(
  /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/,
  {
    error: 'Use a duration such as "10s" or "1m30s".',
  },
);

const networkSchema = z.strictObject(
  {
    name: swarmName("network"),
    encrypted: bool().optional(),
    internal: bool().optional(),
    attachable: bool().optional(),
    subnet: cidr('Use an IPv4 CIDR block such as "10.20.0.0/24".').optional(),
    labels: stringMap("Use a map of label names to values.").optional(),
  },
  { error: 'Use { name: "backend", encrypted: true }.' },
);

const resourceAmounts = z.strictObject(
  {
    cpus: z
      .number({ error: "Use a number of CPUs, e.g. 0.5." })
      .positive({ error: "Use a number of CPUs, e.g. 0.5." })
      .optional(),
    memory: str('Use an amount such as "512M" or "1G".')
      .regex(/^\d+(\.\d+)?[KMG]?$/i, {
        error: 'Use an amount such as "512M" or "1G".',
      })
      .optional(),
  },
  { error: 'Use { cpus: 0.5, memory: "512M" }.' },
);

const serviceSchema = z.strictObject(
  {
    name: swarmName("service"),
    image: str('Use an image reference such as "nginx:1.27".').min(1, {
      error: 'Use an image reference such as "nginx:1.27".',
    }),
    mode: oneOf(["replicated", "global"] as const).optional(),
    replicas: int(0, 1000, "Use a whole number of tasks, 0-1000.").optional(),
    ports: z
      .array(
        z.strictObject(
          {
            target: port(),
            published: port().optional(),
            protocol: oneOf(["tcp", "udp", "sctp"] as const).optional(),
            mode: oneOf(["ingress", "host"] as const).optional(),
          },
          { error: 'Use { target: 80, published: 8080, mode: "ingress" }.' },
        ),
        { error: "Use a list of { target, published }." },
      )
      .optional(),
    endpointMode: oneOf(["vip", "dnsrr"] as const).optional(),
    networks: z
      .array(swarmName("network"), { error: "List names of networks declared in networks." })
      .optional(),
    env: stringMap(
      "Use a map of variable names to plain string values (secrets go in composeSecrets).",
    ).optional(),
    command: z
      .array(z.string({ error: "Use a list of strings (exec form)." }), {
        error: "Use a list of strings (exec form).",
      })
      .optional(),
    args: z
      .array(z.string({ error: "Use a list of strings." }), { error: "Use a list of strings." })
      .optional(),
    constraints: z
      .array(str('Use constraints such as "node.role==worker".'), {
        error: 'Use a list such as ["node.role==worker"].',
      })
      .optional(),
    placementPreferences: z
      .array(str('Use preferences such as "node.labels.zone".'), {
        error: 'Use a list such as ["node.labels.zone"].',
      })
      .optional(),
    maxReplicasPerNode: int(0, 1000, "Use a whole number of tasks per node (0 is unlimited).").optional(),
    resources: z
      .strictObject(
        { limits: resourceAmounts.optional(), reservations: resourceAmounts.optional() },
        { error: 'Use { limits: { cpus: 1, memory: "512M" } }.' },
      )
      .optional(),
    updatePolicy: z
      .strictObject(
        {
          parallelism: int(0, 1000, "Use a whole number of tasks updated at once (0 is all).").optional(),
          delay: durationText.optional(),
          failureAction: oneOf(["pause", "continue", "rollback"] as const).optional(),
          monitor: durationText.optional(),
          maxFailureRatio: z
            .number({ error: "Use a fraction between 0 and 1." })
            .min(0, { error: "Use a fraction between 0 and 1." })
            .max(1, { error: "Use a fraction between 0 and 1." })
            .optional(),
          order: oneOf(["stop-first", "start-first"] as const).optional(),
        },
        { error: 'Use { parallelism: 1, delay: "10s", order: "start-first" }.' },
      )
      .optional(),
    labels: stringMap("Use a map of label names to values.").optional(),
    waitForConvergence: bool().optional(),
  },
  { error: 'Use { name: "web", image: "nginx:1.27", replicas: 2 }.' },
);

const envName = str("Use variable names of letters, digits and '_', not starting with a digit.").regex(
  /^[A-Za-z_][A-Za-z0-9_]*$/,
  {
    error: "Use variable names of letters, digits and '_', not starting with a digit.",
  },
);

const composeStackSchema = z.strictObject(
  {
    name: swarmName("stack"),
    compose: str("Use the compose file's YAML as a string (a `|` block).").optional(),
    composeFile: str("Use a path to a compose file, relative to the project directory.").optional(),
    environment: stringMap(
      "Use a map of variable names to plain values (secrets go in secretEnvironment).",
    ).optional(),
    secretEnvironment: z
      .array(envName, {
        error: "List the variable names whose values come from the secret pulumi-swarm:composeSecrets.",
      })
      .optional(),
    networks: z
      .array(swarmName("network"), { error: "List names of networks declared in networks." })
      .optional(),
    withRegistryAuth: bool().optional(),
    waitForConvergence: bool().optional(),
    prune: bool().optional(),
  },
  { error: 'Use { name: "demo", compose: "services: ..." }.' },
);

const workloadsSchema = z.strictObject({
  networks: z.array(networkSchema, { error: "Use a list of { name, encrypted }." }).default([]),
  services: z.array(serviceSchema, { error: "Use a list of { name, image, ... }." }).default([]),
  stacks: z.array(composeStackSchema, { error: "Use a list of { name, compose }." }).default([]),
});

// ---------------------------------------------------------------------------------------------
// pulumi-swarm:cicd

const toolHost = {
  /** AWS instance type (hosts.kind aws). */
  instanceType: str('Use an instance type such as "t3.large" (AWS) or "ecs.g7.large" (Alibaba Cloud).')
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9.-]+$/, {
      error: 'Use an instance type such as "t3.large" (AWS) or "ecs.g7.large" (Alibaba Cloud).',
    })
    .optional(),
  cpuCores: int(1, 256, "Use a whole number of vCPUs, e.g. 2.").optional(),
  memoryGb: int(1, 4096, "Use a whole number of GiB, e.g. 8.").optional(),
  diskGb: int(20, 16384, "Use a whole number of GiB between 20 and 16384.").optional(),
  version: str(
    "Use an image tag (or Harbor release) to pin, or leave it out for the library's pin.",
  ).optional(),
};

const cicdSchema = z.strictObject({
  clientCidrs: nonEmptyList(
    cidr(),
    'List who may reach the tools\' ports, e.g. ["203.0.113.0/24", "172.31.0.0/16"] (users and the swarm\'s network).',
  ).optional(),
  gitlab: z
    .strictObject(
      {
        ...toolHost,
        httpPort: port().optional(),
        sshPort: port().optional(),
      },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort, sshPort }." },
    )
    .optional(),
  jenkins: z
    .strictObject(
      {
        ...toolHost,
        httpPort: port().optional(),
        agentPort: port().optional(),
        deployToSwarm: bool().optional(),
        deployTargets: z
          .array(
            z.strictObject(
              {
                service: swarmName("service"),
                repository: str('Use an image repository such as "10.0.1.5/team/web" (no tag).'),
              },
              { error: 'Use { service: "web", repository: "<harbor>/team/web" }.' },
            ),
            { error: "Use a list of { service, repository }." },
          )
          .optional(),
      },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort, deployToSwarm, deployTargets }." },
    )
    .optional(),
  sonarqube: z
    .strictObject(
      { ...toolHost, httpPort: port().optional() },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort }." },
    )
    .optional(),
  harbor: z
    .strictObject(
      {
        ...toolHost,
        httpsPort: port().optional(),
        withTrivy: bool().optional(),
        trustOnNodes: bool().optional(),
        installerSha256: str(
          "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        ).regex(/^[0-9a-f]{64}$/, {
          error:
            "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        }),
      },
      { error: "Use { installerSha256 } plus optional instanceType, diskGb, withTrivy, trustOnNodes." },
    )
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// The whole stack config, with the checks that span keys.

const stackSchema = z
  .strictObject({
    [CONFIG_KEYS.hosts]: hostsSchema,
    [CONFIG_KEYS.cluster]: clusterSchema,
    [CONFIG_KEYS.workloads]: workloadsSchema.prefault({}),
    [CONFIG_KEYS.cicd]: cicdSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => crossChecks(cfg as unknown as StackConfig, ctx));

/** The parsed stack config (defaults applied). */
export interface StackConfig {
  "pulumi-swarm:hosts": z.output<typeof hostsSchema>;
  "pulumi-swarm:cluster": z.output<typeof clusterSchema>;
  "pulumi-swarm:workloads": z.output<typeof workloadsSchema>;
  "pulumi-swarm:cicd": z.output<typeof cicdSchema>;
}
export type HostsConfig = StackConfig["pulumi-swarm:hosts"];
export type ClusterConfig = StackConfig["pulumi-swarm:cluster"];
export type WorkloadsConfig = StackConfig["pulumi-swarm:workloads"];
export type CicdConfig = StackConfig["pulumi-swarm:cicd"];
export type CicdTool = "gitlab" | "jenkins" | "sonarqube" | "harbor";
export const CICD_TOOLS: readonly CicdTool[] = ["gitlab", "jenkins", "sonarqube", "harbor"];

type Ctx = z.RefinementCtx;

/** Stands for "no value" in a custom issue (zod would otherwise report the whole config as the input). */
const NO_VALUE = Symbol("no value");

function issue(ctx: Ctx, path: (string | number)[], input: unknown, message: string): void {
  ctx.addIssue({ code: "custom", path, input: input === undefined ? NO_VALUE : input, message });
}

function crossChecks(cfg: StackConfig, ctx: Ctx): void {
  const hosts = cfg[CONFIG_KEYS.hosts];
  const cluster = cfg[CONFIG_KEYS.cluster];
  const workloads = cfg[CONFIG_KEYS.workloads];
  const cicd = cfg[CONFIG_KEYS.cicd];
  const H = CONFIG_KEYS.hosts;
  const C = CONFIG_KEYS.cluster;
  const W = CONFIG_KEYS.workloads;
  const total = cluster.managers + cluster.workers;

  // Where the nodes come from must add up to managers + workers.
  if (hosts.kind === "lab" || hosts.kind === "existing") {
    if (hosts.servers.length !== total) {
      issue(
        ctx,
        [C, "workers"],
        cluster.workers,
        `${H}.servers lists ${hosts.servers.length} server(s) but managers + workers is ${total}: the first ${cluster.managers} server(s) become managers, the rest workers; make the numbers match.`,
      );
    }
    uniqueNames(ctx, hosts.servers, [H, "servers"]);
  } else if (hosts.kind === "hybrid") {
    if (hosts.existing.servers.length !== cluster.workers) {
      issue(
        ctx,
        [C, "workers"],
        cluster.workers,
        `In a hybrid stack the Alibaba Cloud hosts are the ${cluster.managers} manager(s) and every server of ${H}.existing.servers (${hosts.existing.servers.length}) is a worker; set workers to ${hosts.existing.servers.length}.`,
      );
    }
    uniqueNames(ctx, hosts.existing.servers, [H, "existing", "servers"]);
    hosts.existing.servers.forEach((s, i) => {
      // The Alibaba Cloud security group admits each existing server by its public IPv4 (/32).
      const advertised = s.advertiseAddr ?? s.address;
      if (!isIpv4(advertised)) {
        issue(
          ctx,
          [H, "existing", "servers", i, s.advertiseAddr !== undefined ? "advertiseAddr" : "address"],
          advertised,
          "Across clouds the Alibaba Cloud firewall admits each server by its public IPv4 address; give an IPv4 address (or set advertiseAddr to it).",
        );
      }
    });
    checkAlicloudZones(ctx, hosts.alicloud, [H, "alicloud"]);
    if (
      hosts.alicloud.namePrefix &&
      hosts.existing.servers.some((s) => s.name.startsWith(`${hosts.alicloud.namePrefix}-`))
    ) {
      const i = hosts.existing.servers.findIndex((s) => s.name.startsWith(`${hosts.alicloud.namePrefix}-`));
      issue(
        ctx,
        [H, "existing", "servers", i, "name"],
        hosts.existing.servers[i].name,
        `Names starting with "${hosts.alicloud.namePrefix}-" are the Alibaba Cloud hosts'; give this server another name.`,
      );
    }
  } else if (hosts.kind === "aws") {
    if (hosts.zoneCount !== undefined && hosts.zoneCount > total) {
      issue(ctx, [H, "zoneCount"], hosts.zoneCount, `Use at most managers + workers (${total}) zones.`);
    }
    (hosts.availabilityZones ?? []).forEach((zone, i) => {
      if (awsZoneRegion(zone) !== hosts.region) {
        issue(
          ctx,
          [H, "availabilityZones", i],
          zone,
          `Use a zone of region "${hosts.region}", e.g. "${hosts.region}a".`,
        );
      }
    });
  } else {
    if (hosts.zoneCount !== undefined && hosts.zoneCount > total) {
      issue(ctx, [H, "zoneCount"], hosts.zoneCount, `Use at most managers + workers (${total}) zones.`);
    }
    checkAlicloudZones(ctx, hosts, [H]);
  }
  if (
    hosts.kind === "hybrid" &&
    hosts.alicloud.zoneCount !== undefined &&
    hosts.alicloud.zoneCount > cluster.managers
  ) {
    issue(
      ctx,
      [H, "alicloud", "zoneCount"],
      hosts.alicloud.zoneCount,
      `Use at most the number of managers (${cluster.managers}) zones.`,
    );
  }

  if (cluster.managerAvailability === "drain" && cluster.workers === 0) {
    issue(
      ctx,
      [C, "managerAvailability"],
      "drain",
      'With no workers, drained managers leave nowhere to run tasks; add workers or use "active".',
    );
  }

  // Workloads: names unique, references to declared networks only.
  const networkNames = new Set<string>();
  workloads.networks.forEach((n, i) => {
    if (networkNames.has(n.name))
      issue(ctx, [W, "networks", i, "name"], n.name, "Each network needs its own name.");
    networkNames.add(n.name);
  });
  const serviceNames = new Set<string>();
  workloads.services.forEach((s, i) => {
    if (serviceNames.has(s.name))
      issue(ctx, [W, "services", i, "name"], s.name, "Each service needs its own name.");
    serviceNames.add(s.name);
    if (s.mode === "global" && s.replicas !== undefined) {
      issue(
        ctx,
        [W, "services", i, "replicas"],
        s.replicas,
        'A global service runs one task per node; remove replicas or use mode "replicated".',
      );
    }
    (s.networks ?? []).forEach((name, j) => {
      if (!networkNames.has(name)) {
        issue(
          ctx,
          [W, "services", i, "networks", j],
          name,
          `Declare it in ${W}.networks first (declared: ${[...networkNames].join(", ") || "none"}).`,
        );
      }
    });
    if (hosts.kind === "lab") {
      (s.ports ?? []).forEach((p, j) => {
        if ((p.mode ?? "ingress") === "ingress") {
          issue(
            ctx,
            [W, "services", i, "ports", j, "mode"],
            p.mode,
            'The lab kernel has no IPVS (no routing mesh): use mode "host" (and endpointMode "dnsrr").',
          );
        }
      });
      if ((s.endpointMode ?? "vip") === "vip") {
        issue(
          ctx,
          [W, "services", i, "endpointMode"],
          s.endpointMode,
          'The lab kernel has no IPVS (no virtual IPs): use endpointMode "dnsrr".',
        );
      }
    }
  });
  const stackNames = new Set<string>();
  workloads.stacks.forEach((s, i) => {
    if (stackNames.has(s.name))
      issue(ctx, [W, "stacks", i, "name"], s.name, "Each stack needs its own name.");
    stackNames.add(s.name);
    if ((s.compose === undefined) === (s.composeFile === undefined)) {
      issue(
        ctx,
        [W, "stacks", i, "compose"],
        s.compose === undefined ? undefined : "(both compose and composeFile)",
        "Give exactly one of compose (the YAML, as a `|` block) or composeFile (a path relative to the project directory).",
      );
    }
    if (s.compose !== undefined && !/^services:/m.test(s.compose)) {
      issue(
        ctx,
        [W, "stacks", i, "compose"],
        "(no top-level services: key)",
        "A compose file for `docker stack deploy` needs a top-level `services:` key.",
      );
    }
    (s.networks ?? []).forEach((name, j) => {
      if (!networkNames.has(name)) {
        issue(
          ctx,
          [W, "stacks", i, "networks", j],
          name,
          `Declare it in ${W}.networks first (declared: ${[...networkNames].join(", ") || "none"}).`,
        );
      }
    });
    const plainNames = new Set(Object.keys(s.environment ?? {}));
    (s.secretEnvironment ?? []).forEach((name, j) => {
      if (plainNames.has(name)) {
        issue(
          ctx,
          [W, "stacks", i, "secretEnvironment", j],
          name,
          "It is also in environment; keep a variable in one of the two.",
        );
      }
    });
  });

  // The delivery platform runs on hosts of its own, made in the swarm's cloud.
  const tools = CICD_TOOLS.filter((t) => cicd[t] !== undefined);
  if (tools.length > 0) {
    if (hosts.kind === "lab" || hosts.kind === "existing") {
      issue(
        ctx,
        [CONFIG_KEYS.cicd],
        tools,
        `The delivery platform gets its own VMs, created in the swarm's cloud: use hosts.kind "aws", "alicloud" or "hybrid", or remove ${tools.join(", ")} (use GitLabHost/JenkinsHost/SonarQubeHost/HarborHost directly for servers you have).`,
      );
    }
    if (cicd.clientCidrs === undefined) {
      issue(
        ctx,
        [CONFIG_KEYS.cicd, "clientCidrs"],
        undefined,
        'List who may reach the tools\' ports, e.g. ["203.0.113.0/24", "172.31.0.0/16"] (users and the swarm\'s network).',
      );
    }
  }
}

function uniqueNames(ctx: Ctx, servers: { name: string; address: string }[], at: (string | number)[]): void {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  servers.forEach((s, i) => {
    const other = names.get(s.name);
    if (other !== undefined)
      issue(
        ctx,
        [...at, i, "name"],
        s.name,
        `servers[${other}] already has this name; give each server its own.`,
      );
    names.set(s.name, i);
    const same = addresses.get(s.address);
    if (same !== undefined)
      issue(
        ctx,
        [...at, i, "address"],
        s.address,
        `servers[${same}] is the same machine; a host can be in the swarm once.`,
      );
    addresses.set(s.address, i);
  });
}

function checkAlicloudZones(
  ctx: Ctx,
  group: { region: string; zoneIds?: string[] },
  at: (string | number)[],
): void {
  (group.zoneIds ?? []).forEach((zone, i) => {
    if (alicloudZoneRegion(zone) !== group.region) {
      issue(
        ctx,
        [...at, "zoneIds", i],
        zone,
        `Use a zone of region "${group.region}", e.g. "${group.region}-h".`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Errors

/** One problem in the stack config. */
export interface ConfigProblem {
  /** The config key, in `pulumi config set --path` syntax, e.g. `pulumi-swarm:cluster.managers`. */
  key: string;
  /** What was received, rendered for the message (never a secret). */
  received: string;
  /** What to do. */
  fix: string;
}

/** The stack config is invalid: one line per problem, "<key>: received <value>. <fix>". */
export class StackConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(problems.map((p) => `${p.key}: received ${p.received}. ${p.fix}`).join("\n"));
    this.name = "StackConfigError";
  }
}

/** `["pulumi-swarm:hosts", "servers", 2, "address"]` -> `pulumi-swarm:hosts.servers[2].address`. */
export function configKeyOf(path: readonly PropertyKey[]): string {
  let key = "";
  for (const part of path) {
    if (typeof part === "number") key += `[${part}]`;
    else if (key === "") key = String(part);
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(part))) key += `.${String(part)}`;
    else key += `[${JSON.stringify(String(part))}]`;
  }
  return key;
}

const SECRET_NAME = /key|password|passwd|token|secret|credential/i;

/** The known keys of the object at `path` (for "did you mean"), read from the schema. */
function knownKeys(input: unknown, path: readonly PropertyKey[]): string[] {
  let shape: z.ZodType | undefined = stackSchema as unknown as z.ZodType;
  let value: unknown = input;
  const unwrap = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let current = s;
    for (let i = 0; i < 8 && current; i++) {
      const def = (current as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (
        def.type === "optional" ||
        def.type === "default" ||
        def.type === "prefault" ||
        def.type === "nullable"
      )
        current = def.innerType as z.ZodType;
      else if (def.type === "pipe") current = def.in as z.ZodType;
      else if (def.type === "union" && Array.isArray(def.options)) {
        const kind = (value as { kind?: unknown } | undefined)?.kind;
        const options = def.options as z.ZodType[];
        current =
          options.find((o) => {
            const k = (o as unknown as { shape?: Record<string, z.ZodType> }).shape?.kind;
            return (
              k && (k as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def.values?.includes(kind)
            );
          }) ?? options[0];
      } else return current;
    }
    return current;
  };
  for (const part of path) {
    shape = unwrap(shape);
    const def = shape ? (shape as unknown as { _zod: { def: Record<string, unknown> } })._zod.def : undefined;
    if (!def) return [];
    if (def.type === "object") shape = (def.shape as Record<string, z.ZodType>)[String(part)];
    else if (def.type === "array") shape = def.element as z.ZodType;
    else return [];
    value = (value as Record<PropertyKey, unknown> | undefined)?.[part as string];
  }
  shape = unwrap(shape);
  const def = shape ? (shape as unknown as { _zod: { def: Record<string, unknown> } })._zod.def : undefined;
  return def?.type === "object" ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i][j] = Math.min(
          d[i - 1][j] + 1,
          d[i][j - 1] + 1,
          d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length][b.length];
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const dist = distance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** Turns zod's issues into the problems of a {@link StackConfigError}. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const iss of issues) {
    if (iss.code === "unrecognized_keys") {
      const known = knownKeys(input, iss.path);
      for (const key of iss.keys) {
        const at = configKeyOf([...iss.path, key]);
        const suggestion = closest(key, known);
        if (iss.path.length === 0) {
          problems.push({
            key: at,
            received: "a key this program does not read",
            fix: `Known keys: ${[...Object.values(CONFIG_KEYS), ...Object.values(SECRET_KEYS)].join(", ")}${suggestion ? `; did you mean ${suggestion}?` : "."}`,
          });
        } else if (SECRET_NAME.test(key)) {
          problems.push({
            key: at,
            received: "a secret-looking key in plain config (value not shown)",
            fix: `Remove it: secrets never go in plain config. Set keys and passwords with \`pulumi config set --secret\`, e.g. \`pulumi config set --secret ${SECRET_KEYS.sshPrivateKey} < ~/.ssh/id_ed25519\`.`,
          });
        } else {
          problems.push({
            key: at,
            received: "an unknown key",
            fix: `${suggestion ? `Did you mean ${suggestion}? ` : ""}Known keys here: ${known.join(", ")}.`,
          });
        }
      }
      continue;
    }
    let received = "input" in iss && iss.input !== NO_VALUE ? describeValue(iss.input) : "undefined";
    let fix = iss.message;
    if (iss.code === "invalid_union" && iss.path[iss.path.length - 1] === "kind") {
      fix = KINDS_FIX;
      const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
      received = describeValue(kind);
    }
    problems.push({ key: configKeyOf(iss.path), received, fix });
  }
  return problems;
}

/**
 * Validates the raw `pulumi-swarm:*` values (as `pulumi config` holds them: objects for the
 * structured keys) and applies the defaults. Throws a {@link StackConfigError} listing every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>, source?: string): StackConfig {
  const result = stackSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new StackConfigError(problemsOf(result.error.issues, raw), source);
  return result.data as unknown as StackConfig;
}
