import type * as docker from "@pulumi/docker";
import { fail, isHostAddress, isKnown, requirePort } from "../validation";
import type { PortClaim } from "./clusterRegistry";
import { parseDuration, parseImageReference, parseMemory } from "./parse";
import { requireUnreservedPort } from "./reservedPorts";
import type {
  HealthCheck,
  ResourceAmounts,
  RestartPolicy,
  ServiceMount,
  ServicePort,
  SwarmServiceArgs,
  UpdatePolicy,
} from "./serviceTypes";

/** What {@link planService} derives from the arguments: provider inputs that need no other resource. */
export interface ServicePlan {
  mode: docker.types.input.ServiceMode;
  endpointSpec: docker.types.input.ServiceEndpointSpec;
  containerSpec: Omit<
    docker.types.input.ServiceTaskSpecContainerSpec,
    "image" | "env" | "secrets" | "configs"
  >;
  placement?: docker.types.input.ServiceTaskSpecPlacement;
  resources?: docker.types.input.ServiceTaskSpecResources;
  restartPolicy?: docker.types.input.ServiceTaskSpecRestartPolicy;
  updateConfig?: docker.types.input.ServiceUpdateConfig;
  rollbackConfig?: docker.types.input.ServiceRollbackConfig;
  convergeConfig?: docker.types.input.ServiceConvergeConfig;
  labels?: docker.types.input.ServiceLabel[];
  /** Published ports with their argument path, for the per-cluster registry. */
  portClaims: { argument: string; claim: PortClaim }[];
}

const ENV_KEY = /^[^=\s]+$/;
const CONSTRAINT =
  /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+)|engine\.labels\.[A-Za-z0-9_.-]+)\s*(==|!=)\s*(\S+)$/;
const PREFERENCE = /^(?:spread=)?(node\.labels\.[A-Za-z0-9_.-]+|engine\.labels\.[A-Za-z0-9_.-]+)$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/;

/**
 * Validates the arguments of a SwarmService and maps them onto the Docker provider's inputs. Pure:
 * throws a ValidationError naming the argument, the value and the fix.
 */
export function planService(args: SwarmServiceArgs): ServicePlan {
  if (isKnown(args.image)) parseImageReference("image", args.image);
  else if (args.image === undefined) fail("image", undefined, 'Give the image to run, e.g. "nginx:1.27".');

  const mode = planMode(args);
  const endpointMode = args.endpointMode ?? "vip";
  if (endpointMode !== "vip" && endpointMode !== "dnsrr") {
    fail("endpointMode", endpointMode, 'Use "vip" or "dnsrr".');
  }
  const maxReplicasPerNode = args.maxReplicasPerNode;
  if (maxReplicasPerNode !== undefined && (!Number.isInteger(maxReplicasPerNode) || maxReplicasPerNode < 0)) {
    fail("maxReplicasPerNode", maxReplicasPerNode, "Use a whole number, 0 or more (0 means unlimited).");
  }
  const { ports, portClaims } = planPorts(args.ports ?? [], {
    endpointMode,
    global: mode.global === true,
    replicas: mode.replicated?.replicas as number | undefined,
    maxReplicasPerNode,
    dataPathPort: args.cluster?.dataPathPort,
  });

  for (const key of Object.keys(args.env ?? {})) {
    if (!ENV_KEY.test(key))
      fail(`env.${key}`, key, "Environment variable names cannot be empty or contain '=' or spaces.");
  }
  for (const [field, value] of [
    ["command", args.command],
    ["args", args.args],
  ] as const) {
    if (value !== undefined && (!Array.isArray(value) || value.some((v) => typeof v !== "string"))) {
      fail(field, value, 'Use a list of strings (exec form), e.g. ["catalina.sh", "run"].');
    }
  }

  // user[:group], each a name or a numeric id, as `docker service create --user` takes it.
  if (
    args.user !== undefined &&
    !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/.test(args.user)
  ) {
    fail("user", args.user, 'Use "user", "uid", "user:group" or "uid:gid", e.g. "nginx" or "101:101".');
  }

  const containerSpec: ServicePlan["containerSpec"] = {
    ...(args.command ? { commands: args.command } : {}),
    ...(args.args ? { args: args.args } : {}),
    ...(args.user !== undefined ? { user: args.user } : {}),
    ...(args.workdir !== undefined ? { dir: requireAbsolute("workdir", args.workdir) } : {}),
    ...(args.mounts?.length ? { mounts: args.mounts.map((m, i) => planMount(m, `mounts[${i}]`)) } : {}),
    ...(args.healthcheck ? { healthcheck: planHealthcheck(args.healthcheck) } : {}),
    ...(args.stopGracePeriod !== undefined
      ? { stopGracePeriod: parseDuration("stopGracePeriod", args.stopGracePeriod) }
      : {}),
    ...(args.containerLabels ? { labels: planLabels("containerLabels", args.containerLabels) } : {}),
  };
  checkTargetsUnique(args.mounts ?? []);

  const placement = planPlacement(args.constraints, args.placementPreferences, maxReplicasPerNode);
  const resources = args.resources ? planResources(args.resources) : undefined;
  return {
    mode,
    endpointSpec: { mode: endpointMode, ...(ports.length ? { ports } : {}) },
    containerSpec,
    ...(placement ? { placement } : {}),
    ...(resources ? { resources } : {}),
    ...(args.restartPolicy ? { restartPolicy: planRestart(args.restartPolicy) } : {}),
    ...(args.updatePolicy ? { updateConfig: planUpdate("updatePolicy", args.updatePolicy, false) } : {}),
    ...(args.rollbackPolicy
      ? { rollbackConfig: planUpdate("rollbackPolicy", args.rollbackPolicy, true) }
      : {}),
    ...planConverge(args.waitForConvergence, mode.global === true),
    ...(args.labels ? { labels: planLabels("labels", args.labels) } : {}),
    portClaims,
  };
}

