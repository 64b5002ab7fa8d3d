import * as pulumi from "@pulumi/pulumi";
import type { SshConnection, SwarmHost } from "../hosts/types";
import { hostKeyProvider, observedKey } from "./hostKeyProvider";
import type { ResolvedConnection } from "./sshOptions";

/** Arguments of {@link HostKeyPin}. */
export interface HostKeyPinArgs {
  /** The owning component's type name, e.g. "SwarmCluster" or "ComposeHost" (shown in errors). */
  component: string;
  /** The owning component's name. */
  owner: string;
  /** The host's name in the component, or "bastion:<address>[:<port>]" for a bastion. */
  host: pulumi.Input<string>;
  /**
   * SSH to the host (stored as a secret); its `hostKey`, when given, is verified and kept. A
   * bastion's pin takes the bastion's own connection (`connection.proxy` of its hosts).
   */
  connection: pulumi.Input<SshConnection>;
  /** A fingerprint ("SHA256:...") accepted for this host: a deliberate key change. Default: none. */
  accept?: pulumi.Input<string>;
}

/**
 * The SSH host key of one host (or bastion), pinned in state (type `pulumi-nodejs:dynamic:Resource`,
 * kind `swarm:cluster:HostKey`): the given `connection.hostKey`, or the key learned on first
 * contact. Every preview, up and refresh compares the host's key with it and stops with a clear
 * error when it changed (see hostKeyProvider.ts).
 */
export class HostKeyPin extends pulumi.dynamic.Resource {
  /** The pinned host public key ("ssh-ed25519 AAAA..."). */
  declare readonly hostKey: pulumi.Output<string>;
  /** Its SHA-256 fingerprint ("SHA256:..."). */
  declare readonly fingerprint: pulumi.Output<string>;
  /** "given", "learned" or "accepted". */
  declare readonly source: pulumi.Output<string>;

  constructor(name: string, args: HostKeyPinArgs, opts: pulumi.CustomResourceOptions = {}) {
    // The given key from the connection alone: a whole connection given as an Output (a bastion's
    // `proxy` may be one) is secret for its private key, the host key in it is public.
    const given = pulumi
      .output(
        pulumi.Output.isInstance(args.connection)
          ? pulumi.unsecret(args.connection.apply((c) => c.hostKey))
          : (args.connection as SshConnection).hostKey,
      )
      .apply((k) => k ?? "");
    super(
      hostKeyProvider,
      name,
      {
        kind: "swarm:cluster:HostKey",
        component: args.component,
        owner: args.owner,
        host: args.host,
        connection: pulumi.secret(pulumi.output(args.connection)),
        given,
        accept: args.accept ?? "",
        presented: presentedToProgram(args.connection, given),
        hostKey: undefined,
        fingerprint: undefined,
        source: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"] },
    );
  }
}

/**
 * The key the host presents, read while the program runs (see `observedKey`), so that every pin's
 * `diff` compares without a probe of its own. Only under a real engine: a program run under mocks
 * (unit tests) has no engine, and must not dial the addresses its tests invent. Unknown in a
 * preview while the address is; "(no answer)" when the host does not answer (the pin's `diff`
 * then takes it as unreachable; `create` and `update` probe with their retries).
 */
function presentedToProgram(
  connection: pulumi.Input<SshConnection>,
  given: pulumi.Input<string>,
): pulumi.Output<string> {
  if (pulumi.runtime.getEngine() === undefined) return pulumi.output("");
  const seen = pulumi
    .all([pulumi.output(connection), given])
    .apply(([conn, key]) => observedKey(conn as ResolvedConnection, key));
  // The connection is secret for its private key; the host's public key is not.
  return pulumi.unsecret(seen);
}

/**
 * A connection's `hostKey` with its pin: a key given as a plain string keeps its exact value (an
 * unchanged connection is no diff for the host's commands, also in a preview); one given as an
 * Output (a cloud instance's, which resolves to undefined for an instance launched before host
 * keys) falls back to the learned one; none given takes the learned one.
 */
export function pinnedKey(given: pulumi.Input<string> | undefined, pin: HostKeyPin): pulumi.Input<string> {
  if (typeof given === "string" && given !== "") return given;
  return pulumi
    .all([pulumi.output(given), pin.hostKey])
    .apply(([g, learned]) => (g !== undefined && g !== "" ? g : learned));
}

/**
 * The host with its pin: its connection takes the pinned key (see {@link pinnedKey}), and the pin
 * joins the host's `dependsOn`, so nothing reaches the host before the pin compared its key.
 */
export function pinnedHost(host: SwarmHost, pin: HostKeyPin): SwarmHost {
  const given = host.connection.hostKey;
  return {
    ...host,
    connection:
      typeof given === "string" && given !== ""
        ? host.connection
        : { ...host.connection, hostKey: pinnedKey(given, pin) },
    dependsOn: [...(host.dependsOn ?? []), pin],
  };
}

/** True when the host already carries a pin (e.g. it comes from `SwarmCluster.hosts`). */
export function isPinned(host: SwarmHost): boolean {
  return (host.dependsOn ?? []).some((d) => d instanceof HostKeyPin);
}
