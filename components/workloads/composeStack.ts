import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import type { SwarmClusterLike } from "../cluster/types";
import {
  componentError,
  fail,
  isKnown,
  requireBoolean,
  validateComponentArgs,
  ValidationError,
} from "../validation";
import { requireSwarmName } from "./parse";
import { asRemoteCommand } from "../shell";
import { requireEnvNames } from "./composeEnv";
import { composeStdin, renderStackDeployScript, renderStackRemoveScript } from "./scripts/compose";
import { TOKENS, withTokenAliases } from "../tokens";
import { readComposeSource } from "./composeSource";
import { composePublishedPorts, requireComposePorts } from "./composePorts";

/** Arguments of a {@link ComposeStack}. */
export interface ComposeStackArgs {
  /** The swarm to deploy on; the stack is deployed over SSH on `cluster.managerHost`. */
  cluster: SwarmClusterLike;
  /** Stack name (prefix of its services and networks). Default: the component name. */
  stackName?: string;
  /** Path of a compose file on the machine running Pulumi, read at construction. Give this or `composeContent`. */
  composeFile?: string;
  /** Compose file content. Give this or `composeFile`. */
  composeContent?: pulumi.Input<string>;
  /**
   * Variables the compose file interpolates (`${DB_PASSWORD}`). Sent on stdin, never in a command
   * string; when given, the stdin and the command's output are kept secret. Default: none.
   */
  environment?: Record<string, pulumi.Input<string>>;
  /** Send the SSH user's registry credentials to the nodes (`--with-registry-auth`). Default: false. */
  withRegistryAuth?: boolean;
  /** Remove services that are no longer in the compose file (`--prune`). Default: true. */
  prune?: boolean;
  /** `--resolve-image`: "always", "changed" or "never". Default: Docker's ("always"). */
  resolveImage?: "always" | "changed" | "never";
  /** Wait until the services converge (`--detach=false`, Docker CLI 26+ on the manager). Default: true. */
  waitForConvergence?: boolean;
  /** With `waitForConvergence`, fail the deploy after this many seconds. Default: 300. */
  waitTimeoutSeconds?: number;
  /** Seconds `pulumi destroy` waits for the stack's services and networks to go. Default: 60. */
  removeTimeoutSeconds?: number;
}

/** The argument the compose file came in, for messages. */
const composeArgument = (args: ComposeStackArgs) =>
  args.composeFile !== undefined ? "composeFile" : "composeContent";

interface Validated {
  stackName: string;
  content: pulumi.Input<string>;
  /** The deploy script, rendered while validating so a bad timeout fails before anything exists. */
  deploy: string;
}

function validate(name: string, args: ComposeStackArgs): Validated {
  if (!args || !args.cluster)
    fail("cluster", args?.cluster, "Pass the SwarmCluster (or a SwarmClusterLike) to deploy on.");
  if (!args.cluster.managerHost?.connection) {
    fail("cluster.managerHost", "no connection", "The cluster must expose the manager's SSH connection.");
  }
  const stackName = args.stackName ?? name;
  requireSwarmName("stackName", stackName);
  const content = readComposeSource(args);
  if (isKnown(content)) {
    if (!/^services:/m.test(content)) {
      fail(
        args.composeFile !== undefined ? "composeFile" : "composeContent",
        args.composeFile ?? "content without a top-level services: key",
        "A compose file for `docker stack deploy` needs a top-level `services:` key.",
      );
    }
  }
  requireEnvNames("environment", args.environment ?? {});
  // Published ports: SwarmService's rule. Known now: checked now; else when content and
  // environment resolve, before the deploy command gets its stdin (see the constructor).
  const environment = args.environment ?? {};
  if (isKnown(content) && Object.values(environment).every((v) => isKnown(v))) {
    requireComposePorts(
      composeArgument(args),
      content,
      environment as Record<string, string>,
      args.cluster.dataPathPort,
    );
  }
  requireBoolean("withRegistryAuth", args.withRegistryAuth);
  requireBoolean("prune", args.prune);
  requireBoolean("waitForConvergence", args.waitForConvergence);
  if (args.resolveImage !== undefined && !["always", "changed", "never"].includes(args.resolveImage)) {
    fail("resolveImage", args.resolveImage, 'Use "always", "changed" or "never".');
  }
  // Render once here so a bad timeout fails before anything exists.
  renderStackRemoveScript(stackName, args.removeTimeoutSeconds ?? 60);
  const deploy = renderStackDeployScript({
    stackName,
    withRegistryAuth: args.withRegistryAuth ?? false,
    prune: args.prune ?? true,
    resolveImage: args.resolveImage,
    wait: args.waitForConvergence ?? true,
    waitTimeoutSeconds: args.waitTimeoutSeconds,
  });
  return { stackName, content, deploy };
}

