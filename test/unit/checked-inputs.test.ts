import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun, settle, valueOf } from "../helpers/mocks";
import { divertUnhandledRejections } from "../helpers/unhandled";
import type { SwarmHost } from "../../components/hosts/types";

// Components built under mocks take ~5 s each on a loaded 2-core machine (jest's default is 5 s).
jest.setTimeout(30_000);

/*
 * Values given as Outputs are held to the same rule, with the same message, as known values: the
 * Output the component passes on rejects when it resolves, and nothing that takes it is created.
 */

/** `text` as a regular expression that matches it literally. */
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The rejection of an Output (valueOf would wait for a value that never comes). */
async function rejectionOf(input: pulumi.Input<unknown>): Promise<Error> {
  try {
    await (pulumi.output(input) as unknown as { promise(): Promise<unknown> }).promise();
  } catch (err) {
    return err as Error;
  }
  throw new Error("the Output resolved; expected it to reject");
}

let run: MockRun;
let validation: typeof import("../../components/validation");
let existing: typeof import("../../components/hosts/existing");
let crossCloud: typeof import("../../components/hosts/crossCloud");
let firewall: typeof import("../../components/hosts/firewall");
let restore = () => {};

beforeAll(async () => {
  run = await installMocks();
  validation = await import("../../components/validation");
  existing = await import("../../components/hosts/existing");
  crossCloud = await import("../../components/hosts/crossCloud");
  firewall = await import("../../components/hosts/firewall");
  // A resource whose input rejects makes the runtime reject promises nobody awaits.
  restore = divertUnhandledRejections(() => {});
});
// The cluster's node resources serialize their dynamic provider's code asynchronously (the V8
// inspector walks the closure), and nothing the test can await ends when that does: give it time
// before the test environment is torn down, or its late imports crash jest.
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 4000));
  restore();
}, 30_000);

describe("checkedInput", () => {
  const check = (argument: string, value: string) => {
    if (!/^[a-z]+$/.test(value)) validation.fail(argument, value, "Use lowercase letters.");
  };

  it("checks a known value now and returns it as is", () => {
    expect(validation.checkedInput("word", "abc", check)).toBe("abc");
    expect(() => validation.checkedInput("word", "a b", check)).toThrow(
      new validation.ValidationError("word", "a b", "Use lowercase letters."),
    );
    expect(() => validation.checkedInput("word", "a b", check)).toThrow(
      'word: received "a b". Use lowercase letters.',
    );
  });

  it("checks an Output when it resolves, with the same message", async () => {
    expect(await valueOf(pulumi.output(validation.checkedInput("word", pulumi.output("abc"), check)))).toBe(
      "abc",
    );
    const error = await rejectionOf(validation.checkedInput("word", pulumi.output("a b"), check));
    expect(error).toBeInstanceOf(validation.ValidationError);
    expect(error.message).toBe('word: received "a b". Use lowercase letters.');
  });

  it("ties the late error to the component, prefixed like a construction error", async () => {
    const owner = { type: "swarm:test:Thing", name: "t" };
    const error = await rejectionOf(validation.checkedInput("word", pulumi.output("a b"), check, owner));
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect(error.message).toBe('swarm:test:Thing "t": word: received "a b". Use lowercase letters.');
    // No stack frames: the language host inspects every uncaught error, and Node 20.20's inspect
    // loops forever on @pulumi/pulumi's source-mapped frames (test/unit/late-refusal.test.ts).
    expect(error.stack).toBe(`Error: ${error.message}`);
    const bare = await rejectionOf(validation.checkedInput("word", pulumi.output("a b"), check));
    expect(bare.stack).toBe(`ValidationError: ${bare.message}`);
  });

  it("never echoes a secret value", async () => {
    const secret = `S3cret ${crypto.randomBytes(6).toString("hex")}`;
    const error = await rejectionOf(validation.checkedInput("word", pulumi.secret(secret), check));
    expect(error.message).toBe("word: received a secret value. Use lowercase letters.");
    // Positive control: the same value, not secret, is shown.
    const shown = await rejectionOf(validation.checkedInput("word", pulumi.output(secret), check));
    expect(shown.message).toBe(`word: received ${JSON.stringify(secret)}. Use lowercase letters.`);
  });
});

