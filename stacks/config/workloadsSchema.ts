/** The schema of `pulumi-swarm:workloads`: overlay networks, services and compose stacks. */
import { z } from "zod";
import { bool, cidr, int, oneOf, port, str, stringMap, swarmName } from "./fields";

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

export const workloadsSchema = z.strictObject({
  networks: z.array(networkSchema, { error: "Use a list of { name, encrypted }." }).default([]),
  services: z.array(serviceSchema, { error: "Use a list of { name, image, ... }." }).default([]),
  stacks: z.array(composeStackSchema, { error: "Use a list of { name, compose }." }).default([]),
});

/** The parsed `pulumi-swarm:workloads` (defaults applied). */
export type WorkloadsConfig = z.output<typeof workloadsSchema>;
