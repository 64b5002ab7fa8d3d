/**
 * The pulumi-swarm program, free of `pulumi.Config`: `buildStack` composes hosts -> SwarmCluster
 * -> workloads -> delivery platform from a parsed stack config, so the Pulumi entry point
 * (stacks/index.ts) and the tests build exactly the same thing.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { SwarmCluster, SwarmNodeArgs } from "../index";
import {
  CONFIG_KEYS,
  ConfigProblem,
  parseStackConfig,
  PROJECT,
  SECRET_KEYS,
  StackConfig,
  StackConfigError,
} from "./config";
import { buildDelivery, DeliveryLayer, requireDeliverySecrets } from "./delivery";
import { buildHosts, HostsLayer } from "./hosts";
import { buildWorkloads, WorkloadsLayer } from "./workloads";

export { parseStackConfig, StackConfigError } from "./config";
export type { StackConfig } from "./config";

/** The secret config values (`pulumi config set --secret ...`), passed in as Inputs. */
export interface StackSecrets {
  /**
   * `pulumi-swarm:sshPrivateKey`: the SSH private key of existing servers (kinds existing and
   * hybrid), or of cloud hosts when `hosts.publicKey` is set. For the lab it overrides the key
   * read from `hosts.privateKeyPath`. Default: none.
   */
  sshPrivateKey?: pulumi.Input<string>;
  /** `pulumi-swarm:composeSecrets`: values of the compose stacks' `secretEnvironment` names. Default: none. */
  composeSecrets?: Record<string, pulumi.Input<string>>;
  /** `pulumi-swarm:gitlabRootPassword`. Default: generated. */
  gitlabRootPassword?: pulumi.Input<string>;
  /** `pulumi-swarm:harborAdminPassword`. Default: generated. */
  harborAdminPassword?: pulumi.Input<string>;
  /** `pulumi-swarm:sonarqubeAdminPassword`. Default: generated. */
  sonarqubeAdminPassword?: pulumi.Input<string>;
  /** `pulumi-swarm:gitlabApiToken`: a GitLab token with the api scope, for `cicd.gitlab.webhooks`. Default: none. */
  gitlabApiToken?: pulumi.Input<string>;
}

/** Options of {@link buildStack}. */
export interface BuildOptions {
  /** Directory `composeFile` paths are relative to. Default: the working directory (the project directory under `pulumi up`). */
  baseDir?: string;
  /** Create the cluster's `@pulumi/docker` provider (false where its plugin is missing; then no `docker.*` workloads). Default: true. */
  dockerProvider?: boolean;
  /** The lab hosts' SSH host public key, instead of reading `hosts.hostKeyPath` (tests). Default: read from the file. */
  labHostKey?: string;
}

/** The stack outputs. Secret ones are marked. */
export interface StackOutputs {
  /** The cluster component's name. */
  clusterName: string;
  /** The first manager's swarm endpoint, "ip:2377". */
  managerAddress: pulumi.Output<string>;
  /** The swarm's cluster id. */
  clusterId: pulumi.Output<string>;
  /** Swarm node id by host name. */
  nodeIds: pulumi.Output<Record<string, string>>;
  /** Host names of the managers, in order. */
  managers: string[];
  /** Host names of the workers, in order. */
  workers: string[];
  /** Address SSH dials, by host name. */
  sshAddresses: pulumi.Output<Record<string, string>>;
  /** Join tokens (secret). */
  managerJoinToken: pulumi.Output<string>;
  workerJoinToken: pulumi.Output<string>;
  /** Unlock key of autolocked managers, "" without autolock (secret). */
  unlockKey: pulumi.Output<string>;
  /** SSH private keys generated for cloud host groups, by group name (secret). */
  sshPrivateKeys: pulumi.Output<Record<string, string>>;
  /** Overlay network id by name. */
  networks: pulumi.Output<Record<string, string>>;
  /** Swarm services created by `workloads.services`. */
  services: string[];
  /** Compose stacks deployed by `workloads.stacks`. */
  composeStacks: string[];
  /** Delivery platform URLs by tool (only the tools configured). */
  urls: pulumi.Output<Record<string, string>>;
  /** Harbor's registry name for image references ("" without Harbor). */
  harborRegistry: pulumi.Output<string>;
  /** Admin user name and password by tool (secret). */
  adminCredentials: pulumi.Output<Record<string, { username: string; password: string }>>;
  /** Jenkins' deploy public key, authorized on the manager ("" without Jenkins). */
  jenkinsDeployPublicKey: pulumi.Output<string>;
}

