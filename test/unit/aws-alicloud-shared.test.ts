import * as pulumi from "@pulumi/pulumi";
import { prelude } from "../../components/shell";
import { renderDockerUserData } from "../../components/hosts/scripts/cloudinit";
import { chooseZones, requireSpread, roundRobin, vswitchZones } from "../../components/hosts/zones";
import { hostCidr, peerCidrsOf, resolveNetworkMode } from "../../components/hosts/crossCloud";
import { awsZoneRegion, isAwsRegion } from "../../components/hosts/aws/validation";
import {
  alicloudZoneRegion,
  isAlicloudRegion,
  vswitchCidr,
} from "../../components/hosts/alicloud/validation";
import { ubuntuAmiQuery } from "../../components/hosts/aws/ami";
import { installMocks, valueOf } from "../helpers/mocks";
import { ValidationError } from "../../components/validation";

describe("cloud-init user data", () => {
  it("renders the exact idempotent script for ubuntu", () => {
    const script = renderDockerUserData({ user: "ubuntu" });
    expect(
      script.startsWith(
        `#!/bin/bash\n# pulumi-swarm: install Docker Engine (idempotent)\n${prelude({ task: "installing Docker" })}`,
      ),
    ).toBe(true);
    expect(script.slice(script.indexOf("\nif command -v docker"))).toBe(`
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "docker already present"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get on this image; leaving Docker to the cluster install step"
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  for _ in 1 2 3 4 5; do
    apt-get -o DPkg::Lock::Timeout=300 update && break
    sleep 10
  done
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends docker.io
  systemctl enable --now docker
fi
id -nG 'ubuntu' | grep -qw docker || usermod -aG docker 'ubuntu'
touch /var/lib/pulumi-swarm-docker-ready
`);
  });

  it("skips the group change for root and refuses a user that is not a login name", () => {
    expect(renderDockerUserData({ user: "ubuntu" })).toContain("usermod -aG docker 'ubuntu'\n");
    expect(renderDockerUserData({ user: "root" })).not.toContain("usermod");
    expect(() => renderDockerUserData({ user: "a;rm -rf /" })).toThrow(
      'user: received "a;rm -rf /". Use a plain login name.',
    );
  });
});

describe("zones", () => {
  it("chooses sorted available zones, or the requested ones", () => {
    expect(chooseZones("availabilityZones", ["b", "c", "a"], 2)).toEqual(["a", "b"]);
    expect(chooseZones("availabilityZones", ["a", "b", "c"], 2, ["c", "a"])).toEqual(["c", "a"]);
    expect(roundRobin(["a", "b", "c"], 5)).toEqual(["a", "b", "c", "a", "b"]);
  });

  it("fails with the lookup's facts when the spread is impossible, as a ValidationError", () => {
    const cases: [() => unknown, string][] = [
      [
        () => chooseZones("availabilityZones", ["eu-central-1a", "eu-central-1b"], 3),
        "zoneCount: received 3. Only 2 zone(s) are available (eu-central-1a, eu-central-1b); lower zoneCount or use another region.",
      ],
      [
        () => chooseZones("availabilityZones", ["eu-central-1a"], 1, ["eu-central-1z"]),
        'availabilityZones: received ["eu-central-1z"]. Not available here (available: eu-central-1a); use available zones.',
      ],
      [
        () => requireSpread("subnetIds", ["subnet-1", "subnet-2"], ["eu-central-1a", "eu-central-1a"], 2),
        'subnetIds: received ["subnet-1","subnet-2"]. They are in 1 zone(s) (eu-central-1a); the spread needs 2: give them in more zones or lower zoneCount.',
      ],
      [
        () => vswitchZones(["vsw-1"], [{ id: "vsw-2", zoneId: "cn-hangzhou-h" }], 1),
        'vswitchIds[0]: received "vsw-1". Not found in vpcId; use vSwitches of that VPC.',
      ],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(ValidationError);
      expect(run).toThrow(message);
    }
    expect(
      vswitchZones(
        ["vsw-1", "vsw-2"],
        [
          { id: "vsw-2", zoneId: "z2" },
          { id: "vsw-1", zoneId: "z1" },
        ],
        2,
      ),
    ).toEqual(["z1", "z2"]);
  });
});

