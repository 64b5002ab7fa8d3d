import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { CheckOwner, checkedInput, fail, isKnown, validateComponentArgs } from "../validation";
import { checkClaimsFree, recordClaims } from "./clusterRegistry";
import { requireSwarmName } from "./parse";
import { requireOneSource, swarmConfig, swarmSecret } from "./secrets";
import { planService, type ServicePlan } from "./serviceSpec";
import type {
  PublishedEndpoint,
  ServiceNetworkAttachment,
  ServiceSecret,
  SwarmServiceArgs,
} from "./serviceTypes";
import { TOKENS, withTokenAliases } from "../tokens";

export type * from "./serviceTypes";

const FILE_MODE_MAX = 0o777;

function validate(name: string, args: SwarmServiceArgs): { serviceName: string; plan: ServicePlan } {
  if (!args || !args.cluster)
    fail("cluster", args?.cluster, "Pass the SwarmCluster (or a SwarmClusterLike) to run the service on.");
  const serviceName = args.serviceName ?? name;
  requireSwarmName("serviceName", serviceName);
  const plan = planService(args);
  if (args.imageOwner !== undefined && args.imageOwner !== "pulumi" && args.imageOwner !== "pipeline") {
    fail(
      "imageOwner",
      args.imageOwner,
      'Use "pulumi" (the program sets the image) or "pipeline" (a CI pipeline rolls it after the first deploy).',
    );
  }
  checkFiles("secrets", args.secrets ?? [], "secret", "`data` or `secret`");
  checkFiles("configs", args.configs ?? [], "config", "`data` or `config`");
  (args.networks ?? []).forEach((n, i) => {
    const network = "network" in n ? n.network : n;
    if (!network || (!("networkId" in network) && !("id" in network))) {
      fail(`networks[${i}]`, "no id", "Pass an OverlayNetwork, a docker.Network, or { network, aliases }.");
    }
  });
  if (args.registryAuth && (args.registryAuth.server === undefined || isKnown(args.registryAuth.server))) {
    requireRegistryServer("registryAuth.server", args.registryAuth.server);
  }
  checkClaimsFree(args.cluster, serviceName, plan.portClaims);
  return { serviceName, plan };
}

/** A registry address to log in to: a non-empty string. */
function requireRegistryServer(argument: string, server: string): void {
  if (typeof server !== "string" || server.trim() === "") {
    fail(argument, server, 'Give the registry address, e.g. "registry.example.com:5000".');
  }
}

function checkFiles(
  at: string,
  files: {
    name: string;
    data?: unknown;
    secret?: unknown;
    config?: unknown;
    fileName?: string;
    mode?: number;
  }[],
  kind: string,
  sources: string,
): void {
  const names = new Set<string>();
  const targets = new Set<string>();
  files.forEach((f, i) => {
    requireSwarmName(`${at}[${i}].name`, f.name);
    if (names.has(f.name)) fail(`${at}[${i}].name`, f.name, `Each ${kind} of a service needs its own name.`);
    names.add(f.name);
    requireOneSource(
      `${at}[${i}]`,
      { data: f.data, existing: kind === "secret" ? f.secret : f.config },
      sources,
    );
    if (
      f.fileName !== undefined &&
      (typeof f.fileName !== "string" || f.fileName.split("/").includes(".."))
    ) {
      fail(
        `${at}[${i}].fileName`,
        f.fileName,
        `Use a file name or an absolute path without ".." segments; the ${kind} is mounted at it inside the container.`,
      );
    }
    const target = f.fileName ?? f.name;
    if (targets.has(target))
      fail(
        `${at}[${i}].fileName`,
        target,
        `Another ${kind} already uses this file; give each its own fileName.`,
      );
    targets.add(target);
    if (f.mode !== undefined && (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > FILE_MODE_MAX)) {
      fail(`${at}[${i}].mode`, f.mode, "Use file permission bits between 0 and 0o777, e.g. 0o400.");
    }
  });
}

/** The owner and mode a mounted secret or config file gets; each only when given. */
function fileOwnership(f: Pick<ServiceSecret, "uid" | "gid" | "mode">): {
  fileUid?: string;
  fileGid?: string;
  fileMode?: number;
} {
  return {
    ...(f.uid !== undefined ? { fileUid: f.uid } : {}),
    ...(f.gid !== undefined ? { fileGid: f.gid } : {}),
    ...(f.mode !== undefined ? { fileMode: f.mode } : {}),
  };
}

/**
 * A swarm service (`docker service create`) declared with typed arguments: durations like "10s",
 * memory like "512M", ports as objects, networks by id, secrets and configs created for it. Waits for
 * convergence by default, so `pulumi up` fails when tasks do not start.
 */
