/*
 * The dynamic provider behind SwarmNodeState: reads and repairs one swarm node over SSH.
 *
 * Pulumi serializes this object (its functions and everything they reference) into the state as
 * `__provider`; `read` and `delete` later run THAT copy, not the program's. So it captures no value
 * but code and constants: keys and tokens reach it only as (secret) inputs; the Node.js built-ins it
 * imports are serialized as `require`s.
 *
 * SSH goes through the system `ssh` client with the options dockerSsh.ts derives for the Docker
 * provider (the key as a 0600 file in a private directory, the pinned host key, the bastion as a
 * ProxyCommand): one tested way to reach a host for both, no new dependency, and an ssh2 Client
 * (which cannot be serialized) never has to live in the provider. Secrets travel on ssh's stdin
 * only (the script reads them on fd 3), never in a command line.
 *
 * Why a probe in `check`: a plain `pulumi up` never refreshes, and a manager that came back locked
 * after a dockerd restart has changed nothing Pulumi knows about. `check` asks each existing
 * manager (one `docker info` over SSH, when autolock is on) whether it is locked; when it is, it
 * adds `unlock: "..."` to the new inputs, so `pulumi preview` shows WHY the node is updated
 * (`+ unlock: "manager is locked ..."`) instead of an update without a visible change (what a probe
 * in `diff` would show: a dynamic provider's diff cannot say which property changed), and `up`
 * unlocks it with the key from state (on stdin). Everything else that drifts (labels, availability,
 * role, membership) is read by `read`, i.e. `pulumi refresh` / `up --refresh`, as Pulumi users
 * expect: a plain preview stays a comparison of config and state, plus this one cheap probe.
 */
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { NodeStateInputs, NodeStateOutputs, ResolvedConnection } from "./nodeState";
import { runOn } from "./sshRun";
import {
  LABEL_PREFIX,
  renderNodeDrainScript,
  renderNodeInspectScript,
  renderNodeMembershipScript,
  renderNodeSettingsScript,
  renderNodeStatusScript,
} from "./scripts/node";

/** The value the engine sends for an input that is not known yet (preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The properties a diff compares; a change in any of them is an in-place update (never a replace). */
const COMPARED = [
  "role",
  "labels",
  "availability",
  "membership",
  "locked",
  "advertiseAddr",
  "joinAddrs",
  "reconcile",
  "connection",
  "adminConnection",
  "secrets",
] as const;

/** The claim the node resource writes on its node (label `pulumi-swarm.claim`); see claims.ts. */
function nodeClaim(cluster: string, host: string): string {
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(["swarm:cluster:Node", cluster, host]))
    .digest("hex")
    .slice(0, 20);
}

/** Stable JSON (sorted keys) so equal values compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

const lastLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? "";

/** The node's own view: its swarm state and node id. */
export async function hostStatus(conn: ResolvedConnection): Promise<{ state: string; nodeId: string }> {
  const [state, nodeId] = lastLine(
    await runOn(conn, "reading the swarm state", renderNodeStatusScript()),
  ).split("|");
  return { state: state ?? "", nodeId: nodeId ?? "" };
}

const NODE_ID = /^[a-z0-9]{10,}$/;

/**
 * Brings the node to the inputs: membership on the host (unlock, rejoin), then its settings from
 * the admin manager. `joined` is the node id a membership step that just ran printed: then the
 * host is not dialled again and only the settings run.
 */
async function apply(
  inputs: NodeStateInputs,
  previousNodeId: string,
  joined?: string,
): Promise<NodeStateOutputs> {
  const nodeId = joined ?? (await membership(inputs));
  await runOn(
    inputs.adminConnection,
    `node ${inputs.host}: settings`,
    renderNodeSettingsScript({
      nodeId,
      role: inputs.role,
      labels: inputs.labels,
      availability: inputs.availability,
      claim: nodeClaim(inputs.cluster, inputs.host),
      previousNodeId: previousNodeId !== nodeId ? previousNodeId : undefined,
    }),
  );
  const outs: NodeStateOutputs & { unlock?: string } = {
    ...inputs,
    membership: "joined",
    locked: false,
    nodeId,
  };
  delete outs.unlock;
  return outs;
}

/** The membership step on the host itself (unlock a locked manager, join again after a leave); its node id. */
async function membership(inputs: NodeStateInputs): Promise<string> {
  const body = {
    ListenAddr: "0.0.0.0:2377",
    AdvertiseAddr: inputs.advertiseAddr,
    RemoteAddrs: inputs.joinAddrs.map((addr) => `${addr}:2377`),
    JoinToken: inputs.secrets.joinToken,
  };
  const stdin = `${JSON.stringify(body)}\n${inputs.secrets.unlockKey}\n${inputs.secrets.clusterId}\n`;
  const nodeId = lastLine(
    await runOn(inputs.connection, `node ${inputs.host}: membership`, renderNodeMembershipScript(), stdin),
  );
  if (!NODE_ID.test(nodeId)) throw new Error(`node ${inputs.host}: the membership step printed no node id`);
  return nodeId;
}

