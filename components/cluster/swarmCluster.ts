import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { remote } from "@pulumi/command";
import { SwarmHost } from "../hosts/types";
import { resolveClusterNetwork } from "../hosts/clusterNetwork";
import { CheckOwner, checkedInput, componentError, InputCheck, validateComponentArgs } from "../validation";
import { SwarmClusterArgs } from "./args";
import { claimFor } from "./claims";
import { dockerProviderConnection } from "./dockerSsh";
import { NodeAvailability, NodeRole, SwarmClusterLike, SwarmNodeArgs } from "./types";
import {
  normalizeCertExpiry,
  plainLabels,
  requireNodeAdvertiseAddr,
  requireNodeLabels,
  validateInsecureRegistry,
  validateNodes,
  validateRegistryMirror,
  validateHostKeyArgs,
  validateSwarmSettings,
} from "./validate";
import { pinHostKeys } from "../ssh/hostKeys";
import { asRemoteCommand, withRerunMarker } from "../shell";
import { renderPrepareScript } from "./scripts/prepare";
import { renderInitScript } from "./scripts/init";
import { renderJoinScript, renderLeaveScript } from "./scripts/join";
import { renderDeregisterScript } from "./scripts/node";
import { SwarmNodeState } from "./nodeState";
import { TOKENS, withTokenAliases } from "../tokens";
import { SwarmState } from "./swarmState";
import { validateDay2Args } from "./validateDay2";

const TYPE = TOKENS.SwarmCluster.type;

/**
 * A node's labels as its state resource takes them: known now (validateNodes checked them), or,
 * when they are or hold Outputs, resolved and held to the same rule before the node takes them.
 */
function checkedLabels(
  argument: string,
  labels: SwarmNodeArgs["labels"],
  owner: CheckOwner,
): pulumi.Input<Record<string, string>> {
  if (plainLabels(labels)) return labels ?? {};
  return checkedInput(
    argument,
    pulumi.output(labels) as pulumi.Output<Record<string, string>>,
    requireNodeLabels,
    owner,
  );
}

/** What `swarm init` printed on the first manager (all of it secret). */
interface InitResult {
  clusterId: string;
  nodeId: string;
  workerToken: string;
  managerToken: string;
  unlockKey: string;
  /** The swarm's certificate expiry, CA fingerprint and the host's time (epoch seconds) when printed. */
  certExpiry?: string;
  caFingerprint?: string;
  printedAt?: number;
}

/**
 * A Docker Swarm built over SSH on any hosts: Docker installed where missing, daemon options
 * merged, host firewalls opened to members only, `swarm init` on the first manager, managers
 * joined one at a time, workers in parallel, labels and availability applied by node id, and
 * nodes taken out of the config drained, demoted and removed without losing quorum.
 */
export class SwarmCluster extends pulumi.ComponentResource implements SwarmClusterLike {
  /** Token that joins a node as a manager (secret). */
  readonly managerJoinToken: pulumi.Output<string>;
  /** Token that joins a node as a worker (secret). */
  readonly workerJoinToken: pulumi.Output<string>;
  /** Key that unlocks a restarted manager when autolock is on, "" otherwise (secret). */
  readonly unlockKey: pulumi.Output<string>;
  /** The swarm's cluster id. */
  readonly clusterId: pulumi.Output<string>;
  /** SHA-256 of the swarm's root CA certificate (PEM): changes when `rotations.caGeneration` is raised. */
  readonly caFingerprint: pulumi.Output<string>;
  /** The first manager's swarm endpoint, "ip:2377". */
  readonly managerAddress: pulumi.Output<string>;
  /** Swarm node id of every host, by host name. */
  readonly nodeIds: pulumi.Output<Record<string, string>>;
  private readonly dockerProvider?: docker.Provider;
  /** The manager the cluster is administered through (for `docker stack deploy` and the like). */
  readonly managerHost: SwarmHost;
  /**
   * The nodes' hosts in config order, with their pinned host keys and the pins in `dependsOn`:
   * give these (or `managerHost`) to components that act on the nodes (`RegistryTrust`,
   * `DeployKey`, `JenkinsHost.authorizeOn`), which then use these pins instead of pinning again.
   */
  readonly hosts: SwarmHost[];
  /** Names of the manager hosts, in config order. */
  readonly managerNames: string[];
  /** True when nodes advertise addresses in different networks (overlays default to encrypted). */
  readonly spansNetworks: boolean;
  /** The VXLAN data path port (services must not publish it). */
  readonly dataPathPort: number;