describe("region and zone formats", () => {
  it.each([
    ["eu-central-1", true],
    ["us-gov-west-1", true],
    ["ap-southeast-7", true],
    ["eu-central", false],
    ["EU-central-1", false],
    ["cn-hangzhou", false],
  ])("AWS region %s -> %s", (region, ok) => expect(isAwsRegion(region)).toBe(ok));

  it.each([
    ["eu-central-1a", "eu-central-1"],
    ["us-east-1-bos-1a", "us-east-1"],
    ["eu-central-1", undefined],
  ])("AWS zone %s -> region %s", (zone, region) => expect(awsZoneRegion(zone)).toBe(region));

  it.each([
    ["cn-hangzhou", true],
    ["ap-southeast-1", true],
    ["cn-shanghai-finance-1", true],
    ["hangzhou", false],
    ["cn_hangzhou", false],
  ])("Alibaba Cloud region %s -> %s", (region, ok) => expect(isAlicloudRegion(region)).toBe(ok));

  it.each([
    ["cn-hangzhou-h", "cn-hangzhou"],
    ["ap-southeast-1a", "ap-southeast-1"],
    ["cn-beijing-a", "cn-beijing"],
    ["cn-hangzhou", undefined],
    ["ap-southeast-1", undefined],
  ])("Alibaba Cloud zone %s -> region %s", (zone, region) => expect(alicloudZoneRegion(zone)).toBe(region));

  it("numbers vSwitch /24s inside the VPC block", () => {
    expect([0, 1, 2].map((i) => vswitchCidr("10.42.0.0/16", i))).toEqual([
      "10.42.0.0/24",
      "10.42.1.0/24",
      "10.42.2.0/24",
    ]);
    expect(vswitchCidr("172.16.0.0/12", 300)).toBe("172.17.44.0/24");
  });

  it("queries the arm64 Jammy AMI by Canonical's owner id", () => {
    expect(ubuntuAmiQuery("22.04", "arm64").filters?.[0]).toEqual({
      name: "name",
      values: ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-*"],
    });
    expect(ubuntuAmiQuery("22.04", "arm64").owners).toEqual(["099720109477"]);
  });
});

describe("cross-network helpers", () => {
  beforeAll(async () => {
    await installMocks();
  });

  it("defaults: private in one network; public, spanning and encrypted with peers", () => {
    expect(resolveNetworkMode({})).toEqual({
      advertise: "private",
      spansNetworks: false,
      encryptedOverlays: false,
    });
    expect(resolveNetworkMode({ peerCidrs: ["198.51.100.1/32"] })).toEqual({
      advertise: "public",
      spansNetworks: true,
      encryptedOverlays: true,
    });
    expect(resolveNetworkMode({ advertise: "public", encryptedOverlays: false })).toEqual({
      advertise: "public",
      spansNetworks: true,
      encryptedOverlays: false,
    });
    expect(() => resolveNetworkMode({ advertise: "both" as never })).toThrow(
      'advertise: received "both". Use "private" (one cloud network) or "public" (across networks).',
    );
  });

  it("turns other members' advertised addresses into /32s", async () => {
    const cidrs = peerCidrsOf([
      { name: "huawei-1", connection: { host: "198.51.100.1" }, advertiseAddr: "198.51.100.1" },
      {
        name: "tencent-1",
        connection: { host: "198.51.100.2" },
        advertiseAddr: pulumi.output("198.51.100.2"),
      },
    ]);
    expect(cidrs[0]).toBe("198.51.100.1/32");
    expect(await valueOf(pulumi.output(cidrs[1]))).toBe("198.51.100.2/32");
    expect(await valueOf(hostCidr("192.0.2.1"))).toBe("192.0.2.1/32");
    expect(() =>
      peerCidrsOf([{ name: "h", connection: { host: "h.example.com" }, advertiseAddr: "h.example.com" }]),
    ).toThrow(
      'hosts["h"].advertiseAddr: received "h.example.com". Cloud firewalls need the member\'s public IPv4 address; set advertiseAddr to it.',
    );
  });
});
