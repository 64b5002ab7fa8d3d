import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { SwarmClusterLike } from "../cluster/types";
import { fail, validateComponentArgs } from "../validation";
import { requireSwarmName } from "./parse";
import {
  renderRedisConvergeScript,
  renderRedisNodeCommand,
  REDIS_PORT,
  type RedisTopology,
} from "./scripts/redis";
import { secretBase64 } from "./secrets";
import { SwarmJob } from "./swarmJob";
import { SwarmService } from "./swarmService";
import { TOKENS, withTokenAliases } from "../tokens";

/** Arguments of a {@link RedisCluster}. */
export interface RedisClusterArgs {
  /** The swarm to run on. */
  cluster: SwarmClusterLike;
  /** The overlay network the nodes (and their clients) share, e.g. an OverlayNetwork. */
  network: { readonly networkId: pulumi.Input<string>; readonly networkName: pulumi.Input<string> };
  /** A Redis 7 image with redis-server, redis-cli and sh (e.g. the lab's `lab/redis`). */
  image: pulumi.Input<string>;
  /** Masters (3 or more: Redis Cluster needs a majority of masters). Default: 3. */
  masters?: number;
  /** Replicas of each master (0 or more). Default: 1. */
  replicasPerMaster?: number;
  /** Prefix of the node services' names (`<prefix>-m1`, `<prefix>-m1-r1`...). Default: the component name. */
  prefix?: string;
  /**
   * Node hostnames to pin the services to (see {@link redisPlacement}), so each node's volume (and
   * nodes.conf) stays with it. Default: none (the swarm places them; a moved task loses its volume).
   */
  nodes?: string[];
  /**
   * The Redis password. Default: 32 letters and digits from @pulumi/random's RandomPassword (the
   * `random` provider plugin must be installed, as Pulumi does on first use).
   */
  password?: pulumi.Input<string>;
  /** Seconds the create/grow job may take. Default: 300. */
  jobTimeoutSeconds?: number;
}

/** The services of a cluster, by role, for the given sizes. Pure: the config decides the names. */
export function redisTopology(prefix: string, masters: number, replicasPerMaster: number): RedisTopology {
  const m = Array.from({ length: masters }, (_, i) => `${prefix}-m${i + 1}`);
  return {
    masters: m,
    replicas: m.flatMap((master) =>
      Array.from({ length: replicasPerMaster }, (_, j) => ({ name: `${master}-r${j + 1}`, master })),
    ),
  };
}

/**
 * The node each service is pinned to: master k on nodes[k], replica j of master k on nodes[k + j + 1]
 * (modulo the count): never beside its own master when there are enough nodes, and the same for a
 * name whatever the sizes, so growing the cluster moves no existing node (and its volume) elsewhere.
 */
export function redisPlacement(topology: RedisTopology, nodes: string[]): Record<string, string> {
  const at = (i: number) => nodes[i % nodes.length];
  const pins: Record<string, string> = {};
  topology.masters.forEach((m, k) => (pins[m] = at(k)));
  for (const r of topology.replicas) {
    const k = topology.masters.indexOf(r.master);
    const j = Number(r.name.slice(r.master.length + 2)) - 1;
    pins[r.name] = at(k + j + 1);
  }
  return pins;
}

function validate(name: string, args: RedisClusterArgs) {
  if (!args?.cluster) fail("cluster", args?.cluster, "Pass the SwarmCluster to run the Redis cluster on.");
  if (!args.network) fail("network", args.network, "Pass the OverlayNetwork the nodes share.");
  const masters = args.masters ?? 3;
  const replicasPerMaster = args.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3)
    fail("masters", masters, "Redis Cluster needs 3 or more masters (a majority must agree on failover).");
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0)
    fail("replicasPerMaster", replicasPerMaster, "Give a whole number of 0 or more.");
  const prefix = args.prefix ?? name;
  requireSwarmName("prefix", prefix);
  (args.nodes ?? []).forEach((n, i) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(n)) fail(`nodes[${i}]`, n, "Give node hostnames.");
  });
  return { masters, replicasPerMaster, prefix, topology: redisTopology(prefix, masters, replicasPerMaster) };
}

/**
 * A Redis Cluster on the swarm: one single-task service per node (dnsrr, a volume at /data, announced
 * by its service name), a password from @pulumi/random kept in a swarm secret, and a SwarmJob that
 * creates the cluster with `redis-cli --cluster create` and, when `masters` or `replicasPerMaster`
 * grow, adds the new nodes and rebalances slots onto the new masters. Shrinking is refused by Redis
 * itself (slots would be lost) and is not automated.
 */
export class RedisCluster extends pulumi.ComponentResource {
  /** The Redis password (secret). */
  readonly password: pulumi.Output<string>;
  /** Service names of the masters, then the replicas. */
  readonly nodeNames: string[];
  /** The job that creates and grows the cluster; its output lists the nodes. */
  readonly job: SwarmJob;

  constructor(name: string, args: RedisClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.RedisCluster.type;
    const v = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("RedisCluster", opts));

    const password =
      args.password !== undefined
        ? pulumi.secret(pulumi.output(args.password))
        : new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this })
            .result;
    const secret = new docker.Secret(
      `${name}-password`,
      // Auto-named: new data makes a new secret, the services move to it, then the old one goes.
      { data: secretBase64(password) },
      { parent: this, provider: args.cluster.provider },
    );
    const passwordFile = "/run/secrets/redis-password";
    const names = [...v.topology.masters, ...v.topology.replicas.map((r) => r.name)];
    const pins = args.nodes?.length ? redisPlacement(v.topology, args.nodes) : {};
    const services = names.map(
      (service) =>
        new SwarmService(
          service,
          {
            cluster: args.cluster,
            serviceName: service,
            image: args.image,
            command: ["sh", "-c", renderRedisNodeCommand(service, passwordFile)],
            replicas: 1,
            endpointMode: "dnsrr",
            networks: [args.network],
            mounts: [{ type: "volume", source: `${service}-data`, target: "/data" }],
            secrets: [{ name: "redis-password", secret, fileName: "redis-password" }],
            ...(pins[service] ? { constraints: [`node.hostname==${pins[service]}`] } : {}),
          },
          { parent: this },
        ),
    );
    this.job = new SwarmJob(
      `${name}-converge`,
      {
        cluster: args.cluster,
        jobName: `${v.prefix}-converge`,
        image: args.image,
        command: ["sh", "-c"],
        args: [renderRedisConvergeScript(v.topology, passwordFile)],
        networks: [args.network],
        secrets: [{ secret, target: "redis-password" }],
        timeoutSeconds: args.jobTimeoutSeconds ?? 300,
        // New or replaced node services re-run it; the script itself is the rest of its spec.
        triggers: services.map((s) => s.serviceId),
      },
      { parent: this, dependsOn: services },
    );
    this.password = pulumi.secret(password);
    this.nodeNames = names;
    this.registerOutputs({ password: this.password, nodeNames: names, jobOutput: this.job.output });
  }
}

export { REDIS_PORT };