/** Everything {@link buildStack} made, for runners that wait on parts of it. */
export interface BuiltStack {
  config: StackConfig;
  hosts: HostsLayer;
  cluster: SwarmCluster;
  workloads: WorkloadsLayer;
  delivery: DeliveryLayer;
  outputs: StackOutputs;
}

const record = <T>(entries: [string, pulumi.Input<T>][]): pulumi.Output<Record<string, T>> =>
  pulumi
    .all(entries.map(([, value]) => pulumi.output(value)))
    .apply((values) => Object.fromEntries(entries.map(([key], i) => [key, values[i] as T])));

/**
 * Builds the whole stack from a parsed config: the hosts, the swarm over them, the workloads on
 * it, and the delivery platform beside it. Throws a {@link StackConfigError} naming the key when
 * a secret the config needs is missing.
 */
export function buildStack(
  config: StackConfig,
  secrets: StackSecrets = {},
  options: BuildOptions = {},
): BuiltStack {
  const clusterConfig = config[CONFIG_KEYS.cluster];
  requireDeliverySecrets(config, secrets);
  const hosts = buildHosts(config, secrets.sshPrivateKey, options.labHostKey);
  const node =
    (role: "manager" | "worker") =>
    (host: SwarmNodeArgs["host"]): SwarmNodeArgs => ({
      host,
      role,
      ...(role === "manager"
        ? {
            ...(clusterConfig.managerLabels ? { labels: clusterConfig.managerLabels } : {}),
            availability: clusterConfig.managerAvailability,
          }
        : clusterConfig.workerLabels
          ? { labels: clusterConfig.workerLabels }
          : {}),
    });
  const name = clusterConfig.name;
  // The SwarmCluster settings are the cluster keys that are not about node counts and roles.
  const swarmSettings = {
    autolock: clusterConfig.autolock,
    certExpiry: clusterConfig.certExpiry,
    // Cloud groups opened their firewalls for this port and hand it over in `network`.
    dataPathPort: hosts.networks.length === 0 ? clusterConfig.dataPathPort : undefined,
    defaultAddrPool: clusterConfig.defaultAddrPool,
    defaultAddrPoolMaskLength: clusterConfig.defaultAddrPoolMaskLength,
    hostFirewall: clusterConfig.hostFirewall,
    installDocker: clusterConfig.installDocker,
    registryMirrors: clusterConfig.registryMirrors,
    insecureRegistries: clusterConfig.insecureRegistries,
    hostKeys: clusterConfig.hostKeys,
    acceptHostKeys: clusterConfig.acceptHostKeys,
  };
  const definedSettings = Object.fromEntries(
    Object.entries(swarmSettings).filter(([, value]) => value !== undefined),
  ) as Partial<typeof swarmSettings>;
  const cluster = new SwarmCluster(name, {
    nodes: [...hosts.managers.map(node("manager")), ...hosts.workers.map(node("worker"))],
    ...definedSettings,
    // The cloud groups' data path port and network span, as their firewalls were opened.
    ...(hosts.networks.length > 0 ? { network: hosts.networks } : {}),
    // Encrypted overlays everywhere is what spansNetworks turns on (default encryption, ESP in
    // host firewalls), whether the traffic crosses clouds (from `network`) or the operator asks.
    ...(clusterConfig.encryptOverlays === true ? { spansNetworks: true } : {}),
    ...(options.dockerProvider === false ? { dockerProvider: false } : {}),
  });
  const workloads = buildWorkloads(
    config,
    cluster,
    secrets.composeSecrets ?? {},
    options.baseDir ?? process.cwd(),
  );
  const delivery = buildDelivery(config, cluster, secrets, hosts.alicloud);

  const tools = (["gitlab", "jenkins", "sonarqube", "harbor"] as const).flatMap((tool) => {
    const component = delivery[tool];
    return component ? [[tool, component] as const] : [];
  });
  const generatedKeys: [string, pulumi.Input<string>][] = [
    ...Object.entries(hosts.generatedKeys),
    ...Object.entries(delivery.vms).flatMap(([tool, vm]) => (vm?.privateKey ? [[tool, vm.privateKey]] : [])),
  ] as [string, pulumi.Input<string>][];
  const outputs: StackOutputs = {
    clusterName: name,
    managerAddress: cluster.managerAddress,
    clusterId: cluster.clusterId,
    nodeIds: cluster.nodeIds,
    managers: hosts.managers.map((h) => h.name),
    workers: hosts.workers.map((h) => h.name),
    sshAddresses: hosts.sshAddresses,
    managerJoinToken: cluster.managerJoinToken,
    workerJoinToken: cluster.workerJoinToken,
    unlockKey: cluster.unlockKey,
    sshPrivateKeys: pulumi.secret(record<string>(generatedKeys)),
    networks: record<string>(Object.entries(workloads.networks).map(([n, net]) => [n, net.networkId])),
    services: Object.keys(workloads.services),
    composeStacks: Object.keys(workloads.stacks),
    urls: record<string>(tools.map(([tool, c]) => [tool, c.url])),
    harborRegistry: delivery.harbor ? delivery.harbor.registry : pulumi.output(""),
    adminCredentials: pulumi.secret(
      record<{ username: string; password: string }>(
        tools.map(([tool, c]) => [
          tool,
          pulumi
            .all([c.adminUsername, c.adminPassword])
            .apply(([username, password]) => ({ username, password })),
        ]),
      ),
    ),
    jenkinsDeployPublicKey: delivery.jenkins ? delivery.jenkins.deployPublicKey : pulumi.output(""),
  };
  return { config, hosts, cluster, workloads, delivery, outputs };
}

