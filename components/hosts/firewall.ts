import * as pulumi from "@pulumi/pulumi";
import { CheckOwner, checkedInput, fail, isKnown, isPort, requireCidr, requirePort } from "../validation";
import { isWorldSized } from "./cidrSet";

/**
 * The cloud-neutral firewall of a swarm: one list of rules that both the AWS and the Alibaba Cloud
 * security groups are generated from, so the two clouds open exactly the same things.
 */

/** Swarm cluster management (Raft, joins) over TCP. */
export const SWARM_MANAGEMENT_PORT = 2377;
/** Node discovery / gossip, TCP and UDP. */
export const SWARM_GOSSIP_PORT = 7946;

/**
 * Throws unless `port` can carry the swarm's VXLAN traffic: UDP 1024-49151 (Docker's limit), not
 * the swarm's own 2377 or 7946. The one rule for the cloud firewalls and the cluster alike.
 */
export function requireDataPathPort(argument: string, port: number): void {
  if (
    !Number.isInteger(port) ||
    port < 1024 ||
    port > 49151 ||
    port === SWARM_GOSSIP_PORT ||
    port === SWARM_MANAGEMENT_PORT
  ) {
    fail(argument, port, "Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).");
  }
}

/** Default VXLAN data path port of overlay networks (UDP). */
export const DEFAULT_DATA_PATH_PORT = 4789;
/** SSH, for the cluster layer's scripts. */
export const SSH_PORT = 22;
/** The Docker Engine API ports: never opened by this library, from anywhere. */
export const DOCKER_API_PORTS: readonly number[] = [2375, 2376];

/** Protocols a rule can allow. `esp` is IP protocol 50 (IPsec of encrypted overlay networks). */
export type FirewallProtocol = "tcp" | "udp" | "esp";

/**
 * Where a rule admits traffic from.
 * - `members`: the cluster's own hosts on their private addresses (a security group referencing itself).
 * - `memberPublicIps`: the cluster's own hosts on their public addresses, one /32 each (used when
 *   hosts advertise public addresses, because a security group reference does not match traffic
 *   sent to a public IP).
 * - `cidr`: an IPv4 block (admin networks, other clouds' members, service clients). `label` is the
 *   stable part of the rule's resource name.
 */
export type FirewallSource =
  | { kind: "members" }
  | { kind: "memberPublicIps" }
  | { kind: "cidr"; cidr: pulumi.Input<string>; label: string };

/** One ingress rule of the neutral list. */
export interface FirewallRule {
  /** Stable key, part of resource names, e.g. "swarm-2377-tcp". */
  key: string;
  /** What the rule is for. */
  purpose: "swarm" | "ssh" | "service";
  protocol: FirewallProtocol;
  /** First port (tcp/udp only). */
  fromPort?: number;
  /** Last port (tcp/udp only). */
  toPort?: number;
  /** Sources admitted, each becoming its own cloud rule. */
  sources: FirewallSource[];
  /** Human description, copied to the cloud rule. */
  description: string;
}

/** A service port to publish through the cloud firewall. */
export interface ServicePortArgs {
  /** Port (or first port of a range). */
  port: number;
  /** Last port of a range. Default: `port`. */
  toPort?: number;
  /** Protocol. Default: "tcp". */
  protocol?: "tcp" | "udp";
  /** IPv4 CIDR blocks allowed to reach it (e.g. ["0.0.0.0/0"] for a public web port). Required. */
  cidrs: string[];
  /** Description of the rule. Default: "service <port>/<protocol>". */
  description?: string;
}

