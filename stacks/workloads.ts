/**
 * The workload layer of the stack: overlay networks, services and compose stacks on the swarm.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ComposeStack, OverlayNetwork, SwarmCluster, SwarmService, SwarmServiceArgs } from "../index";
import { CONFIG_KEYS, SECRET_KEYS, StackConfig, WorkloadsConfig } from "./config";
import { configProblem } from "./hosts";

/** What the workload layer built, by config name. */
export interface WorkloadsLayer {
  networks: Record<string, OverlayNetwork>;
  services: Record<string, SwarmService>;
  stacks: Record<string, ComposeStack>;
}

type ServiceConfig = WorkloadsConfig["services"][number];

function serviceArgs(
  cluster: SwarmCluster,
  service: ServiceConfig,
  networks: Record<string, OverlayNetwork>,
): SwarmServiceArgs {
  const { name, networks: networkNames, ...rest } = service;
  return {
    cluster,
    serviceName: name,
    ...rest,
    ...(networkNames !== undefined ? { networks: networkNames.map((n) => networks[n]) } : {}),
  };
}

/**
 * Builds networks first, then services and stacks (which wait for the networks they name). Compose
 * secrets come from the secret `pulumi-swarm:composeSecrets`, one entry per `secretEnvironment` name.
 */
export function buildWorkloads(
  cfg: StackConfig,
  cluster: SwarmCluster,
  composeSecrets: Record<string, pulumi.Input<string>>,
  baseDir: string,
): WorkloadsLayer {
  const workloads = cfg[CONFIG_KEYS.workloads];
  const layer: WorkloadsLayer = { networks: {}, services: {}, stacks: {} };
  for (const n of workloads.networks) {
    layer.networks[n.name] = new OverlayNetwork(n.name, {
      cluster,
      networkName: n.name,
      ...(n.encrypted !== undefined ? { encrypted: n.encrypted } : {}),
      ...(n.internal !== undefined ? { internal: n.internal } : {}),
      ...(n.attachable !== undefined ? { attachable: n.attachable } : {}),
      ...(n.subnet !== undefined ? { subnet: n.subnet } : {}),
      ...(n.labels !== undefined ? { labels: n.labels } : {}),
    });
  }
  for (const s of workloads.services) {
    layer.services[s.name] = new SwarmService(s.name, serviceArgs(cluster, s, layer.networks));
  }
  workloads.stacks.forEach((s, i) => {
    const secretEnv: Record<string, pulumi.Input<string>> = {};
    for (const name of s.secretEnvironment ?? []) {
      const value = composeSecrets[name];
      if (value === undefined || value === "") {
        configProblem(
          `${SECRET_KEYS.composeSecrets}.${name}`,
          "nothing",
          `${CONFIG_KEYS.workloads}.stacks[${i}].secretEnvironment names it; set it with \`pulumi config set --secret --path '${SECRET_KEYS.composeSecrets}.${name}' <value>\`.`,
        );
      }
      secretEnv[name] = pulumi.secret(value);
    }
    const environment = { ...(s.environment ?? {}), ...secretEnv };
    const dependsOn = (s.networks ?? []).map((n) => layer.networks[n]);
    layer.stacks[s.name] = new ComposeStack(
      s.name,
      {
        cluster,
        stackName: s.name,
        ...(s.compose !== undefined ? { composeContent: s.compose } : {}),
        ...(s.composeFile !== undefined ? { composeFile: path.resolve(baseDir, s.composeFile) } : {}),
        ...(Object.keys(environment).length > 0 ? { environment } : {}),
        ...(s.withRegistryAuth !== undefined ? { withRegistryAuth: s.withRegistryAuth } : {}),
        ...(s.waitForConvergence !== undefined ? { waitForConvergence: s.waitForConvergence } : {}),
        ...(s.prune !== undefined ? { prune: s.prune } : {}),
      },
      dependsOn.length > 0 ? { dependsOn } : undefined,
    );
  });
  return layer;
}
