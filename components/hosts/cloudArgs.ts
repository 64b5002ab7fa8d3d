import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { BastionArgs } from "./existing";
import { SwarmFirewallOptions, FirewallRule, ServicePortArgs, swarmFirewallRules } from "./firewall";
import { AdvertiseMode, NetworkMode, resolveNetworkMode } from "./crossCloud";
import { SshConnection } from "./types";
import {
  CheckOwner,
  checkedInput,
  fail,
  isKnown,
  requireBoolean,
  requireDnsLabel,
  requirePort,
} from "../validation";
import { requireBastionAddress, requireHostKey } from "./hostChecks";

/** Arguments shared by `AwsHosts` and `AlicloudHosts`. */
export interface CloudHostsCommonArgs {
  /** Number of instances. Hosts are named "<hostNamePrefix>-1" .. "-<count>". Required (1-100). */
  count: number;
  /** Prefix of host names (a DNS label). Default: the component name. */
  hostNamePrefix?: string;
  /**
   * IPv4 CIDR blocks allowed to SSH in. Required; "0.0.0.0/0" only with `allowSshFromAnywhere`. An
   * entry may be an Output (checked with the same rules when it resolves).
   */
  adminCidrs: pulumi.Input<string>[];
  /** Accept "0.0.0.0/0" in `adminCidrs`. Default: false. */
  allowSshFromAnywhere?: boolean;
  /**
   * Other cluster members outside this group's network (other clouds, existing servers): their
   * public addresses as "/32" blocks. The swarm ports are opened to these and to the group's own
   * members only. Default: [].
   */
  peerCidrs?: pulumi.Input<string>[];
  /**
   * Address the hosts advertise to the swarm: "private" inside one cloud network, "public" when
   * the cluster spans networks. Default: "public" when `peerCidrs` is non-empty, else "private".
   */
  advertise?: AdvertiseMode;
  /**
   * Open ESP (IP protocol 50) between members, needed by encrypted overlay networks.
   * Default: true when the cluster spans networks (`advertise: "public"` or peers), else false.
   */
  encryptedOverlays?: boolean;
  /** VXLAN data path port (must match the cluster's `dataPathPort`). Default: 4789. */
  dataPathPort?: number;
  /** Service ports to publish through the cloud firewall, each with its own CIDRs. Default: none. */
  servicePorts?: ServicePortArgs[];
  /** OpenSSH public key to install. Default: a key pair is generated with @pulumi/tls. */
  publicKey?: string;
  /** Private key matching `publicKey` (made secret). Required with `publicKey`. */
  privateKey?: pulumi.Input<string>;
  /** SSH login user. Default: "ubuntu" on AWS (Ubuntu AMI), "root" on Alibaba Cloud. */
  sshUser?: string;
  /** Reach the hosts through this jump host (SSH then dials private IPs). Default: direct. */
  bastion?: BastionArgs;
  /** Number of distinct zones the hosts are spread over, round-robin. Default: min(count, 3). */
  zoneCount?: number;
  /** Install Docker from the distribution's packages with cloud-init user data. Default: true. */
  installDocker?: boolean;
  /** Tags added to every resource that takes tags. Default: none. */
  tags?: Record<string, string>;
  /** SSH dial attempts of the cluster's commands (instances may still be booting). Default: 60. */
  dialErrorLimit?: number;
}

/** What the common validation yields for a cloud component. */
export interface CommonPlan {
  hostNames: string[];
  zoneCount: number;
  mode: NetworkMode;
  rules: FirewallRule[];
  user: string;
  /** The bastion's address, checked now when known or when it resolves; undefined without a bastion. */
  bastionHost?: pulumi.Input<string>;
  /** The bastion's given host key, checked the same way; undefined when none is given. */
  bastionHostKey?: pulumi.Input<string>;
}

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;

/** Throws unless `value` is one OpenSSH public key line ("ssh-ed25519 AAAA... me@host"). */
export function requirePublicKey(argument: string, value: string): void {
  if (typeof value !== "string" || !PUBLIC_KEY.test(value.trim())) {
    fail(argument, value, 'Use an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... me@host".');
  }
}

/**
 * Validates the shared arguments; throws a ValidationError naming the argument. Values given as
 * Outputs (peer CIDRs, the bastion's address) are checked when they resolve, errors tied to `owner`.
 */
