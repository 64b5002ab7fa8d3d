import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretInput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";
import type { SwarmClusterArgs } from "../../components/cluster/args";
import { asRemoteCommand, scriptOf } from "../../components/shell";
import {
  renderForceNewClusterScript,
  renderManagerProbeScript,
  renderManagerRejoinScript,
  renderNodeListScript,
  renderRemoveEntriesScript,
  renderSwarmReadScript,
  renderSwarmSettingsScript,
} from "../../components/cluster/scripts/swarm";
import { validateDay2Args } from "../../components/cluster/validateDay2";
import type { Probe } from "../../components/cluster/swarmProvider";
import type { SwarmStateInputs, SwarmStateOutputs } from "../../components/cluster/swarmState";

// Made at run time so no token-shaped literal lives in the repository.
const fake = (prefix: string) => `${prefix}-${crypto.randomBytes(12).toString("hex")}`;
const WORKER_TOKEN = fake("worker");
const MANAGER_TOKEN = fake("manager");
const ROTATED_WORKER = fake("rotated-worker");
const UNLOCK_KEY = fake("unlock");
const PRIVATE_KEY = fake("PRIVATE-KEY");

const host = (n: number): SwarmHost => ({
  name: `node-${n}`,
  connection: { host: `10.0.0.${n}`, user: "ubuntu", privateKey: pulumi.secret(PRIVATE_KEY) },
  advertiseAddr: `10.0.0.${n}`,
});
const nodes: SwarmClusterArgs["nodes"] = [
  { host: host(1), role: "manager" },
  { host: host(2), role: "manager" },
  { host: host(3), role: "manager" },
  { host: host(4), role: "worker" },
];

describe("rotations and quorum recovery: arguments", () => {
  it("defaults every generation to 0 and no recovery", () => {
    expect(validateDay2Args({}, nodes)).toEqual({ ca: 0, workerToken: 0, managerToken: 0, recovery: 0 });
    expect(
      validateDay2Args(
        {
          rotations: { caGeneration: 2, workerTokenGeneration: 1 },
          recoverQuorum: { survivor: "node-2", generation: 1 },
        },
        nodes,
      ),
    ).toEqual({ ca: 2, workerToken: 1, managerToken: 0, recovery: 1 });
  });

  it.each([
    [
      { rotations: { caGeneration: -1 } },
      "rotations.caGeneration: received -1. Use a whole number of at least 0",
    ],
    [{ rotations: { caGeneration: 1.5 } }, "rotations.caGeneration: received 1.5."],
    [{ rotations: { workerTokenGeneration: "2" } }, 'rotations.workerTokenGeneration: received "2".'],
    [
      { rotations: { tokens: 1 } },
      "rotations.tokens: received 1. Use one of caGeneration, workerTokenGeneration, managerTokenGeneration.",
    ],
    [
      { recoverQuorum: { survivor: "node-4", generation: 1 } },
      'recoverQuorum.survivor: received "node-4". Name a manager of this cluster whose dockerd still answers: one of node-1, node-2, node-3.',
    ],
    [
      { recoverQuorum: { survivor: "node-1", generation: 0 } },
      "recoverQuorum.generation: received 0. Use a whole number of at least 1",
    ],
  ])("refuses %j", (args, message) => {
    expect(() => validateDay2Args(args as never, nodes)).toThrow(message);
  });
});

