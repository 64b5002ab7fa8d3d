import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { SwarmHost } from "../hosts/types";
import { fail, requireDnsLabel, validateComponentArgs } from "../validation";
import {
  DeployTargetArgs,
  gatePath,
  renderAuthorizeGateScript,
  renderRevokeGateScript,
  requireDeployTargets,
  resolvedTargets,
} from "./scripts/deployGate";
import { asRemoteCommand } from "../shell";
import { TOKENS, withTokenAliases } from "../tokens";
import { HostKeyOptions, pinHostKeys, validateHostKeyArgs } from "../ssh/hostKeys";

const TYPE = TOKENS.DeployKey.type;

/** Arguments of {@link DeployKey} (with `hostKeys` and `acceptHostKeys`, as on the SwarmCluster). */
export interface DeployKeyArgs extends HostKeyOptions {
  /**
   * Swarm managers on which the key is authorized, for the SSH user of each host's connection
   * (that user must be allowed to use Docker there). Give the cluster's own hosts
   * (`SwarmCluster.managerHost`, or managers from `SwarmCluster.hosts`): they come with the
   * cluster's host key pins and are not pinned again; other hosts are pinned here. Required, non-empty.
   */
  managers: SwarmHost[];
  /** The pipeline's OpenSSH public key ("ssh-ed25519 AAAA..."), e.g. `JenkinsHost.deployPublicKey`. Required. */
  publicKey: pulumi.Input<string>;
  /** The services the key may roll, each with the one image repository it may roll it to. Required, non-empty. */
  targets: DeployTargetArgs[];
}

/** Validates the managers of a deploy key (names unique DNS labels). */
export function requireManagers(argument: string, managers: SwarmHost[], allowEmpty: boolean): void {
  if (!Array.isArray(managers) || (!allowEmpty && managers.length === 0)) {
    fail(argument, managers, "Pass a list of SwarmHosts (swarm managers).");
  }
  const seen = new Set<string>();
  managers.forEach((host, index) => {
    requireDnsLabel(`${argument}[${index}].name`, host?.name);
    if (seen.has(host.name)) fail(`${argument}[${index}].name`, host.name, "List each manager once.");
    seen.add(host.name);
  });
}

/**
 * Authorizes `publicKey` on one manager behind the deploy gate (see deployGate.ts), as the SSH user
 * of its connection; deleting it removes the key line and the gate. A change of targets rewrites
 * the gate in place.
 */
export function authorizeGatedKey(
  parent: pulumi.Resource,
  resourceName: string,
  manager: SwarmHost,
  publicKey: pulumi.Input<string>,
  marker: string,
  targets: DeployTargetArgs[],
  argument: string,
): remote.Command {
  const create = resolvedTargets(argument, targets).apply((resolved) =>
    asRemoteCommand(renderAuthorizeGateScript(manager.name, marker, resolved)),
  );
  return new remote.Command(
    resourceName,
    {
      connection: manager.connection,
      create,
      update: create,
      delete: asRemoteCommand(renderRevokeGateScript(manager.name, marker)),
      // Public, but kept out of logs like every stdin of the platform.
      stdin: pulumi.secret(pulumi.output(publicKey).apply((k) => `${k.trim()}\n`)),
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: manager.dependsOn, deleteBeforeReplace: true },
  );
}

/**
 * A pipeline's SSH key on swarm managers that can do one thing only: `docker service update
 * --image <repository>:<tag>|@<digest> <service>` for the listed services and repositories. The
 * key is authorized with `restrict,command="<gate>"`; the gate refuses any other command (a shell,
 * other docker commands, other services, other repositories, extra options) with a clear message.
 */
export class DeployKey extends pulumi.ComponentResource {
  /** Comment that marks the key's line in authorized_keys: "pulumi-swarm-deploy-<name>". */
  readonly marker: string;
  /** Path of the gate relative to the SSH user's home on each manager. */
  readonly gatePath: string;
  /** Names of the managers the key is authorized on. */
  readonly managerNames: string[];

  constructor(name: string, args: DeployKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    validateComponentArgs(TYPE, name, () => {
      requireManagers("managers", args?.managers, false);
      if (args.publicKey === undefined)
        fail("publicKey", undefined, "Give the pipeline's OpenSSH public key.");
      requireDeployTargets("targets", args.targets);
      validateHostKeyArgs(args, args.managers, "DeployKey");
    });
    super(TYPE, name, {}, withTokenAliases("DeployKey", opts));
    this.marker = `pulumi-swarm-deploy-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
    this.gatePath = gatePath(this.marker);
    this.managerNames = args.managers.map((m) => m.name);
    const managers = pinHostKeys({ component: "DeployKey", name, parent: this }, args.managers, args);
    for (const manager of managers) {
      authorizeGatedKey(
        this,
        `${name}-${manager.name}`,
        manager,
        args.publicKey,
        this.marker,
        args.targets,
        "targets",
      );
    }
    this.registerOutputs({ marker: this.marker, gatePath: this.gatePath, managerNames: this.managerNames });
  }
}