  /** `@pulumi/docker` provider talking to the first manager over `ssh://`, ready once every node is in place. */
  get provider(): docker.Provider {
    if (!this.dockerProvider) {
      throw new pulumi.ResourceError(
        `${TYPE} "${this.clusterName}": provider was not created (dockerProvider: false); remove that argument to use Docker resources on this cluster`,
        this,
        true,
      );
    }
    return this.dockerProvider;
  }
  /** When every node is configured: each node's state resource, for `dependsOn`. */
  readonly ready: pulumi.Resource[];
  private readonly clusterName: string;

  constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const owner: CheckOwner = { type: TYPE, name };
    const { certExpiry, network, generations } = validateComponentArgs(TYPE, name, () => {
      validateNodes(args.nodes, args.allowEvenManagers ?? false);
      validateSwarmSettings(args);
      validateHostKeyArgs(args);
      return {
        certExpiry: normalizeCertExpiry("certExpiry", args.certExpiry ?? "2160h"),
        network: resolveClusterNetwork(args),
        generations: validateDay2Args(args, args.nodes),
      };
    });
    super(TYPE, name, {}, withTokenAliases("SwarmCluster", opts));
    owner.resource = this;
    this.clusterName = name;

    // Host keys pinned in state (ssh/hostKeys.ts): every connection below takes the pinned keys
    // (host and bastion), so nothing reaches a host before its pins checked the keys presented.
    const pinned = pinHostKeys(
      { component: "SwarmCluster", name, parent: this },
      args.nodes.map((node) => node.host),
      args,
    );
    // An advertiseAddr given as an Output is held to validateNodes' rule when it resolves; every
    // script below takes the checked value, so none runs with a bad one.
    const nodes: SwarmNodeArgs[] = args.nodes.map((node, i) => ({
      ...node,
      host: {
        ...pinned[i],
        advertiseAddr: checkedInput(
          `nodes[${i}].host.advertiseAddr`,
          node.host.advertiseAddr,
          requireNodeAdvertiseAddr,
          owner,
        ),
      },
    }));
    const managers = nodes.filter((n) => n.role === "manager");
    const workers = nodes.filter((n) => n.role === "worker");
    const first = managers[0];
    const { dataPathPort, spansNetworks } = network;
    const reconcile = args.reconcile ?? "";
    const hostDeps = (host: SwarmHost) => host.dependsOn ?? [];
    // The manager that acts on a node: the first manager, or the second for the first one itself,
    // so removing the first manager is carried out from another one.
    const adminOf = (node: SwarmNodeArgs) => managers.find((m) => m !== node) ?? first;
    const addrs = (list: SwarmNodeArgs[]) => pulumi.all(list.map((n) => n.host.advertiseAddr));
    const command = (
      resourceName: string,
      host: SwarmHost,
      commandArgs: Omit<remote.CommandArgs, "connection">,
      options: pulumi.CustomResourceOptions = {},
    ) =>
      new remote.Command(
        resourceName,
        // No PULUMI_COMMAND_STDOUT/_STDERR in the environment: nothing reads them, and sshd drops
        // them anyway (AcceptEnv), which the provider reports as a warning on every run.
        { connection: host.connection, addPreviousOutputInEnv: false, ...commandArgs },
        {
          parent: this,
          ...options,
          dependsOn: [...hostDeps(host), ...((options.dependsOn as pulumi.Resource[]) ?? [])],
        },
      );

