import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun, valueOf } from "../helpers/mocks";
import { resolveClusterNetwork, type ClusterNetwork } from "../../components/hosts/clusterNetwork";
import type { SwarmHost } from "../../components/hosts/types";
import { scriptOf } from "../../components/shell";

const group = (extra: Partial<ClusterNetwork> = {}): ClusterNetwork => ({
  dataPathPort: 4789,
  spansNetworks: false,
  encryptedOverlays: false,
  peerCidrs: [],
  ...extra,
});

describe("resolveClusterNetwork: a host group's network handed to the cluster", () => {
  it("takes the data path port and the network span from the groups", () => {
    expect(resolveClusterNetwork({})).toEqual({ dataPathPort: 4789, spansNetworks: false });
    expect(resolveClusterNetwork({ network: group({ dataPathPort: 5789 }) })).toEqual({
      dataPathPort: 5789,
      spansNetworks: false,
    });
    expect(
      resolveClusterNetwork({
        network: [
          group({ encryptedOverlays: true }),
          group({ spansNetworks: true, encryptedOverlays: true }),
        ],
        spansNetworks: undefined,
      }),
    ).toEqual({ dataPathPort: 4789, spansNetworks: true });
  });

  it("keeps the separate arguments working alone and when they agree", () => {
    expect(resolveClusterNetwork({ dataPathPort: 5789, spansNetworks: true })).toEqual({
      dataPathPort: 5789,
      spansNetworks: true,
    });
    expect(resolveClusterNetwork({ network: group({ dataPathPort: 5789 }), dataPathPort: 5789 })).toEqual({
      dataPathPort: 5789,
      spansNetworks: false,
    });
    // Asking for encrypted overlays in one network is the operator's call.
    expect(
      resolveClusterNetwork({ network: group({ encryptedOverlays: true }), spansNetworks: true }),
    ).toEqual({ dataPathPort: 4789, spansNetworks: true });
  });

  it.each<[string, Parameters<typeof resolveClusterNetwork>[0], string]>([
    [
      "a data path port other than the firewall's",
      { network: group({ dataPathPort: 5789 }), dataPathPort: 4789 },
      "dataPathPort: received 4789. The host groups' firewalls opened 5789 (network.dataPathPort); leave dataPathPort out to use it, or give the host groups dataPathPort: 4789.",
    ],
    [
      "groups that opened different data path ports",
      { network: [group(), group({ dataPathPort: 5789 })] },
      "network[1].dataPathPort: received 5789. network[0] opened 4789: every host group's firewall must open the same data path port; give the groups the same dataPathPort.",
    ],
    [
      "spansNetworks false beside a group that spans networks",
      { network: group({ spansNetworks: true, encryptedOverlays: true }), spansNetworks: false },
      "spansNetworks: received false. A host group in `network` advertises public addresses or has peers in other networks, so the cluster spans networks; leave spansNetworks out.",
    ],
    [
      "a spanning cluster over a group without ESP",
      { network: [group({ spansNetworks: true, encryptedOverlays: true }), group()] },
      "network[1].encryptedOverlays: received false. The cluster spans networks, so its overlays are encrypted by default and need ESP between members; leave encryptedOverlays out of the host group or set it to true.",
    ],
    [
      "something that is no group's network",
      { network: { dataPathPort: "4789" } as unknown as ClusterNetwork },
      'network: received {"dataPathPort":"4789"}. Pass a host group\'s `clusterNetwork` (from existingHosts, AwsHosts or AlicloudHosts).',
    ],
  ])("refuses %s", (_title, args, message) => {
    expect(() => resolveClusterNetwork(args)).toThrow(message);
  });
});

describe("SwarmCluster with a group's network under mocks", () => {
  let run: MockRun;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;
  const host = (n: number): SwarmHost => ({
    name: `node-${n}`,
    connection: { host: `10.0.0.${n}`, user: "ubuntu", privateKey: pulumi.secret("PRIVATE-KEY") },
    advertiseAddr: `10.0.0.${n}`,
  });

  beforeAll(async () => {
    run = await installMocks({
      newResource: (args) =>
        args.type === "command:remote:Command" && args.name.endsWith("-init")
          ? {
              ...args.inputs,
              stdout:
                '{"clusterId":"c","nodeId":"id-1","workerToken":"w","managerToken":"m","unlockKey":""}\n',
            }
          : undefined,
    });
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
  });

  it("uses the group's data path port in init and its network span, with no dataPathPort of its own", async () => {
    const cluster = new SwarmCluster("net", {
      nodes: [{ host: host(1), role: "manager" }],
      network: group({ dataPathPort: 5789, spansNetworks: true, encryptedOverlays: true }),
      dockerProvider: false,
    });
    expect(cluster.dataPathPort).toBe(5789);
    expect(cluster.spansNetworks).toBe(true);
    await valueOf(cluster.nodeIds);
    expect(scriptOf(String(run.named("net-init").inputs.create))).toContain("'--data-path-port' '5789'");
  });

  it("refuses a disagreeing dataPathPort before creating anything, naming the component", () => {
    const before = run.resources.length;
    expect(
      () =>
        new SwarmCluster("bad", {
          nodes: [{ host: host(1), role: "manager" }],
          network: group({ dataPathPort: 5789 }),
          dataPathPort: 4789,
        }),
    ).toThrow(
      'swarm:cluster:SwarmCluster "bad": dataPathPort: received 4789. The host groups\' firewalls opened 5789',
    );
    expect(run.resources.length).toBe(before);
  });
});
