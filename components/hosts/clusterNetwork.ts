import * as pulumi from "@pulumi/pulumi";
import { fail } from "../validation";
import { NetworkMode, peerCidrsOf } from "./crossCloud";
import { DEFAULT_DATA_PATH_PORT, requireDataPathPort } from "./firewall";
import { SwarmHost } from "./types";

/**
 * What a host group's cloud firewall was opened for, handed to the cluster as one value
 * (`new SwarmCluster(name, { nodes, network: group.clusterNetwork })`) so the two cannot disagree:
 * the swarm uses the data path port the firewall opened, and spans networks when the group does.
 */
export interface ClusterNetwork {
  /** The VXLAN data path port the group's firewall opened (UDP). */
  readonly dataPathPort: number;
  /** True when swarm traffic leaves the group's network (public advertise addresses, or peers elsewhere). */
  readonly spansNetworks: boolean;
  /** True when ESP (encrypted overlay networks) is open between the group's members. */
  readonly encryptedOverlays: boolean;
  /**
   * The group's members as "/32" blocks of their advertised public addresses, for another group's
   * `peerCidrs` (empty when the group advertises private addresses: they mean nothing elsewhere).
   */
  readonly peerCidrs: pulumi.Input<string>[];
}

/** A cloud host group's {@link ClusterNetwork}: its firewall's data path port and network mode, its members' peer blocks. */
export function clusterNetworkOf(
  dataPathPort: number | undefined,
  mode: NetworkMode,
  hosts: SwarmHost[],
): ClusterNetwork {
  return {
    dataPathPort: dataPathPort ?? DEFAULT_DATA_PATH_PORT,
    spansNetworks: mode.spansNetworks,
    encryptedOverlays: mode.encryptedOverlays,
    peerCidrs: mode.advertise === "public" ? peerCidrsOf(hosts) : [],
  };
}

/** The swarm-wide network settings a cluster ends up with. */
export interface ResolvedClusterNetwork {
  dataPathPort: number;
  spansNetworks: boolean;
}

/**
 * The settings a cluster takes from its host groups' `network` values and its own `dataPathPort` /
 * `spansNetworks`. The separate arguments keep working alone; given with `network` they must agree
 * with it, and every group must have opened the same data path port. Throws a ValidationError
 * naming the argument that disagrees, the value and the fix.
 */
export function resolveClusterNetwork(args: {
  network?: ClusterNetwork | ClusterNetwork[];
  dataPathPort?: number;
  spansNetworks?: boolean;
}): ResolvedClusterNetwork {
  const networks =
    args.network === undefined ? [] : Array.isArray(args.network) ? args.network : [args.network];
  const at = (i: number) => (Array.isArray(args.network) ? `network[${i}]` : "network");
  networks.forEach((n, i) => {
    if (
      !n ||
      typeof n !== "object" ||
      typeof n.dataPathPort !== "number" ||
      typeof n.spansNetworks !== "boolean"
    ) {
      fail(at(i), n, "Pass a host group's `clusterNetwork` (from existingHosts, AwsHosts or AlicloudHosts).");
    }
    requireDataPathPort(`${at(i)}.dataPathPort`, n.dataPathPort);
  });
  const ports = [...new Set(networks.map((n) => n.dataPathPort))];
  if (ports.length > 1) {
    const i = networks.findIndex((n) => n.dataPathPort !== networks[0].dataPathPort);
    fail(
      `${at(i)}.dataPathPort`,
      networks[i].dataPathPort,
      `${at(0)} opened ${networks[0].dataPathPort}: every host group's firewall must open the same data path port; give the groups the same dataPathPort.`,
    );
  }
  if (args.dataPathPort !== undefined && ports.length === 1 && args.dataPathPort !== ports[0]) {
    fail(
      "dataPathPort",
      args.dataPathPort,
      `The host groups' firewalls opened ${ports[0]} (network.dataPathPort); leave dataPathPort out to use it, or give the host groups dataPathPort: ${args.dataPathPort}.`,
    );
  }
  const groupsSpan = networks.some((n) => n.spansNetworks);
  if (args.spansNetworks === false && groupsSpan) {
    fail(
      "spansNetworks",
      false,
      "A host group in `network` advertises public addresses or has peers in other networks, so the cluster spans networks; leave spansNetworks out.",
    );
  }
  const spansNetworks = args.spansNetworks ?? groupsSpan;
  const closed = networks.findIndex((n) => !n.encryptedOverlays);
  if (spansNetworks && closed >= 0) {
    fail(
      `${at(closed)}.encryptedOverlays`,
      false,
      "The cluster spans networks, so its overlays are encrypted by default and need ESP between members; leave encryptedOverlays out of the host group or set it to true.",
    );
  }
  return { dataPathPort: args.dataPathPort ?? ports[0] ?? DEFAULT_DATA_PATH_PORT, spansNetworks };
}