function planMode(args: SwarmServiceArgs): { global?: boolean; replicated?: { replicas: number } } {
  const mode = args.mode ?? "replicated";
  if (mode !== "replicated" && mode !== "global") fail("mode", mode, 'Use "replicated" or "global".');
  if (mode === "global") {
    if (args.replicas !== undefined) {
      fail(
        "replicas",
        args.replicas,
        'A global service runs one task on every eligible node; remove `replicas`, or use mode "replicated" to choose a count.',
      );
    }
    return { global: true };
  }
  const replicas = args.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 0) {
    fail("replicas", replicas, "Use a whole number of tasks, 0 or more.");
  }
  return { replicated: { replicas } };
}

function planPorts(
  ports: ServicePort[],
  ctx: {
    endpointMode: string;
    global: boolean;
    replicas?: number;
    maxReplicasPerNode?: number;
    dataPathPort?: number;
  },
): { ports: docker.types.input.ServiceEndpointSpecPort[]; portClaims: ServicePlan["portClaims"] } {
  const seen = new Map<string, number>();
  const portClaims: ServicePlan["portClaims"] = [];
  const result = ports.map((port, i) => {
    const at = `ports[${i}]`;
    requirePort(`${at}.target`, port.target);
    const protocol = port.protocol ?? "tcp";
    if (!["tcp", "udp", "sctp"].includes(protocol))
      fail(`${at}.protocol`, protocol, 'Use "tcp", "udp" or "sctp".');
    const mode = port.mode ?? "ingress";
    if (mode !== "ingress" && mode !== "host") fail(`${at}.mode`, mode, 'Use "ingress" or "host".');
    if (mode === "ingress" && ctx.endpointMode === "dnsrr" && port.published !== undefined) {
      fail(
        `${at}.mode`,
        mode,
        'Swarm cannot publish ingress ports for a service with endpointMode "dnsrr"; publish with mode "host", or use endpointMode "vip".',
      );
    }
    if (port.published !== undefined) {
      requirePort(`${at}.published`, port.published);
      requireUnreservedPort(`${at}.published`, port.published, ctx.dataPathPort);
      const key = `${port.published}/${protocol}`;
      const first = seen.get(key);
      if (first !== undefined) {
        fail(
          `${at}.published`,
          port.published,
          `ports[${first}] already publishes ${key}; a published port can be used once. Pick another port.`,
        );
      }
      seen.set(key, i);
      portClaims.push({ argument: `${at}.published`, claim: { published: port.published, protocol } });
      // Host-mode ports bind on the node itself: two tasks of this service on one node would collide.
      if (mode === "host" && !ctx.global && (ctx.replicas ?? 1) > 1 && ctx.maxReplicasPerNode !== 1) {
        fail(
          `${at}.mode`,
          mode,
          `${ctx.replicas} replicas publishing host port ${key} would collide when two land on one node; set maxReplicasPerNode: 1 (and have at least that many nodes), or publish in "ingress" mode.`,
        );
      }
    } else if (mode === "host") {
      fail(`${at}.published`, undefined, "A host-mode port needs an explicit published port.");
    }
    return {
      ...(port.name !== undefined ? { name: port.name } : {}),
      protocol,
      targetPort: port.target,
      ...(port.published !== undefined ? { publishedPort: port.published } : {}),
      publishMode: mode,
    };
  });
  return { ports: result, portClaims };
}

