import { isWorldSized } from "./cidrSet";

/**
 * The least-exposure invariant, checked over registered resources (as the Pulumi mocks record
 * them, or as a policy pack sees them): no ingress rule opens SSH or a swarm port to the world, and
 * nothing ever opens the Docker API (2375/2376). "The world" is judged by set, the same way the
 * components' arguments are (cidrSet.ts): the union of every block that the stack's rules open a
 * port to, IPv4 and IPv6, must stay under half of the address space. Pure, cloud-aware, usable
 * from any test.
 */

/** A registered resource: its type token, name and (resolved) inputs. */
export interface ResourceLike {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** One broken promise, with the resource that breaks it. */
export interface FirewallViolation {
  resource: string;
  type: string;
  reason: string;
}

/** Options of {@link findFirewallViolations}. */
export interface InvariantOptions {
  /** Extra UDP data path ports in use (4789 is always checked). Default: []. */
  dataPathPorts?: number[];
}

type Proto = "tcp" | "udp" | "esp" | "other";

interface IngressRule {
  resource: ResourceLike;
  /** Protocols the rule covers. */
  protocols: Proto[];
  from: number;
  to: number;
  sources: string[];
  /** Alibaba Cloud only: the rule's group, priority and action. */
  group?: string;
  priority: number;
  drop: boolean;
}

const SECRET_KEY = "4dabf18193072939515e22adb298388d";

function unwrap(value: unknown): unknown {
  if (typeof value === "object" && value !== null && SECRET_KEY in value) {
    return unwrap((value as unknown as { value: unknown }).value);
  }
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

function protocolsOf(raw: unknown): Proto[] {
  const p = String(raw ?? "").toLowerCase();
  if (p === "-1" || p === "all") return ["tcp", "udp", "esp", "other"];
  if (p === "tcp" || p === "6") return ["tcp"];
  if (p === "udp" || p === "17") return ["udp"];
  if (p === "esp" || p === "50") return ["esp"];
  return ["other"];
}

function strings(...values: unknown[]): string[] {
  return values.flatMap((v) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])).map(String);
}

/** AWS rule shapes (vpc ingress rule, ec2 security group rule, inline ingress) to one form. */
function awsRule(resource: ResourceLike, r: Record<string, unknown>, protocolKey: string): IngressRule {
  const protocols = protocolsOf(r[protocolKey]);
  const ported = protocols.length === 1 && (protocols[0] === "tcp" || protocols[0] === "udp");
  const from = ported && typeof r.fromPort === "number" ? r.fromPort : 0;
  const to = ported && typeof r.toPort === "number" ? r.toPort : 65535;
  return {
    resource,
    protocols,
    from: from < 0 ? 0 : from,
    to: to < 0 ? 65535 : to,
    sources: strings(
      r.cidrIpv4,
      r.cidrIpv6,
      r.cidrBlocks,
      r.ipv6CidrBlocks,
      r.referencedSecurityGroupId,
      r.sourceSecurityGroupId,
      r.securityGroups,
      r.prefixListId,
      r.prefixListIds,
      r.self === true ? "self" : undefined,
    ),
    priority: 1,
    drop: false,
  };
}

function alicloudRule(resource: ResourceLike, r: Record<string, unknown>): IngressRule {
  const protocols = protocolsOf(r.ipProtocol);
  const range = /^(-?\d+)\/(-?\d+)$/.exec(String(r.portRange ?? "-1/-1"));
  const from = range && Number(range[1]) > 0 ? Number(range[1]) : 0;
  const to = range && Number(range[2]) > 0 ? Number(range[2]) : 65535;
  return {
    resource,
    protocols,
    from,
    to,
    sources: strings(r.cidrIp, r.ipv6CidrIp, r.sourceSecurityGroupId, r.prefixListId),
    group: String(r.securityGroupId ?? ""),
    priority: typeof r.priority === "number" ? r.priority : 1,
    drop: String(r.policy ?? "accept").toLowerCase() === "drop",
  };
}

