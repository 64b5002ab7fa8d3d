import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import { CloudHostsCommonArgs, hostKeys, planCommon } from "../cloudArgs";
import { checkedPlaces, groupAddresses, groupHosts, memberRules } from "../cloudGroup";
import { cloudHostKey, pinnableHostKey } from "../cloudHostKeys";
import { FirewallRule } from "../firewall";
import { ClusterNetwork, clusterNetworkOf } from "../clusterNetwork";
import { SwarmHost } from "../types";
import { chooseZones, roundRobin, vswitchZones } from "../zones";
import { PlaceNaming, requireGivenPlaces, requireZoneList, spreadZoneCount } from "../placement";
import { CheckOwner, checkedLate, fail, validateComponentArgs } from "../../validation";
import { alicloudDockerApiDropArgs, alicloudEspNarrowingArgs, alicloudIngressRuleArgs } from "./firewall";
import {
  requireAlicloudInstanceType,
  requireAlicloudRegion,
  requireAlicloudZone,
  requireVpcCidr,
  vswitchCidr,
} from "./validation";
import { TOKENS, withTokenAliases } from "../../tokens";

/** Arguments of {@link AlicloudHosts}. */
export interface AlicloudHostsArgs extends CloudHostsCommonArgs {
  /**
   * Region of every resource and lookup: a child provider is created for it, unless `opts.providers`
   * holds an alicloud provider, which is then used as is (give it this region). Default: the provider's region.
   */
  region?: string;
  /** VPC to use; requires `vswitchIds`. Default: a VPC is created. */
  vpcId?: pulumi.Input<string>;
  /** vSwitches (of `vpcId`) the hosts are placed in, round-robin. Default: one vSwitch per zone is created. */
  vswitchIds?: pulumi.Input<string>[];
  /** CIDR block of the created VPC; each created vSwitch gets the next /24 of it. Default: "10.42.0.0/16". */
  vpcCidr?: string;
  /** Zones to spread over (created vSwitches only). Default: the zones offering the instance type, looked up. */
  zoneIds?: string[];
  /** Image id. Default: the newest system image whose name matches `imageNameRegex`, looked up. */
  imageId?: pulumi.Input<string>;
  /** Name pattern of the looked-up system image. Default: "^ubuntu_24_04_x64". */
  imageNameRegex?: string;
  /** ECS instance type. Default: the cheapest type with `cpuCores` and `memoryGb`, looked up. */
  instanceType?: string;
  /** vCPUs of the looked-up instance type. Default: 2. */
  cpuCores?: number;
  /** Memory (GiB) of the looked-up instance type. Default: 4. */
  memoryGb?: number;
  /** Public bandwidth in Mbps; above 0 the instances get a public IP. Default: 10 (0 when `bastion` is set). */
  internetMaxBandwidthOut?: number;
  /** How public traffic is billed. Default: "PayByTraffic". */
  internetChargeType?: "PayByTraffic" | "PayByBandwidth";
  /** System disk category. Default: "cloud_essd". */
  systemDiskCategory?: "cloud_essd" | "cloud_ssd" | "cloud_efficiency" | "cloud_auto" | "cloud_essd_entry";
  /** System disk size in GiB. Default: 40. */
  systemDiskSize?: number;
}

const TYPE = TOKENS.AlicloudHosts.type;
const DISKS = ["cloud_essd", "cloud_ssd", "cloud_efficiency", "cloud_auto", "cloud_essd_entry"];
const VSWITCHES: PlaceNaming = {
  argument: "vswitchIds",
  noun: "vSwitch",
  plural: "vSwitches",
  counted: "vSwitch(es)",
  omitted: "create a VPC",
  idPattern: /^vsw-[0-9a-z]+$/,
  idExample: "vsw-bp1abc2def3ghi4jkl5mn",
};

/**
 * N ECS instances for a Docker Swarm: a VPC and one vSwitch per zone (or given ones), an image and
 * instance type looked up, a key pair, a security group whose rules come from the cloud-neutral
 * swarm firewall, public bandwidth for a public IP, and cloud-init that installs Docker.
 */
