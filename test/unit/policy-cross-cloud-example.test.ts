import { settle, valueOf } from "../helpers/mocks";
import { installCloudMocks } from "../helpers/cloudMocks";
import { findFirewallViolations } from "../../components/hosts/firewallInvariant";

// Loading @pulumi/aws and @pulumi/alicloud takes seconds on a busy machine.
jest.setTimeout(60_000);

describe("examples/cross-cloud.ts under mocks", () => {
  it("builds the three-cloud swarm with no world-open swarm or SSH rule anywhere in the stack", async () => {
    process.env.PULUMI_CONFIG = JSON.stringify({
      "pulumi-swarm:adminCidr": "203.0.113.7/32",
      "pulumi-swarm:huaweiIp": "198.51.100.21",
      "pulumi-swarm:tencentIp": "198.51.100.22",
      "pulumi-swarm:existingKey": "KEY",
    });
    const run = await installCloudMocks({
      commandStdout: JSON.stringify({
        clusterId: "c1",
        nodeId: "n1",
        workerToken: "SWMTKN-w",
        managerToken: "SWMTKN-m",
        unlockKey: "",
      }),
    });
    const { crossCloudSwarm } = await import("../../examples/cross-cloud");
    const out = crossCloudSwarm();
    await valueOf(out.alicloudPublicIps);
    await settle();
    expect(out.backendEncrypted).toBe(true);
    const types = new Set(run.resources.map((r) => r.type));
    expect([...types]).toEqual(
      expect.arrayContaining([
        "swarm:hosts:AlicloudHosts",
        "swarm:cluster:SwarmCluster",
        "alicloud:ecs/securityGroupRule:SecurityGroupRule",
        "command:remote:Command",
      ]),
    );
    expect(findFirewallViolations(run.resources)).toEqual([]);
    const peers = run.resources
      .filter((r) => r.type === "alicloud:ecs/securityGroupRule:SecurityGroupRule" && r.name.includes("2377"))
      .map((r) => r.inputs.cidrIp)
      .sort();
    const own = (await valueOf(out.alicloudPublicIps)).map((ip) => `${ip}/32`);
    expect(peers).toEqual(["198.51.100.21/32", "198.51.100.22/32", ...own].sort());
  });
});
