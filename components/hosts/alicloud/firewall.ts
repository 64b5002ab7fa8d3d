import * as pulumi from "@pulumi/pulumi";
import type * as alicloud from "@pulumi/alicloud";
import { ConcreteRule, DOCKER_API_PORTS } from "../firewall";

/** Priority of ordinary accept rules (1 = highest on Alibaba Cloud). */
export const RULE_PRIORITY = 1;
/**
 * Alibaba Cloud rules cannot name ESP (protocols are tcp, udp, icmp, icmpv6, gre, all), so ESP
 * between members is allowed as "all" from the same member sources, at the lowest priority, and
 * the Docker API is dropped for those sources at the highest priority so "all" never opens it.
 */
export const ESP_FALLBACK_PRIORITY = 100;

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
    description: esp ? `${rule.description}; "all" because ECS rules cannot name ESP` : rule.description,
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

function sourceArgs(concrete: ConcreteRule, securityGroupId: pulumi.Input<string>) {
  return concrete.source.kind === "group"
    ? { sourceSecurityGroupId: securityGroupId }
    : { cidrIp: concrete.source.cidr };
}