describe("existingHosts holds Outputs to the rules of known values", () => {
  const server = (over: Record<string, unknown>) =>
    existing.existingHosts([
      { name: "tencent-1", host: "203.0.113.7", privateKey: pulumi.secret("K"), ...over },
    ]);

  it("host", async () => {
    const [h] = server({ host: pulumi.output("203.0.113.7; reboot") });
    expect((await rejectionOf(h.connection.host)).message).toBe(
      'servers[0].host: received "203.0.113.7; reboot". Use an IPv4 address or a DNS name that SSH can dial.',
    );
    // advertiseAddr defaults to host, and so is refused the same way.
    expect((await rejectionOf(h.advertiseAddr)).message).toBe(
      'servers[0].host: received "203.0.113.7; reboot". Use an IPv4 address or a DNS name that SSH can dial.',
    );
  });

  it("advertiseAddr", async () => {
    const [h] = server({ advertiseAddr: pulumi.output("$(id)") });
    expect((await rejectionOf(h.advertiseAddr)).message).toBe(
      'servers[0].advertiseAddr: received "$(id)". Use the IPv4 address the other swarm nodes reach this server on.',
    );
    const [good] = server({ advertiseAddr: pulumi.output("192.168.0.10") });
    expect(await valueOf(pulumi.output(good.advertiseAddr))).toBe("192.168.0.10");
  });

  it("privateKey and the bastion", async () => {
    const [h] = server({ privateKey: pulumi.secret("   "), bastion: { host: pulumi.output("jump host") } });
    expect((await rejectionOf(h.connection.privateKey as pulumi.Output<string>)).message).toBe(
      // The check shows its own placeholder, never the key.
      'servers[0].privateKey: received "(empty)". Give the server\'s SSH private key, or `defaults.privateKey` for all servers.',
    );
    const proxy = h.connection.proxy as { host: pulumi.Input<string> };
    expect((await rejectionOf(proxy.host)).message).toBe(
      'servers[0].bastion.host: received "jump host". Use an IPv4 address or a DNS name for the bastion.',
    );
  });

  it("peer addresses for cloud firewalls", async () => {
    const host: SwarmHost = {
      name: "huawei-1",
      connection: { host: "198.51.100.1" },
      advertiseAddr: pulumi.output("huawei-1.example.com"),
    };
    const [cidr] = crossCloud.peerCidrsOf([host]);
    expect((await rejectionOf(cidr)).message).toBe(
      'hosts["huawei-1"].advertiseAddr: received "huawei-1.example.com". Cloud firewalls need the member\'s public IPv4 address; set advertiseAddr to it.',
    );
  });
});

