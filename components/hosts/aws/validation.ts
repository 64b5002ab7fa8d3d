import { fail } from "../../validation";
import { ZoneNaming, requireRegionName, requireZoneName } from "../placement";

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
  requireRegionName(
    argument,
    region,
    isAwsRegion,
    'Use an AWS region name such as "eu-central-1" or "us-east-1".',
  );
}

const AWS_ZONES: ZoneNaming = {
  zoneRegion: awsZoneRegion,
  malformedFix: 'Use an availability zone name such as "eu-central-1a".',
  sampleZone: (region) => `${region}a`,
};

/** Throws unless `zone` is an availability zone name, in `region` when one is given. */
export function requireAwsZone(argument: string, zone: string, region?: string): void {
  requireZoneName(argument, zone, region, AWS_ZONES);
}

/** Throws unless `value` looks like an EC2 instance type ("t3.medium", "m6i.large"). */
export function requireAwsInstanceType(argument: string, value: string): void {
  if (typeof value !== "string" || !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(value)) {
    fail(argument, value, 'Use an EC2 instance type such as "t3.medium".');
  }
}