/** Inputs of {@link swarmFirewallRules}; every cloud component passes its own arguments through. */
export interface SwarmFirewallOptions {
  /**
   * CIDR blocks allowed to SSH in. Required, non-empty. An entry may be an Output (e.g. a VPN's
   * address); it is checked with the same rules when it resolves, before any rule takes it.
   */
  adminCidrs: pulumi.Input<string>[];
  /** Accept "0.0.0.0/0" in `adminCidrs`. Default: false. */
  allowSshFromAnywhere?: boolean;
  /** Other cluster members outside this security group (e.g. other clouds): "/32" blocks. Default: []. */
  peerCidrs?: pulumi.Input<string>[];
  /** Which address members advertise: "private" (one network) or "public" (across networks). */
  advertise: "private" | "public";
  /** VXLAN data path port. Default: 4789. */
  dataPathPort?: number;
  /** Open ESP (IP protocol 50) between members for encrypted overlays. */
  encryptedOverlays: boolean;
  /** Service ports to publish. Default: none. */
  servicePorts?: ServicePortArgs[];
}

/** Turns a known CIDR into a resource-name-safe label ("203.0.113.7/32" -> "203-0-113-7-32"). */
export function cidrLabel(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}

/** True when the CIDR alone is world-sized (half or more of IPv4 or IPv6; see cidrSet.ts). */
export function isWorldCidr(cidr: string): boolean {
  return isWorldSized([cidr]);
}

