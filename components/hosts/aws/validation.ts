import { fail } from "../../validation";

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const AWS_ZONE = /^([a-z]{2}(?:-[a-z]+)+-\d{1,2})([a-z]|-[a-z0-9-]*[a-z0-9])$/;

/** True for an AWS region name such as "eu-central-1" or "us-gov-west-1". */
export function isAwsRegion(value: string): boolean {
  return AWS_REGION.test(value);
}

/** The region of an AWS availability zone name ("eu-central-1b" -> "eu-central-1"), or undefined. */
export function awsZoneRegion(value: string): string | undefined {
  return AWS_ZONE.exec(value)?.[1];
}

/** Throws unless `region` looks like an AWS region. */
export function requireAwsRegion(argument: string, region: string): void {
  if (typeof region !== "string" || !isAwsRegion(region)) {
    fail(argument, region, 'Use an AWS region name such as "eu-central-1" or "us-east-1".');
  }
}

/** Throws unless `zone` is an availability zone name, in `region` when one is given. */
export function requireAwsZone(argument: string, zone: string, region?: string): void {
  const zoneRegion = typeof zone === "string" ? awsZoneRegion(zone) : undefined;
  if (zoneRegion === undefined) {
    fail(argument, zone, 'Use an availability zone name such as "eu-central-1a".');
  }
  if (region !== undefined && zoneRegion !== region) {
    fail(argument, zone, `Use a zone of region "${region}", e.g. "${region}a".`);
  }
}
