/**
 * The delivery-platform layer of the stack: one VM per tool in the swarm's cloud (AWS, or Alibaba
 * Cloud for alicloud/hybrid stacks), the tool deployed on it, Harbor's CA trusted by every swarm
 * node and Jenkins' deploy key authorized on the manager.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  AlicloudHosts,
  AwsHosts,
  CicdPort,
  Credentials,
  GitLabHost,
  gitlabPorts,
  HarborHost,
  harborPorts,
  HostSize,
  JenkinsHost,
  jenkinsPorts,
  RegistryTrust,
  SonarQubeHost,
  sonarqubePorts,
  SwarmCluster,
  SwarmHost,
} from "../index";
import { CICD_TOOLS, CicdConfig, CicdTool, CONFIG_KEYS, SECRET_KEYS, StackConfig } from "./config";
import { configProblem } from "./hosts";
import { awsInstanceSize } from "./instanceSizes";

/** Per-tool VM defaults: enough for the tool's preflight floor with room to work. */
export const TOOL_VM_DEFAULTS: Record<
  CicdTool,
  { awsType: string; cpuCores: number; memoryGb: number; diskGb: number }
> = {
  gitlab: { awsType: "t3.large", cpuCores: 2, memoryGb: 8, diskGb: 50 },
  jenkins: { awsType: "t3.medium", cpuCores: 2, memoryGb: 4, diskGb: 30 },
  sonarqube: { awsType: "t3.large", cpuCores: 2, memoryGb: 8, diskGb: 30 },
  harbor: { awsType: "t3.large", cpuCores: 2, memoryGb: 8, diskGb: 100 },
};

/** Secrets the tools may take instead of generating their own. */
export interface DeliverySecrets {
  gitlabRootPassword?: pulumi.Input<string>;
  harborAdminPassword?: pulumi.Input<string>;
  sonarqubeAdminPassword?: pulumi.Input<string>;
  /** GitLab access token (api scope) that makes the pipelines' webhooks. */
  gitlabApiToken?: pulumi.Input<string>;
}

/** What the delivery layer built. */
export interface DeliveryLayer {
  vms: Partial<Record<CicdTool, AwsHosts | AlicloudHosts>>;
  gitlab?: GitLabHost;
  jenkins?: JenkinsHost;
  sonarqube?: SonarQubeHost;
  harbor?: HarborHost;
  harborTrust?: RegistryTrust;
}

function portsOf(tool: CicdTool, cicd: CicdConfig): CicdPort[] {
  switch (tool) {
    case "gitlab":
      return gitlabPorts({ httpPort: cicd.gitlab?.httpPort, sshPort: cicd.gitlab?.sshPort });
    case "jenkins":
      return jenkinsPorts({ httpPort: cicd.jenkins?.httpPort, agentPort: cicd.jenkins?.agentPort });
    case "sonarqube":
      return sonarqubePorts({ httpPort: cicd.sonarqube?.httpPort });
    case "harbor":
      return harborPorts({ httpsPort: cicd.harbor?.httpsPort });
  }
}

const given = <T>(value: T | undefined | "") => (value === undefined || value === "" ? undefined : value);

/**
 * A value of a tool made later in the stack: resource order is part of the stacks' contract
 * (GitLab, Jenkins, SonarQube, Harbor), and an earlier tool may need a later one's output.
 */
function later<T>(): { value: Promise<T>; set: (value: T) => void } {
  let set: (value: T) => void = () => undefined;
  const value = new Promise<T>((resolve) => (set = resolve));
  return { value, set };
}

/** A repository of the stack's Harbor ("team/web" becomes "<registry>/team/web"), or as given without one. */
const inHarbor = (registry: Promise<pulumi.Input<string> | undefined>, repository: string) =>
  pulumi.output(registry).apply((r) => (r ? `${r}/${repository}` : repository));