describe("rotations and quorum recovery: host scripts", () => {
  const scripts: [string, string][] = [
    ["probe", renderManagerProbeScript()],
    [
      "settings (nothing to rotate)",
      renderSwarmSettingsScript({
        certExpiry: "720h0m0s",
        rotateCa: false,
        rotateWorkerToken: false,
        rotateManagerToken: false,
      }),
    ],
    [
      "settings (all rotations)",
      renderSwarmSettingsScript({
        certExpiry: "720h0m0s",
        rotateCa: true,
        rotateWorkerToken: true,
        rotateManagerToken: true,
      }),
    ],
    ["read", renderSwarmReadScript()],
    ["force-new-cluster", renderForceNewClusterScript({ advertiseAddr: "10.0.0.1" })],
    ["rejoin", renderManagerRejoinScript()],
    ["node list", renderNodeListScript()],
    ["remove entries", renderRemoveEntriesScript({ nodeIds: ["abc123", "def456"] })],
    ["remove no entries", renderRemoveEntriesScript({ nodeIds: [] })],
  ];

  it.each(scripts)("%s: bash -n and shellcheck clean", (_name, script) => {
    execFileSync("bash", ["-n"], { input: script });
    execFileSync("shellcheck", ["-s", "bash", "-S", "warning", "-"], { input: script });
    execFileSync("bash", ["-n"], { input: asRemoteCommand(script) });
  });

  it("rotates only what is asked, each with Docker's own command; the expiry only when it differs", () => {
    const none = renderSwarmSettingsScript({
      certExpiry: "720h0m0s",
      rotateCa: false,
      rotateWorkerToken: false,
      rotateManagerToken: false,
    });
    expect(none).not.toMatch(/--rotate/);
    expect(none).toContain(`if [ "$expiry_now" != '720h0m0s' ]; then`);
    expect(none).toContain("dk swarm update --cert-expiry '720h0m0s'");
    const ca = renderSwarmSettingsScript({
      certExpiry: "720h0m0s",
      rotateCa: true,
      rotateWorkerToken: false,
      rotateManagerToken: false,
    });
    expect(ca).toContain("dk swarm ca --rotate --detach");
    expect(ca).not.toContain("join-token --rotate");
    const worker = renderSwarmSettingsScript({
      certExpiry: "720h0m0s",
      rotateCa: false,
      rotateWorkerToken: true,
      rotateManagerToken: false,
    });
    expect(worker).toContain("dk swarm join-token --rotate -q worker");
    expect(worker).not.toContain("join-token --rotate -q manager");
  });

  it("force-new-cluster runs only when no leader answers; secrets come on fd 3, never in the text", () => {
    const script = renderForceNewClusterScript({ advertiseAddr: "10.0.0.1" });
    expect(script).toMatch(
      /if has_leader; then[\s\S]*else[\s\S]*dk swarm init --force-new-cluster --advertise-addr '10.0.0.1'/,
    );
    expect(script).toContain("read -r unlock_key <&3");
    const rejoin = renderManagerRejoinScript();
    expect(rejoin).toContain("dk swarm leave --force");
    expect(rejoin).toContain("read -r join_body <&3");
    expect(rejoin).toContain("api POST /swarm/join");
  });
});

