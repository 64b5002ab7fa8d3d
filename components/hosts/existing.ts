import * as pulumi from "@pulumi/pulumi";
import { SshConnection, SwarmHost } from "./types";
import { ClusterNetwork } from "./clusterNetwork";
import { peerCidrsOf } from "./crossCloud";
import { DEFAULT_DATA_PATH_PORT, requireDataPathPort } from "./firewall";
import { checkedInput, fail, requireBoolean, requireDnsLabel, requirePort } from "../validation";
import {
  nonEmptyKey,
  requireAdvertiseAddress,
  requireBastionAddress,
  requireHostKey,
  requireSshAddress,
} from "./hostChecks";

/** A bastion (jump host) that SSH goes through to reach a server. */
export interface BastionArgs {
  /** Address of the bastion. */
  host: pulumi.Input<string>;
  /** SSH port of the bastion. Default: 22. */
  port?: number;
  /** Login user on the bastion. Default: the server's user. */
  user?: string;
  /** Private key for the bastion (made secret). Default: the server's key. */
  privateKey?: pulumi.Input<string>;
  /**
   * The bastion's SSH host public key ("ssh-ed25519 AAAA..."), verified on every hop. Default: none
   * (the component that reaches the servers learns it on first contact and pins it, `hostKeys: "pin"`).
   */
  hostKey?: pulumi.Input<string>;
}

/** A server you already have (any cloud or on-premises), reached over SSH. */
export interface ExistingServerArgs {
  /** Unique name of the host in the cluster (DNS label, e.g. "tencent-1"). */
  name: string;
  /** Address SSH dials (public IP or DNS name). */
  host: pulumi.Input<string>;
  /** SSH port. Default: 22 (or `defaults.port`). */
  port?: number;
  /** Login user; it must be root or have password-less sudo. Default: "root" (or `defaults.user`). */
  user?: string;
  /** SSH private key (PEM/OpenSSH), made secret. Default: `defaults.privateKey`; one of them is required. */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of the private key, made secret. Default: none. */
  privateKeyPassword?: pulumi.Input<string>;
  /**
   * Expected SSH host public key ("ssh-ed25519 AAAA..."). Default: none (the component that reaches
   * the server learns it on first contact and pins it, `hostKeys: "pin"`; with `hostKeys: "off"` it
   * is not checked).
   */
  hostKey?: pulumi.Input<string>;
  /**
   * Address other swarm nodes reach this one on (2377, 7946, 4789). Default: `host`. Set the
   * private IP when all nodes share one network; keep the public IP for clusters across clouds.
   */
  advertiseAddr?: pulumi.Input<string>;
  /** Jump host to reach the server through. Default: direct connection. */
  bastion?: BastionArgs;
}

/** Values shared by every server of one {@link existingHosts} call. */
export interface ExistingHostsDefaults {
  /** Default login user. Default: "root". */
  user?: string;
  /** Default SSH port. Default: 22. */
  port?: number;
  /** Default SSH private key (made secret). Default: none. */
  privateKey?: pulumi.Input<string>;
  /** Default bastion. Default: none. */
  bastion?: BastionArgs;
  /** How many times to dial before giving up (the provider does not wait between tries). Default: 10. */
  dialErrorLimit?: number;
  /**
   * The VXLAN data path port (UDP) your servers' firewalls let through between them; it becomes
   * `clusterNetwork.dataPathPort`. Default: 4789.
   */
  dataPathPort?: number;
  /**
   * True when the servers reach each other across networks (public `advertiseAddr`s, e.g. servers
   * in two clouds): the cluster then encrypts its overlays, and `clusterNetwork.peerCidrs` lists the
   * servers' /32 blocks for a cloud group's `peerCidrs`. Default: false.
   */
  spansNetworks?: boolean;
}

/**
 * What {@link existingHosts} returns: like `AwsHosts` and `AlicloudHosts`, the servers as `hosts`
 * and what the cluster must agree with as `clusterNetwork`. It is also still the array of the
 * hosts (code written for 0.1, `existingHosts(...).map(...)`, keeps working; use `.hosts` in new code).
 */
export type ExistingHostGroup = SwarmHost[] & {
  /** The servers as SwarmHosts, in the order given. */
  readonly hosts: SwarmHost[];
  /**
   * The group's network, for `new SwarmCluster(name, { nodes, network: group.clusterNetwork })`
   * (one value per group in a list when groups are mixed): the data path port your firewalls let
   * through (`defaults.dataPathPort`) and whether the servers span networks
   * (`defaults.spansNetworks`). Your servers' firewalls are yours: `encryptedOverlays` is true
   * (nothing of this group closes ESP), and `hostFirewall: "auto"` opens the swarm ports on the hosts.
   */
  readonly clusterNetwork: ClusterNetwork;
};

/**
 * Turns servers you already have into {@link SwarmHost}s, e.g. Huawei Cloud or Tencent Cloud
 * machines joining a swarm whose other nodes come from AWS or Alibaba Cloud. Private keys become
 * secrets. Returns the group (`.hosts`, `.clusterNetwork`), the same shape as the cloud groups'.
 * Throws a {@link ValidationError} (a `pulumi.ResourceError`) for a duplicate or malformed name, a
 * bad address or port, or a missing key.
 */
