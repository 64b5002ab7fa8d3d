/**
 * Zone choice for cloud host groups. These run inside lookups' `apply` (the zones are known only
 * then), so they throw plain Errors whose text carries the component, the argument and the fix;
 * Pulumi reports them as the deployment's error.
 */

/**
 * The zones to spread over: the requested ones (each must be available) or the available ones,
 * sorted, cut to `zoneCount`. Throws when fewer than `zoneCount` are available.
 */
export function chooseZones(
  context: string,
  argument: string,
  available: string[],
  zoneCount: number,
  requested?: string[],
): string[] {
  const sorted = [...available].sort();
  if (requested !== undefined) {
    const missing = requested.filter((z) => !sorted.includes(z));
    if (missing.length > 0) {
      throw new Error(
        `${context}: ${argument}: received ${JSON.stringify(missing)}, not available here (available: ${sorted.join(", ") || "none"}). Use available zones.`,
      );
    }
  }
  const chosen = requested ?? sorted;
  if (chosen.length < zoneCount) {
    throw new Error(
      `${context}: zoneCount: received ${zoneCount}. Only ${chosen.length} zone(s) are available (${chosen.join(", ") || "none"}); lower zoneCount or use another region.`,
    );
  }
  return chosen.slice(0, zoneCount);
}

/** Throws when the zones of given subnets/vSwitches cover fewer than `zoneCount` distinct zones. */
export function requireSpread(context: string, argument: string, zones: string[], zoneCount: number): void {
  const distinct = [...new Set(zones)];
  if (distinct.length < zoneCount) {
    throw new Error(
      `${context}: ${argument}: received ${argument === "subnetIds" ? "subnets" : "vSwitches"} in ${distinct.length} zone(s) (${distinct.join(", ")}). The spread needs ${zoneCount}; give them in more zones or lower zoneCount.`,
    );
  }
}

/** Host i's slot in a round-robin over `size` places. */
export function roundRobin<T>(items: T[], count: number): T[] {
  return Array.from({ length: count }, (_, i) => items[i % items.length]);
}

/**
 * The zone of each given vSwitch, in order, from a lookup's answer; throws for a vSwitch the
 * lookup did not find and when they cover too few zones.
 */
export function vswitchZones(
  context: string,
  ids: string[],
  found: { id: string; zoneId: string }[],
  zoneCount: number,
): string[] {
  const zoneOf = new Map(found.map((v) => [v.id, v.zoneId]));
  const zones = ids.map((id) => {
    const zone = zoneOf.get(id);
    if (zone === undefined) {
      throw new Error(
        `${context}: vswitchIds: received "${id}", not found in vpcId. Use vSwitches of that VPC.`,
      );
    }
    return zone;
  });
  requireSpread(context, "vswitchIds", zones, zoneCount);
  return zones;
}
