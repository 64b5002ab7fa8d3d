import * as pulumi from "@pulumi/pulumi";
import { SshConnection, SwarmHost } from "./types";
import { checkedInput, fail, requireDnsLabel, requirePort } from "../validation";
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
  /** Expected SSH host public key; when omitted the host key is not checked. Default: none. */
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
}

/**
 * Turns servers you already have into {@link SwarmHost}s, e.g. Huawei Cloud or Tencent Cloud
 * machines joining a swarm whose other nodes come from AWS or Alibaba Cloud. Private keys become
 * secrets. Throws a clear error for a duplicate or malformed name, a bad address or port, or a
 * missing key.
 */
export function existingHosts(
  servers: ExistingServerArgs[],
  defaults: ExistingHostsDefaults = {},
): SwarmHost[] {
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
    const bastion = server.bastion ?? defaults.bastion;
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
      ...(bastion ? { proxy: bastionConnection(`${at}.bastion`, bastion, user, checkedKey) } : {}),
    };
    return { name: server.name, connection, advertiseAddr };
  });
}

function bastionConnection(
  at: string,
  bastion: BastionArgs,
  serverUser: string,
  serverKey: pulumi.Input<string>,
): NonNullable<SshConnection["proxy"]> {
  const host = checkedInput(`${at}.host`, bastion.host, requireBastionAddress);
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
    host,
    port,
    user: bastion.user ?? serverUser,
    privateKey: pulumi.secret(key),
  };
}
