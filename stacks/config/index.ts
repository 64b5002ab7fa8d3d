/**
 * The stack config of the pulumi-swarm program: one zod schema for every `pulumi-swarm:*` key of a
 * `stacks/Pulumi.<env>.yaml`, composed of one schema per layer (hostsSchema, clusterSchema,
 * workloadsSchema, cicdSchema), the checks that span keys (crossChecks) and the errors a user can act
 * on (errors). Rules the components own come from the library's `rules`, never copied here.
 */
import { z } from "zod";
import { cicdSchema, type CicdConfig } from "./cicdSchema";
import { clusterSchema, type ClusterConfig } from "./clusterSchema";
import { crossChecks } from "./crossChecks";
import { problemsOf, StackConfigError } from "./errors";
import { hostsSchema, type HostsConfig } from "./hostsSchema";
import { CONFIG_KEYS } from "./keys";
import { workloadsSchema, type WorkloadsConfig } from "./workloadsSchema";

export { CICD_TOOLS, CONFIG_KEYS, PROJECT, SECRET_KEYS } from "./keys";
export type { CicdTool } from "./keys";
export { configKeyOf, StackConfigError } from "./errors";
export type { ConfigProblem } from "./errors";
export type { CicdConfig, ClusterConfig, HostsConfig, WorkloadsConfig };

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
  "pulumi-swarm:hosts": HostsConfig;
  "pulumi-swarm:cluster": ClusterConfig;
  "pulumi-swarm:workloads": WorkloadsConfig;
  "pulumi-swarm:cicd": CicdConfig;
}

/**
 * Validates the raw `pulumi-swarm:*` values (as `pulumi config` holds them: objects for the
 * structured keys) and applies the defaults. Throws a {@link StackConfigError} listing every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>, source?: string): StackConfig {
  const result = stackSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new StackConfigError(problemsOf(result.error.issues, raw, stackSchema), source);
  return result.data as unknown as StackConfig;
}