const PLAIN_KEYS = new Set<string>(Object.values(CONFIG_KEYS));
const SECRET_KEY_SET = new Set<string>(Object.values(SECRET_KEYS));

/** True for a value `pulumi config set --secret` stored: `{ secure: "v1:..." }`. */
function isEncrypted(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}

/** True when a value holds an encrypted leaf anywhere (a `--secret --path` entry). */
function holdsEncrypted(value: unknown): boolean {
  if (isEncrypted(value)) return true;
  if (Array.isArray(value)) return value.some(holdsEncrypted);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsEncrypted);
  return false;
}

/**
 * Reads a `Pulumi.<env>.yaml` stack file and validates its `pulumi-swarm:*` keys exactly like the
 * program does under `pulumi up` (other namespaces, e.g. `aws:region`, are left to their
 * providers). Secret keys must be stored encrypted; their values are not read here: pass them to
 * {@link buildStack} as {@link StackSecrets}. Throws a {@link StackConfigError} naming the key.
 */
export function loadStackFile(file: string): StackConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new StackConfigError(
      [
        {
          key: path.basename(file),
          received: JSON.stringify(file),
          fix: `Cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"}); stack files live in stacks/ as Pulumi.<stack>.yaml.`,
        },
      ],
      file,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new StackConfigError(
      [
        {
          key: path.basename(file),
          received: "text that is not YAML",
          fix: `Fix the YAML: ${(err as Error).message.split("\n")[0]}`,
        },
      ],
      file,
    );
  }
  const configMap = (doc as { config?: unknown } | null)?.config;
  if (typeof configMap !== "object" || configMap === null || Array.isArray(configMap)) {
    throw new StackConfigError(
      [
        {
          key: `${path.basename(file)}: config`,
          received: configMap === undefined ? "undefined" : JSON.stringify(configMap),
          fix: `Give a top-level config: map with at least ${CONFIG_KEYS.hosts} and ${CONFIG_KEYS.cluster}.`,
        },
      ],
      file,
    );
  }
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(configMap as Record<string, unknown>)) {
    if (!key.startsWith(`${PROJECT}:`)) continue;
    if (SECRET_KEY_SET.has(key)) {
      if (!holdsEncrypted(value) && value !== "" && value !== null) {
        problems.push({
          key,
          received: "a plain value (not shown)",
          fix: `Store it encrypted: remove it from the file and run \`pulumi config set --secret ${key} <value>\`.`,
        });
      }
      continue;
    }
    if (PLAIN_KEYS.has(key) && holdsEncrypted(value)) {
      problems.push({
        key,
        received: "an encrypted value",
        fix: `This key is plain config (no secrets in it); secrets have their own keys: ${[...SECRET_KEY_SET].join(", ")}.`,
      });
      continue;
    }
    raw[key] = PLAIN_KEYS.has(key) ? value : "(not shown)";
  }
  if (problems.length > 0) throw new StackConfigError(problems, file);
  return parseStackConfig(raw, file);
}
