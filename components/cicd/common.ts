import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as remote from "@pulumi/command/remote";
import { SwarmHost } from "../hosts/types";
import { checkedLate, type CheckOwner } from "../validation";
import { DataDir, HealthCheck, renderDeployScript, renderRemoveScript } from "./scripts/deploy";
import { CicdTool, HostRequirements, renderPreflightScript } from "./scripts/preflight";
import { asRemoteCommand } from "../shell";
import {
  HostSize,
  PasswordRule,
  RequirementsOverride,
  checkedPassword,
  requireAddress,
  requireDataDir,
  requireHost,
  requireImageTag,
  requireSeconds,
  resolveRequirements,
} from "./validate";
import { IMAGES, PINNED_VERSIONS, imageRef } from "./versions";
import { HostKeyOptions, pinHostKeys, validateHostKeyArgs } from "../ssh/hostKeys";

/** Arguments every delivery-platform host takes (with `hostKeys` and `acceptHostKeys`, as on the SwarmCluster). */
export interface CicdHostCommonArgs extends HostKeyOptions {
  /** The host the tool runs on (usually its own VM from `AwsHosts`, `AlicloudHosts` or `existingHosts`). Required. */
  host: SwarmHost;
  /**
   * Address users, pipelines and swarm nodes reach the tool on (IPv4 or DNS name; it goes into
   * URLs and certificates). Default: the host's SSH address (`host.connection.host`).
   */
  address?: pulumi.Input<string>;
  /** Base directory of the tool's persistent data and its deploy files on the host. Default: "/srv/pulumi-swarm/<tool>". */
  dataDir?: string;
  /** Seconds `pulumi up` waits for the tool's health endpoint before failing. Default: per tool (see the docs). */
  healthTimeoutSeconds?: number;
  /** Raise the preflight minimums (CPUs, memory GiB, free disk GiB); they cannot go below the tool's floor. Default: the floor. */
  requirements?: RequirementsOverride;
  /** The host's size if you know it (e.g. from the instance type): a host below the minimums fails before anything is created. Default: unknown, checked on the host only. */
  hostSize?: HostSize;
}

/** A port the tool needs open in the host's cloud firewall; spread it into `servicePorts` with your CIDRs. */
export interface CicdPort {
  /** Port number. */
  port: number;
  /** Always "tcp". */
  protocol: "tcp";
  /** What the port is for. */
  description: string;
}

/** The validated common arguments. */
export interface CommonPlan {
  host: SwarmHost;
  address: pulumi.Input<string>;
  dataDir: string;
  healthTimeoutSeconds: number;
  requirements: HostRequirements;
}

/** Validates the common arguments (throws a ValidationError) and applies the defaults. */
export function planCommon(
  tool: CicdTool,
  args: CicdHostCommonArgs,
  defaultHealthTimeoutSeconds: number,
): CommonPlan {
  const host = requireHost(args.host);
  requireAddress("address", args.address);
  const dataDir = args.dataDir ?? `/srv/pulumi-swarm/${tool.toLowerCase()}`;
  requireDataDir("dataDir", dataDir);
  const healthTimeoutSeconds = args.healthTimeoutSeconds ?? defaultHealthTimeoutSeconds;
  requireSeconds("healthTimeoutSeconds", healthTimeoutSeconds, 10, 7200);
  return {
    host,
    address: args.address ?? host.connection.host,
    dataDir,
    healthTimeoutSeconds,
    requirements: resolveRequirements(tool, args.requirements, args.hostSize),
  };
}

/** The component's type name in messages and pins ("GitLabHost") from its type token. */
export const componentOf = (type: string): string => type.split(":").pop() ?? type;

/**
 * `hostKeys` and `acceptHostKeys` of a delivery-platform component against the hosts it reaches
 * (its own host, and e.g. JenkinsHost's `authorizeOn`); throws a ValidationError.
 */
export function planHostKeys(type: string, args: HostKeyOptions, hosts: SwarmHost[]): void {
  validateHostKeyArgs(args, hosts, componentOf(type));
}

/**
 * The plan with its host's SSH key pinned (ssh/hostKeys.ts): every command built from the plan
 * reaches the host with the pinned key and only after the pin checked it.
 */
export function withPinnedHost<P extends CommonPlan>(
  parent: pulumi.Resource,
  type: string,
  name: string,
  plan: P,
  args: HostKeyOptions,
): P {
  const [host] = pinHostKeys({ component: componentOf(type), name, parent }, [plan.host], args);
  return { ...plan, host };
}

/** The image of `tool`: the given tag (checked) or the pinned one, as "repository:tag". */
export function plannedImage(
  argument: string,
  version: string | undefined,
  tool: keyof typeof IMAGES,
): string {
  const tag = version ?? PINNED_VERSIONS[tool];
  requireImageTag(argument, tag);
  return imageRef(IMAGES[tool], tag);
}

/**
 * Resolves an address Output, refusing a malformed or loopback one (it goes into URLs, YAML and
 * certificates) with the `pulumi.ResourceError` of `owner`, the tool's component.
 */
export function checkedAddress(address: pulumi.Input<string>, owner: CheckOwner): pulumi.Output<string> {
  return pulumi.output(address).apply((value) =>
    checkedLate(owner, () => {
      requireAddress("address", value);
      return value;
    }),
  );
}

/**
 * The admin password: the given one (checked against the tool's rule, made secret) or a
 * generated one. Generated passwords use letters, digits and "-_." only, which every file format
 * the platform writes takes literally.
 */
