import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CloudHostsCommonArgs, hostKeys, planCommon } from "../cloudArgs";
import { checkedPlaces, groupAddresses, groupHosts, memberRules } from "../cloudGroup";
import { cloudHostKey, pinnableHostKey } from "../cloudHostKeys";
import { FirewallRule } from "../firewall";
import { ClusterNetwork, clusterNetworkOf } from "../clusterNetwork";
import { SwarmHost } from "../types";
import { chooseZones, requireSpread, roundRobin } from "../zones";
import { PlaceNaming, requireGivenPlaces, requireZoneList, spreadZoneCount } from "../placement";
import { CheckOwner, checkedLate, fail, requireBoolean, validateComponentArgs } from "../../validation";
import { awsIngressRuleArgs } from "./firewall";
import { AwsArchitecture, UbuntuRelease, ubuntuAmiQuery } from "./ami";
import { requireAwsInstanceType, requireAwsRegion, requireAwsZone } from "./validation";
import { TOKENS, withTokenAliases } from "../../tokens";

/** Arguments of {@link AwsHosts}. */
export interface AwsHostsArgs extends CloudHostsCommonArgs {
  /** AWS region of every resource and lookup. Default: the provider's region. */
  region?: string;
  /** VPC to use; requires `subnetIds`. Default: the region's default VPC. */
  vpcId?: pulumi.Input<string>;
  /** Subnets (of `vpcId`) the hosts are placed in, round-robin. Default: the default VPC's default subnets, one per zone. */
  subnetIds?: pulumi.Input<string>[];
  /** Availability zones to spread over (default VPC only). Default: the region's available zones, looked up. */
  availabilityZones?: string[];
  /** AMI id. Default: the newest official Ubuntu LTS (`ubuntuRelease`, `architecture`), looked up. */
  ami?: pulumi.Input<string>;
  /** Ubuntu LTS release of the looked-up AMI. Default: "24.04". */
  ubuntuRelease?: UbuntuRelease;
  /** CPU architecture of the looked-up AMI; must match `instanceType`. Default: "x86_64". */
  architecture?: AwsArchitecture;
  /** EC2 instance type. Default: "t3.medium". */
  instanceType?: string;
  /** Root volume size in GiB. Default: 30. */
  rootVolumeSize?: number;
  /** Root volume type. Default: "gp3". */
  rootVolumeType?: "gp2" | "gp3" | "io1" | "io2";
  /** Give the instances a public IPv4 address. Default: true, false when `bastion` is set. */
  associatePublicIp?: boolean;
}

const TYPE = TOKENS.AwsHosts.type;
const ROOT_VOLUME_TYPES = ["gp2", "gp3", "io1", "io2"];
const SUBNETS: PlaceNaming = {
  argument: "subnetIds",
  noun: "subnet",
  plural: "subnets",
  counted: "subnet(s)",
  omitted: "use the default VPC",
  idPattern: /^subnet-[0-9a-f]{8,17}$/,
  idExample: "subnet-0123456789abcdef0",
};

/**
 * N EC2 instances for a Docker Swarm, spread across availability zones, with a key pair, one
 * security group whose rules come from the cloud-neutral swarm firewall, and cloud-init that
 * installs Docker. `hosts` feeds `SwarmCluster`.
 */
export class AwsHosts extends pulumi.ComponentResource {
  /** One SwarmHost per instance, in order. */
  public readonly hosts: SwarmHost[];
  /** The EC2 instances, in order. */
  public readonly instances: aws.ec2.Instance[];
  /** Instance ids, in order. */
  public readonly instanceIds: pulumi.Output<string[]>;
  /** Public IPv4 addresses ("" for instances without one), in order. */
  public readonly publicIps: pulumi.Output<string[]>;
  /** Private IPv4 addresses, in order. */
  public readonly privateIps: pulumi.Output<string[]>;
  /** Availability zone of each instance, in order (from the lookups; fails there when the spread is impossible). */
  public readonly zones: pulumi.Output<string[]>;
  /** The cluster's security group. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Name of the EC2 key pair. */
  public readonly keyPairName: pulumi.Output<string>;
  /** The generated SSH private key (OpenSSH format, secret); undefined when a key was given. */
  public readonly privateKey: pulumi.Output<string> | undefined;
  /** The SSH public key installed on the instances. */
  public readonly publicKey: pulumi.Output<string>;
  /** The cloud-neutral rules this group's security group was generated from. */
  public readonly firewallRules: FirewallRule[];
  /** True when the hosts advertise public addresses or have peers: use encrypted overlays. */
  public readonly spansNetworks: boolean;
  /** What this group's firewall was opened for: pass it to `SwarmCluster`'s `network` so the two agree. */
  public readonly clusterNetwork: ClusterNetwork;