/** Every ingress rule found among the resources, in one form. */
function ingressRules(resources: ResourceLike[]): IngressRule[] {
  const out: IngressRule[] = [];
  for (const resource of resources) {
    const inputs = unwrap(resource.inputs) as Record<string, unknown>;
    switch (resource.type) {
      case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        out.push(awsRule(resource, inputs, "ipProtocol"));
        break;
      case "aws:ec2/securityGroupRule:SecurityGroupRule":
        if (inputs.type === "ingress") out.push(awsRule(resource, inputs, "protocol"));
        break;
      case "aws:ec2/securityGroup:SecurityGroup":
        for (const r of (inputs.ingress as Record<string, unknown>[] | undefined) ?? []) {
          out.push(awsRule(resource, r, "protocol"));
        }
        break;
      case "alicloud:ecs/securityGroupRule:SecurityGroupRule":
        if (inputs.type === "ingress") out.push(alicloudRule(resource, inputs));
        break;
    }
  }
  return out;
}

function covers(rule: IngressRule, proto: Proto, port: number | undefined): boolean {
  if (!rule.protocols.includes(proto)) return false;
  return port === undefined || (port >= rule.from && port <= rule.to);
}

/** An Alibaba Cloud accept rule is overridden by a drop rule of the same group and source at the same or higher priority. */
function dropped(
  rule: IngressRule,
  all: IngressRule[],
  source: string,
  proto: Proto,
  port: number | undefined,
): boolean {
  if (rule.group === undefined) return false;
  return all.some(
    (d) =>
      d.drop &&
      d.group === rule.group &&
      d.priority <= rule.priority &&
      d.sources.includes(source) &&
      covers(d, proto, port),
  );
}

/**
 * Returns every violation of the least-exposure invariant among `resources`; an empty list means
 * the stack holds it. Checks: SSH (22/tcp), 2377/tcp, 7946/tcp, 7946/udp, 4789/udp (and the
 * `dataPathPorts` given) and ESP are never open to a world-sized set of addresses (0.0.0.0/0, ::/0,
 * or blocks that together cover half or more of IPv4 or IPv6); 2375/2376 are never open.
 */
export function findFirewallViolations(
  resources: ResourceLike[],
  options: InvariantOptions = {},
): FirewallViolation[] {
  const protectedPorts: [Proto, number | undefined, string][] = [
    ["tcp", 22, "SSH 22/tcp"],
    ["tcp", 2377, "swarm 2377/tcp"],
    ["tcp", 7946, "swarm 7946/tcp"],
    ["udp", 7946, "swarm 7946/udp"],
    ...[4789, ...(options.dataPathPorts ?? [])].map((p): [Proto, number, string] => [
      "udp",
      p,
      `swarm data path ${p}/udp`,
    ]),
    ["esp", undefined, "ESP (IP protocol 50)"],
  ];
  const rules = ingressRules(resources);
  const violations: FirewallViolation[] = [];
  const open = (rule: IngressRule, source: string, proto: Proto, port: number | undefined) =>
    !rule.drop && covers(rule, proto, port) && !dropped(rule, rules, source, proto, port);
  // Per protected port: every source block the stack opens it to; world-sized together or alone.
  const worldSets = protectedPorts.map(([proto, port]) =>
    isWorldSized(rules.flatMap((rule) => rule.sources.filter((source) => open(rule, source, proto, port)))),
  );
  for (const rule of rules) {
    if (rule.drop) continue;
    const report = (reason: string) =>
      violations.push({ resource: rule.resource.name, type: rule.resource.type, reason });
    for (const source of rule.sources) {
      protectedPorts.forEach(([proto, port, label], i) => {
        if (!worldSets[i] || !open(rule, source, proto, port)) return;
        if (isWorldSized([source])) {
          report(`opens ${label} to ${source}`);
        } else if (/[.:]/.test(source)) {
          report(
            `opens ${label} to ${source}, part of a set of blocks that covers half or more of the internet`,
          );
        }
      });
      for (const port of [2375, 2376]) {
        if (covers(rule, "tcp", port) && !dropped(rule, rules, source, "tcp", port)) {
          report(`opens the Docker API ${port}/tcp to ${source}`);
        }
      }
    }
  }
  return violations;
}