export function planCommon(
  name: string,
  args: CloudHostsCommonArgs,
  defaultUser: string,
  owner?: CheckOwner,
): CommonPlan {
  if (args === undefined || args === null) fail("args", args, "Pass { count, adminCidrs, ... }.");
  if (!Number.isInteger(args.count) || args.count < 1 || args.count > 100) {
    fail("count", args.count, "Use a whole number of hosts between 1 and 100.");
  }
  const prefix = args.hostNamePrefix ?? name;
  if (prefix.length > 58) fail("hostNamePrefix", prefix, "Use at most 58 characters.");
  try {
    requireDnsLabel("hostNamePrefix", prefix);
  } catch (err) {
    if (args.hostNamePrefix !== undefined) throw err;
    fail(
      "hostNamePrefix",
      prefix,
      "The component name is not a DNS label; set hostNamePrefix to lowercase letters, digits or '-'.",
    );
  }
  const zoneCount = args.zoneCount ?? Math.min(args.count, 3);
  if (!Number.isInteger(zoneCount) || zoneCount < 1 || zoneCount > args.count) {
    fail("zoneCount", args.zoneCount, `Use a whole number between 1 and count (${args.count}).`);
  }
  if (args.publicKey !== undefined) {
    requirePublicKey("publicKey", args.publicKey);
    if (args.privateKey === undefined) {
      fail(
        "privateKey",
        undefined,
        "Give the private key matching `publicKey`; SSH needs it to run the cluster's scripts.",
      );
    }
  } else if (args.privateKey !== undefined) {
    fail(
      "publicKey",
      undefined,
      "Give the public key matching `privateKey`, or neither to generate a key pair.",
    );
  }
  if (args.privateKey !== undefined && isKnown(args.privateKey) && args.privateKey.trim() === "") {
    fail("privateKey", "(empty)", "Give the SSH private key matching `publicKey`.");
  }
  const user = args.sshUser ?? defaultUser;
  if (!/^[a-z_][a-z0-9_-]*$/.test(user))
    fail("sshUser", user, 'Use a plain login name such as "ubuntu" or "root".');
  let bastionHost: pulumi.Input<string> | undefined;
  let bastionHostKey: pulumi.Input<string> | undefined;
  if (args.bastion !== undefined) {
    bastionHost = checkedInput("bastion.host", args.bastion.host, requireBastionAddress, owner);
    requirePort("bastion.port", args.bastion.port ?? 22);
    if (args.bastion.hostKey !== undefined)
      bastionHostKey = checkedInput("bastion.hostKey", args.bastion.hostKey, requireHostKey, owner);
  }
  const dial = args.dialErrorLimit ?? 60;
  if (!Number.isInteger(dial) || dial < -1 || dial === 0) {
    fail("dialErrorLimit", args.dialErrorLimit, "Use a positive whole number of tries, or -1 for no limit.");
  }
  for (const [key, value] of Object.entries(args.tags ?? {})) {
    if (key.trim() === "" || typeof value !== "string") {
      fail(`tags["${key}"]`, value, "Use non-empty string keys with string values.");
    }
  }
  requireBoolean("encryptedOverlays", args.encryptedOverlays);
  requireBoolean("installDocker", args.installDocker);
  const mode = resolveNetworkMode(args);
  const firewall: SwarmFirewallOptions = {
    adminCidrs: args.adminCidrs,
    allowSshFromAnywhere: args.allowSshFromAnywhere,
    peerCidrs: args.peerCidrs,
    advertise: mode.advertise,
    dataPathPort: args.dataPathPort,
    encryptedOverlays: mode.encryptedOverlays,
    servicePorts: args.servicePorts,
  };
  const rules = swarmFirewallRules(firewall, owner);
  const hostNames = Array.from({ length: args.count }, (_, i) => `${prefix}-${i + 1}`);
  return {
    hostNames,
    zoneCount,
    mode,
    rules,
    user,
    ...(bastionHost !== undefined ? { bastionHost } : {}),
    ...(bastionHostKey !== undefined ? { bastionHostKey } : {}),
  };
}

/** The key pair the hosts use: the given one, or one generated with @pulumi/tls (private key secret). */
export interface HostKeys {
  publicKey: pulumi.Output<string>;
  privateKey: pulumi.Output<string>;
  /** The generated private key, exposed to the user; undefined when the key was given. */
  generatedPrivateKey?: pulumi.Output<string>;
}

/** Returns the given keys, or generates a key pair (ED25519 or RSA 4096) as a child of `parent`. */
export function hostKeys(
  name: string,
  args: CloudHostsCommonArgs,
  algorithm: "ED25519" | "RSA",
  parent: pulumi.Resource,
): HostKeys {
  if (args.publicKey !== undefined && args.privateKey !== undefined) {
    return { publicKey: pulumi.output(args.publicKey.trim()), privateKey: pulumi.secret(args.privateKey) };
  }
  const key = new tls.PrivateKey(
    `${name}-ssh-key`,
    algorithm === "RSA" ? { algorithm, rsaBits: 4096 } : { algorithm },
    { parent, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] },
  );
  const privateKey = pulumi.secret(key.privateKeyOpenssh);
  return {
    publicKey: key.publicKeyOpenssh.apply((k) => k.trim()),
    privateKey,
    generatedPrivateKey: privateKey,
  };
}

/**
 * The SSH connection of one host: direct to `address`, or through the bastion (at the plan's
 * checked `bastionHost`, default `args.bastion.host`, with its checked `bastionHostKey` when given).
 */
export function hostConnection(
  args: CloudHostsCommonArgs,
  address: pulumi.Input<string>,
  user: string,
  privateKey: pulumi.Output<string>,
  checked: Pick<CommonPlan, "bastionHost" | "bastionHostKey"> = {},
): SshConnection {
  const bastion = args.bastion;
  return {
    host: address,
    port: 22,
    user,
    privateKey,
    dialErrorLimit: args.dialErrorLimit ?? 60,
    ...(bastion
      ? {
          proxy: {
            host: checked.bastionHost ?? bastion.host,
            port: bastion.port ?? 22,
            user: bastion.user ?? user,
            privateKey: bastion.privateKey !== undefined ? pulumi.secret(bastion.privateKey) : privateKey,
            ...(checked.bastionHostKey !== undefined ? { hostKey: checked.bastionHostKey } : {}),
          },
        }
      : {}),
  };
}