/**
 * A compose file deployed with `docker stack deploy` on a manager over SSH, re-deployed when the file
 * or its environment changes, removed with `docker stack rm` on delete.
 */
export class ComposeStack extends pulumi.ComponentResource {
  /** Stack name. */
  readonly stackName: pulumi.Output<string>;
  /** Output of the last deploy (secret when `environment` is given). */
  readonly deployOutput: pulumi.Output<string>;
  /**
   * The ports the compose file publishes ("8080", "9000-9002"), after its variables are filled
   * in; it fails (and nothing is deployed) when one is reserved: 22, 2375-2377, 7946 or the
   * cluster's data path port, as in SwarmService.
   */
  readonly publishedPorts: pulumi.Output<string[]>;
  /** The remote command that deploys and removes the stack. */
  readonly command: remote.Command;

  constructor(name: string, args: ComposeStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.ComposeStack.type;
    const { stackName, content, deploy } = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("ComposeStack", opts));

    const hasEnv = Object.keys(args.environment ?? {}).length > 0;
    // The published ports, checked when content and environment resolve (known ones were checked
    // in validate); the deploy's stdin is made from the checked value, so a refused file never
    // reaches the manager.
    const checked = pulumi.all([content, pulumi.output(args.environment ?? {})]).apply(([compose, env]) => {
      const values = env as Record<string, string>;
      try {
        requireComposePorts(composeArgument(args), compose, values, args.cluster.dataPathPort);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        // An interpolated port may carry an environment value: never echo one (a value that is
        // only a port number is shown: it is what the message is about, not a credential).
        let message = err.message;
        for (const v of Object.values(values))
          if (v && !/^\d{1,5}$/.test(v)) message = message.split(v).join("(a secret value)");
        throw componentError({ type, name, resource: this }, message);
      }
      return {
        stdin: composeStdin(compose, values),
        ports: composePublishedPorts(composeArgument(args), compose, values).map((p) =>
          p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`,
        ),
      };
    });
    const stdin = checked.apply((c) => c.stdin);
    const manager = args.cluster.managerHost;

    this.command = new remote.Command(
      `${name}-stack`,
      {
        connection: manager.connection,
        create: asRemoteCommand(deploy),
        update: asRemoteCommand(deploy),
        delete: asRemoteCommand(renderStackRemoveScript(stackName, args.removeTimeoutSeconds ?? 60)),
        stdin: hasEnv ? pulumi.secret(stdin) : stdin,
        // No `triggers`: a trigger change replaces the Command (pulumi-command#855), which here
        // would `docker stack rm` the whole stack first. A new compose file or environment changes
        // `stdin`, an in-place update that re-deploys.
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: [...(args.cluster.ready ?? [args.cluster.provider]), ...(manager.dependsOn ?? [])],
        // No replaceOnChanges on `delete`: a library upgrade that changes the remove script's text
        // would then `docker stack rm` every running stack before deploying it again (seen in the
        // upgrade test). A new stackName is an in-place update that deploys the new stack; the old
        // one keeps running until `docker stack rm <old>` (README, Limits).
        ...(hasEnv ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
      },
    );
    this.stackName = pulumi.output(stackName);
    this.publishedPorts = checked.apply((c) => c.ports);
    // additionalSecretOutputs hides it in state; wrapping it here keeps it secret for consumers too.
    this.deployOutput = hasEnv ? pulumi.secret(this.command.stdout) : this.command.stdout;
    this.registerOutputs({
      stackName: this.stackName,
      deployOutput: this.deployOutput,
      publishedPorts: this.publishedPorts,
    });
  }
}
