/**
 * The host layer of the stack: turns `pulumi-swarm:hosts` into the swarm's managers and workers
 * (lab hosts, existing servers, an AWS or Alibaba Cloud group, or both clouds at once).
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import {
  AlicloudHosts,
  AlicloudHostsArgs,
  AwsHosts,
  AwsHostsArgs,
  ClusterNetwork,
  existingHosts,
  ExistingServerArgs,
  peerCidrsOf,
  SwarmHost,
} from "../index";
import { CONFIG_KEYS, HostsConfig, SECRET_KEYS, StackConfig, StackConfigError } from "./config";

/** What the host layer hands to the cluster. */
export interface HostsLayer {
  managers: SwarmHost[];
  workers: SwarmHost[];
  /** What the cloud groups' firewalls were opened for (data path port, network span): the cluster takes it. */
  networks: ClusterNetwork[];
  /** The cloud groups created (for outputs). */
  aws?: AwsHosts;
  alicloud?: AlicloudHosts;
  /** SSH private keys generated for cloud groups, by group name (secret). */
  generatedKeys: Record<string, pulumi.Output<string>>;
  /** Address SSH dials, by host name. */
  sshAddresses: pulumi.Output<Record<string, string>>;
}

/** Throws a StackConfigError for one key. */
export function configProblem(key: string, received: string, fix: string): never {
  throw new StackConfigError([{ key, received, fix }]);
}

function requireKey(secret: pulumi.Input<string> | undefined, why: string): pulumi.Input<string> {
  if (secret === undefined || secret === "") {
    configProblem(
      SECRET_KEYS.sshPrivateKey,
      "nothing",
      `${why} need the SSH private key: \`pulumi config set --secret ${SECRET_KEYS.sshPrivateKey} < ~/.ssh/id_ed25519\`.`,
    );
  }
  return secret;
}

/** The lab's key: the one given (tests), or read from the key file the lab harness wrote. */
function labKey(hosts: Extract<HostsConfig, { kind: "lab" }>, given: pulumi.Input<string> | undefined) {
  if (given !== undefined && given !== "") return given;
  try {
    return fs.readFileSync(hosts.privateKeyPath, "utf8");
  } catch (err) {
    return configProblem(
      `${CONFIG_KEYS.hosts}.privateKeyPath`,
      JSON.stringify(hosts.privateKeyPath),
      `Cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"}). Start the lab hosts first (\`npm run lab\` creates them and this key), or point it to the lab's key.`,
    );
  }
}

/** The lab hosts' pinned SSH host key (one key, shared by every host of a lab), when configured. */
function labHostKey(hosts: Extract<HostsConfig, { kind: "lab" }>): string | undefined {
  if (hosts.hostKeyPath === undefined) return undefined;
  try {
    return fs.readFileSync(hosts.hostKeyPath, "utf8").trim();
  } catch (err) {
    return configProblem(
      `${CONFIG_KEYS.hosts}.hostKeyPath`,
      JSON.stringify(hosts.hostKeyPath),
      `Cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"}). Start the lab hosts first (\`npm run lab\` creates them and this key), or point it to the lab's host key.`,
    );
  }
}

function existingServers(
  group: { user: string; port: number; servers: ExistingServerArgs[] | HostsExistingServer[] },
  bastion: { host: string; port?: number; user?: string; hostKey?: string } | undefined,
  dialErrorLimit: number | undefined,
  privateKey: pulumi.Input<string>,
): SwarmHost[] {
  return existingHosts(
    (group.servers as HostsExistingServer[]).map((s) => ({
      name: s.name,
      host: s.address,
      ...(s.advertiseAddr !== undefined ? { advertiseAddr: s.advertiseAddr } : {}),
      ...(s.user !== undefined ? { user: s.user } : {}),
      ...(s.port !== undefined ? { port: s.port } : {}),
      ...(s.hostKey !== undefined ? { hostKey: s.hostKey } : {}),
    })),
    {
      user: group.user,
      port: group.port,
      privateKey,
      ...(bastion ? { bastion } : {}),
      ...(dialErrorLimit !== undefined ? { dialErrorLimit } : {}),
    },
  ).hosts;
}

