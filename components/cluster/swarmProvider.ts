/*
 * The dynamic provider behind SwarmState (serialized into the state like nodeProvider.ts: it
 * captures code and constants only; keys and tokens arrive as secret inputs).
 *
 * Why the quorum probe sits in `check`: `check` runs on every preview and up, before any step, and
 * the node resources wait for this resource's outputs (the join tokens). When the managers have
 * lost their Raft majority, failing here stops the whole run before any membership change,
 * demotion or removal could make it worse, and the error names the managers that answer, the ones
 * that do not, and the recovery. The recovery itself is explicit: `recoverQuorum` in config, run
 * by `update` once per generation.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SwarmStateInputs, SwarmStateOutputs } from "./swarmState";
import { runOn } from "./sshRun";
import {
  renderForceNewClusterScript,
  renderManagerProbeScript,
  renderManagerRejoinScript,
  renderNodeListScript,
  renderRemoveEntriesScript,
  renderSwarmReadScript,
  renderSwarmSettingsScript,
} from "./scripts/swarm";

/** The value the engine sends for an input that is not known yet (preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Manager = SwarmStateInputs["managers"][number];

/** One manager's answer to the probe; `error` when SSH or the probe itself failed. */
interface Probe {
  manager: Manager;
  state: string;
  nodeId: string;
  leader: boolean;
  message: string;
}

function finalLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ""
  );
}

async function probe(manager: Manager): Promise<Probe> {
  try {
    const out = JSON.parse(
      finalLine(
        await runOn(manager.connection, `manager ${manager.host}: quorum probe`, renderManagerProbeScript()),
      ),
    ) as { state: string; nodeId: string; leader: string; message: string };
    return {
      manager,
      state: out.state,
      nodeId: out.nodeId,
      leader: out.leader === "yes",
      message: out.message,
    };
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return {
      manager,
      state: "unreachable",
      nodeId: "",
      leader: false,
      message: `SSH failed: ${text.slice(-200)}`,
    };
  }
}

const probeAll = (managers: Manager[]) => Promise.all(managers.map(probe));

/** Did any manager reach a leader? Managers never initialised (a new cluster) are not counted as lost. */
function quorumLost(probes: Probe[]): boolean {
  return !probes.some((p) => p.leader) && probes.some((p) => p.state !== "inactive");
}

/** The refusal: who answers, who does not, and the documented recovery. */
function quorumMessage(cluster: string, probes: Probe[]): string {
  const describe = (p: Probe) => `${p.manager.host} (${p.manager.advertiseAddr}: ${p.message || p.state})`;
  const answering = probes.filter((p) => p.state === "active" || p.state === "locked");
  const silent = probes.filter((p) => !answering.includes(p));
  const survivor = answering.find((p) => p.state === "active") ?? answering[0];
  return [
    `SwarmCluster "${cluster}": the swarm has lost its manager quorum (no manager reaches a Raft leader), so this run changes nothing: no membership change, demotion or removal runs while quorum is lost.`,
    `  managers that answer: ${answering.map(describe).join(", ") || "none"}`,
    `  managers that do not answer: ${silent.map(describe).join(", ") || "none"}`,
    'Recovery (docs/day2.md, "Quorum loss"): if the managers that do not answer can come back, start them (their dockerd) and the quorum returns by itself.',
    survivor
      ? `If they are lost, recover from a manager that answers: set recoverQuorum: { survivor: "${survivor.manager.host}", generation: <the last one + 1, 1 the first time> } on the SwarmCluster and run pulumi up; the other managers then leave their stale state and rejoin when they answer.`
      : "No manager answers at all: bring at least one manager's dockerd back, then use recoverQuorum with it as the survivor.",
  ].join("\n");
}

/**
 * Probes `preferred` (default: the first manager) alone, and every manager only when it reaches no
 * leader: one manager whose `docker node ls` answers proves the quorum, so the common case costs
 * one SSH session, not one per manager, on every preview and up.
 */
async function probeUntilLeader(managers: Manager[], preferred?: string): Promise<Probe[]> {
  const first = managers.find((m) => m.host === preferred) ?? managers[0];
  if (!first) return [];
  const probed = await probe(first);
  if (probed.leader) return [probed];
  return [probed, ...(await probeAll(managers.filter((m) => m !== first)))];
}

/** The first manager that reaches a leader (`preferred` first), or a quorum error. */
async function leaderReach(inputs: SwarmStateInputs, preferred?: string): Promise<Manager> {
  const probes = await probeUntilLeader(inputs.managers, preferred);
  const found = probes.find((p) => p.leader);
  if (!found) throw new Error(quorumMessage(inputs.cluster, probes));
  return found.manager;
}

interface Summary {
  certExpiry: string;
  caFingerprint: string;
  workerToken: string;
  managerToken: string;
}