function requireAbsolute(argument: string, path: string): string {
  if (typeof path !== "string" || !path.startsWith("/") || /[\0\n]/.test(path)) {
    fail(argument, path, 'Use an absolute path, e.g. "/data".');
  }
  return path;
}

function planMount(mount: ServiceMount, at: string): docker.types.input.ServiceTaskSpecContainerSpecMount {
  const target = requireAbsolute(`${at}.target`, mount.target);
  const readOnly = "readOnly" in mount && mount.readOnly ? { readOnly: true } : {};
  switch (mount.type) {
    case "volume":
      return {
        type: "volume",
        target,
        ...(mount.source !== undefined ? { source: requireVolumeName(`${at}.source`, mount.source) } : {}),
        ...readOnly,
        ...(mount.driver || mount.driverOptions || mount.noCopy
          ? {
              volumeOptions: {
                ...(mount.driver ? { driverName: mount.driver } : {}),
                ...(mount.driverOptions ? { driverOptions: mount.driverOptions } : {}),
                ...(mount.noCopy ? { noCopy: true } : {}),
              },
            }
          : {}),
      };
    case "nfs": {
      if (typeof mount.server !== "string" || !isHostAddress(mount.server)) {
        fail(`${at}.server`, mount.server, "Use the NFS server's IPv4 address or DNS name.");
      }
      const path = requireAbsolute(`${at}.path`, mount.path);
      const options = mount.options ?? "rw,nfsvers=4";
      if (/[\s"']/.test(options) || options.includes("addr=")) {
        fail(
          `${at}.options`,
          options,
          'Use comma-separated NFS mount options without spaces or addr=, e.g. "rw,nfsvers=4".',
        );
      }
      return {
        type: "volume",
        target,
        source: requireVolumeName(`${at}.source`, mount.source),
        ...readOnly,
        volumeOptions: {
          driverName: "local",
          driverOptions: { type: "nfs", o: `addr=${mount.server},${options}`, device: `:${path}` },
        },
      };
    }
    case "bind":
      return {
        type: "bind",
        target,
        source: requireAbsolute(`${at}.source`, mount.source),
        ...readOnly,
        ...(mount.propagation ? { bindOptions: { propagation: mount.propagation } } : {}),
      };
    case "tmpfs": {
      if (
        mount.mode !== undefined &&
        (!Number.isInteger(mount.mode) || mount.mode < 0 || mount.mode > 0o7777)
      ) {
        fail(`${at}.mode`, mount.mode, "Use permission bits between 0 and 0o7777, e.g. 0o1777.");
      }
      const tmpfsOptions = {
        ...(mount.size !== undefined ? { sizeBytes: parseMemory(`${at}.size`, mount.size) } : {}),
        ...(mount.mode !== undefined ? { mode: mount.mode } : {}),
      };
      return { type: "tmpfs", target, ...(Object.keys(tmpfsOptions).length ? { tmpfsOptions } : {}) };
    }
    default:
      return fail(`${at}.type`, (mount as { type: unknown }).type, 'Use "volume", "nfs", "bind" or "tmpfs".');
  }
}

function requireVolumeName(argument: string, name: string): string {
  if (typeof name !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
    fail(
      argument,
      name,
      "Use a volume name of letters, digits, '_', '.' or '-', starting with a letter or digit.",
    );
  }
  return name;
}

function checkTargetsUnique(mounts: ServiceMount[]): void {
  const seen = new Map<string, number>();
  mounts.forEach((m, i) => {
    const first = seen.get(m.target);
    if (first !== undefined) {
      fail(
        `mounts[${i}].target`,
        m.target,
        `mounts[${first}] already mounts this path; give each mount its own target.`,
      );
    }
    seen.set(m.target, i);
  });
}

function planHealthcheck(check: HealthCheck): docker.types.input.ServiceTaskSpecContainerSpecHealthcheck {
  let tests: string[];
  if (typeof check.test === "string" && check.test.trim() !== "") tests = ["CMD-SHELL", check.test];
  else if (
    Array.isArray(check.test) &&
    check.test.length > 0 &&
    check.test.every((t) => typeof t === "string")
  ) {
    tests = ["CMD", "CMD-SHELL", "NONE"].includes(check.test[0]) ? check.test : ["CMD", ...check.test];
  } else {
    return fail(
      "healthcheck.test",
      check.test,
      'Use a shell command, e.g. "curl -f http://localhost/", or an exec array.',
    );
  }
  if (check.retries !== undefined && (!Number.isInteger(check.retries) || check.retries < 0)) {
    fail("healthcheck.retries", check.retries, "Use a whole number, 0 or more.");
  }
  return {
    tests,
    ...(check.interval !== undefined
      ? { interval: parseDuration("healthcheck.interval", check.interval) }
      : {}),
    ...(check.timeout !== undefined ? { timeout: parseDuration("healthcheck.timeout", check.timeout) } : {}),
    ...(check.startPeriod !== undefined
      ? { startPeriod: parseDuration("healthcheck.startPeriod", check.startPeriod) }
      : {}),
    ...(check.retries !== undefined ? { retries: check.retries } : {}),
  };
}

function planPlacement(
  constraints: string[] | undefined,
  preferences: string[] | undefined,
  maxReplicas: number | undefined,
): docker.types.input.ServiceTaskSpecPlacement | undefined {
  (constraints ?? []).forEach((c, i) => {
    const match = typeof c === "string" ? CONSTRAINT.exec(c.trim()) : null;
    if (!match) {
      fail(
        `constraints[${i}]`,
        c,
        'Use "<attribute>==<value>" or "<attribute>!=<value>" with node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<key> or engine.labels.<key>, e.g. "node.role==worker".',
      );
    }
    if (match[2] === "role" && !["manager", "worker"].includes(match[4])) {
      fail(`constraints[${i}]`, c, 'node.role is "manager" or "worker", e.g. "node.role==worker".');
    }
  });
  // The provider sends each preference verbatim as the spread descriptor: strip the CLI's "spread=".
  const prefs = (preferences ?? []).map((p, i) => {
    const match = typeof p === "string" ? PREFERENCE.exec(p.trim()) : null;
    if (!match) {
      fail(
        `placementPreferences[${i}]`,
        p,
        'Spread over a node label, e.g. "node.labels.zone" or "spread=node.labels.zone".',
      );
    }
    return match[1];
  });
  const placement = {
    ...(constraints?.length
      ? { constraints: constraints.map((c) => c.trim().replace(/\s*(==|!=)\s*/, "$1")) }
      : {}),
    ...(prefs.length ? { prefs } : {}),
    ...(maxReplicas ? { maxReplicas } : {}),
  };
  return Object.keys(placement).length ? placement : undefined;
}

function planResources(resources: {
  limits?: ResourceAmounts;
  reservations?: ResourceAmounts;
}): docker.types.input.ServiceTaskSpecResources {
  const amounts = (at: string, r: ResourceAmounts | undefined) => {
    if (!r) return undefined;
    const out: { nanoCpus?: number; memoryBytes?: number } = {};
    if (r.cpus !== undefined) {
      if (typeof r.cpus !== "number" || !Number.isFinite(r.cpus) || r.cpus < 0.001) {
        fail(`${at}.cpus`, r.cpus, "Use a number of CPUs of at least 0.001, e.g. 0.5 or 2.");
      }
      out.nanoCpus = Math.round(r.cpus * 1e9);
    }
    if (r.memory !== undefined) out.memoryBytes = parseMemory(`${at}.memory`, r.memory);
    return out;
  };
  const limits = amounts("resources.limits", resources.limits);
  const reservation = amounts("resources.reservations", resources.reservations);
  if (limits?.memoryBytes !== undefined && limits.memoryBytes < 6 * 1024 * 1024) {
    fail(
      "resources.limits.memory",
      resources.limits?.memory,
      'Docker refuses memory limits under 6MiB; use e.g. "64M".',
    );
  }
  for (const key of ["nanoCpus", "memoryBytes"] as const) {
    const limit = limits?.[key];
    const reserved = reservation?.[key];
    if (limit !== undefined && reserved !== undefined && reserved > limit) {
      const field = key === "nanoCpus" ? "cpus" : "memory";
      fail(
        `resources.reservations.${field}`,
        resources.reservations?.[field],
        `A reservation cannot exceed the limit (${resources.limits?.[field]}); lower the reservation or raise the limit.`,
      );
    }
  }
  return { ...(limits ? { limits } : {}), ...(reservation ? { reservation } : {}) };
}

function planRestart(policy: RestartPolicy): docker.types.input.ServiceTaskSpecRestartPolicy {
  if (policy.condition !== undefined && !["none", "on-failure", "any"].includes(policy.condition)) {
    fail("restartPolicy.condition", policy.condition, 'Use "none", "on-failure" or "any".');
  }
  if (policy.maxAttempts !== undefined && (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 0)) {
    fail(
      "restartPolicy.maxAttempts",
      policy.maxAttempts,
      "Use a whole number, 0 or more (0 means unlimited).",
    );
  }
  return {
    ...(policy.condition !== undefined ? { condition: policy.condition } : {}),
    ...(policy.delay !== undefined ? { delay: parseDuration("restartPolicy.delay", policy.delay) } : {}),
    ...(policy.maxAttempts !== undefined ? { maxAttempts: policy.maxAttempts } : {}),
    ...(policy.window !== undefined ? { window: parseDuration("restartPolicy.window", policy.window) } : {}),
  };
}

function planUpdate(
  at: string,
  policy: UpdatePolicy,
  rollback: boolean,
): docker.types.input.ServiceUpdateConfig {
  if (policy.parallelism !== undefined && (!Number.isInteger(policy.parallelism) || policy.parallelism < 0)) {
    fail(
      `${at}.parallelism`,
      policy.parallelism,
      "Use a whole number, 0 or more (0 updates all tasks at once).",
    );
  }
  const actions = rollback ? ["pause", "continue"] : ["pause", "continue", "rollback"];
  if (policy.failureAction !== undefined && !actions.includes(policy.failureAction)) {
    fail(`${at}.failureAction`, policy.failureAction, `Use ${actions.map((a) => `"${a}"`).join(", ")}.`);
  }
  const ratio = policy.maxFailureRatio;
  if (ratio !== undefined && (typeof ratio !== "number" || !(ratio >= 0 && ratio <= 1))) {
    fail(`${at}.maxFailureRatio`, ratio, "Use a fraction between 0 and 1, e.g. 0.2.");
  }
  if (policy.order !== undefined && !["stop-first", "start-first"].includes(policy.order)) {
    fail(`${at}.order`, policy.order, 'Use "stop-first" or "start-first".');
  }
  return {
    ...(policy.parallelism !== undefined ? { parallelism: policy.parallelism } : {}),
    ...(policy.delay !== undefined ? { delay: parseDuration(`${at}.delay`, policy.delay) } : {}),
    ...(policy.failureAction !== undefined ? { failureAction: policy.failureAction } : {}),
    ...(policy.monitor !== undefined ? { monitor: parseDuration(`${at}.monitor`, policy.monitor) } : {}),
    ...(ratio !== undefined ? { maxFailureRatio: String(ratio) } : {}),
    ...(policy.order !== undefined ? { order: policy.order } : {}),
  };
}

function planConverge(
  wait: SwarmServiceArgs["waitForConvergence"],
  global: boolean,
): { convergeConfig?: docker.types.input.ServiceConvergeConfig } {
  if (global) {
    if (wait !== undefined && wait !== false) {
      fail(
        "waitForConvergence",
        wait,
        "The Docker provider's convergence check only counts replicas and fails on global services; leave it unset for a global service.",
      );
    }
    return {};
  }
  if (wait === false) return {};
  const options = typeof wait === "object" && wait !== null ? wait : {};
  return {
    convergeConfig: {
      timeout: parseDuration("waitForConvergence.timeout", options.timeout ?? "3m"),
      delay: parseDuration("waitForConvergence.delay", options.delay ?? "7s"),
    },
  };
}

/** Label keys and values, checked with the one rule services and networks share. */
export function planLabels(at: string, labels: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => {
    if (!LABEL_KEY.test(label))
      fail(`${at}.${label}`, label, "Use label keys of letters, digits, '.', '-', '_' or '/'.");
    if (typeof value !== "string") fail(`${at}.${label}`, value, "Label values are strings.");
    return { label, value };
  });
}
