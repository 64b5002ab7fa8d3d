import type { SwarmClusterLike } from "../cluster/types";
import { fail } from "../validation";

/** One published port a service claims on the cluster's nodes. */
export interface PortClaim {
  published: number;
  protocol: string;
}

interface ClusterClaims {
  /** "80/tcp" -> name of the service publishing it. */
  ports: Map<string, string>;
  /** Docker service names already declared. */
  services: Set<string>;
}

// Keyed by the cluster object: two programs (or two tests) with their own clusters never collide, and
// a cluster that is garbage collected takes its claims with it.
const registry = new WeakMap<SwarmClusterLike, ClusterClaims>();

function claimsOf(cluster: SwarmClusterLike): ClusterClaims {
  let claims = registry.get(cluster);
  if (!claims) {
    claims = { ports: new Map(), services: new Set() };
    registry.set(cluster, claims);
  }
  return claims;
}

function portKey(claim: PortClaim): string {
  return `${claim.published}/${claim.protocol}`;
}

/**
 * Throws when the service name or one of its published ports is already declared on this cluster.
 * Checks everything before recording anything, so a failed service leaves no claim behind.
 */
export function checkClaimsFree(
  cluster: SwarmClusterLike,
  serviceName: string,
  ports: { argument: string; claim: PortClaim }[],
): void {
  const claims = registry.get(cluster);
  if (!claims) return;
  if (claims.services.has(serviceName)) {
    fail(
      "serviceName",
      serviceName,
      "A service with this name is already declared on this cluster; give each service its own name.",
    );
  }
  for (const { argument, claim } of ports) {
    const holder = claims.ports.get(portKey(claim));
    if (holder !== undefined) {
      fail(
        argument,
        claim.published,
        `Port ${portKey(claim)} is already published by service "${holder}" on this cluster; a published port belongs to one service only. Pick another port.`,
      );
    }
  }
}

/** Records the service name and its published ports (call after {@link checkClaimsFree}). */
export function recordClaims(cluster: SwarmClusterLike, serviceName: string, ports: PortClaim[]): void {
  const claims = claimsOf(cluster);
  claims.services.add(serviceName);
  for (const port of ports) claims.ports.set(portKey(port), serviceName);
}
