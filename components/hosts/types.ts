import * as pulumi from "@pulumi/pulumi";
import type { types as commandTypes } from "@pulumi/command";

/** How to reach a host over SSH: the `@pulumi/command` remote connection (host, port, user, privateKey, proxy...). */
export type SshConnection = commandTypes.input.remote.ConnectionArgs;

/**
 * A machine that can become a swarm node: the contract between the host layer (cloud or existing
 * servers) and the cluster layer.
 */
export interface SwarmHost {
  /** Stable, unique name of the host inside one cluster (a DNS label); child resource names derive from it. */
  name: string;
  /** SSH connection used to run the cluster's scripts on this host. Keep `privateKey` a secret. */
  connection: SshConnection;
  /**
   * Address other nodes use for swarm traffic (2377/tcp, 7946/tcp+udp, 4789/udp): the private IP
   * inside one cloud network, the public IP when the cluster spans networks.
   */
  advertiseAddr: pulumi.Input<string>;
  /** Resources that must exist before the host is usable (e.g. the instance and its firewall). */
  dependsOn?: pulumi.Resource[];
}
