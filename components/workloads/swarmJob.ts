import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import type { SwarmClusterLike } from "../cluster/types";
import { fail, validateComponentArgs } from "../validation";
import { requireEnvNames } from "./composeEnv";
import { jobStdin, renderJobRemoveScript, renderJobRunScript, type JobScriptOptions } from "./scripts/job";
import { requireSwarmName } from "./parse";
import { TOKENS, withTokenAliases } from "../tokens";

/** A swarm secret or config a job mounts: the object (a docker.Secret/ServiceConfig) or its name. */
export type SwarmObjectRef = pulumi.Input<string> | { readonly name: pulumi.Input<string> };

/** Arguments of a {@link SwarmJob}. */
export interface SwarmJobArgs {
  /** The swarm to run on; the job is driven over SSH on `cluster.managerHost`. */
  cluster: SwarmClusterLike;
  /** The job's service name. Default: the component name. */
  jobName?: string;
  /**
   * "replicated-job": `completions` tasks run to completion anywhere; "global-job": one task on
   * every eligible node. Default: "replicated-job".
   */
  mode?: "replicated-job" | "global-job";
  /** Image reference. */
  image: pulumi.Input<string>;
  /** Entrypoint override (exec form). Default: the image's. */
  command?: pulumi.Input<string>[];
  /** Arguments (the container's CMD). Default: the image's CMD. */
  args?: pulumi.Input<string>[];
  /** replicated-job: tasks that must complete (1 or more). Default: 1. Not allowed with "global-job". */
  completions?: number;
  /** replicated-job: tasks running at once (1 or more). Default: Docker's (1). Not allowed with "global-job". */
  maxConcurrent?: number;
  /** Overlay networks to join: an OverlayNetwork (or anything with `networkName`) or a name. Default: none. */
  networks?: (pulumi.Input<string> | { readonly networkName: pulumi.Input<string> })[];
  /** Environment variables. Sent on stdin, never in a command string. Default: none. */
  env?: Record<string, pulumi.Input<string>>;
  /** Swarm secrets to mount at `/run/secrets/<target>` (target default: the secret's name). Default: none. */
  secrets?: { secret: SwarmObjectRef; target?: string }[];
  /** Swarm configs to mount at `target` (an absolute path). Default: none. */
  configs?: { config: SwarmObjectRef; target: string }[];
  /** Placement constraints, e.g. "node.role==manager". Default: none. */
  constraints?: string[];
  /** Seconds `up` waits for the job to finish before failing (the job is then removed). Default: 300. */
  timeoutSeconds?: number;
  /**
   * Values that re-run the job when they change, besides its own spec (e.g. the ids of the services
   * it works on). Default: none.
   */
  triggers?: pulumi.Input<unknown>[];
  /** Keep the job's output secret (it prints secrets). Default: false. */
  secretOutput?: boolean;
}

interface Validated {
  jobName: string;
  mode: "replicated-job" | "global-job";
  timeoutSeconds: number;
}

function requireCount(argument: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1))
    fail(argument, value, "Give a whole number of 1 or more.");
}

function validate(name: string, args: SwarmJobArgs): Validated {
  if (!args || !args.cluster)
    fail("cluster", args?.cluster, "Pass the SwarmCluster (or a SwarmClusterLike) to run the job on.");
  if (!args.cluster.managerHost?.connection)
    fail("cluster.managerHost", "no connection", "The cluster must expose the manager's SSH connection.");
  const jobName = args.jobName ?? name;
  requireSwarmName("jobName", jobName);
  const mode = args.mode ?? "replicated-job";
  if (mode !== "replicated-job" && mode !== "global-job")
    fail("mode", mode, 'Use "replicated-job" or "global-job" (a long-running service is a SwarmService).');
  if (args.image === undefined || args.image === "") fail("image", args.image, "Give the image to run.");
  requireCount("completions", args.completions);
  requireCount("maxConcurrent", args.maxConcurrent);
  if (mode === "global-job" && (args.completions !== undefined || args.maxConcurrent !== undefined))
    fail(
      args.completions !== undefined ? "completions" : "maxConcurrent",
      args.completions ?? args.maxConcurrent,
      'A global job runs once on every eligible node; use mode "replicated-job" to set completions.',
    );
  requireEnvNames("env", args.env ?? {});
  (args.configs ?? []).forEach((c, i) => {
    if (typeof c.target !== "string" || !c.target.startsWith("/") || c.target.split("/").includes(".."))
      fail(`configs[${i}].target`, c.target, 'Give an absolute path without "..", e.g. "/etc/app.conf".');
  });
  (args.secrets ?? []).forEach((s, i) => {
    if (s.target !== undefined && (s.target === "" || s.target.split("/").includes("..")))
      fail(`secrets[${i}].target`, s.target, 'Give a file name without "..", e.g. "db-password".');
  });
  const timeoutSeconds = args.timeoutSeconds ?? 300;
  // Render once with placeholders: a bad name, timeout or command fails before anything exists.
  renderJobRunScript({ jobName, mode, image: "x", timeoutSeconds, command: undefined, args: undefined });
  return { jobName, mode, timeoutSeconds };
}

