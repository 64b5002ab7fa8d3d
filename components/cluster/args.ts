import * as pulumi from "@pulumi/pulumi";
import type { ClusterNetwork } from "../hosts/clusterNetwork";
import type { HostKeyOptions } from "../ssh/hostKeys";
import { SwarmNodeArgs } from "./types";

/** Arguments of {@link SwarmCluster}. */
export interface SwarmClusterArgs extends HostKeyOptions {
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
  /**
   * Validity of node certificates ("2160h", "90d"; at least 1h). Changing it on a running swarm is
   * `docker swarm update --cert-expiry`: nodes get certificates of the new validity at their next
   * renewal, no task restarts. Read back by `pulumi refresh` (a change made by hand shows as drift).
   * Default: "2160h" (90 days).
   */
  certExpiry?: string;
  /** Rotations of the swarm's credentials, each run once when its generation is raised. Default: none. */
  rotations?: SwarmRotations;
  /**
   * Recover a swarm that lost its manager quorum (see docs/day2.md, "Quorum loss"): set it when
   * `pulumi up` refuses with "the swarm has lost its manager quorum". Default: none (no recovery).
   */
  recoverQuorum?: QuorumRecovery;
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

/**
 * Credential rotations as declarations: raise a generation and the next `pulumi up` rotates once on
 * a running swarm (Docker re-issues certificates or tokens; no task restarts). Generations only go
 * up; lowering one, or leaving it as is, rotates nothing. Setting one on a new cluster records it
 * without rotating.
 */
export interface SwarmRotations {
  /**
   * Raise to rotate the swarm's root CA (`docker swarm ca --rotate`): a new CA key and certificate,
   * every node's certificate re-issued under it (the up waits until all nodes have theirs, so all
   * nodes must be up), and the join tokens change with the CA (the outputs follow). Default: 0.
   */
  caGeneration?: number;
  /** Raise to rotate the worker join token (`docker swarm join-token --rotate worker`). Default: 0. */
  workerTokenGeneration?: number;
  /** Raise to rotate the manager join token (`docker swarm join-token --rotate manager`). Default: 0. */
  managerTokenGeneration?: number;
}

/**
 * An explicit recovery from lost manager quorum: `docker swarm init --force-new-cluster` on
 * `survivor` (a single-manager swarm that keeps the cluster's services, networks, secrets and
 * workers), then every other manager leaves its stale cluster state and joins again, and their old
 * entries are removed from the node list. It runs once per `generation`.
 */
export interface QuorumRecovery {
  /** Host name (in `nodes`) of a manager whose dockerd still answers: the swarm restarts from its Raft state. */
  survivor: string;
  /** Raise (1, 2, ...) to run the recovery again after a later quorum loss. Must be at least 1. */
  generation: number;
}
