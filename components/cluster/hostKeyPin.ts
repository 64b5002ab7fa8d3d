import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../hosts/types";
import { hostKeyProvider } from "./hostKeyProvider";

/** Arguments of {@link HostKeyPin}. */
export interface HostKeyPinArgs {
  /** Cluster name (the SwarmCluster's name). */
  cluster: string;
  /** Host name inside the cluster. */
  host: string;
  /** SSH to the host (stored as a secret); its `hostKey`, when given, is verified and kept. */
  connection: SshConnection;
  /** A fingerprint ("SHA256:...") accepted for this host: a deliberate key change. Default: none. */
  accept?: pulumi.Input<string>;
}

/**
 * The SSH host key of one host, pinned in state (type `pulumi-nodejs:dynamic:Resource`, kind
 * `swarm:cluster:HostKey`): the given `connection.hostKey`, or the key learned on first contact.
 * Every preview, up and refresh compares the host's key with it and stops with a clear error when
 * it changed (see hostKeyProvider.ts).
 */
export class HostKeyPin extends pulumi.dynamic.Resource {
  /** The pinned host public key ("ssh-ed25519 AAAA..."). */
  declare readonly hostKey: pulumi.Output<string>;
  /** Its SHA-256 fingerprint ("SHA256:..."). */
  declare readonly fingerprint: pulumi.Output<string>;
  /** "given", "learned" or "accepted". */
  declare readonly source: pulumi.Output<string>;

  constructor(name: string, args: HostKeyPinArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      hostKeyProvider,
      name,
      {
        kind: "swarm:cluster:HostKey",
        cluster: args.cluster,
        host: args.host,
        connection: pulumi.secret(pulumi.output(args.connection)),
        given: pulumi.output(args.connection.hostKey).apply((k) => k ?? ""),
        accept: args.accept ?? "",
        hostKey: undefined,
        fingerprint: undefined,
        source: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] },
    );
  }
}

/**
 * The host's connection with the pin in it. A given key keeps its exact value (an unchanged
 * connection is no diff for the host's commands); a learned one comes from the pin. Either way the
 * connection now depends on the pin, so nothing reaches the host before the pin checked its key.
 */
export function pinnedConnection(connection: SshConnection, pin: HostKeyPin): SshConnection {
  const given = connection.hostKey;
  return {
    ...connection,
    hostKey: pulumi
      .all([pulumi.output(given), pin.hostKey])
      .apply(([g, learned]) => (g !== undefined && g !== "" ? g : learned)),
  };
}