/** The pipelines GitLab sends push webhooks for: those cloned from its projects, with webhooks on. */
function hookedPipelines(cfg: StackConfig): NonNullable<NonNullable<CicdConfig["jenkins"]>["pipelines"]> {
  const cicd = cfg[CONFIG_KEYS.cicd];
  if (cicd.gitlab?.webhooks !== true) return [];
  return (cicd.jenkins?.pipelines ?? []).filter((p) => p.gitProject !== undefined);
}

/** The delivery layer's secrets that its config requires; called before any resource is made. */
export function requireDeliverySecrets(cfg: StackConfig, secrets: DeliverySecrets): void {
  if (hookedPipelines(cfg).length > 0 && given(secrets.gitlabApiToken) === undefined)
    configProblem(
      SECRET_KEYS.gitlabApiToken,
      "nothing",
      `${CONFIG_KEYS.cicd}.gitlab.webhooks needs a GitLab access token with the api scope: \`pulumi config set --secret ${SECRET_KEYS.gitlabApiToken} <token>\`.`,
    );
}

/** Builds the delivery platform; returns an empty layer when no tool is configured. */
export function buildDelivery(
  cfg: StackConfig,
  cluster: SwarmCluster,
  secrets: DeliverySecrets,
  swarmAlicloud?: AlicloudHosts,
): DeliveryLayer {
  const cicd = cfg[CONFIG_KEYS.cicd];
  const hosts = cfg[CONFIG_KEYS.hosts];
  const tools = CICD_TOOLS.filter((t) => cicd[t] !== undefined);
  const layer: DeliveryLayer = { vms: {} };
  if (tools.length === 0 || hosts.kind === "lab" || hosts.kind === "existing") return layer;
  const clientCidrs = cicd.clientCidrs ?? [];
  // Each tool pins its VM's host key (cicd.hostKeys) and takes only its own accepted fingerprint.
  const hostKeysOf = (host: SwarmHost) => ({
    ...(cicd.hostKeys !== undefined ? { hostKeys: cicd.hostKeys } : {}),
    ...(cicd.acceptHostKeys?.[host.name] !== undefined
      ? { acceptHostKeys: { [host.name]: cicd.acceptHostKeys[host.name] } }
      : {}),
  });

  const vmOf = (tool: CicdTool): { host: SwarmHost; hostSize: HostSize; publicAddress: boolean } => {
    const options = cicd[tool] ?? {};
    const defaults = TOOL_VM_DEFAULTS[tool];
    const servicePorts = portsOf(tool, cicd).map((p) => ({
      port: p.port,
      protocol: p.protocol,
      cidrs: clientCidrs,
      description: p.description,
    }));
    const diskGb = options.diskGb ?? defaults.diskGb;
    if (hosts.kind === "aws") {
      const instanceType = options.instanceType ?? defaults.awsType;
      const vm = new AwsHosts(tool, {
        count: 1,
        region: hosts.region,
        adminCidrs: hosts.adminCidrs,
        ...(hosts.allowSshFromAnywhere !== undefined
          ? { allowSshFromAnywhere: hosts.allowSshFromAnywhere }
          : {}),
        ...(hosts.tags !== undefined ? { tags: hosts.tags } : {}),
        instanceType,
        rootVolumeSize: diskGb,
        servicePorts,
      });
      layer.vms[tool] = vm;
      const size = awsInstanceSize(instanceType);
      return { host: vm.hosts[0], hostSize: { ...(size ?? {}), diskGiB: diskGb }, publicAddress: false };
    }
    const group = hosts.kind === "hybrid" ? hosts.alicloud : hosts;
    const vm = new AlicloudHosts(tool, {
      count: 1,
      region: group.region,
      adminCidrs: group.adminCidrs,
      ...(group.allowSshFromAnywhere !== undefined
        ? { allowSshFromAnywhere: group.allowSshFromAnywhere }
        : {}),
      ...(group.tags !== undefined ? { tags: group.tags } : {}),
      ...(options.instanceType !== undefined
        ? { instanceType: options.instanceType }
        : {
            cpuCores: options.cpuCores ?? defaults.cpuCores,
            memoryGb: options.memoryGb ?? defaults.memoryGb,
          }),
      systemDiskSize: diskGb,
      servicePorts,
      // In the swarm's VPC (first vSwitch), so nodes reach the tools on private addresses.
      ...(swarmAlicloud
        ? { vpcId: swarmAlicloud.vpcId, vswitchIds: [swarmAlicloud.vswitchIds.apply((ids) => ids[0])] }
        : {}),
    });
    layer.vms[tool] = vm;
    const size =
      options.instanceType === undefined
        ? { cpus: options.cpuCores ?? defaults.cpuCores, memoryGiB: options.memoryGb ?? defaults.memoryGb }
        : {};
    // Across clouds the existing servers reach the tools on public addresses only (the managers'
    // public IPs must then be in clientCidrs too).
    return {
      host: vm.hosts[0],
      hostSize: { ...size, diskGiB: diskGb },
      publicAddress: hosts.kind === "hybrid",
    };
  };

  // Harbor is created after Jenkins and Jenkins after GitLab: the deploy targets' and pipelines'
  // repositories wait for Harbor's registry name and robot, GitLab's webhooks for Jenkins' jobs.
  const harborRegistry = later<pulumi.Input<string> | undefined>();
  const harborPush = later<Credentials | undefined>();
  const jenkinsHost = later<JenkinsHost | undefined>();
  const pipelines = cicd.jenkins?.pipelines ?? [];
  const hooked = hookedPipelines(cfg);
  if (cicd.gitlab) {
    const vm = vmOf("gitlab");
    layer.gitlab = new GitLabHost("gitlab", {
      host: vm.host,
      ...hostKeysOf(vm.host),
      hostSize: vm.hostSize,
      ...(cicd.gitlab.httpPort !== undefined ? { httpPort: cicd.gitlab.httpPort } : {}),
      ...(cicd.gitlab.sshPort !== undefined ? { sshPort: cicd.gitlab.sshPort } : {}),
      ...(cicd.gitlab.version !== undefined ? { version: cicd.gitlab.version } : {}),
      ...(given(secrets.gitlabRootPassword) !== undefined
        ? { rootPassword: secrets.gitlabRootPassword }
        : {}),
      ...(hooked.length > 0
        ? {
            apiToken: secrets.gitlabApiToken,
            webhooks: hooked.map((p) => {
              const hook = pulumi.output(jenkinsHost.value).apply((j) => {
                if (!j) throw new Error(`pipeline ${p.name}: the stack has no Jenkins`);
                return j.webhook(p.name);
              });
              return {
                project: p.gitProject ?? "",
                url: hook.url,
                token: hook.token,
                ...(p.branch !== undefined ? { branch: p.branch } : {}),
              };
            }),
          }
        : {}),
    });
  }
  const gitlab = layer.gitlab;
  if (cicd.jenkins) {
    const vm = vmOf("jenkins");
    const targets = cicd.jenkins.deployTargets ?? [];
    layer.jenkins = new JenkinsHost("jenkins", {
      host: vm.host,
      ...hostKeysOf(vm.host),
      hostSize: vm.hostSize,
      ...(cicd.jenkins.httpPort !== undefined ? { httpPort: cicd.jenkins.httpPort } : {}),
      ...(cicd.jenkins.agentPort !== undefined ? { agentPort: cicd.jenkins.agentPort } : {}),
      ...(cicd.jenkins.version !== undefined ? { version: cicd.jenkins.version } : {}),
      // The deploy key goes to the manager only with the services it may roll (the deploy gate).
      // With Harbor in the stack, a repository is a path in it ("team/web").
      ...(cicd.jenkins.deployToSwarm !== false && targets.length + pipelines.length > 0
        ? {
            authorizeOn: [cluster.managerHost],
            ...(targets.length > 0
              ? {
                  deployTargets: targets.map((t) => ({
                    service: t.service,
                    repository: inHarbor(harborRegistry.value, t.repository),
                  })),
                }
              : {}),
          }
        : {}),
      ...(pipelines.length > 0
        ? {
            pipelines: pipelines.map((p) => ({
              name: p.name,
              gitUrl: p.gitUrl ?? pulumi.interpolate`${gitlab?.url ?? ""}/${p.gitProject ?? ""}.git`,
              ...(p.branch !== undefined ? { branch: p.branch } : {}),
              repository: inHarbor(harborRegistry.value, p.repository),
              service: p.service,
              // Harbor's push robot when the stack's Harbor has a project.
              ...(cicd.harbor?.project !== undefined
                ? {
                    registryCredentials: {
                      username: pulumi.output(harborPush.value).apply((c) => c?.username ?? ""),
                      password: pulumi.secret(
                        pulumi.output(harborPush.value).apply((c) => c?.password ?? ""),
                      ),
                    },
                  }
                : {}),
              ...(p.context !== undefined ? { context: p.context } : {}),
              ...(p.dockerfile !== undefined ? { dockerfile: p.dockerfile } : {}),
            })),
          }
        : {}),
    });
  }
  jenkinsHost.set(layer.jenkins);
  if (cicd.sonarqube) {
    const vm = vmOf("sonarqube");
    layer.sonarqube = new SonarQubeHost("sonarqube", {
      host: vm.host,
      ...hostKeysOf(vm.host),
      hostSize: vm.hostSize,
      ...(cicd.sonarqube.httpPort !== undefined ? { httpPort: cicd.sonarqube.httpPort } : {}),
      ...(cicd.sonarqube.version !== undefined ? { version: cicd.sonarqube.version } : {}),
      ...(given(secrets.sonarqubeAdminPassword) !== undefined
        ? { adminPassword: secrets.sonarqubeAdminPassword }
        : {}),
    });
  }
  if (cicd.harbor) {
    const vm = vmOf("harbor");
    const harbor = new HarborHost("harbor", {
      host: vm.host,
      ...hostKeysOf(vm.host),
      hostSize: vm.hostSize,
      // Swarm nodes pull over the address they can reach: the private one inside one cloud
      // network (its firewall admits clientCidrs, e.g. the VPC), the public one across clouds.
      address: vm.publicAddress ? vm.host.connection.host : vm.host.advertiseAddr,
      ...(cicd.harbor.httpsPort !== undefined ? { httpsPort: cicd.harbor.httpsPort } : {}),
      ...(cicd.harbor.version !== undefined ? { version: cicd.harbor.version } : {}),
      ...(cicd.harbor.withTrivy !== undefined ? { withTrivy: cicd.harbor.withTrivy } : {}),
      ...(cicd.harbor.project !== undefined ? { project: cicd.harbor.project } : {}),
      installerSha256: cicd.harbor.installerSha256,
      ...(given(secrets.harborAdminPassword) !== undefined
        ? { adminPassword: secrets.harborAdminPassword }
        : {}),
    });
    layer.harbor = harbor;
    harborRegistry.set(harbor.registry);
    harborPush.set(harbor.pushCredentials);
    if (cicd.harbor.trustOnNodes !== false) {
      layer.harborTrust = new RegistryTrust(
        "harbor-trust",
        {
          // The cluster's own hosts: they come with its host key pins (none pinned again here).
          hosts: cluster.hosts,
          registry: harbor.registry,
          caCertificate: harbor.caCertificate.apply((pem) => pem ?? ""),
        },
        { dependsOn: [cluster] },
      );
    }
  }
  if (!layer.harbor) {
    harborRegistry.set(undefined);
    harborPush.set(undefined);
  }
  return layer;
}