export class SwarmService extends pulumi.ComponentResource {
  /** Docker service id. */
  readonly serviceId: pulumi.Output<string>;
  /** Docker service name. */
  readonly serviceName: pulumi.Output<string>;
  /** Published ports with an address to reach them. */
  readonly endpoints: pulumi.Output<PublishedEndpoint[]>;
  /** The underlying `docker.Service`. */
  readonly service: docker.Service;
  /** Secrets created for this service, by their name in `secrets`. */
  readonly secrets: Record<string, docker.Secret>;
  /** Configs created for this service, by their name in `configs`. */
  readonly configs: Record<string, docker.ServiceConfig>;

  constructor(name: string, args: SwarmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.SwarmService.type;
    const { serviceName, plan } = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("SwarmService", opts));
    const owner: CheckOwner = { type, name, resource: this };
    recordClaims(
      args.cluster,
      serviceName,
      plan.portClaims.map((p) => p.claim),
    );
    const childOpts = { parent: this, provider: args.cluster.provider };

    this.secrets = {};
    const secretRefs = (args.secrets ?? []).map((s) => {
      const secret =
        s.secret ?? swarmSecret(`${name}-secret-${s.name}`, s.data as pulumi.Input<string>, childOpts);
      if (!s.secret) this.secrets[s.name] = secret;
      return {
        secretId: secret.id,
        secretName: secret.name,
        fileName: s.fileName ?? s.name,
        ...fileOwnership(s),
      };
    });
    this.configs = {};
    const configRefs = (args.configs ?? []).map((c) => {
      const config =
        c.config ?? swarmConfig(`${name}-config-${c.name}`, c.data as pulumi.Input<string>, childOpts);
      if (!c.config) this.configs[c.name] = config;
      return {
        configId: config.id,
        configName: config.name,
        fileName: c.fileName ?? `/${c.name}`,
        ...fileOwnership(c),
      };
    });

    const networks = (args.networks ?? []).map((n) => {
      const attachment: ServiceNetworkAttachment = "network" in n ? n : { network: n };
      const network = attachment.network;
      const id = "networkId" in network ? network.networkId : network.id;
      return { id, ...(attachment.aliases?.length ? { aliases: attachment.aliases } : {}) };
    });

    const taskSpec: docker.types.input.ServiceTaskSpec = {
      containerSpec: {
        image: args.image,
        ...plan.containerSpec,
        ...(args.env && Object.keys(args.env).length ? { env: args.env } : {}),
        ...(secretRefs.length ? { secrets: secretRefs } : {}),
        ...(configRefs.length ? { configs: configRefs } : {}),
      },
      ...(networks.length ? { networksAdvanceds: networks } : {}),
      ...(plan.placement ? { placement: plan.placement } : {}),
      ...(plan.resources ? { resources: plan.resources } : {}),
      ...(plan.restartPolicy ? { restartPolicy: plan.restartPolicy } : {}),
    };

    this.service = new docker.Service(
      name,
      {
        name: serviceName,
        taskSpec,
        mode: plan.mode,
        endpointSpec: plan.endpointSpec,
        ...(plan.updateConfig ? { updateConfig: plan.updateConfig } : {}),
        ...(plan.rollbackConfig ? { rollbackConfig: plan.rollbackConfig } : {}),
        ...(plan.convergeConfig ? { convergeConfig: plan.convergeConfig } : {}),
        ...(plan.labels ? { labels: plan.labels } : {}),
        ...(args.registryAuth
          ? {
              auth: {
                serverAddress: checkedInput(
                  "registryAuth.server",
                  args.registryAuth.server,
                  requireRegistryServer,
                  owner,
                ),
                username: args.registryAuth.username,
                password: pulumi.secret(args.registryAuth.password),
              },
            }
          : {}),
      },
      args.imageOwner === "pipeline"
        ? // The pipeline rolls the image with `docker service update --image`; Pulumi keeps out of
          // it, and out of the platform list Docker records when it resolves that image.
          { ...childOpts, ignoreChanges: ["taskSpec.containerSpec.image", "taskSpec.placement.platforms"] }
        : childOpts,
    );

    this.serviceId = this.service.id;
    this.serviceName = this.service.name;
    const managerIp = args.cluster.managerAddress.apply((address) => address.replace(/:\d+$/, ""));
    const declared = (plan.endpointSpec.ports ?? []) as {
      targetPort: number;
      publishedPort?: number;
      protocol: string;
      publishMode: string;
    }[];
    this.endpoints = pulumi.all([this.service.endpointSpec, managerIp]).apply(([spec, ip]) => {
      // The provider reports the ports swarm assigned (published ports picked from 30000+ too); fall
      // back to the declared ports when it has not (e.g. under preview).
      const ports = spec?.ports?.length ? spec.ports : declared;
      return ports
        .filter((p) => p.publishedPort !== undefined && p.publishedPort !== 0)
        .map((p) => ({
          published: p.publishedPort as number,
          target: p.targetPort,
          protocol: p.protocol ?? "tcp",
          mode: p.publishMode ?? "ingress",
          address: `${ip}:${p.publishedPort}`,
        }));
    });
    this.registerOutputs({
      serviceId: this.serviceId,
      serviceName: this.serviceName,
      endpoints: this.endpoints,
    });
  }
}
