import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import type { SwarmHost } from "../hosts/types";
import { fail, isKnown, requireBoolean, requireDnsLabel, validateComponentArgs } from "../validation";
import { requireEnvNames } from "../workloads/composeEnv";
import {
  composeHostStdin,
  renderComposeDownScript,
  renderComposeUpScript,
  requireProjectDirectory,
  requireProjectName,
} from "./scripts/composeHost";
import { asRemoteCommand } from "../shell";
import { TOKENS, withTokenAliases } from "../tokens";
import { readComposeSource } from "../workloads/composeSource";
import { HostKeyOptions, pinHostKeys, validateHostKeyArgs } from "../ssh/hostKeys";

const TYPE = TOKENS.ComposeHost.type;

/** Arguments of {@link ComposeHost} (with `hostKeys` and `acceptHostKeys`, as on the SwarmCluster). */
export interface ComposeHostArgs extends HostKeyOptions {
  /** The host (outside the swarm or not) that runs the project, e.g. from `existingHosts`. Required. */
  host: SwarmHost;
  /** Compose project name (lowercase letters, digits, '-', '_'). Default: the component name. */
  projectName?: string;
  /** Path of a compose file on the machine running Pulumi, read at construction. Give this or `composeContent`. */
  composeFile?: string;
  /** Compose file content. Give this or `composeFile`. */
  composeContent?: pulumi.Input<string>;
  /**
   * Variables the compose file interpolates (`${DB_PASSWORD}`). Sent on stdin, kept in a mode 0600
   * file on the host, read only by the compose process; when given, the command's stdin and output
   * are kept secret. Names that steer the shell, the loader or the Docker CLI (PATH, HOME, DOCKER_*,
   * LD_*...) are refused. Default: none.
   */
  environment?: Record<string, pulumi.Input<string>>;
  /** Directory on the host for compose.yaml and the environment file (mode 0700). Default: "/srv/pulumi-swarm/compose/<projectName>". */
  directory?: string;
  /** Remove the project's named volumes when the component is deleted (`down --volumes`). Default: false (data is kept). */
  removeVolumesOnDelete?: boolean;
}

interface Validated {
  project: string;
  directory: string;
  content: pulumi.Input<string>;
}

function validate(name: string, args: ComposeHostArgs): Validated {
  if (!args || !args.host?.connection) {
    fail("host", args?.host, "Pass the SwarmHost to run the project on (it needs a `connection`).");
  }
  requireDnsLabel("host.name", args.host.name);
  const project = args.projectName ?? name;
  requireProjectName("projectName", project);
  const directory = args.directory ?? `/srv/pulumi-swarm/compose/${project}`;
  requireProjectDirectory("directory", directory);
  const content = readComposeSource(args);
  if (isKnown(content) && !/^services:/m.test(content)) {
    fail(
      args.composeFile !== undefined ? "composeFile" : "composeContent",
      args.composeFile ?? "content without a top-level services: key",
      "A compose file needs a top-level `services:` key.",
    );
  }
  requireEnvNames("environment", args.environment ?? {});
  requireBoolean("removeVolumesOnDelete", args.removeVolumesOnDelete);
  validateHostKeyArgs(args, [args.host], "ComposeHost");
  return { project, directory, content };
}

/**
 * A compose project on one host, for servers outside the swarm (a deploy target, single-host
 * monitoring, tools): `docker compose up -d` (or Debian's `docker-compose`) over SSH, re-run when the
 * file or its environment changes (containers whose configuration did not change stay as they are),
 * `down` on delete. Secrets in `environment` travel on stdin and never enter the script's own shell.
 */
export class ComposeHost extends pulumi.ComponentResource {
  /** Compose project name. */
  readonly projectName: pulumi.Output<string>;
  /** Directory of the project's files on the host. */
  readonly directory: pulumi.Output<string>;
  /** Output of the last `up` (secret when `environment` is given). */
  readonly deployOutput: pulumi.Output<string>;
  /** The remote command that deploys and removes the project. */
  readonly command: remote.Command;

  constructor(name: string, args: ComposeHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const { project, directory, content } = validateComponentArgs(TYPE, name, () => validate(name, args));
    super(TYPE, name, {}, withTokenAliases("ComposeHost", opts));
    // The command reaches the host through its pinned key (ssh/hostKeys.ts), after the pin.
    const [host] = pinHostKeys({ component: "ComposeHost", name, parent: this }, [args.host], args);

    const hasEnv = Object.keys(args.environment ?? {}).length > 0;
    const stdin = pulumi
      .all([content, pulumi.output(args.environment ?? {})])
      .apply(([compose, env]) => composeHostStdin(compose, env as Record<string, string>));
    const up = asRemoteCommand(renderComposeUpScript({ project, directory }), { root: true });
    this.command = new remote.Command(
      `${name}-compose`,
      {
        connection: host.connection,
        create: up,
        update: up,
        delete: asRemoteCommand(
          renderComposeDownScript({ project, directory, removeVolumes: args.removeVolumesOnDelete ?? false }),
          { root: true },
        ),
        stdin: hasEnv ? pulumi.secret(stdin) : stdin,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: host.dependsOn,
        // A new project name or directory is a new project: bring the old one down first (both
        // would publish the same ports).
        replaceOnChanges: ["delete"],
        deleteBeforeReplace: true,
        ...(hasEnv ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
      },
    );
    this.projectName = pulumi.output(project);
    this.directory = pulumi.output(directory);
    this.deployOutput = hasEnv ? pulumi.secret(this.command.stderr) : this.command.stderr;
    this.registerOutputs({
      projectName: this.projectName,
      directory: this.directory,
      deployOutput: this.deployOutput,
    });
  }
}
