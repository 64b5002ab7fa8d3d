import * as pulumi from "@pulumi/pulumi";

/**
 * Every component's type token, in one place: `swarm:<folder>:<Type>`, the module named after the
 * component's folder under components/. A token that moved keeps its old names in `previous`, so a
 * stack made with an old token upgrades in place (the engine follows the alias to the same state,
 * and the children, whose names never change, follow their parent).
 *
 * Never change a `type` without adding the old one to `previous`: without the alias, the next
 * `pulumi up` would delete and re-create the component and everything under it.
 */
export const TOKENS = {
  AwsHosts: { type: "swarm:hosts:AwsHosts", previous: ["swarm:aws:AwsHosts"] },
  AlicloudHosts: { type: "swarm:hosts:AlicloudHosts", previous: ["swarm:alicloud:AlicloudHosts"] },
  SwarmCluster: { type: "swarm:cluster:SwarmCluster", previous: ["swarm:index:SwarmCluster"] },
  OverlayNetwork: { type: "swarm:workloads:OverlayNetwork", previous: [] },
  SwarmService: { type: "swarm:workloads:SwarmService", previous: [] },
  ComposeStack: { type: "swarm:workloads:ComposeStack", previous: [] },
  GitLabHost: { type: "swarm:cicd:GitLabHost", previous: [] },
  JenkinsHost: { type: "swarm:cicd:JenkinsHost", previous: [] },
  HarborHost: { type: "swarm:cicd:HarborHost", previous: [] },
  SonarQubeHost: { type: "swarm:cicd:SonarQubeHost", previous: [] },
  RegistryTrust: { type: "swarm:cicd:RegistryTrust", previous: [] },
  DeployKey: { type: "swarm:cicd:DeployKey", previous: [] },
  ComposeHost: { type: "swarm:cicd:ComposeHost", previous: [] },
  SwarmJob: { type: "swarm:workloads:SwarmJob", previous: [] },
  RedisCluster: { type: "swarm:workloads:RedisCluster", previous: [] },
  MySqlReplication: { type: "swarm:workloads:MySqlReplication", previous: [] },
} as const satisfies Record<string, { type: string; previous: readonly string[] }>;

/** A component's name in {@link TOKENS}. */
export type ComponentKind = keyof typeof TOKENS;

/**
 * The user's options with the component's old type tokens added as aliases (after any aliases the
 * user gave), so a stack made before a token moved upgrades in place.
 */
export function withTokenAliases(
  kind: ComponentKind,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
  const previous: readonly string[] = TOKENS[kind].previous;
  if (previous.length === 0) return opts ?? {};
  return { ...opts, aliases: [...(opts?.aliases ?? []), ...previous.map((type) => ({ type }))] };
}