export class AlicloudHosts extends pulumi.ComponentResource {
  /** One SwarmHost per instance, in order. */
  public readonly hosts: SwarmHost[];
  /** The ECS instances, in order. */
  public readonly instances: alicloud.ecs.Instance[];
  /** Instance ids, in order. */
  public readonly instanceIds: pulumi.Output<string[]>;
  /** Public IPv4 addresses ("" without public bandwidth), in order. */
  public readonly publicIps: pulumi.Output<string[]>;
  /** Private IPv4 addresses, in order. */
  public readonly privateIps: pulumi.Output<string[]>;
  /** Zone of each instance, in order (from the lookups; fails there when the spread is impossible). */
  public readonly zones: pulumi.Output<string[]>;
  /** The VPC (created or given). */
  public readonly vpcId: pulumi.Output<string>;
  /** The vSwitches (created or given). */
  public readonly vswitchIds: pulumi.Output<string[]>;
  /** The instance type used. */
  public readonly instanceType: pulumi.Output<string>;
  /** The image used. */
  public readonly imageId: pulumi.Output<string>;
  /** The cluster's security group. */
  public readonly securityGroupId: pulumi.Output<string>;
  /** Name of the ECS key pair. */
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

  constructor(name: string, args: AlicloudHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    const owner: CheckOwner = { type: TYPE, name };
    const plan = validateComponentArgs(TYPE, name, () => validateAlicloudArgs(name, args, owner));
    super(TYPE, name, {}, withTokenAliases("AlicloudHosts", opts));
    owner.resource = this;
    // A provider the user handed in (`opts.providers`/`provider`: credentials, profile, assume-role)
    // is used as is and inherited by every child; only without one does `region` make a provider.
    const provider =
      args.region !== undefined && this.getProvider("alicloud:ecs:Instance") === undefined
        ? new alicloud.Provider(`${name}-provider`, { region: args.region }, { parent: this })
        : undefined;
    const parent: pulumi.CustomResourceOptions = { parent: this, ...(provider ? { provider } : {}) };
    const invoke: pulumi.InvokeOutputOptions = { parent: this, ...(provider ? { provider } : {}) };
    const tags = { ...(args.tags ?? {}), "pulumi-swarm:cluster": name };

    // Instance type first: the zones must offer it.
    const instanceType: pulumi.Output<string> =
      args.instanceType !== undefined
        ? pulumi.output(args.instanceType)
        : alicloud.ecs
            .getInstanceTypesOutput(
              {
                cpuCoreCount: args.cpuCores ?? 2,
                memorySize: args.memoryGb ?? 4,
                instanceChargeType: "PostPaid",
                networkType: "Vpc",
                sortedBy: "Price",
              },
              invoke,
            )
            .apply((result) =>
              checkedLate(owner, () => {
                const found = result.instanceTypes.find((t) => t.availabilityZones.length >= plan.zoneCount);
                if (found === undefined) {
                  fail(
                    "cpuCores/memoryGb",
                    `${args.cpuCores ?? 2} vCPU / ${args.memoryGb ?? 4} GiB`,
                    `No instance type of that size is offered in ${plan.zoneCount} zone(s); change the size, lower zoneCount or set instanceType.`,
                  );
                }
                return found.id;
              }),
            );

    const imageId: pulumi.Output<string> =
      args.imageId !== undefined
        ? pulumi.output(args.imageId)
        : alicloud.ecs
            .getImagesOutput(
              { nameRegex: args.imageNameRegex ?? "^ubuntu_24_04_x64", owners: "system", mostRecent: true },
              invoke,
            )
            .apply((result) =>
              checkedLate(owner, () => {
                const image = result.images[0];
                if (image === undefined) {
                  fail(
                    "imageNameRegex",
                    args.imageNameRegex ?? "^ubuntu_24_04_x64",
                    "No system image matches; change the pattern or set imageId.",
                  );
                }
                return image.id;
              }),
            );

    const network = this.network(name, args, plan.zoneCount, instanceType, owner, parent, invoke, tags);

    const keys = hostKeys(name, args, "RSA", this);
    const keyPair = new alicloud.ecs.EcsKeyPair(
      `${name}-key`,
      { keyPairName: `swarm-${name}-${pulumi.getStack()}`.slice(0, 128), publicKey: keys.publicKey, tags },
      parent,
    );

    const sg = new alicloud.ecs.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: network.vpcId,
        securityGroupName: `swarm-${name}`,
        description: `pulumi-swarm ${name}: swarm ports between members, SSH from admin CIDRs`,
        securityGroupType: "normal",
        // Basic groups let members reach each other on every port by default; only the rules below may.
        innerAccessPolicy: "Drop",
        tags,
      },
      parent,
    );

    const bandwidth = plan.bandwidth;
    // Each instance's own SSH host key, installed by cloud-init (cloudHostKeys.ts); ECS takes user data in base64.
    const instanceHostKeys = plan.hostNames.map((_, i) =>
      cloudHostKey(`${name}-${i + 1}`, plan.user, args.installDocker !== false, this, (u) =>
        Buffer.from(u).toString("base64"),
      ),
    );
    this.instances = plan.hostNames.map(
      (hostName, i) =>
        new alicloud.ecs.Instance(
          `${name}-${i + 1}`,
          {
            instanceName: hostName,
            hostName,
            imageId,
            instanceType,
            instanceChargeType: "PostPaid",
            ...network.placements[i],
            securityGroups: [sg.id],
            keyName: keyPair.keyPairName,
            internetMaxBandwidthOut: bandwidth,
            ...(bandwidth > 0 ? { internetChargeType: args.internetChargeType ?? "PayByTraffic" } : {}),
            systemDiskCategory: args.systemDiskCategory ?? "cloud_essd",
            systemDiskSize: args.systemDiskSize ?? 40,
            userData: instanceHostKeys[i].userData,
            tags: { ...tags, Name: hostName },
          },
          // A newer looked-up image would replace the system disk and a cheaper looked-up type
          // would resize (reboot) running swarm nodes; user data only runs on first boot.
          {
            ...parent,
            ignoreChanges: [
              ...(args.imageId === undefined ? ["imageId"] : []),
              ...(args.instanceType === undefined ? ["instanceType"] : []),
              "userData",
            ],
          },
        ),
    );

    this.firewallRules = plan.rules;
    const concrete = memberRules(plan, this.instances);
    const ruleResources: pulumi.Resource[] = concrete.map(
      (c) =>
        new alicloud.ecs.SecurityGroupRule(
          `${name}-in-${c.suffix}`,
          alicloudIngressRuleArgs(c, sg.id),
          parent,
        ),
    );
    for (const c of concrete.filter((x) => x.rule.protocol === "esp")) {
      const source = c.suffix.replace(/^esp-/, "");
      ruleResources.push(
        new alicloud.ecs.SecurityGroupRule(
          `${name}-deny-docker-api-${source}`,
          alicloudDockerApiDropArgs(c, sg.id),
          parent,
        ),
      );
      for (const narrow of alicloudEspNarrowingArgs(c, sg.id)) {
        ruleResources.push(
          new alicloud.ecs.SecurityGroupRule(
            `${name}-esp-only-${narrow.protocol}-${source}`,
            narrow.args,
            parent,
          ),
        );
      }
    }

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
    this.zones = network.zones;
    this.vpcId = pulumi.output(network.vpcId);
    this.vswitchIds = network.vswitchIds;
    this.instanceType = instanceType;
    this.imageId = imageId;
    this.securityGroupId = sg.id;
    this.keyPairName = keyPair.keyPairName;
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
      vpcId: this.vpcId,
      vswitchIds: this.vswitchIds,
      instanceType: this.instanceType,
      imageId: this.imageId,
      securityGroupId: this.securityGroupId,
      keyPairName: this.keyPairName,
      privateKey: this.privateKey,
      publicKey: this.publicKey,
      spansNetworks: this.spansNetworks,
    });
  }

  /**
   * The VPC and where each instance goes: given vSwitches round-robin (their zones looked up and
   * checked), or a created VPC with one vSwitch per chosen zone.
   */
  private network(
    name: string,
    args: AlicloudHostsArgs,
    zoneCount: number,
    instanceType: pulumi.Output<string>,
    owner: CheckOwner,
    parent: pulumi.CustomResourceOptions,
    invoke: pulumi.InvokeOutputOptions,
    tags: Record<string, string>,
  ): {
    vpcId: pulumi.Input<string>;
    vswitchIds: pulumi.Output<string[]>;
    zones: pulumi.Output<string[]>;
    placements: { vswitchId: pulumi.Input<string>; availabilityZone?: pulumi.Input<string> }[];
  } {
    if (args.vswitchIds !== undefined && args.vpcId !== undefined) {
      const given = args.vswitchIds;
      const byId = pulumi
        .all([alicloud.vpc.getSwitchesOutput({ ids: given, vpcId: args.vpcId }, invoke), pulumi.all(given)])
        .apply(([result, ids]) => checkedLate(owner, () => vswitchZones(ids, result.vswitches, zoneCount)));
      return {
        vpcId: args.vpcId,
        vswitchIds: pulumi.all(given),
        zones: byId.apply((z) => roundRobin(z, args.count)),
        placements: checkedPlaces(byId, given, args.count).map((vswitchId) => ({ vswitchId })),
      };
    }
    const zones = alicloud
      .getZonesOutput(
        {
          availableResourceCreation: "VSwitch",
          availableInstanceType: instanceType,
          instanceChargeType: "PostPaid",
          networkType: "Vpc",
        },
        invoke,
      )
      .apply((result) =>
        checkedLate(owner, () =>
          chooseZones(
            "zoneIds",
            result.zones.map((z) => z.id),
            zoneCount,
            args.zoneIds,
          ),
        ),
      );
    const vpcCidr = args.vpcCidr ?? "10.42.0.0/16";
    const vpc = new alicloud.vpc.Network(
      `${name}-vpc`,
      { vpcName: `swarm-${name}`, cidrBlock: vpcCidr, description: `pulumi-swarm ${name}`, tags },
      parent,
    );
    const switches = Array.from(
      { length: zoneCount },
      (_, j) =>
        new alicloud.vpc.Switch(
          `${name}-vsw-${j + 1}`,
          {
            vpcId: vpc.id,
            zoneId: zones.apply((z) => z[j]),
            cidrBlock: vswitchCidr(vpcCidr, j),
            vswitchName: `swarm-${name}-${j + 1}`,
            tags,
          },
          parent,
        ),
    );
    return {
      vpcId: vpc.id,
      vswitchIds: pulumi.all(switches.map((s) => s.id)),
      zones: zones.apply((z) => roundRobin(z, args.count)),
      placements: Array.from({ length: args.count }, (_, i) => ({
        vswitchId: switches[i % zoneCount].id,
        availabilityZone: zones.apply((z) => z[i % zoneCount]),
      })),
    };
  }
}