export function existingHosts(
  servers: ExistingServerArgs[],
  defaults: ExistingHostsDefaults = {},
): ExistingHostGroup {
  const hosts = existingServers(servers, defaults);
  if (defaults.dataPathPort !== undefined)
    requireDataPathPort("defaults.dataPathPort", defaults.dataPathPort);
  requireBoolean("defaults.spansNetworks", defaults.spansNetworks);
  const spansNetworks = defaults.spansNetworks ?? false;
  const clusterNetwork: ClusterNetwork = {
    dataPathPort: defaults.dataPathPort ?? DEFAULT_DATA_PATH_PORT,
    spansNetworks,
    encryptedOverlays: true,
    peerCidrs: spansNetworks ? peerCidrsOf(hosts) : [],
  };
  // Not enumerable: spreading or printing the group shows the hosts only, as the 0.1 array did.
  return Object.defineProperties([...hosts], {
    hosts: { value: hosts, enumerable: false },
    clusterNetwork: { value: clusterNetwork, enumerable: false },
  }) as ExistingHostGroup;
}

function existingServers(servers: ExistingServerArgs[], defaults: ExistingHostsDefaults): SwarmHost[] {
  if (!Array.isArray(servers) || servers.length === 0) {
    fail("servers", servers, "Pass at least one server: [{ name, host, privateKey }].");
  }
  if (defaults.port !== undefined) requirePort("defaults.port", defaults.port);
  if (
    defaults.dialErrorLimit !== undefined &&
    !(Number.isInteger(defaults.dialErrorLimit) && defaults.dialErrorLimit >= -1)
  ) {
    fail(
      "defaults.dialErrorLimit",
      defaults.dialErrorLimit,
      "Use a whole number of tries, or -1 for no limit.",
    );
  }
  const seen = new Set<string>();
  // One checked address per bastion given: servers behind the same bastion share it, so a bastion
  // whose address is an Output is still one bastion (one host key pin) for the components.
  const bastions = new Map<
    BastionArgs,
    { argument: string; host: pulumi.Input<string>; hostKey?: pulumi.Input<string> }
  >();
  const checkedBastion = (argument: string, bastion: BastionArgs) => {
    let checked = bastions.get(bastion);
    if (!checked) {
      checked = {
        argument,
        host: checkedInput(`${argument}.host`, bastion.host, requireBastionAddress),
        ...(bastion.hostKey !== undefined
          ? { hostKey: checkedInput(`${argument}.hostKey`, bastion.hostKey, requireHostKey) }
          : {}),
      };
      bastions.set(bastion, checked);
    }
    return checked;
  };
  return servers.map((server, index) => {
    const at = `servers[${index}]`;
    requireDnsLabel(`${at}.name`, server.name);
    if (seen.has(server.name)) {
      fail(`${at}.name`, server.name, "Host names must be unique; give each server its own name.");
    }
    seen.add(server.name);
    // Known values are checked now; Outputs when they resolve, before any command that uses them.
    const host = checkedInput(`${at}.host`, server.host, requireSshAddress);
    const advertiseAddr =
      server.advertiseAddr === undefined
        ? host
        : checkedInput(`${at}.advertiseAddr`, server.advertiseAddr, requireAdvertiseAddress);
    const port = server.port ?? defaults.port ?? 22;
    requirePort(`${at}.port`, port);
    const user = server.user ?? defaults.user ?? "root";
    if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(user))
      fail(`${at}.user`, user, 'Use a plain login name such as "root" or "ubuntu".');
    const privateKey = server.privateKey ?? defaults.privateKey;
    if (privateKey === undefined) {
      fail(
        `${at}.privateKey`,
        undefined,
        "Give the server's SSH private key, or `defaults.privateKey` for all servers.",
      );
    }
    const checkedKey = checkedInput(
      `${at}.privateKey`,
      privateKey,
      nonEmptyKey("Give the server's SSH private key, or `defaults.privateKey` for all servers."),
    );
    const bastion = server.bastion
      ? checkedBastion(`${at}.bastion`, server.bastion)
      : defaults.bastion && checkedBastion("defaults.bastion", defaults.bastion);
    const bastionArgs = server.bastion ?? defaults.bastion;
    const connection: SshConnection = {
      host,
      port,
      user,
      privateKey: pulumi.secret(checkedKey),
      ...(server.privateKeyPassword !== undefined
        ? { privateKeyPassword: pulumi.secret(server.privateKeyPassword) }
        : {}),
      ...(server.hostKey !== undefined
        ? { hostKey: checkedInput(`${at}.hostKey`, server.hostKey, requireHostKey) }
        : {}),
      ...(defaults.dialErrorLimit !== undefined ? { dialErrorLimit: defaults.dialErrorLimit } : {}),
      ...(bastion && bastionArgs ? { proxy: bastionConnection(bastion, bastionArgs, user, checkedKey) } : {}),
    };
    return { name: server.name, connection, advertiseAddr };
  });
}

function bastionConnection(
  checked: { argument: string; host: pulumi.Input<string>; hostKey?: pulumi.Input<string> },
  bastion: BastionArgs,
  serverUser: string,
  serverKey: pulumi.Input<string>,
): NonNullable<SshConnection["proxy"]> {
  const at = checked.argument;
  const port = bastion.port ?? 22;
  requirePort(`${at}.port`, port);
  const key =
    bastion.privateKey === undefined
      ? serverKey
      : checkedInput(
          `${at}.privateKey`,
          bastion.privateKey,
          nonEmptyKey("Give the bastion's SSH private key, or leave it out to use the server's."),
        );
  return {
    host: checked.host,
    port,
    user: bastion.user ?? serverUser,
    privateKey: pulumi.secret(key),
    ...(checked.hostKey !== undefined ? { hostKey: checked.hostKey } : {}),
  };
}