interface HostsExistingServer {
  name: string;
  address: string;
  advertiseAddr?: string;
  user?: string;
  port?: number;
  hostKey?: string;
}

/** The arguments shared by both cloud groups, from a cloud group's config. */
function cloudCommon(
  group: {
    adminCidrs: string[];
    allowSshFromAnywhere?: boolean;
    zoneCount?: number;
    servicePorts?: AwsHostsArgs["servicePorts"];
    publicKey?: string;
    tags?: Record<string, string>;
    namePrefix: string;
  },
  count: number,
  encryptedOverlays: boolean | undefined,
  sshPrivateKey: pulumi.Input<string> | undefined,
  dataPathPort: number | undefined,
) {
  return {
    count,
    ...(dataPathPort !== undefined ? { dataPathPort } : {}),
    hostNamePrefix: group.namePrefix,
    adminCidrs: group.adminCidrs,
    ...(group.allowSshFromAnywhere !== undefined ? { allowSshFromAnywhere: group.allowSshFromAnywhere } : {}),
    ...(group.zoneCount !== undefined ? { zoneCount: group.zoneCount } : {}),
    ...(group.servicePorts !== undefined ? { servicePorts: group.servicePorts } : {}),
    ...(group.tags !== undefined ? { tags: group.tags } : {}),
    ...(encryptedOverlays ? { encryptedOverlays: true } : {}),
    ...(group.publicKey !== undefined
      ? {
          publicKey: group.publicKey,
          privateKey: requireKey(sshPrivateKey, `Cloud hosts with ${CONFIG_KEYS.hosts}.publicKey`),
        }
      : {}),
  };
}

/** The Alibaba Cloud group's own arguments. */
export function alicloudArgs(
  group: Extract<HostsConfig, { kind: "alicloud" }> | Extract<HostsConfig, { kind: "hybrid" }>["alicloud"],
): Omit<AlicloudHostsArgs, keyof ReturnType<typeof cloudCommon>> {
  return {
    region: group.region,
    ...(group.instanceType !== undefined ? { instanceType: group.instanceType } : {}),
    ...(group.cpuCores !== undefined ? { cpuCores: group.cpuCores } : {}),
    ...(group.memoryGb !== undefined ? { memoryGb: group.memoryGb } : {}),
    ...(group.zoneIds !== undefined ? { zoneIds: group.zoneIds } : {}),
    ...(group.vpcCidr !== undefined ? { vpcCidr: group.vpcCidr } : {}),
    ...(group.systemDiskSize !== undefined ? { systemDiskSize: group.systemDiskSize } : {}),
    ...(group.internetMaxBandwidthOut !== undefined
      ? { internetMaxBandwidthOut: group.internetMaxBandwidthOut }
      : {}),
  };
}

/** The AWS group's own arguments. */
export function awsArgs(group: Extract<HostsConfig, { kind: "aws" }>) {
  return {
    region: group.region,
    instanceType: group.instanceType,
    ...(group.rootVolumeSize !== undefined ? { rootVolumeSize: group.rootVolumeSize } : {}),
    ...(group.availabilityZones !== undefined ? { availabilityZones: group.availabilityZones } : {}),
    ...(group.ubuntuRelease !== undefined ? { ubuntuRelease: group.ubuntuRelease } : {}),
    ...(group.architecture !== undefined ? { architecture: group.architecture } : {}),
  };
}

function sshAddressesOf(hosts: SwarmHost[]): pulumi.Output<Record<string, string>> {
  return pulumi
    .all(hosts.map((h) => pulumi.output(h.connection.host)))
    .apply((addresses) => Object.fromEntries(hosts.map((h, i) => [h.name, addresses[i]])));
}

