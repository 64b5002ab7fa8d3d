import * as pulumi from "@pulumi/pulumi";
import { SwarmHost } from "./types";
import { CheckOwner, checkedInput, fail } from "../validation";
import { requirePeerAddress } from "./hostChecks";

/**
 * Clusters across networks (e.g. Alibaba Cloud + Huawei Cloud + Tencent Cloud): swarm traffic runs
 * over public addresses, so members advertise their public IP, each cloud firewall opens the swarm
 * ports to the other members' /32 addresses only, and overlays are encrypted (VXLAN is plain text).
 */

/** Which address members advertise to the swarm. */
export type AdvertiseMode = "private" | "public";

/** How a cloud host group sits in the cluster's network, after defaults. */
export interface NetworkMode {
  advertise: AdvertiseMode;
  /** True when swarm traffic leaves this cloud network (public advertise or peers elsewhere). */
  spansNetworks: boolean;
  /** Whether ESP is opened between members for encrypted overlay networks. */
  encryptedOverlays: boolean;
}

/**
 * Resolves the defaults: advertise "public" when peers are listed, else "private"; the cluster
 * spans networks when it advertises public addresses or has peers; encrypted overlays follow that.
 */
export function resolveNetworkMode(args: {
  advertise?: AdvertiseMode;
  peerCidrs?: pulumi.Input<string>[];
  encryptedOverlays?: boolean;
}): NetworkMode {
  const peers = args.peerCidrs ?? [];
  if (args.advertise !== undefined && args.advertise !== "private" && args.advertise !== "public") {
    fail("advertise", args.advertise, 'Use "private" (one cloud network) or "public" (across networks).');
  }
  const advertise = args.advertise ?? (peers.length > 0 ? "public" : "private");
  const spansNetworks = advertise === "public" || peers.length > 0;
  return { advertise, spansNetworks, encryptedOverlays: args.encryptedOverlays ?? spansNetworks };
}

/**
 * "203.0.113.7" -> "203.0.113.7/32". A value that is not an IPv4 address fails now when known, or
 * when it resolves, with the same message naming `argument`. Default argument: "peer address".
 */
export function hostCidr(
  address: pulumi.Input<string>,
  argument = "peer address",
  owner?: CheckOwner,
): pulumi.Output<string> {
  return pulumi.output(checkedInput(argument, address, requirePeerAddress, owner)).apply((ip) => `${ip}/32`);
}

/**
 * The /32 blocks of other members' advertised addresses, to pass as `peerCidrs` of a cloud host
 * group (e.g. existing Huawei/Tencent servers joining Alibaba Cloud instances). A known address is
 * checked now; an Output when it resolves, with the same message.
 */
export function peerCidrsOf(hosts: SwarmHost[]): pulumi.Input<string>[] {
  return hosts.map((h) => {
    const argument = `hosts["${h.name}"].advertiseAddr`;
    const addr = h.advertiseAddr;
    if (typeof addr === "string") {
      requirePeerAddress(argument, addr);
      return `${addr}/32`;
    }
    return hostCidr(addr, argument);
  });
}