function validateAlicloudArgs(name: string, args: AlicloudHostsArgs, owner: CheckOwner) {
  if (args?.region !== undefined) requireAlicloudRegion("region", args.region);
  const plan = planCommon(name, args, "root", owner);
  requireGivenPlaces(
    VSWITCHES,
    args.vswitchIds,
    args.vpcId,
    [
      ["zoneIds", args.zoneIds],
      ["vpcCidr", args.vpcCidr],
    ],
    "Only used for a created VPC; drop it when giving vswitchIds.",
  );
  requireZoneList("zoneIds", args.zoneIds, (argument, zone) =>
    requireAlicloudZone(argument, zone, args.region),
  );
  const zoneCount = spreadZoneCount(plan.zoneCount, args.zoneCount, VSWITCHES, args.vswitchIds, args.zoneIds);
  if (args.vswitchIds === undefined) requireVpcCidr("vpcCidr", args.vpcCidr ?? "10.42.0.0/16", zoneCount);
  if (args.instanceType !== undefined) requireAlicloudInstanceType("instanceType", args.instanceType);
  for (const [arg, value, max] of [
    ["cpuCores", args.cpuCores, 256],
    ["memoryGb", args.memoryGb, 4096],
  ] as const) {
    if (value !== undefined && !(typeof value === "number" && value > 0 && value <= max)) {
      fail(arg, value, `Use a positive number up to ${max}.`);
    }
  }
  if (args.imageNameRegex !== undefined) {
    try {
      new RegExp(args.imageNameRegex);
    } catch {
      fail(
        "imageNameRegex",
        args.imageNameRegex,
        'Use a valid regular expression such as "^ubuntu_24_04_x64".',
      );
    }
  }
  const bandwidth = args.internetMaxBandwidthOut ?? (args.bastion === undefined ? 10 : 0);
  if (!Number.isInteger(bandwidth) || bandwidth < 0 || bandwidth > 100) {
    fail("internetMaxBandwidthOut", args.internetMaxBandwidthOut, "Use whole Mbps between 0 and 100.");
  }
  if (bandwidth === 0 && args.bastion === undefined) {
    fail(
      "internetMaxBandwidthOut",
      0,
      "Without public bandwidth the hosts get no public IP and are reachable only through `bastion`; set one.",
    );
  }
  if (plan.mode.advertise === "public" && bandwidth === 0) {
    fail(
      "advertise",
      plan.mode.advertise,
      "Hosts advertise public addresses (set, or implied by peerCidrs) but get no public IP; set internetMaxBandwidthOut above 0.",
    );
  }
  if (
    args.internetChargeType !== undefined &&
    !["PayByTraffic", "PayByBandwidth"].includes(args.internetChargeType)
  ) {
    fail("internetChargeType", args.internetChargeType, 'Use "PayByTraffic" or "PayByBandwidth".');
  }
  if (args.systemDiskCategory !== undefined && !DISKS.includes(args.systemDiskCategory)) {
    fail("systemDiskCategory", args.systemDiskCategory, `Use one of ${DISKS.join(", ")}.`);
  }
  if (
    args.systemDiskSize !== undefined &&
    (!Number.isInteger(args.systemDiskSize) || args.systemDiskSize < 20 || args.systemDiskSize > 2048)
  ) {
    fail("systemDiskSize", args.systemDiskSize, "Use a whole number of GiB between 20 and 2048.");
  }
  return { ...plan, zoneCount, bandwidth };
}