/** The provider object serialized into the state. */
export const nodeStateProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<NodeStateInputs>, news: NodeStateInputs) {
    const inputs: NodeStateInputs = { ...news };
    delete inputs.unlock;
    const existing = olds && olds.kind === "swarm:cluster:Node";
    // (`__provider` is left out: it is this code, which holds the marker itself.)
    // (`joinedNodeId` is left out too: unknown while the join re-runs, and only create reads it.)
    const known = !JSON.stringify({ ...news, __provider: undefined, joinedNodeId: undefined }).includes(
      UNKNOWN,
    );
    if (
      existing &&
      known &&
      news.role === "manager" &&
      olds.locked !== true &&
      (news.secrets?.unlockKey ?? "") !== ""
    ) {
      // A manager restarted under autolock: see the header. An unreachable host is not a finding.
      const status = await hostStatus(news.connection).catch(() => undefined);
      if (status?.state === "locked")
        inputs.unlock =
          "manager is locked (dockerd restarted under autolock): unlock with the key from state";
    }
    return { inputs };
  },

  async diff(
    _id: string,
    olds: NodeStateOutputs & { __provider?: string },
    news: NodeStateInputs & { __provider?: string },
  ) {
    const changed = COMPARED.filter((key) => canonical(olds[key]) !== canonical(news[key]));
    // read/delete run the provider stored in state: a new library version must reach the state.
    const providerChanged =
      news.__provider !== undefined &&
      news.__provider !== UNKNOWN &&
      canonical(olds.__provider) !== canonical(news.__provider);
    return {
      changes: changed.length > 0 || news.unlock !== undefined || providerChanged,
      replaces: [],
      deleteBeforeReplace: false,
    };
  },

  async create(inputs: NodeStateInputs) {
    // Right after the membership Command joined the host, its node id saves a second dial of the
    // host; should that id not be the node's (an old stack's join that ran long ago), the full
    // membership step runs after all.
    const joined = NODE_ID.test(inputs.joinedNodeId ?? "") ? inputs.joinedNodeId : undefined;
    const outs = await apply(inputs, "", joined).catch((err: unknown) => {
      if (!joined) throw err;
      return apply(inputs, "");
    });
    return { id: `${inputs.cluster}/${inputs.host}`, outs };
  },

  async update(_id: string, olds: NodeStateOutputs, news: NodeStateInputs) {
    return { outs: await apply(news, olds.nodeId ?? "") };
  },

  async read(id: string, props: NodeStateOutputs) {
    const status = await hostStatus(props.connection);
    const nodeId = status.state === "active" && status.nodeId ? status.nodeId : props.nodeId;
    const inspected = JSON.parse(
      lastLine(
        await runOn(
          props.adminConnection,
          `node ${props.host}: reading its settings`,
          renderNodeInspectScript({ nodeId }),
        ),
      ),
    ) as {
      missing?: boolean;
      Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
    };
    const joined =
      (status.state === "active" || status.state === "locked" || status.state === "pending") &&
      !inspected.missing;
    const live: Partial<NodeStateOutputs> = {
      membership: joined ? "joined" : "left",
      locked: status.state === "locked",
      nodeId,
    };
    if (!inspected.missing && inspected.Spec) {
      live.role = (inspected.Spec.Role ?? props.role) as NodeStateOutputs["role"];
      live.availability = (inspected.Spec.Availability ??
        props.availability) as NodeStateOutputs["availability"];
      live.labels = Object.fromEntries(
        Object.entries(inspected.Spec.Labels ?? {}).filter(([key]) => !key.startsWith(LABEL_PREFIX)),
      );
    }
    const refreshed = { ...props, ...live };
    const inputs: Partial<NodeStateOutputs> = { ...refreshed };
    delete inputs.nodeId;
    return { id, props: refreshed, inputs };
  },

  async delete(_id: string, props: NodeStateOutputs) {
    // Drain before the node's membership resource makes it leave; a no-op when another resource
    // claimed the node since (a replacement or a rename, not a removal).
    await runOn(
      props.adminConnection,
      `node ${props.host}: drain`,
      renderNodeDrainScript({
        nodeId: props.nodeId,
        claim: nodeClaim(props.cluster, props.host),
        releaseClaim: true,
      }),
    );
  },
};
