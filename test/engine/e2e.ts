/**
 * End-to-end test of SwarmCluster through the REAL Pulumi engine on lab hosts: `up` (3 managers +
 * 2 workers), `up` with nothing changed, config changes (remove a manager and a worker, drain a
 * node, add them back), `destroy`, and no secret in the exported state or the engine's output.
 * Run it with test/engine/e2e.sh (as root), which builds/installs the tools and sets the environment.
 *
 * The command provider is the project's LAB STAND-IN (test/engine/command-provider), not the real
 * pulumi-resource-command, which cannot be built here; the cluster is built with
 * `dockerProvider: false` because the Docker provider plugin cannot be built either (docs/engine.md).
 * Inline Automation API program: the Node.js language host cannot be built here.
 */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { Checks, changes, requireEnv as requireEnvOf } from "./checks";
import { existingHosts } from "../../components/hosts/existing";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmNodeArgs } from "../../components/cluster/types";
import { Lab, NodeRow } from "../lab/lab";

const LAB_ID = 51;
const PROJECT = "swarm-engine-e2e";
const CLUSTER = "e2e";
const h = (i: number) => `lab${LAB_ID}-${i}`;
const FIRST_MANAGER = h(1);

/** One node of the desired config, by lab host name. */
interface NodeSpec {
  host: string;
  role: "manager" | "worker";
  labels?: Record<string, string>;
  availability?: "active" | "pause" | "drain";
}

const checks = new Checks();
const check = checks.check.bind(checks);
const requireEnv = (name: string) => requireEnvOf(name, "test/engine/e2e.sh");

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now();
  const result = await fn();
  return [result, (Date.now() - start) / 1000];
}

/** The SwarmCluster program for one config: lab hosts as existing servers (keys become secrets). */
function program(lab: Lab, spec: NodeSpec[], allowEvenManagers = false) {
  return async () => {
    const hosts = existingHosts(
      lab.hosts.map((host) => ({ name: host.name, host: host.ip })),
      { user: "root", privateKey: lab.privateKey },
    );
    const nodes: SwarmNodeArgs[] = spec.map((n) => ({
      host: hosts.find((host) => host.name === n.host)!,
      role: n.role,
      labels: n.labels,
      availability: n.availability,
    }));
    const cluster = new SwarmCluster(CLUSTER, {
      nodes,
      autolock: true,
      allowEvenManagers,
      dockerProvider: false,
    });
    return {
      managerJoinToken: cluster.managerJoinToken,
      workerJoinToken: cluster.workerJoinToken,
      unlockKey: cluster.unlockKey,
      clusterId: cluster.clusterId,
      nodeIds: cluster.nodeIds,
    };
  };
}

/** Lines the stand-in provider appended: one per command it ran. */
function journalLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/** Does the swarm, read back with `docker node inspect` on a manager, match the config? */
async function swarmMatches(lab: Lab, manager: string, spec: NodeSpec[]): Promise<[boolean, string]> {
  const rows = await lab.nodes(manager);
  const byHost = new Map<string, NodeRow>(rows.map((r) => [r.hostname, r]));
  const problems: string[] = [];
  if (rows.length !== spec.length) problems.push(`${rows.length} nodes listed, ${spec.length} expected`);
  for (const n of spec) {
    const row = byHost.get(n.host);
    if (!row) {
      problems.push(`${n.host} missing`);
      continue;
    }
    if (row.state !== "ready") problems.push(`${n.host} state ${row.state}`);
    if (row.role !== n.role) problems.push(`${n.host} role ${row.role}`);
    if (row.availability !== (n.availability ?? "active"))
      problems.push(`${n.host} availability ${row.availability}`);
    if (n.role === "manager" && !/reachable/.test(row.reachability))
      problems.push(`${n.host} ${row.reachability}`);
    for (const [k, v] of Object.entries(n.labels ?? {})) {
      if (row.labels[k] !== v) problems.push(`${n.host} label ${k}=${row.labels[k]}`);
    }
  }
  const seen = rows
    .map(
      (r) =>
        `${r.hostname}:${r.role}/${r.state}/${r.availability}${r.reachability ? `/${r.reachability}` : ""}`,
    )
    .sort()
    .join(" ");
  return [problems.length === 0, problems.length ? `${problems.join("; ")} | ${seen}` : seen];
}

