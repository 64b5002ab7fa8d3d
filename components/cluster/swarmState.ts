import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../hosts/types";
import type { ResolvedConnection } from "./nodeState";
import type { Generations } from "./validateDay2";
import { swarmStateProvider } from "./swarmProvider";

/** A manager as the swarm resource reaches it. */
export interface SwarmManagerRef {
  /** Host name in the cluster. */
  host: string;
  /** Its swarm address. */
  advertiseAddr: pulumi.Input<string>;
  /** SSH to it (stored as a secret). */
  connection: SshConnection;
}

/**
 * The swarm-wide state that changes on a running swarm: certificate expiry, the root CA and the
 * join tokens, plus the manager quorum. Read by `pulumi refresh`, changed by raising a generation
 * in config, and probed on every preview and up: a swarm that lost its quorum makes the up stop
 * here, before any node resource could change membership (see swarmProvider.ts).
 */
export interface SwarmStateArgs {
  /** Cluster name (the SwarmCluster's name). */
  cluster: string;
  /** Every declared manager, in config order. */
  managers: SwarmManagerRef[];
  /** Node certificate validity, as Go prints it ("2160h0m0s"). */
  certExpiry: string;
  /** Rotation and recovery generations (validateDay2.ts). */
  generations: Generations;
  /** Host name of the recovery's surviving manager; "" without a recovery. */
  survivor: string;
  /** The unlock key ("" without autolock) and the cluster id, from init (secret). */
  secrets: pulumi.Input<{ unlockKey: string; clusterId: string }>;
  /** The join tokens init printed: where `tokens` starts; the provider reports the swarm's current ones. */
  initialTokens: pulumi.Input<{ worker: string; manager: string }>;
  /** What init printed besides the tokens, and when (host time, epoch seconds): see InitPrinted. */
  initPrinted: pulumi.Input<InitPrinted>;
}

/**
 * The swarm's state as the init step printed it. The provider's create takes it (with the tokens)
 * instead of dialling the first manager again when init printed it in this run: at most
 * INIT_PRINTED_FRESH_SECONDS before (swarmProvider.ts). Empty fields and `at: 0` from an init
 * that printed none of it.
 */
export interface InitPrinted {
  /** The node certificate validity, as Go prints it. */
  certExpiry: string;
  /** SHA-256 of the root CA certificate (PEM). */
  caFingerprint: string;
  /** The host's time when init printed it, epoch seconds. */
  at: number;
}

/** The inputs as the provider sees them (resolved). */
export interface SwarmStateInputs {
  /** Tells these resources apart from other dynamic resources. */
  kind: "swarm:cluster:Swarm";
  cluster: string;
  managers: { host: string; advertiseAddr: string; connection: ResolvedConnection }[];
  certExpiry: string;
  generations: Generations;
  survivor: string;
  secrets: { unlockKey: string; clusterId: string };
  /** In: the tokens init printed; out: the swarm's current ones. */
  tokens: { worker: string; manager: string };
  /** The rest of what init printed; absent in stacks made before it was printed. */
  initPrinted?: InitPrinted;
}

/** The state: the inputs plus what the swarm reports. */
export interface SwarmStateOutputs extends SwarmStateInputs {
  /** SHA-256 of the swarm's root CA certificate (PEM), as `docker info` shows it. */
  caFingerprint: string;
}

/** The swarm-wide day 2 state (type `pulumi-nodejs:dynamic:Resource`, kind `swarm:cluster:Swarm`). */
export class SwarmState extends pulumi.dynamic.Resource {
  /** SHA-256 of the root CA certificate: changes when the CA is rotated. */
  declare readonly caFingerprint: pulumi.Output<string>;
  /** The node certificate validity the swarm reports. */
  declare readonly certExpiry: pulumi.Output<string>;
  /** The current join tokens (secret). */
  declare readonly tokens: pulumi.Output<{ worker: string; manager: string }>;

  constructor(name: string, args: SwarmStateArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      swarmStateProvider,
      name,
      {
        kind: "swarm:cluster:Swarm",
        cluster: args.cluster,
        managers: pulumi.secret(
          pulumi.output(
            args.managers.map((m) => ({
              host: m.host,
              advertiseAddr: m.advertiseAddr,
              connection: m.connection,
            })),
          ),
        ),
        certExpiry: args.certExpiry,
        generations: args.generations,
        survivor: args.survivor,
        secrets: pulumi.secret(pulumi.output(args.secrets)),
        caFingerprint: undefined,
        tokens: pulumi.secret(pulumi.output(args.initialTokens)),
        initPrinted: args.initPrinted,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "managers", "secrets", "tokens"],
      },
    );
  }
}
