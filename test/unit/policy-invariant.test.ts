import { MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { installCloudMocks } from "../helpers/cloudMocks";
import { findFirewallViolations, ResourceLike } from "../../components/hosts/firewallInvariant";

// Loading @pulumi/aws and @pulumi/alicloud takes seconds on a busy machine.
jest.setTimeout(60_000);

/** One markdown row per security group rule the mocks saw for a component name. */
function ruleTable(run: MockRun, prefix: string): string {
  const rows = run.resources
    .filter((r) => /securityGroup(Ingress|Egress)?Rule/.test(r.type) && r.name.startsWith(`${prefix}-`))
    .map((r) => {
      const i = unwrapSecrets(r.inputs) as Record<string, unknown>;
      if (r.type.startsWith("aws:")) {
        const direction = r.type.includes("Egress") ? "egress" : "ingress";
        const protocol =
          i.ipProtocol === "50" ? "50 (ESP)" : i.ipProtocol === "-1" ? "-1 (all)" : String(i.ipProtocol);
        const ports =
          i.fromPort === undefined
            ? "-"
            : i.fromPort === i.toPort
              ? `${i.fromPort}`
              : `${i.fromPort}-${i.toPort}`;
        const source = i.cidrIpv4 ?? "this security group";
        return `| ${r.name} | ${direction} | ${protocol} | ${ports} | ${source} | allow | ${i.description} |`;
      }
      const ports =
        i.portRange === "-1/-1"
          ? "-"
          : String(i.portRange)
              .replace(/^(\d+)\/\1$/, "$1")
              .replace("/", "-");
      const source = i.cidrIp ?? "this security group";
      return `| ${r.name} | ${i.type} | ${i.ipProtocol} | ${ports} | ${source} | ${i.policy} (priority ${i.priority}) | ${i.description} |`;
    })
    .sort();
  return [
    "| resource | direction | protocol | ports | source | action | description |",
    "|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

describe("least-exposure invariant over a whole stack", () => {
  let run: MockRun;
  let mod: {
    AwsHosts: typeof import("../../components/hosts/aws/awsHosts").AwsHosts;
    AlicloudHosts: typeof import("../../components/hosts/alicloud/alicloudHosts").AlicloudHosts;
    existingHosts: typeof import("../../components/hosts/existing").existingHosts;
    peerCidrsOf: typeof import("../../components/hosts/crossCloud").peerCidrsOf;
  };

  beforeAll(async () => {
    run = await installCloudMocks();
    mod = {
      ...(await import("../../components/hosts/aws/awsHosts")),
      ...(await import("../../components/hosts/alicloud/alicloudHosts")),
      ...(await import("../../components/hosts/existing")),
      ...(await import("../../components/hosts/crossCloud")),
    };
    const admin = ["203.0.113.7/32"];
    // One network each: 3 managers + 2 workers.
    new mod.AwsHosts("aws", { count: 5, adminCidrs: admin, region: "eu-central-1" });
    new mod.AlicloudHosts("ali", { count: 5, adminCidrs: admin, region: "cn-hangzhou" });
    // Across clouds: 3 Alibaba Cloud managers + a Huawei and a Tencent worker that already exist.
    const others = mod.existingHosts(
      [
        { name: "huawei-1", host: "198.51.100.21" },
        { name: "tencent-1", host: "198.51.100.22" },
      ],
      { privateKey: "KEY" },
    );
    const cross = new mod.AlicloudHosts("xali", {
      count: 3,
      adminCidrs: admin,
      peerCidrs: mod.peerCidrsOf(others),
      servicePorts: [{ port: 443, cidrs: ["0.0.0.0/0"] }],
    });
    // The same on AWS, with a custom data path port.
    new mod.AwsHosts("xaws", {
      count: 3,
      adminCidrs: admin,
      peerCidrs: mod.peerCidrsOf(others),
      dataPathPort: 4800,
    });
    await valueOf(cross.publicIps);
    await settle();
  });

  it("holds: no rule opens SSH or a swarm port to the world, none opens 2375/2376", () => {
    expect(run.resources.length).toBeGreaterThan(60);
    expect(findFirewallViolations(run.resources, { dataPathPorts: [4800] })).toEqual([]);
  });

  it("publishes the service port to the world and nothing else", () => {
    const world = run.resources.filter((r) => JSON.stringify(unwrapSecrets(r.inputs)).includes("0.0.0.0/0"));
    expect(world.map((r) => r.name).sort()).toEqual([
      "aws-out-all",
      "xali-in-svc-443-tcp-0-0-0-0-0",
      "xaws-out-all",
    ]);
  });

  it("would catch SSH opened to the world through the explicit opt-in", async () => {
    const before = run.resources.length;
    new mod.AwsHosts("opt", { count: 1, adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true });
    await settle();
    expect(findFirewallViolations(run.resources.slice(before))).toEqual([
      {
        resource: "opt-in-ssh-22-tcp-0-0-0-0-0",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        reason: "opens SSH 22/tcp to 0.0.0.0/0",
      },
    ]);
  });

  it("matches the documented rules of a 3-manager + 2-worker cluster", () => {
    const tables = {
      aws: ruleTable(run, "aws"),
      ali: ruleTable(run, "ali"),
      xali: ruleTable(run, "xali"),
      xaws: ruleTable(run, "xaws"),
    };
    if (process.env.PRINT_RULES) {
      for (const [name, table] of Object.entries(tables)) console.log(`### ${name}\n\n${table}\n`);
    }
    expect(tables.aws).toBe(
      [
        "| resource | direction | protocol | ports | source | action | description |",
        "|---|---|---|---|---|---|---|",
        "| aws-in-gossip-7946-tcp-members | ingress | tcp | 7946 | this security group | allow | swarm gossip tcp (members only) |",
        "| aws-in-gossip-7946-udp-members | ingress | udp | 7946 | this security group | allow | swarm gossip udp (members only) |",
        "| aws-in-overlay-4789-udp-members | ingress | udp | 4789 | this security group | allow | overlay VXLAN data path (members only) |",
        "| aws-in-ssh-22-tcp-203-0-113-7-32 | ingress | tcp | 22 | 203.0.113.7/32 | allow | SSH from admin networks |",
        "| aws-in-swarm-2377-tcp-members | ingress | tcp | 2377 | this security group | allow | swarm management (members only) |",
        "| aws-out-all | egress | -1 (all) | - | 0.0.0.0/0 | allow | all outbound (packages, images, peers) |",
      ].join("\n"),
    );
    expect(tables.ali).toBe(
      [
        "| resource | direction | protocol | ports | source | action | description |",
        "|---|---|---|---|---|---|---|",
        "| ali-in-gossip-7946-tcp-members | ingress | tcp | 7946 | this security group | accept (priority 1) | swarm gossip tcp (members only) |",
        "| ali-in-gossip-7946-udp-members | ingress | udp | 7946 | this security group | accept (priority 1) | swarm gossip udp (members only) |",
        "| ali-in-overlay-4789-udp-members | ingress | udp | 4789 | this security group | accept (priority 1) | overlay VXLAN data path (members only) |",
        "| ali-in-ssh-22-tcp-203-0-113-7-32 | ingress | tcp | 22 | 203.0.113.7/32 | accept (priority 1) | SSH from admin networks |",
        "| ali-in-swarm-2377-tcp-members | ingress | tcp | 2377 | this security group | accept (priority 1) | swarm management (members only) |",
      ].join("\n"),
    );
    // Across clouds: 5 swarm rules (incl. ESP) x (3 own members + 2 peers), SSH, the service port;
    // Alibaba Cloud adds, per ESP source, one Docker API drop and four drops (tcp, udp, icmp, gre)
    // that narrow its "all" fallback to the protocols ECS cannot name.
    expect(tables.xali.split("\n")).toHaveLength(2 + 25 + 1 + 1 + 5 + 5 * 4);
    expect(tables.xaws.split("\n")).toHaveLength(2 + 25 + 1 + 1);
    expect(tables.xaws).toContain(
      "| xaws-in-overlay-4800-udp-198-51-100-21-32 | ingress | udp | 4800 | 198.51.100.21/32 | allow | overlay VXLAN data path (members only) |",
    );
    expect(tables.xali).toContain(
      '| xali-in-esp-198-51-100-22-32 | ingress | all | - | 198.51.100.22/32 | accept (priority 100) | ESP of encrypted overlays (members only); "all" because ECS rules cannot name ESP, narrowed by drops of tcp, udp, icmp and gre |',
    );
    for (const [protocol, ports] of [
      ["tcp", "1-65535"],
      ["udp", "1-65535"],
      ["icmp", "-"],
      ["gre", "-"],
    ]) {
      expect(tables.xali).toContain(
        `| xali-esp-only-${protocol}-198-51-100-22-32 | ingress | ${protocol} | ${ports} | 198.51.100.22/32 | drop (priority 50) | narrows the ESP fallback: no ${protocol} beyond the swarm's own rules |`,
      );
    }
  });
});

describe("findFirewallViolations catches every shape", () => {
  const r = (type: string, name: string, inputs: Record<string, unknown>): ResourceLike => ({
    type,
    name,
    inputs,
  });
  const ALI = "alicloud:ecs/securityGroupRule:SecurityGroupRule";

  it.each<[string, ResourceLike[], string[]]>([
    [
      "aws vpc rule: a range over 2375-2377 to the world",
      [
        r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "a", {
          ipProtocol: "tcp",
          fromPort: 2000,
          toPort: 3000,
          cidrIpv4: "0.0.0.0/0",
        }),
      ],
      [
        "a: opens swarm 2377/tcp to 0.0.0.0/0",
        "a: opens the Docker API 2375/tcp to 0.0.0.0/0",
        "a: opens the Docker API 2376/tcp to 0.0.0.0/0",
      ],
    ],
    [
      "aws inline all-protocol ingress to ::/0",
      [
        r("aws:ec2/securityGroup:SecurityGroup", "b", {
          ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }],
        }),
      ],
      [
        "b: opens SSH 22/tcp to ::/0",
        "b: opens swarm 2377/tcp to ::/0",
        "b: opens swarm 7946/tcp to ::/0",
        "b: opens swarm 7946/udp to ::/0",
        "b: opens swarm data path 4789/udp to ::/0",
        "b: opens ESP (IP protocol 50) to ::/0",
        "b: opens the Docker API 2375/tcp to ::/0",
        "b: opens the Docker API 2376/tcp to ::/0",
      ],
    ],
    [
      "aws ec2 rule: Docker API from a private block",
      [
        r("aws:ec2/securityGroupRule:SecurityGroupRule", "c", {
          type: "ingress",
          protocol: "tcp",
          fromPort: 2376,
          toPort: 2376,
          cidrBlocks: ["10.0.0.0/8"],
        }),
      ],
      ["c: opens the Docker API 2376/tcp to 10.0.0.0/8"],
    ],
    [
      "aws: ESP to the world, secret-wrapped input",
      [
        r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "d", {
          ipProtocol: "50",
          cidrIpv4: {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            value: "0.0.0.0/0",
          },
        }),
      ],
      ["d: opens ESP (IP protocol 50) to 0.0.0.0/0"],
    ],
    [
      "alicloud: 4789/udp to the world",
      [
        r(ALI, "e", {
          type: "ingress",
          ipProtocol: "udp",
          portRange: "4789/4789",
          cidrIp: "0.0.0.0/0",
          securityGroupId: "sg",
        }),
      ],
      ["e: opens swarm data path 4789/udp to 0.0.0.0/0"],
    ],
    [
      "alicloud: 'all' from a member without the Docker API drop",
      [
        r(ALI, "f", {
          type: "ingress",
          ipProtocol: "all",
          portRange: "-1/-1",
          cidrIp: "198.51.100.1/32",
          priority: 100,
          securityGroupId: "sg",
        }),
      ],
      [
        "f: opens the Docker API 2375/tcp to 198.51.100.1/32",
        "f: opens the Docker API 2376/tcp to 198.51.100.1/32",
      ],
    ],
    [
      "alicloud: a drop of lower priority does not help",
      [
        r(ALI, "g", {
          type: "ingress",
          ipProtocol: "all",
          portRange: "-1/-1",
          cidrIp: "198.51.100.1/32",
          priority: 1,
          securityGroupId: "sg",
        }),
        r(ALI, "g-drop", {
          type: "ingress",
          policy: "drop",
          ipProtocol: "tcp",
          portRange: "2375/2376",
          cidrIp: "198.51.100.1/32",
          priority: 2,
          securityGroupId: "sg",
        }),
      ],
      [
        "g: opens the Docker API 2375/tcp to 198.51.100.1/32",
        "g: opens the Docker API 2376/tcp to 198.51.100.1/32",
      ],
    ],
    [
      "alicloud: the ESP fallback with its drop is fine; egress and drops are ignored",
      [
        r(ALI, "h", {
          type: "ingress",
          ipProtocol: "all",
          portRange: "-1/-1",
          cidrIp: "198.51.100.1/32",
          priority: 100,
          securityGroupId: "sg",
        }),
        r(ALI, "h-drop", {
          type: "ingress",
          policy: "drop",
          ipProtocol: "tcp",
          portRange: "2375/2376",
          cidrIp: "198.51.100.1/32",
          priority: 1,
          securityGroupId: "sg",
        }),
        r(ALI, "h-out", {
          type: "egress",
          ipProtocol: "all",
          portRange: "-1/-1",
          cidrIp: "0.0.0.0/0",
          securityGroupId: "sg",
        }),
        r(ALI, "h-deny", {
          type: "ingress",
          policy: "drop",
          ipProtocol: "tcp",
          portRange: "22/22",
          cidrIp: "0.0.0.0/0",
          securityGroupId: "sg",
        }),
      ],
      [],
    ],
  ])("%s", (_label, resources, expected) => {
    expect(findFirewallViolations(resources).map((v) => `${v.resource}: ${v.reason}`)).toEqual(expected);
  });
});