function parseSummary(cluster: string, stdout: string): Summary {
  try {
    const parsed = JSON.parse(finalLine(stdout)) as Summary;
    if (!parsed.workerToken || !parsed.managerToken || !parsed.caFingerprint) throw new Error("fields");
    return parsed;
  } catch {
    // Never echo stdout: it holds the join tokens.
    throw new Error(`SwarmCluster "${cluster}": the swarm summary step printed no valid summary`);
  }
}

const withSummary = (inputs: SwarmStateInputs, s: Summary): SwarmStateOutputs => ({
  ...inputs,
  certExpiry: s.certExpiry,
  caFingerprint: s.caFingerprint,
  tokens: { worker: s.workerToken, manager: s.managerToken },
});

/**
 * How old init's printout may be, by the host's clock against this machine's, for create to take
 * it as the swarm's state. The swarm resource is created right after init (it depends on init's
 * output), so seconds; an older printout is from an init of an earlier run (this resource was
 * dropped from the state and is created again), when tokens may have been rotated since. Clocks
 * that disagree by more than this cost one SSH session, never a stale token.
 */
const INIT_PRINTED_FRESH_SECONDS = 600;

/** init's printout as the swarm's summary, when it is from this run and matches the inputs. */
function summaryFromInit(inputs: SwarmStateInputs, nowSeconds: number): Summary | undefined {
  const printed = inputs.initPrinted;
  if (!printed || !printed.caFingerprint || printed.certExpiry !== inputs.certExpiry) return undefined;
  if (!(Math.abs(nowSeconds - printed.at) <= INIT_PRINTED_FRESH_SECONDS)) return undefined;
  if (!inputs.tokens?.worker || !inputs.tokens?.manager) return undefined;
  return {
    certExpiry: printed.certExpiry,
    caFingerprint: printed.caFingerprint,
    workerToken: inputs.tokens.worker,
    managerToken: inputs.tokens.manager,
  };
}

/**
 * The recovery: force-new-cluster on the survivor (skipped when a leader answers), then each other
 * manager that is not a reachable member of the survivor's swarm leaves and joins again, and the
 * entries they left behind are removed. A manager that does not answer stops the run with its
 * name once the rest is done; the next up (same generation) picks up where this one stopped.
 */
