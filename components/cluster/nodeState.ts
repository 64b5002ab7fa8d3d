import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../hosts/types";
import type { NodeAvailability, NodeRole } from "./types";
import { nodeStateProvider } from "./nodeProvider";
import type { ResolvedConnection } from "../ssh/sshOptions";

/**
 * What a swarm node holds that can drift, as one resource with a real read (see nodeProvider.ts):
 * whether the host is still a member, its role, labels and availability, and for a manager whether
 * it is locked. `pulumi refresh` reads them over SSH, `pulumi preview` shows changes in these words
 * (`~ labels: {zone: "a"} => {zone: "b"}`), `pulumi up` puts them back.
 */
export interface SwarmNodeStateArgs {
  /** Cluster name (the SwarmCluster's name). */
  cluster: string;
  /** Host name inside the cluster. */
  host: string;
  /** The node's swarm address. */
  advertiseAddr: pulumi.Input<string>;
  role: NodeRole;
  /** The node's labels: exactly these (labels added by hand are taken off), besides `pulumi-swarm.*`. */
  labels: pulumi.Input<Record<string, string>>;
  availability: NodeAvailability;
  /** SSH to the node itself (membership, unlock). Stored as a secret. */
  connection: SshConnection;
  /** SSH to the manager that administers the node (settings, drain). Stored as a secret. */
  adminConnection: SshConnection;
  /** Advertise addresses of the managers a node that left joins again through. */
  joinAddrs: pulumi.Input<pulumi.Input<string>[]>;
  /** The join token of the node's role, the unlock key ("" without autolock) and the cluster id. */
  secrets: pulumi.Input<{ joinToken: string; unlockKey: string; clusterId: string }>;
  /** Changing it re-applies everything (the cluster's `reconcile`). */
  reconcile: pulumi.Input<string>;
  /**
   * The node id the membership Command printed when it joined the host: `create` applies the
   * settings with it instead of dialling the host again for its membership (a join just ran).
   * Default: none (create checks the membership on the host first).
   */
  joinedNodeId?: pulumi.Input<string>;
}

/** The inputs as the provider sees them (resolved). */
export interface NodeStateInputs {
  /** Tells these resources apart from other dynamic resources (policies, `pulumi stack`). */
  kind: "swarm:cluster:Node";
  cluster: string;
  host: string;
  advertiseAddr: string;
  role: NodeRole;
  labels: Record<string, string>;
  availability: NodeAvailability;
  /** "joined" in the program; a read reports "left" when the host is no longer in the swarm. */
  membership: "joined" | "left";
  /** false in the program; a read reports true when the manager came back locked (autolock). */
  locked: boolean;
  connection: ResolvedConnection;
  adminConnection: ResolvedConnection;
  joinAddrs: string[];
  secrets: { joinToken: string; unlockKey: string; clusterId: string };
  reconcile: string;
  /** See {@link SwarmNodeStateArgs.joinedNodeId}; not compared (a rerun join prints the same id). */
  joinedNodeId?: string;
  /** Set by `check` only, when it finds the manager locked during a plain preview or up. */
  unlock?: string;
}

/** The state: the inputs plus the node id the swarm gave the host. */
export interface NodeStateOutputs extends Omit<NodeStateInputs, "unlock"> {
  nodeId: string;
}

// A resolved SSH connection (the @pulumi/command shape, plain values) lives with the ssh options.
export type { ResolvedConnection };

/** One swarm node's drift-prone state, read over SSH (type `pulumi-nodejs:dynamic:Resource`, kind `swarm:cluster:Node`). */
export class SwarmNodeState extends pulumi.dynamic.Resource {
  /** The swarm node id of the host (changes when a node that left joins again). */
  declare readonly nodeId: pulumi.Output<string>;
  declare readonly role: pulumi.Output<NodeRole>;
  declare readonly labels: pulumi.Output<Record<string, string>>;
  declare readonly availability: pulumi.Output<NodeAvailability>;
  declare readonly membership: pulumi.Output<string>;
  declare readonly locked: pulumi.Output<boolean>;

  constructor(name: string, args: SwarmNodeStateArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      nodeStateProvider,
      name,
      {
        kind: "swarm:cluster:Node",
        cluster: args.cluster,
        host: args.host,
        advertiseAddr: args.advertiseAddr,
        role: args.role,
        labels: args.labels,
        availability: args.availability,
        membership: "joined",
        locked: false,
        connection: pulumi.secret(pulumi.output(args.connection)),
        adminConnection: pulumi.secret(pulumi.output(args.adminConnection)),
        joinAddrs: args.joinAddrs,
        secrets: pulumi.secret(pulumi.output(args.secrets)),
        reconcile: args.reconcile,
        joinedNodeId: args.joinedNodeId,
        nodeId: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [
          ...(opts.additionalSecretOutputs ?? []),
          "connection",
          "adminConnection",
          "secrets",
        ],
      },
    );
  }
}