describe("rotations and quorum recovery: the swarm resource under mocks", () => {
  let run: MockRun;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;
  let provider: typeof import("../../components/cluster/swarmProvider");

  beforeAll(async () => {
    run = await installMocks({
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type === "pulumi-nodejs:dynamic:Resource" && inputs.kind === "swarm:cluster:Swarm")
          // The swarm reports its current tokens: rotated for worker.
          return {
            ...inputs,
            caFingerprint: "f".repeat(64),
            tokens: { worker: ROTATED_WORKER, manager: MANAGER_TOKEN },
          };
        const node = /-node-(\d+)-node$/.exec(args.name);
        if (args.type === "pulumi-nodejs:dynamic:Resource" && node)
          return { ...inputs, nodeId: `id-${node[1]}` };
        if (args.type !== "command:remote:Command") return undefined;
        if (args.name.endsWith("-init")) {
          const summary = {
            clusterId: "cluster1",
            nodeId: "id-1",
            workerToken: WORKER_TOKEN,
            managerToken: MANAGER_TOKEN,
            unlockKey: UNLOCK_KEY,
            certExpiry: "720h0m0s",
            caFingerprint: "c".repeat(64),
            printedAt: 1_800_000_000,
          };
          return { ...inputs, stdout: `${JSON.stringify(summary)}\n` };
        }
        const match = /-node-(\d+)-join$/.exec(args.name);
        if (match) return { ...inputs, stdout: `id-${match[1]}\n` };
        return { ...inputs, stdout: "ok\n" };
      },
    });
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
    provider = await import("../../components/cluster/swarmProvider");
  });

  it("one swarm resource with the generations and expiry in the config's words; tokens, outputs and joins follow the swarm's current tokens", async () => {
    const cluster = new SwarmCluster("rot", {
      nodes,
      certExpiry: "30d",
      rotations: { caGeneration: 1, workerTokenGeneration: 2 },
    });
    await valueOf(cluster.nodeIds);
    expect(unwrapSecrets(await valueOf(cluster.workerJoinToken))).toBe(ROTATED_WORKER);
    expect(await valueOf(cluster.caFingerprint)).toBe("f".repeat(64));
    const swarm = run.named("rot-swarm");
    expect(swarm.inputs).toMatchObject({
      kind: "swarm:cluster:Swarm",
      cluster: "rot",
      certExpiry: "720h0m0s",
      generations: { ca: 1, workerToken: 2, managerToken: 0, recovery: 0 },
      survivor: "",
    });
    for (const key of ["managers", "secrets", "tokens", "initPrinted"])
      expect(isSecretInput(swarm.inputs[key])).toBe(true);
    // What init printed besides the tokens reaches the swarm resource, for its create.
    expect(unwrapSecrets(swarm.inputs.initPrinted)).toEqual({
      certExpiry: "720h0m0s",
      caFingerprint: "c".repeat(64),
      at: 1_800_000_000,
    });
    const managers = unwrapSecrets(swarm.inputs.managers) as { host: string }[];
    expect(managers.map((m) => m.host)).toEqual(["node-1", "node-2", "node-3"]);
    // A node joining later takes the swarm's current worker token; the node resources too.
    const join = unwrapSecrets(run.named("rot-node-4-join").inputs.stdin) as string;
    expect(JSON.parse(join.split("\n")[0]).JoinToken).toBe(ROTATED_WORKER);
    expect(
      (unwrapSecrets(run.named("rot-node-4-node").inputs.secrets) as { joinToken: string }).joinToken,
    ).toBe(ROTATED_WORKER);
    // The serialized provider holds no secret.
    const serialized = JSON.stringify(unwrapSecrets(swarm.inputs.__provider));
    expect(serialized.length).toBeGreaterThan(1000);
    for (const secret of [PRIVATE_KEY, WORKER_TOKEN, MANAGER_TOKEN, UNLOCK_KEY, ROTATED_WORKER])
      expect(serialized).not.toContain(secret);
    // The init script no longer keeps the expiry in line (the swarm resource does); it starts the swarm with it.
    const init = scriptOf(unwrapSecrets(run.named("rot-init").inputs.create) as string);
    expect(init).toContain("'--cert-expiry' '720h0m0s'");
    expect(init).not.toContain("swarm update --cert-expiry");
  });

  describe("create takes init's printout from this run as the swarm's state", () => {
    const NOW = 1_800_000_000;
    const inputs = (
      initPrinted?: SwarmStateOutputs["initPrinted"],
      certExpiry = "2160h0m0s",
    ): SwarmStateInputs => ({
      kind: "swarm:cluster:Swarm",
      cluster: "c",
      // No manager to dial: a create that does not trust the printout fails.
      managers: [],
      certExpiry,
      generations: { ca: 0, workerToken: 0, managerToken: 0, recovery: 0 },
      survivor: "",
      secrets: { unlockKey: "", clusterId: "c1" },
      tokens: { worker: WORKER_TOKEN, manager: MANAGER_TOKEN },
      ...(initPrinted ? { initPrinted } : {}),
    });
    const printed = (at: number) => ({ certExpiry: "2160h0m0s", caFingerprint: "c".repeat(64), at });

    it("trusts a printout of the last 600 s, by either clock, with the expiry asked for", () => {
      const { summaryFromInit } = provider.internals;
      const expected = {
        certExpiry: "2160h0m0s",
        caFingerprint: "c".repeat(64),
        workerToken: WORKER_TOKEN,
        managerToken: MANAGER_TOKEN,
      };
      expect(summaryFromInit(inputs(printed(NOW - 3)), NOW)).toEqual(expected);
      expect(summaryFromInit(inputs(printed(NOW - 600)), NOW)).toEqual(expected);
      expect(summaryFromInit(inputs(printed(NOW + 120)), NOW)).toEqual(expected);
    });

    it.each([
      ["from an earlier run (tokens may have been rotated since)", inputs(printed(NOW - 601))],
      ["by a host clock far ahead", inputs(printed(NOW + 3600))],
      ["by an init that printed none of it (a stack from before)", inputs(undefined)],
      ["with no CA fingerprint", inputs({ ...printed(NOW), caFingerprint: "" })],
      ["with another expiry than the one asked for", inputs(printed(NOW), "720h0m0s")],
      ["without tokens", { ...inputs(printed(NOW)), tokens: { worker: "", manager: "" } }],
    ])("does not trust a printout %s", (_why, args) => {
      expect(provider.internals.summaryFromInit(args, NOW)).toBeUndefined();
    });

    it("create: no SSH with a fresh printout; with a stale one it goes to the managers", async () => {
      const now = Math.floor(Date.now() / 1000);
      const created = await provider.swarmStateProvider.create!(inputs(printed(now - 2)));
      expect(created.id).toBe("c");
      expect(created.outs).toMatchObject({
        caFingerprint: "c".repeat(64),
        certExpiry: "2160h0m0s",
        tokens: { worker: WORKER_TOKEN, manager: MANAGER_TOKEN },
      });
      await expect(provider.swarmStateProvider.create!(inputs(printed(now - 3600)))).rejects.toThrow(
        "lost its manager quorum",
      );
    });
  });

  it("a recovery names its survivor and makes every node resource apply its settings again", async () => {
    const cluster = new SwarmCluster("rec", {
      nodes,
      reconcile: "r",
      recoverQuorum: { survivor: "node-2", generation: 3 },
    });
    await valueOf(cluster.nodeIds);
    expect(run.named("rec-swarm").inputs).toMatchObject({ survivor: "node-2", generations: { recovery: 3 } });
    expect(run.named("rec-node-4-node").inputs.reconcile).toBe("r|quorum-recovery:3");
    const plain = new SwarmCluster("plain", { nodes, reconcile: "r" });
    await valueOf(plain.nodeIds);
    expect(run.named("plain-node-4-node").inputs.reconcile).toBe("r");
  });

  const probe = (host: string, state: string, leader: boolean, message = ""): Probe => ({
    manager: { host, advertiseAddr: `10.0.0.${host.slice(-1)}`, connection: { host: "x" } },
    state,
    nodeId: "",
    leader,
    message,
  });

  it("quorum: lost only when no manager reaches a leader; a new cluster's inactive managers are not a loss", () => {
    const { quorumLost } = provider.internals;
    expect(quorumLost([probe("m1", "active", true), probe("m2", "unreachable", false)])).toBe(false);
    expect(
      quorumLost([
        probe("m1", "active", false),
        probe("m2", "unreachable", false),
        probe("m3", "unreachable", false),
      ]),
    ).toBe(true);
    expect(quorumLost([probe("m1", "inactive", false), probe("m2", "inactive", false)])).toBe(false);
  });

  it("quorum: the refusal names the managers that answer, those that do not, and the recovery", () => {
    const text = provider.internals.quorumMessage("q", [
      probe("m1", "active", false, "The swarm does not have a leader."),
      probe("m2", "unreachable", false, "dockerd does not answer"),
      probe("m3", "unreachable", false, "dockerd does not answer"),
    ]);
    expect(text).toContain('SwarmCluster "q": the swarm has lost its manager quorum');
    expect(text).toContain("no membership change, demotion or removal runs while quorum is lost");
    expect(text).toContain("managers that answer: m1 (10.0.0.1: The swarm does not have a leader.)");
    expect(text).toContain(
      "managers that do not answer: m2 (10.0.0.2: dockerd does not answer), m3 (10.0.0.3: dockerd does not answer)",
    );
    expect(text).toContain('recoverQuorum: { survivor: "m1", generation:');
    expect(text).toContain('docs/day2.md, "Quorum loss"');
  });

  it("diff: generations, expiry and survivor are in-place updates; the tokens read back are not a change", async () => {
    const old: SwarmStateOutputs & { __provider: string } = {
      kind: "swarm:cluster:Swarm",
      cluster: "c",
      managers: [],
      certExpiry: "2160h0m0s",
      generations: { ca: 0, workerToken: 0, managerToken: 0, recovery: 0 },
      survivor: "",
      secrets: { unlockKey: "", clusterId: "c1" },
      tokens: { worker: "w2", manager: "m2" },
      caFingerprint: "f",
      __provider: "v1",
    };
    const news = { ...old, tokens: { worker: "w1", manager: "m1" } } as never;
    expect(await provider.swarmStateProvider.diff!("c", old, news)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    for (const change of [
      { certExpiry: "720h0m0s" },
      { generations: { ...old.generations, ca: 1 } },
      { survivor: "m1", generations: { ...old.generations, recovery: 1 } },
      { __provider: "v2" },
    ])
      expect(
        (await provider.swarmStateProvider.diff!("c", old, { ...old, ...change } as never)).changes,
      ).toBe(true);
  });
});
