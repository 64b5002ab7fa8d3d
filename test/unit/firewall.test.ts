import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import {
  cidrLabel,
  expandRules,
  FirewallRule,
  isWorldCidr,
  swarmFirewallRules,
  SwarmFirewallOptions,
} from "../../components/hosts/firewall";
import { installMocks, valueOf } from "../helpers/mocks";

const base: SwarmFirewallOptions = {
  adminCidrs: ["203.0.113.7/32"],
  advertise: "private",
  encryptedOverlays: false,
};

/** "key | protocol | ports | sources" per rule. */
function lines(rules: FirewallRule[]): string[] {
  return rules.map((r) => {
    const ports = r.fromPort === undefined ? "-" : `${r.fromPort}-${r.toPort}`;
    const sources = r.sources.map((s) => (s.kind === "cidr" ? String(s.cidr) : s.kind)).join(",");
    return `${r.key} | ${r.protocol} | ${ports} | ${sources}`;
  });
}

describe("swarmFirewallRules", () => {
  beforeAll(async () => {
    await installMocks();
  });

  it("opens the swarm ports to members and SSH to admins, nothing else, in one network", () => {
    expect(lines(swarmFirewallRules(base))).toEqual([
      "swarm-2377-tcp | tcp | 2377-2377 | members",
      "gossip-7946-tcp | tcp | 7946-7946 | members",
      "gossip-7946-udp | udp | 7946-7946 | members",
      "overlay-4789-udp | udp | 4789-4789 | members",
      "ssh-22-tcp | tcp | 22-22 | 203.0.113.7/32",
    ]);
  });

  it("uses members' public IPs and peers across networks, a custom data path port and ESP", () => {
    const rules = swarmFirewallRules({
      ...base,
      advertise: "public",
      peerCidrs: ["198.51.100.10/32"],
      dataPathPort: 4800,
      encryptedOverlays: true,
      servicePorts: [{ port: 80, cidrs: ["0.0.0.0/0"] }],
    });
    expect(lines(rules)).toEqual([
      "swarm-2377-tcp | tcp | 2377-2377 | memberPublicIps,198.51.100.10/32",
      "gossip-7946-tcp | tcp | 7946-7946 | memberPublicIps,198.51.100.10/32",
      "gossip-7946-udp | udp | 7946-7946 | memberPublicIps,198.51.100.10/32",
      "overlay-4800-udp | udp | 4800-4800 | memberPublicIps,198.51.100.10/32",
      "esp | esp | - | memberPublicIps,198.51.100.10/32",
      "ssh-22-tcp | tcp | 22-22 | 203.0.113.7/32",
      "svc-80-tcp | tcp | 80-80 | 0.0.0.0/0",
    ]);
  });

  it("labels Output peers by index and expands members' public IPs to /32", async () => {
    const rules = swarmFirewallRules({
      ...base,
      advertise: "public",
      peerCidrs: [pulumi.output("198.51.100.9/32")],
    });
    const concrete = expandRules(rules.slice(0, 1), [
      { name: "a-1", publicIp: "192.0.2.1" },
      { name: "a-2", publicIp: pulumi.output("192.0.2.2") },
    ]);
    expect(concrete.map((c) => c.suffix)).toEqual([
      "swarm-2377-tcp-a-1",
      "swarm-2377-tcp-a-2",
      "swarm-2377-tcp-peer0",
    ]);
    const cidrs = await Promise.all(
      concrete.map((c) => (c.source.kind === "cidr" ? valueOf(pulumi.output(c.source.cidr)) : "group")),
    );
    expect(cidrs).toEqual(["192.0.2.1/32", "192.0.2.2/32", "198.51.100.9/32"]);
  });

  it.each<[string, Partial<SwarmFirewallOptions>, string]>([
    [
      "service range over the Docker API",
      { servicePorts: [{ port: 2376, cidrs: ["10.0.0.0/8"] }] },
      "servicePorts[0].port: received 2376. Port 2376 is SSH, a swarm port or the Docker API; it is opened only by the rules that own it (or never).",
    ],
    [
      "service on SSH",
      { servicePorts: [{ port: 22, cidrs: ["10.0.0.0/8"] }] },
      "servicePorts[0].port: received 22. Port 22 is SSH",
    ],
    [
      "service on the data path port",
      {
        dataPathPort: 5000,
        servicePorts: [{ port: 4990, toPort: 5010, protocol: "udp", cidrs: ["10.0.0.0/8"] }],
      },
      'servicePorts[0].port: received "4990-5010". Port 5000 is SSH',
    ],
    [
      "service twice",
      {
        servicePorts: [
          { port: 80, cidrs: ["10.0.0.0/8"] },
          { port: 79, toPort: 81, cidrs: ["10.0.0.0/8"] },
        ],
      },
      "servicePorts[1].port: received 79. This port is already published by another entry; list it once.",
    ],
    [
      "service without cidrs",
      { servicePorts: [{ port: 80, cidrs: [] }] },
      'servicePorts[0].cidrs: received []. Give the CIDR blocks allowed in, e.g. ["0.0.0.0/0"] for a public port.',
    ],
    [
      "bad service cidr",
      { servicePorts: [{ port: 80, cidrs: ["any"] }] },
      'servicePorts[0].cidrs[0]: received "any".',
    ],
    [
      "data path on gossip",
      { dataPathPort: 7946 },
      "dataPathPort: received 7946. Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).",
    ],
    [
      "SSH to two halves of the internet",
      { adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"] },
      'adminCidrs[0]: received "0.0.0.0/1". SSH open to the whole internet needs `allowSshFromAnywhere: true`; prefer your own /32.',
    ],
    [
      "SSH to four quarters of the internet",
      { adminCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"] },
      'adminCidrs: received ["0.0.0.0/2","64.0.0.0/2","128.0.0.0/2","192.0.0.0/2"]. Together these blocks cover half or more of the internet: SSH open to the world needs `allowSshFromAnywhere: true`; prefer your own /32.',
    ],
    [
      "swarm ports to half the internet in overlapping peer blocks",
      { peerCidrs: ["0.0.0.0/2", "32.0.0.0/3", "64.0.0.0/2", "198.51.100.7/32"] },
      'peerCidrs: received ["0.0.0.0/2","32.0.0.0/3","64.0.0.0/2","198.51.100.7/32"]. Together these blocks cover half or more of the internet, and the swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    ],
    [
      "peer not a cidr",
      { peerCidrs: ["198.51.100.10"] },
      'peerCidrs[0]: received "198.51.100.10". Use an IPv4 CIDR block',
    ],
  ])("refuses %s", (_label, patch, message) => {
    expect(() => swarmFirewallRules({ ...base, ...patch })).toThrow(message);
  });

  it("opens SSH to a world-sized set only with the opt-in, and a big but smaller set without it", () => {
    const world = { ...base, adminCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"] };
    expect(lines(swarmFirewallRules({ ...world, allowSshFromAnywhere: true })).pop()).toBe(
      "ssh-22-tcp | tcp | 22-22 | 0.0.0.0/2,64.0.0.0/2,128.0.0.0/2,192.0.0.0/2",
    );
    // Just under half: three /3s (3/8 of IPv4) are a lot, but not the world.
    const big = ["0.0.0.0/3", "32.0.0.0/3", "64.0.0.0/3"];
    expect(lines(swarmFirewallRules({ ...base, adminCidrs: big })).pop()).toBe(
      `ssh-22-tcp | tcp | 22-22 | ${big.join(",")}`,
    );
  });

  it("helpers", () => {
    expect(cidrLabel("203.0.113.7/32")).toBe("203-0-113-7-32");
    expect(isWorldCidr("0.0.0.0/0")).toBe(true);
    expect(isWorldCidr("::/0")).toBe(true);
    // World-sized: half or more of the address space (cidrSet.ts).
    expect(isWorldCidr("0.0.0.0/1")).toBe(true);
    expect(isWorldCidr("0.0.0.0/2")).toBe(false);
    expect(isWorldCidr("8000::/1")).toBe(true);
    expect(isWorldCidr("2001:db8::/32")).toBe(false);
  });

  it("property: swarm ports never reach the world, SSH only with the opt-in, 2375/2376 never", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const cidr = fc.oneof(
      fc.tuple(octet, octet, octet, octet).map(([a, b, c, d]) => `${a}.${b}.${c}.${d}/32`),
      fc.constant("0.0.0.0/0"),
      fc.constant("10.0.0.0/8"),
    );
    fc.assert(
      fc.property(
        fc.array(cidr, { minLength: 1, maxLength: 4 }),
        fc.array(cidr, { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<"private" | "public">("private", "public"),
        fc.integer({ min: 1, max: 65535 }),
        (admin, peers, optIn, encrypted, advertise, servicePort) => {
          let rules: FirewallRule[];
          try {
            rules = swarmFirewallRules({
              adminCidrs: admin,
              allowSshFromAnywhere: optIn,
              peerCidrs: peers,
              advertise,
              encryptedOverlays: encrypted,
              servicePorts: [{ port: servicePort, cidrs: ["0.0.0.0/0"] }],
            });
          } catch {
            return true; // refused input is fine; the property is about what is accepted
          }
          for (const rule of rules) {
            const world = rule.sources.some((s) => s.kind === "cidr" && isWorldCidr(String(s.cidr)));
            if (rule.purpose === "swarm" && world) return false;
            if (rule.purpose === "ssh" && world && !optIn) return false;
            const from = rule.fromPort ?? 0;
            const to = rule.toPort ?? 65535;
            if (rule.protocol === "tcp" && from <= 2376 && to >= 2375) return false;
          }
          return rules.filter((r) => r.purpose === "swarm").length === (encrypted ? 5 : 4);
        },
      ),
      { numRuns: 300 },
    );
  });
});