const nameOf = (ref: SwarmObjectRef): pulumi.Input<string> =>
  typeof ref === "object" && ref !== null && "name" in ref ? ref.name : (ref as pulumi.Input<string>);

/**
 * A swarm job (`replicated-job` / `global-job`, Docker 20.10+): one-off work such as creating a Redis
 * cluster or seeding a database, declared like any resource. It runs when its spec (image, command,
 * networks, env, secrets, triggers...) changes, not on every `up`; `up` waits for it to finish and
 * fails with the task's error when it fails. @pulumi/docker 5.x has no job modes, so the job is
 * driven with the Docker CLI on a manager over SSH; the finished job stays listed (its logs readable)
 * until the next run removes it.
 */
export class SwarmJob extends pulumi.ComponentResource {
  /** The job's service name. */
  readonly jobName: pulumi.Output<string>;
  /** What the job's tasks printed on the last run (secret with `secretOutput`). */
  readonly output: pulumi.Output<string>;
  /** The remote command that runs and removes the job. */
  readonly command: remote.Command;

  constructor(name: string, args: SwarmJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.SwarmJob.type;
    const v = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("SwarmJob", opts));

    const script = pulumi
      .all([
        args.image,
        pulumi.all(args.command ?? []),
        pulumi.all(args.args ?? []),
        pulumi.all(
          (args.networks ?? []).map((n) => (typeof n === "object" && "networkName" in n ? n.networkName : n)),
        ),
        pulumi.all((args.secrets ?? []).map((s) => nameOf(s.secret))),
        pulumi.all((args.configs ?? []).map((c) => nameOf(c.config))),
      ])
      .apply(([image, command, jobArgs, networks, secretNames, configNames]) => {
        const options: JobScriptOptions = {
          jobName: v.jobName,
          mode: v.mode,
          image,
          command: args.command ? command : undefined,
          args: args.args ? jobArgs : undefined,
          completions: args.completions,
          maxConcurrent: args.maxConcurrent,
          networks,
          secrets: (args.secrets ?? []).map((s, i) => ({
            source: secretNames[i],
            target: s.target ?? secretNames[i],
          })),
          configs: (args.configs ?? []).map((c, i) => ({ source: configNames[i], target: c.target })),
          constraints: args.constraints,
          envNames: Object.keys(args.env ?? {}),
          timeoutSeconds: v.timeoutSeconds,
        };
        return renderJobRunScript(options);
      });
    // Triggers travel as a digest line after the environment: a change is an update that re-runs.
    const stdin = pulumi
      .all([pulumi.output(args.env ?? {}), pulumi.all(args.triggers ?? [])])
      .apply(([env, triggers]) => {
        const digest = crypto.createHash("sha256").update(JSON.stringify(triggers)).digest("hex");
        return `${jobStdin(env as Record<string, string>)}triggers ${digest}\n`;
      });
    const manager = args.cluster.managerHost;
    this.command = new remote.Command(
      `${name}-job`,
      {
        connection: manager.connection,
        create: script,
        update: script,
        delete: renderJobRemoveScript(v.jobName),
        stdin,
        logging: args.secretOutput ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        // What the job works on (opts.dependsOn, e.g. the services it configures) must exist first.
        dependsOn: pulumi
          .output(opts?.dependsOn ?? [])
          .apply((deps) => [
            ...(args.cluster.ready ?? [args.cluster.provider]),
            ...(manager.dependsOn ?? []),
            ...(Array.isArray(deps) ? deps : [deps]),
          ]),
        // A new job name is a new job: remove the old one's listing first.
        replaceOnChanges: ["delete"],
        deleteBeforeReplace: true,
        ...(args.secretOutput ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
      },
    );
    this.jobName = pulumi.output(v.jobName);
    this.output = args.secretOutput ? pulumi.secret(this.command.stdout) : this.command.stdout;
    this.registerOutputs({ jobName: this.jobName, output: this.output });
  }
}
