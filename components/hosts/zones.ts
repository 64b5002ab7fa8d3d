/**
 * Zone choice for cloud host groups. These run inside lookups' `apply` (the zones are known only
 * then) and throw a {@link ValidationError} naming the argument, the value and the fix; callers run
 * them through `checkedLate`, which raises it as the component's `pulumi.ResourceError`.
 */
import { fail } from "../validation";

/**
 * The zones to spread over: the requested ones (each must be available) or the available ones,
 * sorted, cut to `zoneCount`. Throws when fewer than `zoneCount` are available.
 */
export function chooseZones(
  argument: string,
  available: string[],
  zoneCount: number,
  requested?: string[],
): string[] {
  const sorted = [...available].sort();
  if (requested !== undefined) {
    const missing = requested.filter((z) => !sorted.includes(z));
    if (missing.length > 0) {
      fail(
        argument,
        missing,
        `Not available here (available: ${sorted.join(", ") || "none"}); use available zones.`,
      );
    }
  }
  const chosen = requested ?? sorted;
  if (chosen.length < zoneCount) {
    fail(
      "zoneCount",
      zoneCount,
      `Only ${chosen.length} zone(s) are available (${chosen.join(", ") || "none"}); lower zoneCount or use another region.`,
    );
  }
  return chosen.slice(0, zoneCount);
}

/**
 * Throws when the zones of the given subnets/vSwitches (`ids`, in `zones`) cover fewer than
 * `zoneCount` distinct zones.
 */
export function requireSpread(argument: string, ids: string[], zones: string[], zoneCount: number): void {
  const distinct = [...new Set(zones)];
  if (distinct.length < zoneCount) {
    fail(
      argument,
      ids,
      `They are in ${distinct.length} zone(s) (${distinct.join(", ")}); the spread needs ${zoneCount}: give them in more zones or lower zoneCount.`,
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
  ids: string[],
  found: { id: string; zoneId: string }[],
  zoneCount: number,
): string[] {
  const zoneOf = new Map(found.map((v) => [v.id, v.zoneId]));
  const zones = ids.map((id, i) => {
    const zone = zoneOf.get(id);
    if (zone === undefined) fail(`vswitchIds[${i}]`, id, "Not found in vpcId; use vSwitches of that VPC.");
    return zone;
  });
  requireSpread("vswitchIds", ids, zones, zoneCount);
  return zones;
}
