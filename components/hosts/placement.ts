import * as pulumi from "@pulumi/pulumi";
import { fail, isKnown } from "../validation";

/**
 * Validation of where a cloud host group goes, shared by `AwsHosts` and `AlicloudHosts`: region
 * and zone names, and the given subnets/vSwitches or zones the hosts are spread over. Each cloud
 * passes its own names; the checks, their order and their messages are the same for both.
 */

/** How a cloud names its zones, for {@link requireZoneName}. */
export interface ZoneNaming {
  /** The region a zone name belongs to, or undefined when it is not a zone name. */
  zoneRegion: (zone: string) => string | undefined;
  /** The fix for a malformed zone name, e.g. 'Use an availability zone name such as "eu-central-1a".'. */
  malformedFix: string;
  /** A zone of `region`, shown as an example, e.g. "eu-central-1a". */
  sampleZone: (region: string) => string;
}

/** Throws unless `region` is a string `isRegion` accepts. */
export function requireRegionName(
  argument: string,
  region: string,
  isRegion: (value: string) => boolean,
  fix: string,
): void {
  if (typeof region !== "string" || !isRegion(region)) fail(argument, region, fix);
}

/** Throws unless `zone` is a zone name, in `region` when one is given. */
export function requireZoneName(
  argument: string,
  zone: string,
  region: string | undefined,
  naming: ZoneNaming,
): void {
  const zoneRegion = typeof zone === "string" ? naming.zoneRegion(zone) : undefined;
  if (zoneRegion === undefined) {
    fail(argument, zone, naming.malformedFix);
  }
  if (region !== undefined && zoneRegion !== region) {
    fail(argument, zone, `Use a zone of region "${region}", e.g. "${naming.sampleZone(region)}".`);
  }
}

/** How a cloud names the places (subnets, vSwitches) of a given VPC that hosts go in. */
export interface PlaceNaming {
  /** The argument listing them, e.g. "subnetIds". */
  argument: string;
  /** One of them, e.g. "subnet". */
  noun: string;
  /** Several of them, e.g. "subnets". */
  plural: string;
  /** A count of them, e.g. "subnet(s)". */
  counted: string;
  /** What omitting them does, e.g. "use the default VPC". */
  omitted: string;
  /** What an id looks like. */
  idPattern: RegExp;
  /** An id, shown as an example. */
  idExample: string;
}

/**
 * Throws unless the given places and `vpcId` come together, the places are a non-empty list of
 * well-formed ids, and none of the `exclusive` arguments (meaningful only without them) is set.
 */
export function requireGivenPlaces(
  naming: PlaceNaming,
  ids: pulumi.Input<string>[] | undefined,
  vpcId: pulumi.Input<string> | undefined,
  exclusive: [argument: string, value: unknown][],
  exclusiveFix: string,
): void {
  if (vpcId !== undefined && ids === undefined) {
    fail(naming.argument, undefined, `With \`vpcId\`, list the ${naming.plural} to place the hosts in.`);
  }
  if (ids === undefined) return;
  if (vpcId === undefined)
    fail("vpcId", undefined, `With \`${naming.argument}\`, give the VPC they belong to.`);
  if (ids.length === 0)
    fail(naming.argument, [], `List at least one ${naming.noun}, or omit it to ${naming.omitted}.`);
  for (const [argument, value] of exclusive) {
    if (value !== undefined) fail(argument, value, exclusiveFix);
  }
  ids.forEach((id, i) => {
    if (isKnown(id) && !naming.idPattern.test(id)) {
      fail(`${naming.argument}[${i}]`, id, `Use a ${naming.noun} id such as "${naming.idExample}".`);
    }
  });
}

/** Throws unless the requested zones are a non-empty list of distinct zone names (each checked by `requireZone`). */
export function requireZoneList(
  argument: string,
  zones: string[] | undefined,
  requireZone: (argument: string, zone: string) => void,
): void {
  if (zones === undefined) return;
  if (zones.length === 0) fail(argument, [], "List at least one zone, or omit it.");
  zones.forEach((z, i) => requireZone(`${argument}[${i}]`, z));
  if (new Set(zones).size !== zones.length) fail(argument, zones, "List each zone once.");
}

/**
 * The number of zones to spread over: the planned one, capped by the places or zones given.
 * Throws when `zoneCount` was asked for explicitly and more than they offer.
 */
export function spreadZoneCount(
  planned: number,
  requested: number | undefined,
  naming: PlaceNaming,
  ids: unknown[] | undefined,
  zones: string[] | undefined,
): number {
  const places = ids?.length ?? zones?.length;
  if (places === undefined) return planned;
  if (requested !== undefined && requested > places) {
    fail(
      "zoneCount",
      requested,
      `Only ${places} ${ids ? naming.counted : "zone(s)"} given; list more or lower zoneCount.`,
    );
  }
  return Math.min(planned, places);
}