    // Registries may come from other resources (a Harbor's address): each is held to the same rule
    // when it resolves, before any daemon.json takes it.
    const checkedList = (argument: string, list: pulumi.Input<string>[], check: InputCheck<string>) =>
      pulumi.all(list.map((value, i) => checkedInput(`${argument}[${i}]`, value, check, owner)));
    const daemonConfig = pulumi
      .all([
        args.insecureRegistries &&
          checkedList("insecureRegistries", args.insecureRegistries, validateInsecureRegistry),
        args.registryMirrors && checkedList("registryMirrors", args.registryMirrors, validateRegistryMirror),
      ])
      .apply(([insecure, mirrors]) => ({
        ...(insecure !== undefined ? { "insecure-registries": insecure } : {}),
        ...(mirrors !== undefined ? { "registry-mirrors": mirrors } : {}),
      }));
    const prepareBody = (node: SwarmNodeArgs) =>
      pulumi.all([addrs(nodes.filter((n) => n !== node)), daemonConfig]).apply(([peers, daemonConfig]) =>
        renderPrepareScript({
          installDocker: args.installDocker ?? true,
          daemonConfig,
          hostFirewall: args.hostFirewall ?? "auto",
          peers,
          dataPathPort,
          allowEsp: spansNetworks,
        }),
      );
    // No `triggers` anywhere: a trigger change replaces a Command, and a replacement runs the old
    // one's delete (leave, drain). What should re-run a script goes into its text instead.
    const rerunWhen = (script: pulumi.Input<string>, values: pulumi.Input<string>[]) =>
      pulumi
        .all([script, ...values])
        .apply(([body, ...rest]) => asRemoteCommand(withRerunMarker(body, rest)));

    // Every host is readied in parallel: a prepare step only writes configuration, and a swarm
    // member's dockerd restart, when its configuration changed, waits for the node's membership
    // step (scripts/restart.ts). Managers' membership steps run one at a time (each dockerd restart
    // and each Raft membership change completes, unlocked, before the next); workers join alongside.
    const prepared = new Map<SwarmNodeArgs, remote.Command>();
    const joined = new Map<SwarmNodeArgs, remote.Command>();
    const prepare = (node: SwarmNodeArgs) => {
      const script = rerunWhen(prepareBody(node), [reconcile]);
      const cmd = command(`${name}-${node.host.name}-prepare`, node.host, { create: script, update: script });
      prepared.set(node, cmd);
      return cmd;
    };

    prepare(first);
    const init = command(
      `${name}-init`,
      first.host,
      {
        create: pulumi
          .all([first.host.advertiseAddr, addrs(managers.slice(1))])
          .apply(([advertiseAddr, otherManagers]) =>
            asRemoteCommand(
              renderInitScript({
                advertiseAddr,
                otherManagers,
                dataPathPort,
                defaultAddrPool: args.defaultAddrPool ?? [],
                defaultAddrPoolMaskLength: args.defaultAddrPoolMaskLength,
                certExpiry,
                autolock: args.autolock ?? false,
              }),
            ),
          ),
        logging: "none",
      },
      { dependsOn: [prepared.get(first)!], additionalSecretOutputs: ["stdout"] },
    );
    const initResult = pulumi.secret(init.stdout.apply((out) => parseInitResult(name, out, this)));