export function adminPassword(
  parent: pulumi.Resource,
  name: string,
  argument: string,
  given: pulumi.Input<string> | undefined,
  rule: PasswordRule,
  owner?: CheckOwner,
): pulumi.Output<string> {
  if (given !== undefined) return checkedPassword(argument, given, rule, owner);
  return pulumi.secret(generatedSecret(parent, `${name}-admin-password`, true));
}

/** A random secret for internal use (database passwords), letters and digits only. */
export function generatedSecret(
  parent: pulumi.Resource,
  resourceName: string,
  special = false,
): pulumi.Output<string> {
  const password = new random.RandomPassword(
    resourceName,
    special
      ? {
          length: 24,
          special: true,
          overrideSpecial: "-_.",
          minUpper: 2,
          minLower: 2,
          minNumeric: 2,
          minSpecial: 2,
        }
      : { length: 32, special: false, minUpper: 2, minLower: 2, minNumeric: 2 },
    { parent },
  );
  return pulumi.secret(password.result);
}

/** Runs the preflight script on the host before anything else touches it. */
export function preflightCommand(
  parent: pulumi.Resource,
  name: string,
  tool: CicdTool,
  plan: CommonPlan,
): remote.Command {
  const script = renderPreflightScript({
    hostName: plan.host.name,
    tool,
    dataDir: plan.dataDir,
    requirements: plan.requirements,
  });
  return new remote.Command(
    `${name}-preflight`,
    {
      connection: plan.host.connection,
      create: asRemoteCommand(script, { root: true }),
      update: asRemoteCommand(script, { root: true }),
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: plan.host.dependsOn },
  );
}

/** What {@link hostCommand} runs. */
export interface HostCommandArgs {
  create: pulumi.Input<string>;
  /** Run on update too (idempotent scripts). Default: true. */
  updateToo?: boolean;
  delete?: pulumi.Input<string>;
  /** Standard input; always made secret (it carries passwords, keys and env files). */
  stdin?: pulumi.Input<string>;
  /** The command prints a secret: no logging, stdout and stderr secret. */
  printsSecret?: boolean;
}

/**
 * A remote command on the tool's host. Replacement deletes first: a create-before-delete would let
 * the old resource's delete undo what the new one just did (same paths, same compose project).
 */
export function hostCommand(
  parent: pulumi.Resource,
  resourceName: string,
  host: SwarmHost,
  args: HostCommandArgs,
  dependsOn: pulumi.Resource[],
): remote.Command {
  return new remote.Command(
    resourceName,
    {
      connection: host.connection,
      create: args.create,
      ...(args.updateToo === false ? {} : { update: args.create }),
      ...(args.delete !== undefined ? { delete: args.delete } : {}),
      ...(args.stdin !== undefined ? { stdin: pulumi.secret(args.stdin) } : {}),
      ...(args.printsSecret ? { logging: "none" as const } : {}),
      addPreviousOutputInEnv: false,
    },
    {
      parent,
      dependsOn: [...(host.dependsOn ?? []), ...dependsOn],
      deleteBeforeReplace: true,
      ...(args.printsSecret ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
    },
  );
}

/** An Output of `value` that resolves only once `resource` exists, so consumers wait for the deploy. */
export function whenDone(
  resource: pulumi.CustomResource,
  value: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.all([resource.id, value]).apply(([, resolved]) => resolved);
}

/** The tool's web URL, "http://<address>:<port>", resolving once `deploy` exists. */
export function webUrl(
  deploy: pulumi.CustomResource,
  address: pulumi.Input<string>,
  port: number,
  owner: CheckOwner,
): pulumi.Output<string> {
  return whenDone(
    deploy,
    checkedAddress(address, owner).apply((a) => `http://${a}:${port}`),
  );
}

/** What {@link composeDeployCommand} deploys: one compose project, its files sent on standard input. */
export interface ComposeDeploy {
  /** Tool name, shown in every message. */
  tool: CicdTool;
  /** Compose project name. */
  project: string;
  /** Names of the files in `stdin`; must include "compose.yaml". */
  files: string[];
  /** The bundle of `files` (see renderBundle); made secret. */
  stdin: pulumi.Input<string>;
  /** Persistent data directories. */
  dataDirs: DataDir[];
  /** Tool-specific shell run after the files arrive and before `up`. Default: none. */
  preUp?: string;
  /** Health endpoint to wait for; the timeout is the plan's `healthTimeoutSeconds`. */
  health: Omit<HealthCheck, "timeoutSeconds">;
}

/**
 * The tool's compose deployment from `<dataDir>/deploy`, after the preflight: deployed (and
 * waited for) on create and update, brought down on delete with its data directories kept.
 */
export function composeDeployCommand(
  parent: pulumi.Resource,
  name: string,
  plan: CommonPlan,
  deploy: ComposeDeploy,
  preflight: remote.Command,
): remote.Command {
  const configDir = `${plan.dataDir}/deploy`;
  const target = { hostName: plan.host.name, tool: deploy.tool, project: deploy.project, configDir };
  return hostCommand(
    parent,
    `${name}-deploy`,
    plan.host,
    {
      create: asRemoteCommand(
        renderDeployScript({
          ...target,
          files: deploy.files,
          dataDirs: deploy.dataDirs,
          preUp: deploy.preUp,
          health: { ...deploy.health, timeoutSeconds: plan.healthTimeoutSeconds },
        }),
        { root: true },
      ),
      delete: asRemoteCommand(renderRemoveScript(target), { root: true }),
      stdin: deploy.stdin,
    },
    [preflight],
  );
}