describe("peer CIDRs given as Outputs", () => {
  const base = { adminCidrs: ["203.0.113.7/32"], advertise: "public" as const, encryptedOverlays: true };
  const peerSources = (rules: import("../../components/hosts/firewall").FirewallRule[]) =>
    rules[0].sources.flatMap((s) => (s.kind === "cidr" ? [s.cidr] : []));

  it("are refused one by one like known ones", async () => {
    const rules = firewall.swarmFirewallRules({ ...base, peerCidrs: [pulumi.output("0.0.0.0/0")] });
    expect((await rejectionOf(peerSources(rules)[0])).message).toBe(
      'peerCidrs[0]: received "0.0.0.0/0". Swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    );
  });

  it("are refused when together they are world-sized, known ones included", async () => {
    const owner = { type: "swarm:hosts:AwsHosts", name: "x" };
    const rules = firewall.swarmFirewallRules(
      { ...base, peerCidrs: [pulumi.output("0.0.0.0/2"), "64.0.0.0/2", pulumi.output("128.0.0.0/2")] },
      owner,
    );
    const message =
      'swarm:hosts:AwsHosts "x": peerCidrs: received ["0.0.0.0/2","64.0.0.0/2","128.0.0.0/2"]. Together these blocks cover half or more of the internet, and the swarm ports are never opened to the world; list each other member as "<public ip>/32".';
    for (const cidr of peerSources(rules)) expect((await rejectionOf(cidr)).message).toBe(message);
  });

  it("resolve when they pass", async () => {
    const rules = firewall.swarmFirewallRules({
      ...base,
      peerCidrs: [pulumi.output("198.51.100.1/32"), "198.51.100.2/32"],
    });
    expect(await valueOf(pulumi.all(peerSources(rules)))).toEqual(["198.51.100.1/32", "198.51.100.2/32"]);
  });

  it("never reach a cloud rule when bad", async () => {
    const { AwsHosts } = await import("../../components/hosts/aws/awsHosts");
    const before = run.resources.length;
    const hosts = new AwsHosts("late", {
      count: 1,
      adminCidrs: ["203.0.113.7/32"],
      region: "eu-central-1",
      peerCidrs: [pulumi.output("0.0.0.0/0")],
    });
    const source = hosts.firewallRules[0].sources.find((s) => s.kind === "cidr");
    // The runtime prefixes "error serializing property ..." when the rule's input rejects.
    expect((await rejectionOf((source as { cidr: pulumi.Input<string> }).cidr)).message).toContain(
      'swarm:hosts:AwsHosts "late": peerCidrs[0]: received "0.0.0.0/0". Swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    );
    await settle();
    const rules = run.resources.slice(before).filter((r) => r.type.includes("SecurityGroupIngressRule"));
    // Positive control: the group's other rules were registered; none for the peer.
    expect(rules.some((r) => r.name === "late-in-ssh-22-tcp-203-0-113-7-32")).toBe(true);
    expect(rules.filter((r) => r.name.includes("peer0"))).toEqual([]);
  });
});

describe("a password given as a secret Output", () => {
  it("is refused when it resolves with the message of a known one, and never shown", async () => {
    const { GitLabHost } = await import("../../components/cicd/gitlabHost");
    const weak = `pw${crypto.randomBytes(2).toString("hex")}`;
    const host: SwarmHost = {
      name: "ci-1",
      connection: { host: "10.0.0.50", user: "root", privateKey: pulumi.secret("K") },
      advertiseAddr: "10.0.0.50",
    };
    let known = "";
    try {
      new GitLabHost("known", { host, rootPassword: weak });
    } catch (err) {
      known = (err as Error).message;
    }
    expect(known).toMatch(
      /^swarm:cicd:GitLabHost "known": rootPassword: received "\(secret, not shown\)"\. .{10,}/,
    );
    const before = run.resources.length;
    const gitlab = new GitLabHost("late", { host, rootPassword: pulumi.secret(weak) });
    const error = await rejectionOf(gitlab.adminPassword);
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    // Pulumi prefixes this same error object with the property it was serializing when a
    // resource input carried it (`error serializing property "stdin": ...`); whether it did so
    // before this read depends on the order of promise callbacks, not on the check.
    expect(error.message).toMatch(new RegExp(`(^|: )${escapeRegExp(known.replace('"known"', '"late"'))}$`));
    expect(error.message).not.toContain(weak);
    await settle();
    // Positive control: the preflight ran; no command that takes the password was registered.
    const names = run.resources.slice(before).map((r) => r.name);
    expect(names).toContain("late-preflight");
    expect(names.filter((n) => /deploy/.test(n))).toEqual([]);
  });
});

describe("SwarmCluster holds an Output advertiseAddr to validateNodes' rule", () => {
  it("refuses it when it resolves, before any command uses it", async () => {
    const { SwarmCluster } = await import("../../components/cluster/swarmCluster");
    const before = run.resources.length;
    const cluster = new SwarmCluster("late", {
      nodes: [
        {
          host: {
            name: "node-1",
            connection: { host: "10.0.0.1", user: "root", privateKey: pulumi.secret("K") },
            advertiseAddr: pulumi.output("10.0.0.1; reboot"),
          },
          role: "manager",
        },
      ],
    });
    const message =
      'swarm:cluster:SwarmCluster "late": nodes[0].host.advertiseAddr: received "10.0.0.1; reboot". Use the IPv4 address other nodes reach this host on.';
    // The runtime may prefix "error serializing property ..." when the address reaches a resource first.
    expect((await rejectionOf(cluster.managerAddress)).message).toContain(message);
    await settle();
    const commands = run.resources.slice(before).filter((r) => r.type === "command:remote:Command");
    // Positive control: the prepare script (which does not take the node's own address) was
    // registered; init, which does, was not.
    expect(commands.map((c) => c.name)).toEqual(["late-node-1-prepare"]);
    // The first import of the cluster module compiles it (ts-jest): seconds on a busy 2-core machine.
  }, 60_000);
});