/**
 * Builds the host layer. The first `managers` hosts (in config order) become managers, the rest
 * workers; in a hybrid stack the Alibaba Cloud hosts are the managers and the existing servers
 * the workers.
 */
export function buildHosts(
  cfg: StackConfig,
  sshPrivateKey: pulumi.Input<string> | undefined,
  labHostKeyOverride?: string,
): HostsLayer {
  const hosts = cfg[CONFIG_KEYS.hosts];
  const cluster = cfg[CONFIG_KEYS.cluster];
  const total = cluster.managers + cluster.workers;
  const encrypted = cluster.encryptOverlays;
  const split = (all: SwarmHost[]) => ({
    managers: all.slice(0, cluster.managers),
    workers: all.slice(cluster.managers),
  });

  switch (hosts.kind) {
    case "lab": {
      const hostKey = labHostKeyOverride ?? labHostKey(hosts);
      const all = existingServers(
        {
          user: hosts.user,
          port: 22,
          servers: hosts.servers.map((s) => ({ ...s, ...(hostKey ? { hostKey } : {}) })),
        },
        undefined,
        undefined,
        labKey(hosts, sshPrivateKey),
      );
      return { ...split(all), networks: [], generatedKeys: {}, sshAddresses: sshAddressesOf(all) };
    }
    case "existing": {
      const all = existingServers(
        hosts,
        hosts.bastion,
        hosts.dialErrorLimit,
        requireKey(sshPrivateKey, `The servers of ${CONFIG_KEYS.hosts}.servers`),
      );
      return { ...split(all), networks: [], generatedKeys: {}, sshAddresses: sshAddressesOf(all) };
    }
    case "aws": {
      const group = new AwsHosts(hosts.namePrefix, {
        ...cloudCommon(hosts, total, encrypted, sshPrivateKey, cluster.dataPathPort),
        ...awsArgs(hosts),
      });
      return {
        ...split(group.hosts),
        networks: [group.clusterNetwork],
        aws: group,
        generatedKeys: group.privateKey ? { [hosts.namePrefix]: group.privateKey } : {},
        sshAddresses: sshAddressesOf(group.hosts),
      };
    }
    case "alicloud": {
      const group = new AlicloudHosts(hosts.namePrefix, {
        ...cloudCommon(hosts, total, encrypted, sshPrivateKey, cluster.dataPathPort),
        ...alicloudArgs(hosts),
      });
      return {
        ...split(group.hosts),
        networks: [group.clusterNetwork],
        alicloud: group,
        generatedKeys: group.privateKey ? { [hosts.namePrefix]: group.privateKey } : {},
        sshAddresses: sshAddressesOf(group.hosts),
      };
    }
    case "hybrid": {
      const others = existingServers(
        hosts.existing,
        hosts.existing.bastion,
        hosts.existing.dialErrorLimit,
        requireKey(sshPrivateKey, `The servers of ${CONFIG_KEYS.hosts}.existing.servers`),
      );
      // Peers imply public advertise addresses and encrypted overlays (with ESP opened) in the
      // Alibaba Cloud group: swarm traffic crosses the internet.
      const ali = new AlicloudHosts(hosts.alicloud.namePrefix, {
        ...cloudCommon(hosts.alicloud, cluster.managers, encrypted, sshPrivateKey, cluster.dataPathPort),
        ...alicloudArgs(hosts.alicloud),
        peerCidrs: peerCidrsOf(others),
      });
      return {
        managers: ali.hosts,
        workers: others,
        networks: [ali.clusterNetwork],
        alicloud: ali,
        generatedKeys: ali.privateKey ? { [hosts.alicloud.namePrefix]: ali.privateKey } : {},
        sshAddresses: sshAddressesOf([...ali.hosts, ...others]),
      };
    }
  }
}