    // The swarm-wide state that changes on a running swarm (swarmState.ts): certificate expiry,
    // CA and join-token rotations, the quorum probe that stops a run before it makes a lost quorum
    // worse, and the explicit recovery. Joins and node resources take the CURRENT tokens from it,
    // so a node added after a rotation joins with the new token.
    const swarm = new SwarmState(
      `${name}-swarm`,
      {
        cluster: name,
        managers: managers.map((m) => ({
          host: m.host.name,
          advertiseAddr: m.host.advertiseAddr,
          connection: m.host.connection,
        })),
        certExpiry,
        generations,
        survivor: args.recoverQuorum?.survivor ?? "",
        secrets: initResult.apply((r) => ({ unlockKey: r.unlockKey, clusterId: r.clusterId })),
        initialTokens: initResult.apply((r) => ({ worker: r.workerToken, manager: r.managerToken })),
        initPrinted: initResult.apply((r) => ({
          certExpiry: r.certExpiry ?? "",
          caFingerprint: r.caFingerprint ?? "",
          at: r.printedAt ?? 0,
        })),
      },
      { parent: this, dependsOn: [init, ...managers.flatMap((m) => hostDeps(m.host))] },
    );
    const tokens = pulumi.secret(swarm.tokens);
    // After a recovery every node's settings are applied again (node ids of rejoined managers changed).
    const nodeReconcile = pulumi
      .output(reconcile)
      .apply((r) => (generations.recovery > 0 ? `${r}|quorum-recovery:${generations.recovery}` : r));

    const join = (node: SwarmNodeArgs, remoteManagers: SwarmNodeArgs[], after: pulumi.Resource[]) => {
      const admin = adminOf(node).host;
      const adminClaim = claimFor(name, node.host.name, admin.connection);
      const membershipClaim = claimFor(name, node.host.name, node.host.connection);
      const registration = command(
        `${name}-${node.host.name}-registration`,
        admin,
        {
          // No create: the record exists for its delete, and a create would only dial the admin
          // manager for nothing (the command provider runs no command and opens no SSH without one).
          delete: pulumi
            .all([node.host.advertiseAddr, adminClaim])
            .apply(([advertiseAddr, claim]) =>
              asRemoteCommand(renderDeregisterScript({ advertiseAddr, claim })),
            ),
        },
        { dependsOn: hostDeps(admin) },
      );
      const stdin = pulumi
        .all([initResult, tokens, node.host.advertiseAddr, addrs(remoteManagers)])
        .apply(([init, current, advertiseAddr, remotes]) => {
          const body = {
            ListenAddr: "0.0.0.0:2377",
            AdvertiseAddr: advertiseAddr,
            RemoteAddrs: remotes.map((addr) => `${addr}:2377`),
            JoinToken: node.role === "manager" ? current.manager : current.worker,
          };
          return `${JSON.stringify(body)}\n${init.unlockKey}\n${init.clusterId}\n`;
        });
      // Re-run (to unlock after a dockerd restart) when the host's preparation changed.
      const script = rerunWhen(
        membershipClaim.apply((claim) => renderJoinScript({ cluster: name, claim })),
        [prepareBody(node), reconcile],
      );
      const membership = command(
        `${name}-${node.host.name}-join`,
        node.host,
        {
          create: script,
          update: script,
          delete: membershipClaim.apply((claim) =>
            asRemoteCommand(renderLeaveScript({ cluster: name, claim })),
          ),
          stdin: pulumi.secret(stdin),
        },
        { dependsOn: [init, swarm, registration, ...after] },
      );
      joined.set(node, membership);
      return membership;
    };

