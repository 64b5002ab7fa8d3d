import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import { SwarmHost } from "../hosts/types";

/** Role of a node in the swarm. */
export type NodeRole = "manager" | "worker";

/** Scheduling availability of a node: `drain` moves its tasks away, `pause` stops new ones. */
export type NodeAvailability = "active" | "pause" | "drain";

/** One node of a {@link SwarmClusterArgs}: which host, in which role, with which labels. */
export interface SwarmNodeArgs {
  /** The host that becomes this node (from `AwsHosts`, `AlicloudHosts` or `existingHosts`). */
  host: SwarmHost;
  /**
   * "manager" (takes part in Raft; keep an odd count) or "worker". A plain string is accepted too
   * (nodes built in a variable need no `as const`) and checked at construction.
   */
  role: NodeRole | (string & {});
  /**
   * Node labels for placement constraints (`node.labels.<key>==<value>`). Values (or the whole map)
   * may be Outputs, e.g. an instance's zone; they are checked when they resolve. Default: none.
   */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Scheduling availability; a plain string is accepted and checked at construction. Default: "active". */
  availability?: NodeAvailability | (string & {});
}

/**
 * What the workload and delivery layers need from a swarm: a Docker provider bound to a manager,
 * a manager to run `docker stack deploy` on, and whether overlay traffic crosses networks.
 * `SwarmCluster` implements it; tests and other repos can pass any object of this shape.
 */
export interface SwarmClusterLike {
  /** `@pulumi/docker` provider talking to a manager over `ssh://`. */
  readonly provider: docker.Provider;
  /** The manager the cluster administers the swarm through (for `docker stack deploy` and the like). */
  readonly managerHost: SwarmHost;
  /** The address of that manager's swarm endpoint, "ip:2377". */
  readonly managerAddress: pulumi.Output<string>;
  /** True when nodes advertise addresses in different networks, so overlays should be encrypted. */
  readonly spansNetworks: boolean;
  /**
   * The swarm's VXLAN data path port, which services must not publish. Default: 4789 (Docker's),
   * assumed when the cluster does not say.
   */
  readonly dataPathPort?: number;
  /** Resources that complete when every node is in place; what runs on the swarm depends on them. Default: `[provider]`. */
  readonly ready?: pulumi.Resource[];
}
