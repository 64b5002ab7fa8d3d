import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretInput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";
import type { NodeStateInputs, NodeStateOutputs } from "../../components/cluster/nodeState";
import {
  renderNodeInspectScript,
  renderNodeMembershipScript,
  renderNodeSettingsScript,
  renderNodeStatusScript,
} from "../../components/cluster/scripts/node";
import { asRemoteCommand } from "../../components/shell";

// Made at run time so no token-shaped literal lives in the repository.
const fake = (prefix: string) => `${prefix}-${crypto.randomBytes(12).toString("hex")}`;
const WORKER_TOKEN = fake("worker");
const MANAGER_TOKEN = fake("manager");
const UNLOCK_KEY = fake("unlock");
const PRIVATE_KEY = fake("PRIVATE-KEY");

const bashSyntaxOk = (script: string) =>
  execFileSync("bash", ["-n"], { input: script, stdio: ["pipe", "pipe", "pipe"] });

describe("SwarmNodeState (day 2: a node's drift-prone state as a resource with a read)", () => {
  let run: MockRun;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;
  let provider: typeof import("../../components/cluster/nodeProvider").nodeStateProvider;

  const host = (n: number): SwarmHost => ({
    name: `node-${n}`,
    connection: { host: `10.0.0.${n}`, user: "ubuntu", privateKey: pulumi.secret(PRIVATE_KEY) },
    advertiseAddr: `10.0.0.${n}`,
  });

  beforeAll(async () => {
    run = await installMocks({
      newResource: (args) => {
        const node = /-node-(\d+)-node$/.exec(args.name);
        if (args.type === "pulumi-nodejs:dynamic:Resource" && node)
          return { ...args.inputs, nodeId: `id-${node[1]}` };
        if (args.type !== "command:remote:Command") return undefined;
        if (args.name.endsWith("-init")) {
          const summary = {
            clusterId: "cluster1",
            nodeId: "id-1",
            workerToken: WORKER_TOKEN,
            managerToken: MANAGER_TOKEN,
            unlockKey: UNLOCK_KEY,
          };
          return { ...args.inputs, stdout: `${JSON.stringify(summary)}\n` };
        }
        return { ...args.inputs, stdout: "ok\n" };
      },
    });
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
    ({ nodeStateProvider: provider } = await import("../../components/cluster/nodeProvider"));
  });

  const build = (name: string) =>
    new SwarmCluster(name, {
      nodes: [
        { host: host(1), role: "manager", labels: { zone: "a" } },
        { host: host(2), role: "manager" },
        { host: host(3), role: "manager" },
        { host: host(4), role: "worker", labels: { tier: "web" }, availability: "drain" },
      ],
      autolock: true,
      reconcile: "r1",
    });

  it("creates one node state resource per node, named like the settings Command it replaces, with the config's own words as inputs", async () => {
    const cluster = build("d2");
    expect(await valueOf(cluster.nodeIds)).toEqual({
      "node-1": "id-1",
      "node-2": "id-2",
      "node-3": "id-3",
      "node-4": "id-4",
    });
    const nodes = run.resources.filter(
      (r) =>
        r.name.startsWith("d2-") &&
        r.type === "pulumi-nodejs:dynamic:Resource" &&
        r.inputs.kind === "swarm:cluster:Node",
    );
    // (Registration order follows the dependencies: workers no longer wait for every manager.)
    expect(nodes.map((n) => n.name).sort()).toEqual([1, 2, 3, 4].map((n) => `d2-node-${n}-node`));
    expect(
      run.resources.filter((r) => r.name.startsWith("d2-") && r.name.endsWith("-node")).map((r) => r.type),
    ).toEqual(Array(4).fill("pulumi-nodejs:dynamic:Resource"));
    const w4 = run.named("d2-node-4-node").inputs;
    expect(w4).toMatchObject({
      kind: "swarm:cluster:Node",
      cluster: "d2",
      host: "node-4",
      advertiseAddr: "10.0.0.4",
      role: "worker",
      labels: { tier: "web" },
      availability: "drain",
      membership: "joined",
      locked: false,
      joinAddrs: ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
      reconcile: "r1",
    });
    // The node itself, and its admin manager (the first one; the second for the first itself).
    expect((unwrapSecrets(w4.connection) as { host: string }).host).toBe("10.0.0.4");
    expect((unwrapSecrets(w4.adminConnection) as { host: string }).host).toBe("10.0.0.1");
    expect((unwrapSecrets(run.named("d2-node-1-node").inputs.adminConnection) as { host: string }).host).toBe(
      "10.0.0.2",
    );
    expect(unwrapSecrets(w4.secrets)).toEqual({
      joinToken: WORKER_TOKEN,
      unlockKey: UNLOCK_KEY,
      clusterId: "cluster1",
    });
    expect(
      (unwrapSecrets(run.named("d2-node-2-node").inputs.secrets) as { joinToken: string }).joinToken,
    ).toBe(MANAGER_TOKEN);
    expect(cluster.ready).toHaveLength(4);
  });

  it("keeps connections and join secrets secret, and the serialized provider free of any secret", async () => {
    await valueOf(build("d2s").nodeIds);
    for (const n of [1, 2, 3, 4]) {
      const inputs = run.named(`d2s-node-${n}-node`).inputs;
      for (const key of ["connection", "adminConnection", "secrets"])
        expect(isSecretInput(inputs[key])).toBe(true);
      const serialized = JSON.stringify(unwrapSecrets(inputs.__provider));
      expect(serialized.length).toBeGreaterThan(1000);
      for (const secret of [PRIVATE_KEY, WORKER_TOKEN, MANAGER_TOKEN, UNLOCK_KEY])
        expect(serialized).not.toContain(secret);
      // Plain inputs carry no secret either (they show in previews).
      const plain = JSON.stringify(
        Object.fromEntries(
          Object.entries(inputs).filter(
            ([k]) => !["connection", "adminConnection", "secrets", "__provider"].includes(k),
          ),
        ),
      );
      for (const secret of [PRIVATE_KEY, WORKER_TOKEN, MANAGER_TOKEN, UNLOCK_KEY])
        expect(plain).not.toContain(secret);
    }
  });

  const state = (over: Partial<NodeStateOutputs> = {}): NodeStateOutputs & { __provider: string } => ({
    kind: "swarm:cluster:Node",
    cluster: "c",
    host: "h",
    advertiseAddr: "10.0.0.9",
    role: "worker",
    labels: { zone: "a", tier: "web" },
    availability: "active",
    membership: "joined",
    locked: false,
    connection: { host: "10.0.0.9", privateKey: "k" },
    adminConnection: { host: "10.0.0.1", privateKey: "k" },
    joinAddrs: ["10.0.0.1"],
    secrets: { joinToken: "t", unlockKey: "u", clusterId: "c1" },
    reconcile: "",
    nodeId: "abc",
    __provider: "code-v1",
    ...over,
  });
  const inputsOf = (s: ReturnType<typeof state>, over: Partial<NodeStateInputs> = {}) => {
    const rest: Partial<typeof s> = { ...s };
    delete rest.nodeId;
    return { ...rest, ...over } as NodeStateInputs & { __provider: string };
  };

  it("diff: an in-place update for any config or read change, never a replace; label order does not matter", async () => {
    const old = state();
    const same = await provider.diff!("c/h", old, inputsOf(old, { labels: { tier: "web", zone: "a" } }));
    expect(same).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    for (const change of [
      { labels: { zone: "b", tier: "web" } },
      { availability: "drain" as const },
      { role: "manager" as const },
      { membership: "joined" as const, locked: true },
      { reconcile: "x" },
      { adminConnection: { host: "10.0.0.2", privateKey: "k" } },
      { unlock: "manager is locked" },
    ]) {
      const result = await provider.diff!("c/h", old, inputsOf(old, change));
      expect([change, result]).toEqual([change, { changes: true, replaces: [], deleteBeforeReplace: false }]);
    }
    // A node read as "left" (refresh) differs from the program's "joined": up rejoins it.
    expect((await provider.diff!("c/h", state({ membership: "left" }), inputsOf(old))).changes).toBe(true);
  });

  it("diff: a changed serialized provider is a change, so the state gets the code that read and delete run", async () => {
    const old = state();
    expect(
      (await provider.diff!("c/h", old, { ...inputsOf(old), __provider: "code-v2" } as never)).changes,
    ).toBe(true);
  });

  it("check: no probe for a new node, a worker, a node already read as locked or a cluster without autolock (no host is dialed)", async () => {
    const old = state({ role: "manager" });
    const cases: [Partial<NodeStateInputs>, NodeStateInputs][] = [
      [{}, inputsOf(old) as NodeStateInputs],
      [inputsOf(state()), inputsOf(state()) as NodeStateInputs],
      [inputsOf(state({ role: "manager", locked: true })), inputsOf(old) as NodeStateInputs],
      [
        inputsOf(old),
        inputsOf(old, { secrets: { joinToken: "t", unlockKey: "", clusterId: "c1" } }) as NodeStateInputs,
      ],
    ];
    for (const [olds, news] of cases) {
      const result = await provider.check!(olds, { ...news, unlock: "stale" });
      expect(result.inputs.unlock).toBeUndefined();
      expect(result.inputs.labels).toEqual(news.labels);
    }
  });

  it("its host scripts are valid bash; secrets come on fd 3; labels are exactly the declared ones; a rejoined node's old entry is removed", () => {
    const settings = renderNodeSettingsScript({
      nodeId: "new1",
      role: "worker",
      labels: { zone: "a" },
      availability: "active",
      claim: "abc",
      previousNodeId: "old1",
    });
    for (const script of [
      renderNodeStatusScript(),
      renderNodeInspectScript({ nodeId: "n1" }),
      renderNodeMembershipScript(),
      settings,
    ]) {
      expect(script.startsWith("set -euo pipefail\n")).toBe(true);
      bashSyntaxOk(script);
      bashSyntaxOk(asRemoteCommand(script));
    }
    const membership = renderNodeMembershipScript();
    expect(membership).toContain("IFS= read -r join_body <&3");
    expect(membership).toContain('printf \'{"UnlockKey":"%s"}\' "$unlock_key" | api POST /swarm/unlock');
    expect(membership).toContain("printf '%s' \"$join_body\" | api POST /swarm/join");
    expect(settings).toContain("PREVIOUS='old1'");
    expect(settings).toContain('case "$key" in pulumi-swarm.*) continue ;; esac');
  });

  it("the settings script takes off a label added by hand and keeps the cluster's own (run against a fake docker)", () => {
    const script = renderNodeSettingsScript({
      nodeId: "n1",
      role: "worker",
      labels: { zone: "a" },
      availability: "active",
      claim: "abc",
    });
    // A fake `docker` on PATH: one ready worker node with labels zone=a, handmade=1 and a claim.
    const fakeDocker = `#!/bin/bash
case "$*" in
  "info --format {{.Swarm.ControlAvailable}}") echo true ;;
  "node inspect --format {{.Status.Addr}} {{.Spec.Role}} {{.Spec.Availability}} n1") echo 10.0.0.9 worker active ;;
  "node inspect --format {{.ID}} {{.Status.Addr}} {{.Status.State}} n1 n2") printf 'n1 10.0.0.9 ready\nn2 10.0.0.9 ready\n' ;;
  *"{{.Status.State}}"*) echo ready ;;
  "node ls -q") printf 'n1\nn2\n' ;;
  *"{{.Spec.Role}}"*) echo worker ;;
  *"{{.Spec.Availability}}"*) echo active ;;
  *"Spec.Labels"*) printf 'zone=a\\nhandmade=1\\npulumi-swarm.claim=old\\n' ;;
  "node update"*) echo "$*" >>"$FAKE_LOG" ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`;
    const dir = execFileSync("mktemp", ["-d"]).toString().trim();
    execFileSync("bash", ["-c", `cat >${dir}/docker && chmod +x ${dir}/docker`], { input: fakeDocker });
    const out = execFileSync("bash", ["-c", script], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_LOG: `${dir}/log` },
    }).toString();
    const log = execFileSync("cat", [`${dir}/log`]).toString();
    execFileSync("rm", ["-rf", dir]);
    expect(out).toContain("changed: label -handmade");
    expect(log).toContain("--label-rm handmade");
    expect(log).not.toContain("--label-rm pulumi-swarm.claim");
    expect(log).toContain("--label-add pulumi-swarm.claim=abc");
  });
});