async function swarmState(lab: Lab, host: string): Promise<string> {
  return (await lab.sh(host, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim();
}

/** The secrets that must never show in plain text, read from the swarm itself and the lab key. */
async function secretsToLookFor(lab: Lab): Promise<string[]> {
  const tokens = await lab.sh(
    FIRST_MANAGER,
    "docker swarm join-token -q worker; docker swarm join-token -q manager; docker swarm unlock-key -q",
  );
  const keyLines = lab.privateKey.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
  return [
    ...tokens
      .split("\n")
      .map((t) => t.trim())
      .filter(Boolean),
    ...keyLines,
  ];
}

/** Names of the secret kinds found in `text` (empty when none is there in plain text). */
function plainSecrets(text: string, secrets: string[]): string[] {
  const found = secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 7)}...`);
  for (const marker of ["SWMTKN-", "SWMKEY-", "PRIVATE KEY"]) if (text.includes(marker)) found.push(marker);
  return found;
}

function stackExport(stack: Stack): string {
  // Not stack.exportStack(): the Automation API exports with --show-secrets.
  return execFileSync("pulumi", ["stack", "export", "--stack", stack.name], {
    cwd: stack.workspace.workDir,
    encoding: "utf8",
  });
}

async function main(): Promise<void> {
  const workRoot = requireEnv("E2E_WORK_DIR");
  const journal = path.join(workRoot, "command-journal.tsv");
  process.env.PULUMI_COMMAND_STANDIN_JOURNAL = journal;
  const engineOutput: string[] = [];
  const onOutput = (line: string) => engineOutput.push(line);
  const times: string[] = [];

  console.log(
    `engine e2e: pulumi ${execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim()}, lab ${LAB_ID}`,
  );
  console.log(
    `command provider: lab stand-in (test/engine/command-provider), a triggers change ${process.env.PULUMI_COMMAND_STANDIN_TRIGGERS === "update-if-set" ? "updates when update is set" : "replaces"}`,
  );
  let lab = await Lab.up(LAB_ID, 5);
  // A fresh lab: leftovers of an earlier run would hide what this run does.
  await lab.down();
  lab = await Lab.up(LAB_ID, 5);
  console.log(`lab hosts: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`);

  const full: NodeSpec[] = [
    { host: h(1), role: "manager", labels: { zone: "a" } },
    { host: h(2), role: "manager", labels: { zone: "b" } },
    { host: h(3), role: "manager", labels: { zone: "c" } },
    { host: h(4), role: "worker", labels: { tier: "web", zone: "a" } },
    { host: h(5), role: "worker", labels: { tier: "db" } },
  ];

  const workDir = path.join(workRoot, "project");
  fs.mkdirSync(workDir, { recursive: true });
  const stack = await LocalWorkspace.createStack(
    { projectName: PROJECT, stackName: `lab${LAB_ID}-${process.pid}`, program: program(lab, full) },
    {
      workDir,
      projectSettings: {
        name: PROJECT,
        runtime: "nodejs",
        backend: { url: requireEnv("PULUMI_BACKEND_URL") },
      },
    },
  );
  const up = async (title: string, spec: NodeSpec[], allowEvenManagers = false) => {
    const before = journalLines(journal).length;
    const [result, seconds] = await timed(() =>
      stack.up({ program: program(lab, spec, allowEvenManagers), onOutput }),
    );
    const ran = journalLines(journal).slice(before);
    times.push(
      `${title}: ${seconds.toFixed(1)} s, ${ran.length} commands, ${JSON.stringify(changes(result.summary.resourceChanges))}`,
    );
    return { result, seconds, ran };
  };

  try {
    // (a) 3 managers + 2 workers.
    const a = await up("up 1 (3 managers + 2 workers)", full);
    check(
      "up 1 succeeds and creates the cluster",
      a.result.summary.result === "succeeded" && (changes(a.result.summary.resourceChanges).create ?? 0) > 0,
      `${JSON.stringify(changes(a.result.summary.resourceChanges))}, ${a.ran.length} commands, ${a.seconds.toFixed(1)} s`,
    );
    const [matchA, seenA] = await swarmMatches(lab, FIRST_MANAGER, full);
    check("after up 1: 5 nodes Ready with the configured roles, labels and availability", matchA, seenA);
    const rowsA = await lab.nodes(FIRST_MANAGER);
    const idsRead = Object.fromEntries(rowsA.map((r) => [r.hostname, r.id]));
    const idsOut = a.result.outputs.nodeIds?.value as Record<string, string> | undefined;
    check(
      "nodeIds output equals the ids docker node ls reports",
      JSON.stringify(idsOut, Object.keys(idsRead).sort()) ===
        JSON.stringify(idsRead, Object.keys(idsRead).sort()),
    );
    const secrets = await secretsToLookFor(lab);
    check(
      "join tokens and unlock key outputs are secrets holding the swarm's values",
      ["managerJoinToken", "workerJoinToken", "unlockKey"].every(
        (k) => a.result.outputs[k]?.secret === true && secrets.includes(String(a.result.outputs[k]?.value)),
      ),
    );

    // (b) Nothing changed.
    const b = await up("up 2 (nothing changed)", full);
    check(
      "up 2 with nothing changed: the engine reports no changes",
      Object.keys(changes(b.result.summary.resourceChanges)).length === 0,
      `${JSON.stringify(b.result.summary.resourceChanges)}, ${b.seconds.toFixed(1)} s`,
    );
    check("up 2 ran no command", b.ran.length === 0, b.ran.join("; "));
    const preview = await stack.preview({ program: program(lab, full), onOutput });
    check(
      "preview with nothing changed reports no changes",
      Object.keys(changes(preview.changeSummary)).length === 0,
      JSON.stringify(preview.changeSummary),
    );

    // (c) Remove a manager and a worker, drain a node, change a label (2 managers: allowEvenManagers).
    const shrunk: NodeSpec[] = [
      full[0],
      { ...full[1], labels: { zone: "b2" } },
      { ...full[3], availability: "drain" },
    ];
    const c1 = await up("up 3 (remove manager 3 and worker 5, drain 4, relabel 2)", shrunk, true);
    check(
      "up 3 converges",
      c1.result.summary.result === "succeeded",
      `${JSON.stringify(changes(c1.result.summary.resourceChanges))}, ${c1.ran.length} commands, ${c1.seconds.toFixed(1)} s`,
    );
    const [matchC1, seenC1] = await swarmMatches(lab, FIRST_MANAGER, shrunk);
    check("after up 3: the swarm lists exactly managers 1, 2 and drained worker 4", matchC1, seenC1);
    const removedStates = [await swarmState(lab, h(3)), await swarmState(lab, h(5))];
    check(
      "after up 3: removed hosts 3 and 5 are out of any swarm",
      removedStates.every((s) => s === "inactive"),
      removedStates.join(", "),
    );

    // Add a worker (host 5) and a manager (host 3) back: 3 managers again.
    const regrown: NodeSpec[] = [
      full[0],
      { ...full[1], labels: { zone: "b2" } },
      { host: h(3), role: "manager", labels: { zone: "c" } },
      { ...full[3], availability: "drain" },
      { host: h(5), role: "worker", labels: { tier: "db" } },
    ];
    const c2 = await up("up 4 (add worker 5 and manager 3)", regrown);
    check(
      "up 4 converges",
      c2.result.summary.result === "succeeded",
      `${JSON.stringify(changes(c2.result.summary.resourceChanges))}, ${c2.ran.length} commands, ${c2.seconds.toFixed(1)} s`,
    );
    const [matchC2, seenC2] = await swarmMatches(lab, FIRST_MANAGER, regrown);
    check(
      "after up 4: 5 nodes Ready, host 3 a manager again, host 5 a worker, host 4 drained",
      matchC2,
      seenC2,
    );
    const c3 = await up("up 5 (nothing changed after the changes)", regrown);
    check(
      "up 5 with nothing changed: no changes, no command",
      Object.keys(changes(c3.result.summary.resourceChanges)).length === 0 && c3.ran.length === 0,
      `${JSON.stringify(c3.result.summary.resourceChanges)}, ${c3.ran.join("; ")}`,
    );

    // (e) No secret in plain text in the exported state or the engine's output.
    const allSecrets = [...new Set([...secrets, ...(await secretsToLookFor(lab))])];
    const exported = stackExport(stack);
    const inExport = plainSecrets(exported, allSecrets);
    check(
      "`pulumi stack export` holds no join token, unlock key or private key in plain text",
      inExport.length === 0,
      inExport.join(", "),
    );
    check("`pulumi stack export` holds secrets as ciphertext", exported.includes('"ciphertext"'));

    // (d) Destroy.
    const [down, downSeconds] = await timed(() => stack.destroy({ onOutput }));
    times.push(
      `destroy: ${downSeconds.toFixed(1)} s, ${JSON.stringify(changes(down.summary.resourceChanges))}`,
    );
    check(
      "destroy succeeds",
      down.summary.result === "succeeded",
      `${JSON.stringify(changes(down.summary.resourceChanges))}, ${downSeconds.toFixed(1)} s`,
    );
    const states = await Promise.all(
      lab.hosts.map(async (x) => `${x.name}=${await swarmState(lab, x.name)}`),
    );
    check(
      "after destroy: every lab host reports swarm inactive",
      states.every((s) => s.endsWith("=inactive")),
      states.join(" "),
    );
    const after = (await stack.exportStack()).deployment as { resources?: unknown[] };
    check("state is empty after destroy", (after.resources ?? []).length === 0);

    // The host scripts log with this prefix on stderr: seeing it proves command output reaches the
    // engine's output, so the check below looks where a leak would show.
    const logged = engineOutput.filter((line) => line.includes("pulumi-swarm[")).length;
    check("engine output carries the commands' logged output", logged > 0, `${logged} lines`);
    const inOutput = plainSecrets(engineOutput.join("\n"), allSecrets);
    check(
      "engine output of every up, preview and destroy holds no join token, unlock key or private key",
      inOutput.length === 0 && engineOutput.length > 0,
      `${engineOutput.length} lines${inOutput.length ? `; found ${inOutput.join(", ")}` : ""}`,
    );
  } catch (err) {
    check("the e2e ran to the end", false, err instanceof Error ? err.message.slice(0, 3000) : String(err));
  } finally {
    fs.writeFileSync(path.join(workRoot, "engine-output.txt"), engineOutput.join("\n"));
    await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    if (!process.env.E2E_KEEP_LAB) await lab.down();
  }
  console.log("wall times:");
  for (const t of times) console.log(`  ${t}`);
  checks.finish();
}

void main();