async function recover(inputs: SwarmStateInputs): Promise<void> {
  const survivor = inputs.managers.find((m) => m.host === inputs.survivor);
  if (!survivor)
    throw new Error(
      `SwarmCluster "${inputs.cluster}": recoverQuorum.survivor "${inputs.survivor}" is not a manager`,
    );
  await runOn(
    survivor.connection,
    `recovery: force-new-cluster on ${survivor.host}`,
    renderForceNewClusterScript({ advertiseAddr: survivor.advertiseAddr }),
    `${inputs.secrets.unlockKey}\n`,
  );
  const summary = await runOn(
    survivor.connection,
    "recovery: reading the manager token",
    renderSwarmReadScript(),
  );
  let managerToken = parseSummary(inputs.cluster, summary).managerToken;
  const entries = async () =>
    (await runOn(survivor.connection, "recovery: listing the nodes", renderNodeListScript()))
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map(
        (l) =>
          JSON.parse(l) as { id: string; addr: string; state: string; role: string; reachability: string },
      );
  const lost: string[] = [];
  for (const manager of inputs.managers.filter((m) => m !== survivor)) {
    const status = await probe(manager);
    if (status.state === "unreachable") {
      lost.push(`${manager.host} (${manager.advertiseAddr}: ${status.message})`);
      continue;
    }
    const listed = (await entries()).find((e) => e.id === status.nodeId);
    const member =
      status.state === "active" &&
      listed?.state === "ready" &&
      (listed.reachability === "reachable" || listed.reachability === "leader");
    if (member) continue;
    const body = {
      ListenAddr: "0.0.0.0:2377",
      AdvertiseAddr: manager.advertiseAddr,
      RemoteAddrs: [`${survivor.advertiseAddr}:2377`],
      JoinToken: managerToken,
    };
    const rejoin = (token: string) =>
      runOn(
        manager.connection,
        `recovery: ${manager.host} leaves its stale state and rejoins`,
        renderManagerRejoinScript(),
        `${JSON.stringify({ ...body, JoinToken: token })}\n${inputs.secrets.unlockKey}\n${inputs.secrets.clusterId}\n`,
      );
    try {
      await rejoin(managerToken);
    } catch (err) {
      // Seen on the lab after a CA rotation: the survivor's stored token carries a CA digest the
      // forced cluster no longer serves ("remote CA does not match fingerprint"). A token rotated
      // now is derived from the CA the survivor serves; the swarm's outputs follow on this run.
      if (!String(err).includes("remote CA does not match fingerprint")) throw err;
      const rotated = await runOn(
        survivor.connection,
        "recovery: a manager token of the CA the survivor serves",
        renderSwarmSettingsScript({
          certExpiry: inputs.certExpiry,
          rotateCa: false,
          rotateWorkerToken: true,
          rotateManagerToken: true,
        }),
      );
      managerToken = parseSummary(inputs.cluster, rotated).managerToken;
      await rejoin(managerToken);
    }
  }
  // Entries left behind: down entries at the address of a node that is ready again.
  const all = await entries();
  const readyAddrs = new Set(all.filter((e) => e.state === "ready").map((e) => e.addr));
  const stale = all.filter((e) => e.state === "down" && readyAddrs.has(e.addr)).map((e) => e.id);
  if (stale.length > 0)
    await runOn(
      survivor.connection,
      "recovery: removing stale entries",
      renderRemoveEntriesScript({ nodeIds: stale }),
    );
  if (lost.length > 0)
    throw new Error(
      `SwarmCluster "${inputs.cluster}": the swarm runs again from ${survivor.host} (force-new-cluster), but these managers do not answer: ${lost.join(", ")}. ` +
        "Start them (they then leave their stale cluster state and rejoin) or take them out of nodes, then run pulumi up again (the recovery resumes).",
    );
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The provider object serialized into the state. */
export const swarmStateProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds: Partial<SwarmStateOutputs>, news: SwarmStateInputs) {
    const existing = olds && olds.kind === "swarm:cluster:Swarm";
    const known = !JSON.stringify({ ...news, __provider: undefined }).includes(UNKNOWN);
    const recovering = (news.generations?.recovery ?? 0) > (olds?.generations?.recovery ?? 0);
    if (existing && known && !recovering) {
      const probes = await probeUntilLeader(news.managers);
      if (quorumLost(probes)) throw new Error(quorumMessage(news.cluster, probes));
    }
    return { inputs: news };
  },

  async diff(
    _id: string,
    olds: SwarmStateOutputs & { __provider?: string },
    news: SwarmStateInputs & { __provider?: string },
  ) {
    const keys = ["certExpiry", "generations", "survivor", "managers", "secrets"] as const;
    const changed = keys.filter((k) => !sameJson(olds[k], news[k]));
    const providerChanged =
      news.__provider !== undefined && news.__provider !== UNKNOWN && olds.__provider !== news.__provider;
    return { changes: changed.length > 0 || providerChanged, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: SwarmStateInputs) {
    // A new cluster records its generations without rotating or recovering anything. When init
    // printed the swarm's state in this run with the expiry asked for, that is the summary: nothing
    // can have changed it since (this resource is the only one that rotates or updates settings).
    const printed = summaryFromInit(inputs, Date.now() / 1000);
    if (printed) return { id: inputs.cluster, outs: withSummary(inputs, printed) };
    // Otherwise the first manager has just initialised the swarm or adopted a running one (init
    // runs before this), so the settings go straight to it; only when that fails are all managers
    // probed, for the leader or the quorum error.
    const settings = (admin: Manager) =>
      runOn(
        admin.connection,
        "swarm settings",
        renderSwarmSettingsScript({
          certExpiry: inputs.certExpiry,
          rotateCa: false,
          rotateWorkerToken: false,
          rotateManagerToken: false,
        }),
      );
    const first = inputs.managers[0];
    const out = await (first ? settings(first) : Promise.reject(new Error("no manager"))).catch(async () =>
      settings(await leaderReach(inputs, first?.host)),
    );
    return { id: inputs.cluster, outs: withSummary(inputs, parseSummary(inputs.cluster, out)) };
  },

  async update(_id: string, olds: SwarmStateOutputs, news: SwarmStateInputs) {
    const before = olds.generations ?? { ca: 0, workerToken: 0, managerToken: 0, recovery: 0 };
    if (news.generations.recovery > (before.recovery ?? 0)) await recover(news);
    const admin = await leaderReach(news, news.survivor || news.managers[0]?.host);
    const out = await runOn(
      admin.connection,
      "swarm settings and rotations",
      renderSwarmSettingsScript({
        certExpiry: news.certExpiry,
        rotateCa: news.generations.ca > before.ca,
        rotateWorkerToken: news.generations.workerToken > before.workerToken,
        rotateManagerToken: news.generations.managerToken > before.managerToken,
      }),
    );
    return { outs: withSummary(news, parseSummary(news.cluster, out)) };
  },

  async read(id: string, props: SwarmStateOutputs) {
    const admin = await leaderReach(props, props.managers[0]?.host);
    const s = parseSummary(
      props.cluster,
      await runOn(admin.connection, "reading the swarm settings", renderSwarmReadScript()),
    );
    const refreshed = withSummary(props, s);
    const inputs: Partial<SwarmStateOutputs> = { ...refreshed };
    delete inputs.caFingerprint;
    delete inputs.tokens;
    return { id, props: refreshed, inputs };
  },

  async delete() {
    // Nothing to undo: the swarm's settings go with the swarm (the nodes' resources take it apart).
  },
};

/** For unit tests: the pure parts. */
export const internals = { quorumLost, quorumMessage, parseSummary, summaryFromInit };
export type { Probe };
