import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import { ConcreteRule } from "../firewall";

/**
 * One AWS ingress rule (`aws.vpc.SecurityGroupIngressRule`) from one neutral rule: tcp/udp with
 * the port range, ESP as IP protocol "50" (no ports), members as a reference to the group itself.
 */
export function awsIngressRuleArgs(
  concrete: ConcreteRule,
  securityGroupId: pulumi.Input<string>,
  region?: string,
): aws.vpc.SecurityGroupIngressRuleArgs {
  const { rule, source } = concrete;
  return {
    securityGroupId,
    description: rule.description,
    ...(rule.protocol === "esp"
      ? { ipProtocol: "50" }
      : { ipProtocol: rule.protocol, fromPort: rule.fromPort, toPort: rule.toPort }),
    ...(source.kind === "group" ? { referencedSecurityGroupId: securityGroupId } : { cidrIpv4: source.cidr }),
    ...(region !== undefined ? { region } : {}),
  };
}
