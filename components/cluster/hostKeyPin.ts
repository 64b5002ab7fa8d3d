import * as pulumi from "@pulumi/pulumi";
import type { SshConnection, SwarmHost } from "../hosts/types";
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
 * The host with its pin: a given key keeps its exact value (an unchanged connection is no diff
 * for the host's commands, also in a preview), a learned one comes from the pin. Either way the pin
 * joins the host's `dependsOn`, so nothing reaches the host before the pin compared its key.
 */
export function pinnedHost(host: SwarmHost, pin: HostKeyPin): SwarmHost {
  // A key given as a plain string stays as it is; one given as an Output (a cloud instance's, which
  // resolves to undefined for an instance launched before host keys) falls back to the learned one.
  const given = typeof host.connection.hostKey === "string" && host.connection.hostKey !== "";
  return {
    ...host,
    connection: given
      ? host.connection
      : {
          ...host.connection,
          hostKey: pulumi
            .all([pulumi.output(host.connection.hostKey), pin.hostKey])
            .apply(([g, learned]) => (g !== undefined && g !== "" ? g : learned)),
        },
    dependsOn: [...(host.dependsOn ?? []), pin],
  };
}
