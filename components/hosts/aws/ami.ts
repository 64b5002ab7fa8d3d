import type * as aws from "@pulumi/aws";

/** Canonical's AWS account, owner of the official Ubuntu AMIs. */
export const CANONICAL_OWNER_ID = "099720109477";

/** Ubuntu LTS releases the default AMI lookup knows. */
export type UbuntuRelease = "24.04" | "22.04";

/** CPU architecture of the instances (must match the instance type). */
export type AwsArchitecture = "x86_64" | "arm64";

const SERIES: Record<UbuntuRelease, { codename: string; volume: string }> = {
  // Noble images are published under hvm-ssd-gp3, Jammy under hvm-ssd.
  "24.04": { codename: "noble", volume: "hvm-ssd-gp3" },
  "22.04": { codename: "jammy", volume: "hvm-ssd" },
};

/** The `aws.ec2.getAmi` arguments that find the newest official Ubuntu LTS server AMI. */
export function ubuntuAmiQuery(
  release: UbuntuRelease,
  architecture: AwsArchitecture,
  region?: string,
): aws.ec2.GetAmiArgs {
  const { codename, volume } = SERIES[release];
  const arch = architecture === "arm64" ? "arm64" : "amd64";
  return {
    owners: [CANONICAL_OWNER_ID],
    mostRecent: true,
    filters: [
      { name: "name", values: [`ubuntu/images/${volume}/ubuntu-${codename}-${release}-${arch}-server-*`] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "architecture", values: [architecture] },
      { name: "root-device-type", values: ["ebs"] },
    ],
    ...(region !== undefined ? { region } : {}),
  };
}
