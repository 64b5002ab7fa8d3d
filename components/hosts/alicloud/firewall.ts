import * as pulumi from "@pulumi/pulumi";
import type * as alicloud from "@pulumi/alicloud";
import { ConcreteRule, DOCKER_API_PORTS } from "../firewall";

/** Priority of ordinary accept rules (1 = highest on Alibaba Cloud). */
export const RULE_PRIORITY = 1;
/**
 * Alibaba Cloud rules cannot name ESP (protocols are tcp, udp, icmp, icmpv6, gre, all), so ESP
 * between members is allowed as "all" from the same member sources, at the lowest priority. Drop
 * rules for those sources at {@link ESP_NARROWING_PRIORITY} take every protocol the cloud CAN name
 * back out of that "all" (tcp and udp on every port, icmp, gre), so what the fallback admits is
 * only the IP protocols ECS cannot name: ESP, and the like of AH or SCTP, from members only. The
 * swarm's own tcp/udp rules (priority 1) win over those drops; the Docker API is also dropped for
 * those sources at the highest priority, so nothing ever opens it.
 */
export const ESP_FALLBACK_PRIORITY = 100;

/** Priority of the drops that narrow the ESP fallback: below the accept rules, above the fallback. */
export const ESP_NARROWING_PRIORITY = 50;

/** The protocols the narrowing drops, each with the port range ECS wants for it. */
const NAMEABLE_PROTOCOLS: { protocol: "tcp" | "udp" | "icmp" | "gre"; portRange: string }[] = [
  { protocol: "tcp", portRange: "1/65535" },
  { protocol: "udp", portRange: "1/65535" },
  { protocol: "icmp", portRange: "-1/-1" },
  { protocol: "gre", portRange: "-1/-1" },
];

/** The ingress rule of one neutral rule on Alibaba Cloud (`alicloud.ecs.SecurityGroupRule`). */
export function alicloudIngressRuleArgs(
  concrete: ConcreteRule,
  securityGroupId: pulumi.Input<string>,
): alicloud.ecs.SecurityGroupRuleArgs {
  const { rule } = concrete;
  const esp = rule.protocol === "esp";
  return {
    type: "ingress",
    securityGroupId,
    description: esp
      ? `${rule.description}; "all" because ECS rules cannot name ESP, narrowed by drops of tcp, udp, icmp and gre`
      : rule.description,
    ipProtocol: esp ? "all" : rule.protocol,
    portRange: esp ? "-1/-1" : `${rule.fromPort}/${rule.toPort}`,
    nicType: "intranet",
    policy: "accept",
    priority: esp ? ESP_FALLBACK_PRIORITY : RULE_PRIORITY,
    ...sourceArgs(concrete, securityGroupId),
  };
}

/** The drop rule that keeps 2375-2376/tcp closed to a source the ESP fallback admits. */
export function alicloudDockerApiDropArgs(
  concrete: ConcreteRule,
  securityGroupId: pulumi.Input<string>,
): alicloud.ecs.SecurityGroupRuleArgs {
  const from = Math.min(...DOCKER_API_PORTS);
  const to = Math.max(...DOCKER_API_PORTS);
  return {
    type: "ingress",
    securityGroupId,
    description: "never the Docker API (overrides the ESP fallback)",
    ipProtocol: "tcp",
    portRange: `${from}/${to}`,
    nicType: "intranet",
    policy: "drop",
    priority: RULE_PRIORITY,
    ...sourceArgs(concrete, securityGroupId),
  };
}

/**
 * The drop rules that narrow the ESP fallback of one source to the protocols ECS cannot name,
 * keyed by protocol (part of the resource name).
 */
export function alicloudEspNarrowingArgs(
  concrete: ConcreteRule,
  securityGroupId: pulumi.Input<string>,
): { protocol: string; args: alicloud.ecs.SecurityGroupRuleArgs }[] {
  return NAMEABLE_PROTOCOLS.map(({ protocol, portRange }) => ({
    protocol,
    args: {
      type: "ingress",
      securityGroupId,
      description: `narrows the ESP fallback: no ${protocol} beyond the swarm's own rules`,
      ipProtocol: protocol,
      portRange,
      nicType: "intranet",
      policy: "drop",
      priority: ESP_NARROWING_PRIORITY,
      ...sourceArgs(concrete, securityGroupId),
    },
  }));
}

function sourceArgs(concrete: ConcreteRule, securityGroupId: pulumi.Input<string>) {
  return concrete.source.kind === "group"
    ? { sourceSecurityGroupId: securityGroupId }
    : { cidrIp: concrete.source.cidr };
}
