import * as pulumi from "@pulumi/pulumi";
import type { ClusterNetwork } from "../hosts/clusterNetwork";
import { SwarmNodeArgs } from "./types";

/** Arguments of {@link SwarmCluster}. */
export interface SwarmClusterArgs {
  /** The nodes: hosts with their role, labels and availability. An odd number of managers (1, 3, 5 or 7). */
  nodes: SwarmNodeArgs[];
  /** Install Docker Engine (distribution packages) on hosts that lack it. Default: true. */
  installDocker?: boolean;
  /**
   * Registries dockerd may reach over plain HTTP ("host:port" or CIDR), written to each node's
   * /etc/docker/daemon.json (other keys kept; dockerd restarted only when the file changed). Prefer a
   * registry with TLS and its CA installed (see RegistryTrust). An entry may be an Output (e.g.
   * `harbor.registry`): it is checked when it resolves, before any node's daemon.json takes it.
   * Default: daemon.json's key left as is.
   */
  insecureRegistries?: pulumi.Input<string>[];
  /**
   * Registry mirrors (http(s) URLs, no path) for daemon.json; entries may be Outputs (checked when
   * they resolve). Default: daemon.json's key left as is.
   */
  registryMirrors?: pulumi.Input<string>[];
  /** "auto": open the swarm ports to the other members in ufw or firewalld when one is active; "none": leave host firewalls alone. Default: "auto". */
  hostFirewall?: "auto" | "none";
  /** Lock managers' Raft data at rest; a restarted manager then needs the `unlockKey` (the cluster unlocks it on the next run). Default: false. */
  autolock?: boolean;
  /**
   * What the host groups' cloud firewalls were opened for (`group.clusterNetwork` of AwsHosts or
   * AlicloudHosts; a list for several groups): the cluster takes its data path port and whether it
   * spans networks from it, so the two cannot disagree. Default: none (the arguments below).
   */
  network?: ClusterNetwork | ClusterNetwork[];
  /**
   * UDP port of the overlay data path (VXLAN), 1024-49151. With `network`, leave it out (a different
   * port fails). Default: the `network`'s port, else 4789.
   */
  dataPathPort?: number;
  /** Address pools overlay networks get their subnets from (CIDRs). Default: Docker's 10.0.0.0/8. */
  defaultAddrPool?: string[];
  /** Prefix length of each overlay subnet carved from `defaultAddrPool`. Default: 24. */
  defaultAddrPoolMaskLength?: number;
  /** Validity of node certificates ("2160h", "90d"; at least 1h). Default: "2160h" (90 days). */
  certExpiry?: string;
  /**
   * The nodes advertise addresses in different networks (e.g. public IPs across clouds): overlay
   * traffic crosses untrusted networks, so workloads default to encrypted overlays and host
   * firewalls allow ESP between members. With `network`, leave it out (false fails when a group
   * spans networks). Default: true when a `network` spans networks, else false.
   */
  spansNetworks?: boolean;
  /** Allow an even number of managers (e.g. during a migration). Default: false. */
  allowEvenManagers?: boolean;
  /**
   * Change this value (e.g. to a date) to re-run every node's guarded scripts on the next `pulumi up`:
   * locked managers are unlocked, nodes that left by hand rejoin, drifted labels are put back.
   * Default: none.
   */
  reconcile?: pulumi.Input<string>;
  /**
   * Create the `@pulumi/docker` provider bound to the first manager (the `provider` output). Set
   * false where the Docker provider plugin is not available (reading `provider` then throws).
   * Default: true.
   */
  dockerProvider?: boolean;
  /**
   * Extra `ssh` options for the Docker provider's connection to the first manager, placed before
   * the ones the cluster derives (ssh keeps the first value of an option, so these win). The
   * provider runs the local `ssh` client; the cluster already hands it the host's key (as a 0600
   * file under ~/.pulumi-swarm/ssh), port, user, bastion and pinned host key (`StrictHostKeyChecking=accept-new`
   * when none is pinned). Default: none.
   */
  dockerSshOpts?: string[];
}