  constructor(name: string, args: AwsHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    const owner: CheckOwner = { type: TYPE, name };
    const plan = validateComponentArgs(TYPE, name, () => validateAwsArgs(name, args, owner));
    super(TYPE, name, {}, withTokenAliases("AwsHosts", opts));
    owner.resource = this;
    const parent = { parent: this };
    const region = args.region;
    const withRegion = region !== undefined ? { region } : {};
    const tags = { ...(args.tags ?? {}), "pulumi-swarm:cluster": name };

    const keys = hostKeys(name, args, "ED25519", this);
    const keyPair = new aws.ec2.KeyPair(
      `${name}-key`,
      { publicKey: keys.publicKey, tags, ...withRegion },
      parent,
    );

    const vpcId: pulumi.Input<string> =
      args.vpcId ?? aws.ec2.getVpcOutput({ default: true, ...withRegion }, parent).id;
    const { placements, zones } = this.placements(args, plan.zoneCount, owner, parent);

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId,
        description: `pulumi-swarm ${name}: swarm ports between members, SSH from admin CIDRs`,
        revokeRulesOnDelete: true,
        tags,
        ...withRegion,
      },
      parent,
    );

    const ami =
      args.ami ??
      aws.ec2
        .getAmiOutput(
          ubuntuAmiQuery(args.ubuntuRelease ?? "24.04", args.architecture ?? "x86_64", region),
          parent,
        )
        .apply((image) =>
          checkedLate(owner, () =>
            image.id
              ? image.id
              : fail(
                  "ubuntuRelease/architecture",
                  `${args.ubuntuRelease ?? "24.04"} ${args.architecture ?? "x86_64"}`,
                  "No Ubuntu AMI matched in this region; pass `ami` explicitly.",
                ),
          ),
        );
    const publicIp = plan.publicIp;
    // Each instance's own SSH host key, installed by cloud-init (cloudHostKeys.ts).
    const instanceHostKeys = plan.hostNames.map((_, i) =>
      cloudHostKey(`${name}-${i + 1}`, plan.user, args.installDocker !== false, this),
    );

    this.instances = plan.hostNames.map(
      (hostName, i) =>
        new aws.ec2.Instance(
          `${name}-${i + 1}`,
          {
            ami,
            instanceType: args.instanceType ?? "t3.medium",
            ...placements[i],
            vpcSecurityGroupIds: [sg.id],
            keyName: keyPair.keyName,
            associatePublicIpAddress: publicIp,
            rootBlockDevice: {
              volumeSize: args.rootVolumeSize ?? 30,
              volumeType: args.rootVolumeType ?? "gp3",
              encrypted: true,
              deleteOnTermination: true,
            },
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
            userData: instanceHostKeys[i].userData,
            tags: { ...tags, Name: hostName },
            volumeTags: { ...tags, Name: hostName },
            ...withRegion,
          },
          // A newer looked-up AMI must not replace running swarm nodes, and user data only runs
          // on first boot: new instances pick up both, existing ones are left alone.
          { ...parent, ignoreChanges: args.ami === undefined ? ["ami", "userData"] : ["userData"] },
        ),
    );

    this.firewallRules = plan.rules;
    const concrete = memberRules(plan, this.instances);
    const ruleResources: pulumi.Resource[] = concrete.map(
      (c) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-in-${c.suffix}`,
          awsIngressRuleArgs(c, sg.id, region),
          parent,
        ),
    );
    // aws.ec2.SecurityGroup drops AWS's default allow-all egress; hosts need it for packages and images.
    ruleResources.push(
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-out-all`,
        {
          securityGroupId: sg.id,
          ipProtocol: "-1",
          cidrIpv4: "0.0.0.0/0",
          description: "all outbound (packages, images, peers)",
          ...withRegion,
        },
        parent,
      ),
    );

    this.hosts = groupHosts(
      args,
      plan,
      keys,
      this.instances,
      [sg, ...ruleResources],
      this.instances.map((instance, i) => pinnableHostKey(instanceHostKeys[i], instance.userData)),
    );

    const addresses = groupAddresses(this.instances);
    this.instanceIds = addresses.instanceIds;
    this.publicIps = addresses.publicIps;
    this.privateIps = addresses.privateIps;
    this.zones = zones;
    this.securityGroupId = sg.id;
    this.keyPairName = keyPair.keyName;
    this.privateKey = keys.generatedPrivateKey;
    this.publicKey = keys.publicKey;
    this.spansNetworks = plan.mode.spansNetworks;
    this.clusterNetwork = clusterNetworkOf(args.dataPathPort, plan.mode, this.hosts);
    this.registerOutputs({
      hosts: this.hosts,
      instanceIds: this.instanceIds,
      publicIps: this.publicIps,
      privateIps: this.privateIps,
      zones: this.zones,
      securityGroupId: this.securityGroupId,
      keyPairName: this.keyPairName,
      privateKey: this.privateKey,
      publicKey: this.publicKey,
      spansNetworks: this.spansNetworks,
    });
  }

  /**
   * Where each instance goes: round-robin over the given subnets, or over looked-up (or given)
   * zones of the default VPC. Too few zones for the spread fails inside the lookup's Output.
   */
  private placements(
    args: AwsHostsArgs,
    zoneCount: number,
    owner: CheckOwner,
    parent: pulumi.CustomResourceOptions,
  ): {
    placements: { subnetId?: pulumi.Input<string>; availabilityZone?: pulumi.Input<string> }[];
    zones: pulumi.Output<string[]>;
  } {
    const withRegion = args.region !== undefined ? { region: args.region } : {};
    if (args.subnetIds !== undefined) {
      const subnetIds = args.subnetIds;
      const subnetZones = pulumi.all(
        subnetIds.map((id) => aws.ec2.getSubnetOutput({ id, ...withRegion }, parent).availabilityZone),
      );
      const checked = pulumi.all([subnetZones, pulumi.all(subnetIds)]).apply(([zones, ids]) =>
        checkedLate(owner, () => {
          requireSpread("subnetIds", ids, zones, zoneCount);
          return zones;
        }),
      );
      return {
        placements: checkedPlaces(checked, subnetIds, args.count).map((subnetId) => ({ subnetId })),
        zones: checked.apply((z) => roundRobin(z, args.count)),
      };
    }
    const available = aws
      .getAvailabilityZonesOutput(
        {
          state: "available",
          filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
          ...withRegion,
        },
        parent,
      )
      .apply((result) => result.names);
    const zones = available.apply((names) =>
      checkedLate(owner, () => chooseZones("availabilityZones", names, zoneCount, args.availabilityZones)),
    );
    return {
      placements: Array.from({ length: args.count }, (_, i) => ({
        availabilityZone: zones.apply((z) => z[i % zoneCount]),
      })),
      zones: zones.apply((z) => roundRobin(z, args.count)),
    };
  }
}

