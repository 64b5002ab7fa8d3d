import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { SwarmClusterLike } from "../cluster/types";
import { fail, isIpv4, requireBoolean, requireCidr, validateComponentArgs } from "../validation";
import { requireSwarmName } from "./parse";
import { planLabels } from "./serviceSpec";
import { TOKENS, withTokenAliases } from "../tokens";

/** Arguments of an {@link OverlayNetwork}. */
export interface OverlayNetworkArgs {
  /** The swarm to create the network on (a `SwarmCluster` or anything of its shape). */
  cluster: SwarmClusterLike;
  /** Docker network name. Default: the component name. */
  networkName?: string;
  /** Let standalone containers (`docker run --network`) join too. Default: true. */
  attachable?: boolean;
  /**
   * Encrypt VXLAN traffic between nodes with IPsec (needs IP protocol 50 open between nodes).
   * Default: `cluster.spansNetworks` (encrypted when traffic crosses networks).
   */
  encrypted?: boolean;
  /** No traffic to or from outside the network. Default: false. */
  internal?: boolean;
  /** IPv4 subnet, e.g. "10.20.0.0/24". Default: one from the swarm's default address pool. */
  subnet?: string;
  /** Gateway inside `subnet`. Default: the subnet's first address (Docker's choice). Needs `subnet`. */
  gateway?: string;
  /** Range inside `subnet` that tasks get addresses from. Default: the whole subnet. Needs `subnet`. */
  ipRange?: string;
  /** Network labels. Default: none. */
  labels?: Record<string, string>;
  /** Extra driver options (e.g. "com.docker.network.driver.mtu": "1400"). Default: none. */
  driverOptions?: Record<string, string>;
}

function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function cidrContains(cidr: string, inner: string): boolean {
  const [base, bits] = cidr.split("/");
  const [innerBase, innerBits = "32"] = inner.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = ipv4ToNumber(base);
  const innerStart = ipv4ToNumber(innerBase);
  const innerSize = 2 ** (32 - Number(innerBits));
  return innerStart >= start && innerStart + innerSize <= start + size;
}

function validate(name: string, args: OverlayNetworkArgs): string {
  if (!args || !args.cluster)
    fail("cluster", args?.cluster, "Pass the SwarmCluster (or a SwarmClusterLike) to create the network on.");
  const networkName = args.networkName ?? name;
  requireSwarmName("networkName", networkName);
  if (args.subnet !== undefined) requireCidr("subnet", args.subnet);
  if (args.gateway !== undefined) {
    if (args.subnet === undefined)
      fail("gateway", args.gateway, "Give `subnet` too: a gateway only makes sense inside a subnet.");
    if (!isIpv4(args.gateway) || !cidrContains(args.subnet, args.gateway)) {
      fail("gateway", args.gateway, `Use an IPv4 address inside ${args.subnet}.`);
    }
  }
  if (args.ipRange !== undefined) {
    if (args.subnet === undefined)
      fail("ipRange", args.ipRange, "Give `subnet` too: an IP range only makes sense inside a subnet.");
    requireCidr("ipRange", args.ipRange);
    if (!cidrContains(args.subnet, args.ipRange))
      fail("ipRange", args.ipRange, `Use a CIDR block inside ${args.subnet}.`);
  }
  requireBoolean("attachable", args.attachable);
  requireBoolean("internal", args.internal);
  if (args.labels !== undefined) planLabels("labels", args.labels);
  if (args.driverOptions && "encrypted" in args.driverOptions) {
    fail("driverOptions.encrypted", args.driverOptions.encrypted, "Use the `encrypted` argument instead.");
  }
  return networkName;
}

/**
 * An overlay network on the swarm (`docker network create -d overlay`), attachable by default and
 * encrypted when the cluster spans networks. Services reference it by id.
 */
export class OverlayNetwork extends pulumi.ComponentResource {
  /** Docker network id: what services reference (a name would give perpetual diffs). */
  readonly networkId: pulumi.Output<string>;
  /** Docker network name. */
  readonly networkName: pulumi.Output<string>;
  /** Whether the network is encrypted. */
  readonly encrypted: boolean;
  /** The underlying `docker.Network`. */
  readonly network: docker.Network;

  constructor(name: string, args: OverlayNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.OverlayNetwork.type;
    const networkName = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("OverlayNetwork", opts));

    this.encrypted = args.encrypted ?? args.cluster.spansNetworks;
    const options = {
      ...(args.driverOptions ?? {}),
      ...(this.encrypted ? { encrypted: "true" } : {}),
    };
    const ipam = {
      ...(args.subnet !== undefined ? { subnet: args.subnet } : {}),
      ...(args.gateway !== undefined ? { gateway: args.gateway } : {}),
      ...(args.ipRange !== undefined ? { ipRange: args.ipRange } : {}),
    };
    this.network = new docker.Network(
      name,
      {
        name: networkName,
        driver: "overlay",
        attachable: args.attachable ?? true,
        internal: args.internal ?? false,
        ...(Object.keys(options).length ? { options } : {}),
        ...(Object.keys(ipam).length ? { ipamConfigs: [ipam] } : {}),
        ...(args.labels
          ? { labels: Object.entries(args.labels).map(([label, value]) => ({ label, value })) }
          : {}),
      },
      { parent: this, provider: args.cluster.provider },
    );
    this.networkId = this.network.id;
    this.networkName = this.network.name;
    this.registerOutputs({
      networkId: this.networkId,
      networkName: this.networkName,
      encrypted: this.encrypted,
    });
  }
}
