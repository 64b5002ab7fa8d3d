// The public API of pulumi-swarm: re-exports only.
export type { SwarmHost, SshConnection } from "./components/hosts/types";
export { existingHosts } from "./components/hosts/existing";
export type { ExistingServerArgs, ExistingHostsDefaults, BastionArgs } from "./components/hosts/existing";
export { ValidationError } from "./components/validation";
export * as rules from "./components/rules";
export { OverlayNetwork } from "./components/workloads/overlayNetwork";
export type { OverlayNetworkArgs } from "./components/workloads/overlayNetwork";
export { SwarmService } from "./components/workloads/swarmService";
export type * from "./components/workloads/serviceTypes";
export { SwarmJob } from "./components/workloads/swarmJob";
export type { SwarmJobArgs, SwarmObjectRef } from "./components/workloads/swarmJob";
export { RedisCluster } from "./components/workloads/redisCluster";
export type { RedisClusterArgs } from "./components/workloads/redisCluster";
export { MySqlReplication } from "./components/workloads/mysqlReplication";
export type {
  MySqlReplicationArgs,
  MySqlReplicationPasswords,
} from "./components/workloads/mysqlReplication";
export { ComposeStack } from "./components/workloads/composeStack";
export type { ComposeStackArgs } from "./components/workloads/composeStack";
export { renderEnvFile } from "./components/shell";
export type { EnvFileFormat } from "./components/shell";
export {
  composeStdin,
  renderStackDeployScript,
  renderStackRemoveScript,
} from "./components/workloads/scripts/compose";
export type { StackDeployOptions } from "./components/workloads/scripts/compose";
export { parseDuration, parseMemory, parseImageReference } from "./components/workloads/parse";
export type { ImageReference } from "./components/workloads/parse";
export { GitLabHost, gitlabPorts } from "./components/cicd/gitlabHost";
export type { GitLabHostArgs, GitLabWebhookArgs } from "./components/cicd/gitlabHost";
export { JenkinsHost, jenkinsPorts } from "./components/cicd/jenkinsHost";
export type { JenkinsHostArgs, JenkinsWebhook } from "./components/cicd/jenkinsHost";
export type { JenkinsPipelineArgs } from "./components/cicd/jenkinsPipelines";
export type { Credentials, CredentialsOutput } from "./components/cicd/credentials";
export { JENKINS_PLUGINS } from "./components/cicd/scripts/jenkinsCasc";
export { SonarQubeHost, sonarqubePorts } from "./components/cicd/sonarqubeHost";
export type { SonarQubeHostArgs } from "./components/cicd/sonarqubeHost";
export { HarborHost, harborPorts } from "./components/cicd/harborHost";
export type { HarborHostArgs, HarborProjectArgs } from "./components/cicd/harborHost";
export { RegistryTrust } from "./components/cicd/registryTrust";
export type { RegistryTrustArgs } from "./components/cicd/registryTrust";
export { DeployKey } from "./components/cicd/deployKey";
export type { DeployKeyArgs } from "./components/cicd/deployKey";
export type { DeployTarget, DeployTargetArgs } from "./components/cicd/scripts/deployGate";
export { renderPipelineScript } from "./components/cicd/scripts/pipeline";
export type { PipelineScriptOptions } from "./components/cicd/scripts/pipeline";
export { ComposeHost } from "./components/cicd/composeHost";
export type { ComposeHostArgs } from "./components/cicd/composeHost";
export type { CicdHostCommonArgs, CicdPort } from "./components/cicd/common";
export type { HostSize } from "./components/cicd/validate";
export { PINNED_VERSIONS } from "./components/cicd/versions";
export { SwarmCluster } from "./components/cluster/swarmCluster";
export type { QuorumRecovery, SwarmClusterArgs, SwarmRotations } from "./components/cluster/args";
export type { SwarmNodeArgs, SwarmClusterLike, NodeRole, NodeAvailability } from "./components/cluster/types";
export { AwsHosts } from "./components/hosts/aws/awsHosts";
export type { AwsHostsArgs } from "./components/hosts/aws/awsHosts";
export type { UbuntuRelease, AwsArchitecture } from "./components/hosts/aws/ami";
export { AlicloudHosts } from "./components/hosts/alicloud/alicloudHosts";
export type { AlicloudHostsArgs } from "./components/hosts/alicloud/alicloudHosts";
export type { CloudHostsCommonArgs } from "./components/hosts/cloudArgs";
export type { ClusterNetwork } from "./components/hosts/clusterNetwork";
export { swarmFirewallRules, DEFAULT_DATA_PATH_PORT, DOCKER_API_PORTS } from "./components/hosts/firewall";
export type {
  FirewallRule,
  FirewallSource,
  ServicePortArgs,
  SwarmFirewallOptions,
} from "./components/hosts/firewall";
export { findFirewallViolations } from "./components/hosts/firewallInvariant";
export type { FirewallViolation, ResourceLike, InvariantOptions } from "./components/hosts/firewallInvariant";
export { peerCidrsOf, hostCidr, resolveNetworkMode } from "./components/hosts/crossCloud";
export type { AdvertiseMode, NetworkMode } from "./components/hosts/crossCloud";
export { renderDockerUserData } from "./components/hosts/scripts/cloudinit";