function validateAwsArgs(name: string, args: AwsHostsArgs, owner: CheckOwner) {
  if (args?.region !== undefined) requireAwsRegion("region", args.region);
  const plan = planCommon(name, args, "ubuntu", owner);
  requireBoolean("associatePublicIp", args.associatePublicIp);
  requireGivenPlaces(
    SUBNETS,
    args.subnetIds,
    args.vpcId,
    [["availabilityZones", args.availabilityZones]],
    "Zones come from `subnetIds`; give one or the other.",
  );
  requireZoneList("availabilityZones", args.availabilityZones, (argument, zone) =>
    requireAwsZone(argument, zone, args.region),
  );
  const zoneCount = spreadZoneCount(
    plan.zoneCount,
    args.zoneCount,
    SUBNETS,
    args.subnetIds,
    args.availabilityZones,
  );
  if (
    args.rootVolumeSize !== undefined &&
    (!Number.isInteger(args.rootVolumeSize) || args.rootVolumeSize < 8 || args.rootVolumeSize > 16384)
  ) {
    fail("rootVolumeSize", args.rootVolumeSize, "Use a whole number of GiB between 8 and 16384.");
  }
  if (args.rootVolumeType !== undefined && !ROOT_VOLUME_TYPES.includes(args.rootVolumeType)) {
    fail("rootVolumeType", args.rootVolumeType, `Use one of ${ROOT_VOLUME_TYPES.join(", ")}.`);
  }
  if (args.instanceType !== undefined) requireAwsInstanceType("instanceType", args.instanceType);
  if (args.ubuntuRelease !== undefined && !["24.04", "22.04"].includes(args.ubuntuRelease)) {
    fail("ubuntuRelease", args.ubuntuRelease, 'Use "24.04" or "22.04", or pass `ami`.');
  }
  if (args.architecture !== undefined && !["x86_64", "arm64"].includes(args.architecture)) {
    fail("architecture", args.architecture, 'Use "x86_64" or "arm64".');
  }
  if (args.associatePublicIp === false && args.bastion === undefined) {
    fail(
      "associatePublicIp",
      false,
      "Without a public IP the hosts are reachable only through `bastion`; set one.",
    );
  }
  const publicIp = args.associatePublicIp ?? args.bastion === undefined;
  if (plan.mode.advertise === "public" && !publicIp) {
    fail(
      "advertise",
      plan.mode.advertise,
      "Hosts advertise public addresses (set, or implied by peerCidrs) but get no public IP; set associatePublicIp: true.",
    );
  }
  return { ...plan, zoneCount, publicIp };
}