    // What can drift on a node (membership, role, labels, availability, a manager's lock) is one
    // resource with a real read (nodeState.ts): refresh sees drift, preview shows it in these
    // words, up repairs it, and a manager that came back locked is unlocked by a plain up. Its
    // settings are applied from the node's admin manager, once both the node and that manager are in.
    // It keeps the name of the settings Command it replaces (`<cluster>-<host>-node`; the type
    // differs, so existing stacks create it and then delete the old Command, whose delete finds the
    // node claimed by the new resource and leaves it as it is: no node drains or leaves).
    const configure = (node: SwarmNodeArgs) => {
      const admin = adminOf(node);
      return new SwarmNodeState(
        `${name}-${node.host.name}-node`,
        {
          cluster: name,
          host: node.host.name,
          advertiseAddr: node.host.advertiseAddr,
          // validateNodes accepted only these words.
          role: node.role as NodeRole,
          labels: checkedLabels(`nodes[${nodes.indexOf(node)}].labels`, node.labels, owner),
          availability: (node.availability ?? "active") as NodeAvailability,
          connection: node.host.connection,
          adminConnection: admin.host.connection,
          joinAddrs: addrs(managers),
          secrets: pulumi.all([initResult, tokens]).apply(([init, current]) => ({
            joinToken: node.role === "manager" ? current.manager : current.worker,
            unlockKey: init.unlockKey,
            clusterId: init.clusterId,
          })),
          reconcile: nodeReconcile,
          joinedNodeId: joined.get(node)!.stdout.apply((out) => lastLine(out ?? "")),
        },
        {
          parent: this,
          dependsOn: [...hostDeps(node.host), ...hostDeps(admin.host), joined.get(node)!, joined.get(admin)!],
        },
      );
    };

    const firstJoined = join(first, [], [prepared.get(first)!]);
    let previous = firstJoined;
    managers.slice(1).forEach((manager, i) => {
      const ready = prepare(manager);
      previous = join(manager, managers.slice(0, i + 1), [ready, previous]);
    });
    // Workers do not wait for the other managers: a worker is no Raft member (its join changes no
    // quorum), and Docker joins through the first address of RemoteAddrs, the first manager, which
    // is in the swarm once its own membership step ran. So the workers join while the managers
    // still join one at a time, and their node settings (applied from the first manager) follow.
    for (const worker of workers) {
      const ready = prepare(worker);
      join(worker, managers, [ready, firstJoined]);
    }
    const configured = nodes.map(configure);

    this.managerJoinToken = pulumi.secret(tokens.apply((t) => t.manager));
    this.workerJoinToken = pulumi.secret(tokens.apply((t) => t.worker));
    this.unlockKey = pulumi.secret(initResult.apply((r) => r.unlockKey));
    this.clusterId = pulumi.unsecret(initResult.apply((r) => r.clusterId));
    this.caFingerprint = swarm.caFingerprint;
    this.managerAddress = pulumi.output(first.host.advertiseAddr).apply((addr) => `${addr}:2377`);
    // From the node resources: a node that left and joined again has a new id.
    this.nodeIds = pulumi
      .all(configured.map((n) => n.nodeId))
      .apply((ids) => Object.fromEntries(nodes.map((n, i) => [n.host.name, ids[i]])));
    this.ready = configured;
    this.managerHost = first.host;
    this.hosts = nodes.map((node) => node.host);
    this.managerNames = managers.map((m) => m.host.name);
    this.spansNetworks = spansNetworks;
    this.dataPathPort = dataPathPort;
    this.dockerProvider =
      (args.dockerProvider ?? true)
        ? new docker.Provider(
            `${name}-docker`,
            dockerProviderConnection(first.host.connection, args.dockerSshOpts ?? [], owner),
            { parent: this, dependsOn: configured },
          )
        : undefined;

    this.registerOutputs({
      managerJoinToken: this.managerJoinToken,
      workerJoinToken: this.workerJoinToken,
      unlockKey: this.unlockKey,
      clusterId: this.clusterId,
      caFingerprint: this.caFingerprint,
      managerAddress: this.managerAddress,
      nodeIds: this.nodeIds,
    });
  }
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

function parseInitResult(cluster: string, stdout: string, owner: pulumi.Resource): InitResult {
  try {
    const parsed = JSON.parse(lastLine(stdout)) as InitResult;
    if (!parsed.clusterId || !parsed.workerToken || !parsed.managerToken) throw new Error("missing fields");
    return parsed;
  } catch {
    // Never echo stdout: it holds the join tokens.
    throw componentError(
      { type: TYPE, name: cluster, resource: owner },
      "the first manager's init step printed no valid swarm summary",
    );
  }
}
