import { fail, isIpv4Cidr } from "../../validation";
import { ZoneNaming, requireRegionName, requireZoneName } from "../placement";

const ALICLOUD_REGION = /^[a-z]{2}(-[a-z]+)+(-\d{1,2})?$/;

/** True for an Alibaba Cloud region id such as "cn-hangzhou" or "ap-southeast-1". */
export function isAlicloudRegion(value: string): boolean {
  return ALICLOUD_REGION.test(value);
}

/** The region of a zone id ("cn-hangzhou-h" -> "cn-hangzhou", "ap-southeast-1a" -> "ap-southeast-1"), or undefined. */
export function alicloudZoneRegion(value: string): string | undefined {
  const dashed = /^(.+)-[a-z]$/.exec(value);
  if (dashed && isAlicloudRegion(dashed[1]) && !/-\d{1,2}$/.test(dashed[1])) return dashed[1];
  const numbered = /^(.+-\d{1,2})[a-z]$/.exec(value);
  if (numbered && isAlicloudRegion(numbered[1])) return numbered[1];
  return undefined;
}

/** Throws unless `region` looks like an Alibaba Cloud region id. */
export function requireAlicloudRegion(argument: string, region: string): void {
  requireRegionName(
    argument,
    region,
    isAlicloudRegion,
    'Use an Alibaba Cloud region id such as "cn-hangzhou" or "ap-southeast-1".',
  );
}

const ALICLOUD_ZONES: ZoneNaming = {
  zoneRegion: alicloudZoneRegion,
  malformedFix: 'Use a zone id such as "cn-hangzhou-h" or "ap-southeast-1a".',
  sampleZone: (region) => `${region}-h`,
};

/** Throws unless `zone` is a zone id, in `region` when one is given. */
export function requireAlicloudZone(argument: string, zone: string, region?: string): void {
  requireZoneName(argument, zone, region, ALICLOUD_ZONES);
}

/**
 * The j-th /24 block of a VPC CIDR (one per vSwitch). The VPC block must be /8../24 and hold
 * `count` /24s; this is checked by {@link requireVpcCidr}.
 */
export function vswitchCidr(vpcCidr: string, index: number): string {
  const [address] = vpcCidr.split("/");
  const base = address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const value = base + index * 256;
  return `${[24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".")}/24`;
}

/** Throws unless `cidr` is a private block of /8../24 that holds `count` /24 vSwitches. */
export function requireVpcCidr(argument: string, cidr: string, count: number): void {
  if (!isIpv4Cidr(cidr)) {
    fail(argument, cidr, 'Use an IPv4 CIDR block with no host bits set, e.g. "10.42.0.0/16".');
  }
  const prefix = Number(cidr.split("/")[1]);
  if (prefix < 8 || prefix > 24 || 2 ** (24 - prefix) < count) {
    fail(
      argument,
      cidr,
      `Use a block between /8 and /24 that holds ${count} /24 vSwitch(es), e.g. "10.42.0.0/16".`,
    );
  }
  if (!/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(cidr)) {
    fail(argument, cidr, "Use a private block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16).");
  }
}

/** Throws unless `value` looks like an ECS instance type ("ecs.g7.large"). */
export function requireAlicloudInstanceType(argument: string, value: string): void {
  if (typeof value !== "string" || !/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/.test(value)) {
    fail(argument, value, 'Use an ECS instance type such as "ecs.g7.large".');
  }
}
