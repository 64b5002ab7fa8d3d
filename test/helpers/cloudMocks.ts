import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun } from "./mocks";

/**
 * Mock answers for the AWS and Alibaba Cloud lookups and the outputs the cloud providers compute
 * (instance IPs, key names, generated keys), so host components resolve like after a real `up`.
 */

/** Zones the mocked AWS region offers. */
export const AWS_ZONES = ["eu-central-1c", "eu-central-1a", "eu-central-1b"];
/** Zones the mocked Alibaba Cloud region offers for the instance type. */
export const ALICLOUD_ZONES = ["cn-hangzhou-j", "cn-hangzhou-h", "cn-hangzhou-k"];

export interface CloudMockOptions {
  awsZones?: string[];
  alicloudZones?: string[];
  /** Subnet id -> availability zone for aws:ec2/getSubnet. */
  subnets?: Record<string, string>;
  /** vSwitch id -> zone for alicloud:vpc/getSwitches. */
  vswitches?: Record<string, string>;
  /** What ecs/getInstanceTypes returns. */
  instanceTypes?: { id: string; availabilityZones: string[]; cpuCoreCount: number; memorySize: number }[];
  /** What ecs/getImages returns. */
  images?: { id: string; name: string }[];
  /** stdout of every `command:remote:Command` (e.g. the swarm init summary). Default: inputs echoed. */
  commandStdout?: string;
  /** AMI id returned by aws:ec2/getAmi ("" = none matched). */
  amiId?: string;
}

/** `call` answers for the lookups. */
export function cloudCall(options: CloudMockOptions = {}) {
  return (args: pulumi.runtime.MockCallArgs): Record<string, unknown> | undefined => {
    const inputs = args.inputs as Record<string, unknown>;
    switch (args.token) {
      case "aws:ec2/getAmi:getAmi": {
        const id = options.amiId ?? "ami-0123456789abcdef0";
        return {
          id,
          imageId: id,
          name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101",
        };
      }
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const names = options.awsZones ?? AWS_ZONES;
        return {
          id: "eu-central-1",
          names,
          zoneIds: names.map((n) => `euc1-${n.slice(-1)}`),
          groupNames: names,
        };
      }
      case "aws:ec2/getVpc:getVpc":
        return { id: "vpc-0default", cidrBlock: "172.31.0.0/16" };
      case "aws:ec2/getSubnet:getSubnet": {
        const id = String(inputs.id);
        return { id, availabilityZone: options.subnets?.[id] ?? "eu-central-1a", cidrBlock: "10.0.0.0/24" };
      }
      case "alicloud:ecs/getImages:getImages": {
        const images = options.images ?? [
          {
            id: "ubuntu_24_04_x64_20G_alibase_20250101.vhd",
            name: "ubuntu_24_04_x64_20G_alibase_20250101.vhd",
          },
        ];
        return { id: "images", ids: images.map((i) => i.id), images };
      }
      case "alicloud:vpc/getSwitches:getSwitches": {
        const ids = ((inputs.ids as string[] | undefined) ?? []).filter((id) => options.vswitches?.[id]);
        return {
          id: "switches",
          ids,
          vswitches: ids.map((id) => ({ id, zoneId: options.vswitches![id], vpcId: inputs.vpcId })),
        };
      }
      case "alicloud:index/getZones:getZones": {
        const zones = options.alicloudZones ?? ALICLOUD_ZONES;
        return { id: "zones", ids: zones, zones: zones.map((id) => ({ id, localName: id })) };
      }
      case "alicloud:ecs/getInstanceTypes:getInstanceTypes": {
        const types = options.instanceTypes ?? [
          { id: "ecs.u1-c1m2.large", availabilityZones: ALICLOUD_ZONES, cpuCoreCount: 2, memorySize: 4 },
          { id: "ecs.g7.large", availabilityZones: ALICLOUD_ZONES, cpuCoreCount: 2, memorySize: 8 },
        ];
        return { id: "types", ids: types.map((t) => t.id), instanceTypes: types };
      }
    }
    return undefined;
  };
}

/** `newResource` answers: instance IPs numbered by creation order, key names, generated keys. */
export function cloudNewResource(options: CloudMockOptions = {}) {
  let instances = 0;
  return (args: pulumi.runtime.MockResourceArgs): Record<string, unknown> | undefined => {
    const inputs = args.inputs as Record<string, unknown>;
    switch (args.type) {
      case "aws:ec2/instance:Instance":
      case "alicloud:ecs/instance:Instance": {
        instances += 1;
        return { ...inputs, publicIp: `198.51.100.${instances}`, privateIp: `10.0.0.${instances}` };
      }
      case "command:remote:Command":
        return options.commandStdout === undefined
          ? undefined
          : { ...inputs, stdout: options.commandStdout, stderr: "" };
      case "aws:ec2/keyPair:KeyPair":
        return { ...inputs, keyName: `${args.name}-kp` };
      case "aws:ec2/securityGroup:SecurityGroup":
      case "alicloud:ecs/securityGroup:SecurityGroup":
        return { ...inputs };
      case "tls:index/privateKey:PrivateKey":
        return {
          ...inputs,
          privateKeyOpenssh:
            "-----BEGIN TEST-ONLY OPENSSH PRIVATE KEY-----\nGENERATED\n-----END OPENSSH PRIVATE KEY-----\n",
          publicKeyOpenssh: `ssh-${String(inputs.algorithm).toLowerCase()} AAAAGENERATED\n`,
        };
    }
    return undefined;
  };
}

/** `installMocks` with the cloud answers above. */
export function installCloudMocks(options: CloudMockOptions = {}): Promise<MockRun> {
  return installMocks({ call: cloudCall(options), newResource: cloudNewResource(options) });
}
