import * as pulumi from "@pulumi/pulumi";
import { CloudHostsCommonArgs, CommonPlan, HostKeys, hostConnection } from "./cloudArgs";
import { ConcreteRule, expandRules } from "./firewall";
import { SwarmHost } from "./types";
import { roundRobin } from "./zones";

/**
 * What `AwsHosts` and `AlicloudHosts` build the same way: the placement on given subnets or
 * vSwitches and, once the instances exist, the concrete firewall rules, the SwarmHosts and the
 * address outputs.
 */

/**
 * The given place (subnet or vSwitch) of each host, round-robin. Each id resolves only after
 * `checked` (the zones' spread check) has, so an impossible spread fails before any instance.
 */
export function checkedPlaces(
  checked: pulumi.Output<unknown>,
  ids: pulumi.Input<string>[],
  count: number,
): pulumi.Output<string>[] {
  return roundRobin(ids, count).map((id) => pulumi.all([checked, id]).apply(([, resolved]) => resolved));
}

/** An instance of a cloud host group (EC2 or ECS), as far as the swarm needs it. */
export interface GroupInstance extends pulumi.CustomResource {
  readonly publicIp: pulumi.Output<string>;
  readonly privateIp: pulumi.Output<string>;
  readonly userData: pulumi.Output<string | undefined>;
}

/** The group's firewall rules for its members, each member's public IP filled in where a rule names it. */
export function memberRules(plan: CommonPlan, instances: GroupInstance[]): ConcreteRule[] {
  return expandRules(
    plan.rules,
    plan.hostNames.map((hostName, i) => ({ name: hostName, publicIp: instances[i].publicIp })),
  );
}

/**
 * One SwarmHost per instance: SSH to the public IP (the private one through a bastion), advertising
 * the address the plan's network mode asks for, usable once the instance and `firewall` exist;
 * `hostKeys[i]` (when it resolves to a key) pins instance i's SSH host key.
 */
export function groupHosts(
  args: CloudHostsCommonArgs,
  plan: CommonPlan,
  keys: HostKeys,
  instances: GroupInstance[],
  firewall: pulumi.Resource[],
  hostKeys: pulumi.Output<string | undefined>[] = [],
): SwarmHost[] {
  return plan.hostNames.map((hostName, i) => {
    const instance = instances[i];
    const sshAddress = args.bastion !== undefined ? instance.privateIp : instance.publicIp;
    return {
      name: hostName,
      connection: {
        ...hostConnection(args, sshAddress, plan.user, keys.privateKey, plan),
        // The instance's generated host key when it was launched with it (cloudHostKeys.ts); an
        // Output that resolves to undefined leaves the key unset, as if it were not given.
        ...(hostKeys[i] !== undefined ? { hostKey: hostKeys[i] as pulumi.Output<string> } : {}),
      },
      advertiseAddr: plan.mode.advertise === "public" ? instance.publicIp : instance.privateIp,
      dependsOn: [instance, ...firewall],
    };
  });
}

/** The instances' ids and addresses, in order; "" for an instance without a public IP. */
export function groupAddresses(instances: GroupInstance[]): {
  instanceIds: pulumi.Output<string[]>;
  publicIps: pulumi.Output<string[]>;
  privateIps: pulumi.Output<string[]>;
} {
  return {
    instanceIds: pulumi.all(instances.map((x) => x.id)),
    publicIps: pulumi.all(instances.map((x) => x.publicIp)).apply((ips) => ips.map((ip) => ip ?? "")),
    privateIps: pulumi.all(instances.map((x) => x.privateIp)),
  };
}