/** One peer block: an IPv4 CIDR that is not world-sized. Same rule for known values and Outputs. */
export function requirePeerCidr(argument: string, cidr: string): void {
  requireCidr(argument, cidr);
  if (isWorldCidr(cidr)) {
    fail(
      argument,
      cidr,
      'Swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    );
  }
}

/** One admin block: an IPv4 CIDR, world-sized only with `allowSshFromAnywhere`. */
function requireAdminCidr(argument: string, cidr: string, anywhere: boolean): void {
  requireCidr(argument, cidr);
  if (isWorldCidr(cidr) && !anywhere) {
    fail(
      argument,
      cidr,
      "SSH open to the whole internet needs `allowSshFromAnywhere: true`; prefer your own /32.",
    );
  }
}

/** All admin blocks together: world-sized only with `allowSshFromAnywhere`. */
function requireAdminSet(argument: string, cidrs: string[], anywhere: boolean): void {
  if (isWorldSized(cidrs) && !anywhere) {
    fail(
      argument,
      cidrs,
      "Together these blocks cover half or more of the internet: SSH open to the world needs `allowSshFromAnywhere: true`; prefer your own /32.",
    );
  }
}

/** All peer blocks together: their union must not be world-sized either (e.g. two /1 halves). */
export function requirePeerSet(argument: string, cidrs: string[]): void {
  if (isWorldSized(cidrs)) {
    fail(
      argument,
      cidrs,
      'Together these blocks cover half or more of the internet, and the swarm ports are never opened to the world; list each other member as "<public ip>/32".',
    );
  }
}

/** Validates the firewall arguments; throws a ValidationError naming the argument. */
export function validateFirewallOptions(options: SwarmFirewallOptions): void {
  const { adminCidrs } = options;
  if (!Array.isArray(adminCidrs) || adminCidrs.length === 0) {
    fail(
      "adminCidrs",
      adminCidrs,
      'Give the CIDR blocks allowed to SSH in, e.g. ["203.0.113.7/32"] (there is no default).',
    );
  }
  const anywhere = options.allowSshFromAnywhere === true;
  adminCidrs.forEach((cidr, i) => {
    if (isKnown(cidr)) requireAdminCidr(`adminCidrs[${i}]`, cidr, anywhere);
  });
  requireAdminSet("adminCidrs", adminCidrs.filter(isKnown), anywhere);
  const knownPeers = (options.peerCidrs ?? []).filter(isKnown);
  (options.peerCidrs ?? []).forEach((cidr, i) => {
    if (isKnown(cidr)) requirePeerCidr(`peerCidrs[${i}]`, cidr);
  });
  requirePeerSet("peerCidrs", knownPeers);
  const dataPathPort = options.dataPathPort ?? DEFAULT_DATA_PATH_PORT;
  requireDataPathPort("dataPathPort", dataPathPort);
  const reserved = new Set([
    SSH_PORT,
    SWARM_MANAGEMENT_PORT,
    SWARM_GOSSIP_PORT,
    dataPathPort,
    ...DOCKER_API_PORTS,
  ]);
  const seen: { from: number; to: number; protocol: string }[] = [];
  (options.servicePorts ?? []).forEach((sp, i) => {
    const at = `servicePorts[${i}]`;
    requirePort(`${at}.port`, sp.port);
    const to = sp.toPort ?? sp.port;
    if (!isPort(to) || to < sp.port) {
      fail(`${at}.toPort`, sp.toPort, "Use a port between `port` and 65535.");
    }
    const protocol = sp.protocol ?? "tcp";
    if (protocol !== "tcp" && protocol !== "udp") {
      fail(`${at}.protocol`, sp.protocol, 'Use "tcp" or "udp".');
    }
    for (const port of [...reserved].sort((a, b) => a - b)) {
      if (port >= sp.port && port <= to) {
        fail(
          `${at}.port`,
          sp.toPort === undefined ? sp.port : `${sp.port}-${to}`,
          `Port ${port} is SSH, a swarm port or the Docker API; it is opened only by the rules that own it (or never).`,
        );
      }
    }
    if (seen.some((s) => s.protocol === protocol && sp.port <= s.to && to >= s.from)) {
      fail(`${at}.port`, sp.port, "This port is already published by another entry; list it once.");
    }
    seen.push({ from: sp.port, to, protocol });
    if (!Array.isArray(sp.cidrs) || sp.cidrs.length === 0) {
      fail(`${at}.cidrs`, sp.cidrs, 'Give the CIDR blocks allowed in, e.g. ["0.0.0.0/0"] for a public port.');
    }
    sp.cidrs.forEach((cidr, j) => requireCidr(`${at}.cidrs[${j}]`, cidr));
  });
}

/**
 * The swarm's ingress rules, cloud-neutral. Swarm ports (2377/tcp, 7946/tcp, 7946/udp, the data
 * path port/udp, ESP when encrypted) admit only members and peers; SSH only the admin CIDRs;
 * service ports only the CIDRs asked for. Nothing else, and never 2375/2376.
 */
export function swarmFirewallRules(options: SwarmFirewallOptions, owner?: CheckOwner): FirewallRule[] {
  validateFirewallOptions(options);
  const dataPathPort = options.dataPathPort ?? DEFAULT_DATA_PATH_PORT;
  const peers = options.peerCidrs ?? [];
  const checked = checkedPeers(peers, owner);
  const members: FirewallSource[] = [
    options.advertise === "public" ? { kind: "memberPublicIps" } : { kind: "members" },
    ...peers.map(
      (cidr, i): FirewallSource => ({
        kind: "cidr",
        cidr: checked[i],
        label: isKnown(cidr) ? cidrLabel(cidr) : `peer${i}`,
      }),
    ),
  ];
  const swarm = (
    key: string,
    protocol: FirewallProtocol,
    port: number | undefined,
    description: string,
  ): FirewallRule => ({
    key,
    purpose: "swarm",
    protocol,
    ...(port !== undefined ? { fromPort: port, toPort: port } : {}),
    sources: members,
    description,
  });
  const rules: FirewallRule[] = [
    swarm(
      `swarm-${SWARM_MANAGEMENT_PORT}-tcp`,
      "tcp",
      SWARM_MANAGEMENT_PORT,
      "swarm management (members only)",
    ),
    swarm(`gossip-${SWARM_GOSSIP_PORT}-tcp`, "tcp", SWARM_GOSSIP_PORT, "swarm gossip tcp (members only)"),
    swarm(`gossip-${SWARM_GOSSIP_PORT}-udp`, "udp", SWARM_GOSSIP_PORT, "swarm gossip udp (members only)"),
    swarm(`overlay-${dataPathPort}-udp`, "udp", dataPathPort, "overlay VXLAN data path (members only)"),
  ];
  if (options.encryptedOverlays) {
    rules.push(swarm("esp", "esp", undefined, "ESP of encrypted overlays (members only)"));
  }
  rules.push({
    key: `ssh-${SSH_PORT}-tcp`,
    purpose: "ssh",
    protocol: "tcp",
    fromPort: SSH_PORT,
    toPort: SSH_PORT,
    sources: checkedAdmins(options, owner).map((cidr, i) => ({
      kind: "cidr",
      cidr,
      // Known blocks keep naming their rules (existing stacks keep their resource names).
      label: isKnown(options.adminCidrs[i]) ? cidrLabel(options.adminCidrs[i]) : `admin${i}`,
    })),
    description: "SSH from admin networks",
  });
  for (const sp of options.servicePorts ?? []) {
    const protocol = sp.protocol ?? "tcp";
    const to = sp.toPort ?? sp.port;
    const range = to === sp.port ? `${sp.port}` : `${sp.port}-${to}`;
    rules.push({
      key: `svc-${range}-${protocol}`,
      purpose: "service",
      protocol,
      fromPort: sp.port,
      toPort: to,
      sources: sp.cidrs.map((cidr) => ({ kind: "cidr", cidr, label: cidrLabel(cidr) })),
      description: sp.description ?? `service ${range}/${protocol}`,
    });
  }
  return rules;
}

/**
 * Peer blocks as the rules take them. All known: as given (validateFirewallOptions checked them).
 * Any Output among them: each resolves only once it and the union of all of them pass the same
 * checks as known values, so no rule opens the swarm ports to a bad or world-sized set.
 */
function checkedPeers(peers: pulumi.Input<string>[], owner?: CheckOwner): pulumi.Input<string>[] {
  if (peers.every(isKnown)) return peers;
  const each = peers.map((cidr, i) => checkedInput(`peerCidrs[${i}]`, cidr, requirePeerCidr, owner));
  const together = checkedInput("peerCidrs", pulumi.all(each), requirePeerSet, owner);
  return each.map((cidr) => pulumi.all([together, cidr]).apply(([, value]) => value));
}

/** Admin blocks as the rules take them: like {@link checkedPeers}, with the admin rules. */
function checkedAdmins(options: SwarmFirewallOptions, owner?: CheckOwner): pulumi.Input<string>[] {
  const admins = options.adminCidrs;
  if (admins.every(isKnown)) return admins;
  const anywhere = options.allowSshFromAnywhere === true;
  const each = admins.map((cidr, i) =>
    checkedInput(`adminCidrs[${i}]`, cidr, (a, v: string) => requireAdminCidr(a, v, anywhere), owner),
  );
  const together = checkedInput(
    "adminCidrs",
    pulumi.all(each),
    (a, v: string[]) => requireAdminSet(a, v, anywhere),
    owner,
  );
  return each.map((cidr) => pulumi.all([together, cidr]).apply(([, value]) => value));
}

/** One concrete rule after expanding sources: what a cloud turns into one security group rule. */
export interface ConcreteRule {
  /** Resource name suffix, unique within the cluster: "<rule key>-<source label>". */
  suffix: string;
  rule: FirewallRule;
  /** `group`: the cluster's own security group; `cidr`: an IPv4 block. */
  source: { kind: "group" } | { kind: "cidr"; cidr: pulumi.Input<string> };
}

/** A member's public address, for `memberPublicIps` sources. */
export interface MemberAddress {
  name: string;
  publicIp: pulumi.Input<string>;
}

/** Expands every rule's sources into one concrete rule each (members' public IPs become /32s). */
export function expandRules(rules: FirewallRule[], members: MemberAddress[]): ConcreteRule[] {
  const out: ConcreteRule[] = [];
  for (const rule of rules) {
    for (const source of rule.sources) {
      if (source.kind === "members") {
        out.push({ suffix: `${rule.key}-members`, rule, source: { kind: "group" } });
      } else if (source.kind === "memberPublicIps") {
        for (const m of members) {
          out.push({
            suffix: `${rule.key}-${m.name}`,
            rule,
            source: { kind: "cidr", cidr: pulumi.output(m.publicIp).apply((ip) => `${ip}/32`) },
          });
        }
      } else {
        out.push({
          suffix: `${rule.key}-${source.label}`,
          rule,
          source: { kind: "cidr", cidr: source.cidr },
        });
      }
    }
  }
  return out;
}
