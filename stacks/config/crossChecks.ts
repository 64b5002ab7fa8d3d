/**
 * The checks that span keys: host counts against the node counts, unique names, references to
 * declared networks, what the lab kernel cannot do, and what the delivery platform needs.
 */
import { z } from "zod";
import { rules } from "../../index";
import { CICD_TOOLS, CONFIG_KEYS } from "./keys";
import type { StackConfig } from "./index";

type Ctx = z.RefinementCtx;

/** Stands for "no value" in a custom issue (zod would otherwise report the whole config as the input). */
export const NO_VALUE = Symbol("no value");

function issue(ctx: Ctx, path: (string | number)[], input: unknown, message: string): void {
  ctx.addIssue({ code: "custom", path, input: input === undefined ? NO_VALUE : input, message });
}

/** Adds an issue for every rule broken across keys of `cfg`. */
export function crossChecks(cfg: StackConfig, ctx: Ctx): void {
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
      if (!rules.isIpv4(advertised)) {
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
      if (rules.awsZoneRegion(zone) !== hosts.region) {
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
  hostKeyChecks(cfg, ctx);
  pipelineChecks(cfg, ctx);
}

/** acceptHostKeys name hosts that are pinned, and only while pins are on. */
function hostKeyChecks(cfg: StackConfig, ctx: Ctx): void {
  const cicd = cfg[CONFIG_KEYS.cicd];
  const cluster = cfg[CONFIG_KEYS.cluster];
  const C = CONFIG_KEYS.cluster;
  // A tool VM's key is accepted by its host name ("<tool>-1"); each tool takes its own entry.
  const toolHosts = CICD_TOOLS.filter((t) => cicd[t] !== undefined).map(toolHostName);
  for (const host of Object.keys(cicd.acceptHostKeys ?? {})) {
    if (!toolHosts.includes(host))
      issue(
        ctx,
        [CONFIG_KEYS.cicd, "acceptHostKeys", host],
        host,
        toolHosts.length > 0
          ? `Use the host name of one of the tools' VMs: ${toolHosts.join(", ")} (the swarm nodes' keys are accepted under ${C}.acceptHostKeys).`
          : `No tool is configured, so no tool VM's key can be accepted; remove it (the swarm nodes' keys are accepted under ${C}.acceptHostKeys).`,
      );
  }
  if (cicd.hostKeys === "off" && cicd.acceptHostKeys !== undefined)
    issue(
      ctx,
      [CONFIG_KEYS.cicd, "acceptHostKeys"],
      cicd.acceptHostKeys,
      'Host keys are not pinned with hostKeys: "off"; remove acceptHostKeys or pin.',
    );
  if (cluster.hostKeys === "off" && cluster.acceptHostKeys !== undefined)
    issue(
      ctx,
      [C, "acceptHostKeys"],
      cluster.acceptHostKeys,
      'Host keys are not pinned with hostKeys: "off"; remove acceptHostKeys or pin.',
    );
}

/** Pipelines need a repository to clone, and webhooks need pipelines cloned from the stack's GitLab. */
function pipelineChecks(cfg: StackConfig, ctx: Ctx): void {
  const cicd = cfg[CONFIG_KEYS.cicd];
  const J = [CONFIG_KEYS.cicd, "jenkins", "pipelines"];
  const pipelines = cicd.jenkins?.pipelines ?? [];
  pipelines.forEach((p, i) => {
    if ((p.gitProject === undefined) === (p.gitUrl === undefined))
      issue(
        ctx,
        [...J, i],
        p.name,
        "Give exactly one of gitProject (a project of the stack's GitLab) and gitUrl (any git URL).",
      );
    else if (p.gitProject !== undefined && cicd.gitlab === undefined)
      issue(
        ctx,
        [...J, i, "gitProject"],
        p.gitProject,
        "gitProject names a project of the stack's GitLab, and the stack has none: add cicd.gitlab, or give gitUrl.",
      );
  });
  if (pipelines.length > 0 && cicd.jenkins?.deployToSwarm === false)
    issue(
      ctx,
      [...J],
      pipelines.map((p) => p.name),
      "Pipelines deploy to the swarm through the gated deploy key: remove deployToSwarm: false, or the pipelines.",
    );
  if (cicd.gitlab?.webhooks === true && !pipelines.some((p) => p.gitProject !== undefined))
    issue(
      ctx,
      [CONFIG_KEYS.cicd, "gitlab", "webhooks"],
      true,
      "Webhooks connect GitLab projects to Jenkins jobs: add cicd.jenkins.pipelines with gitProject, or remove webhooks.",
    );
}

/** The host name of a tool's VM (a one-host cloud group named after the tool). */
export const toolHostName = (tool: string): string => `${tool}-1`;

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
    if (rules.alicloudZoneRegion(zone) !== group.region) {
      issue(
        ctx,
        [...at, "zoneIds", i],
        zone,
        `Use a zone of region "${group.region}", e.g. "${group.region}-h".`,
      );
    }
  });
}
