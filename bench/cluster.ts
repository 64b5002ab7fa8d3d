/**
 * The cluster benchmark, one run: `npx tsx bench/cluster.ts` (root, for the lab part).
 *
 * 1. Lab `up` for 1, 3 and 5 managers with 2 workers each (a fresh lab per size, ids 42-44): the
 *    SwarmCluster program run under the lab runner (test/lab/realCommands.ts: Pulumi mocks whose
 *    remote.Command runs over real SSH on lab hosts; the real engine cannot run here yet), against
 *    the lower bound of the same run: init + each manager's join in sequence + the slowest worker
 *    join, from the recorded command durations. Then the no-op re-run.
 * 2. Program construction time and heap under mocks for 3, 30 and 300 nodes (one process each).
 *
 * Writes docs/results/benchmark.md and benchmark.json and prints the markdown.
 * Options: --skip-lab (mock part only), --sizes 1,3,5.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type * as pulumi from "@pulumi/pulumi";
import { Lab, labUnavailableReason } from "../test/lab/lab";
import { mockWithRealCommands, ProgramRun, settleOutput } from "../test/lab/realCommands";

const exec = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const RESULTS = path.join(ROOT, "docs", "results");
const FIRST_LAB_ID = 42;

interface LabFigure {
  managers: number;
  workers: number;
  hostsBootSeconds: number;
  upSeconds: number;
  commands: number;
  lowerBoundSeconds: number;
  lowerBoundParts: { init: number; managerJoins: number[]; slowestWorkerJoin: number };
  ratio: number;
  noopSeconds: number;
  noopCommands: number;
  noopRatio: number;
}

interface MockFigure {
  nodes: number;
  resources: number;
  constructedMs: number;
  settledMs: number;
  heapRetainedMB: number;
  heapPeakMB: number;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const seconds = (ms: number) => round(ms / 1000);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

async function runProgram(
  lab: Lab,
  managers: number,
  workers: number,
): Promise<{ run: ProgramRun; ms: number }> {
  const run = await mockWithRealCommands(lab);
  const { SwarmCluster } = await import("../components/cluster/swarmCluster");
  const hosts = lab.swarmHosts();
  const started = Date.now();
  const cluster = new SwarmCluster("bench", {
    nodes: hosts.slice(0, managers + workers).map((host, i) => ({
      host,
      role: i < managers ? ("manager" as const) : ("worker" as const),
    })),
  });
  await settleOutput(cluster.nodeIds as pulumi.Output<Record<string, string>>, run);
  await settleOutput(cluster.provider.urn, run);
  return { run, ms: Date.now() - started };
}

async function labFigure(managers: number, id: number): Promise<LabFigure> {
  const workers = 2;
  const bootStarted = Date.now();
  const lab = await Lab.up(id, managers + workers);
  const hostsBootSeconds = seconds(Date.now() - bootStarted);
  try {
    const up = await runProgram(lab, managers, workers);
    const ms = (name: string): number => up.run.byName(name).ms;
    const names = lab.hosts.map((h) => h.name);
    const managerJoins = names.slice(0, managers).map((n) => ms(`bench-${n}-join`));
    const workerJoins = names.slice(managers, managers + workers).map((n) => ms(`bench-${n}-join`));
    const init = ms("bench-init");
    const lowerBound = init + managerJoins.reduce((a, b) => a + b, 0) + Math.max(...workerJoins);
    const noop = await runProgram(lab, managers, workers);
    return {
      managers,
      workers,
      hostsBootSeconds,
      upSeconds: seconds(up.ms),
      commands: up.run.commands.length,
      lowerBoundSeconds: seconds(lowerBound),
      lowerBoundParts: {
        init: seconds(init),
        managerJoins: managerJoins.map(seconds),
        slowestWorkerJoin: seconds(Math.max(...workerJoins)),
      },
      ratio: round(up.ms / lowerBound, 2),
      noopSeconds: seconds(noop.ms),
      noopCommands: noop.run.commands.length,
      noopRatio: round(noop.ms / up.ms, 2),
    };
  } finally {
    await lab.down();
  }
}

async function mockFigure(nodes: number): Promise<MockFigure> {
  // The Pulumi runtime exits 1 when promises it tracks are still pending at exit (the mocks never
  // finish some of them); the measurement line is what counts.
  const stdout = await exec("npx", ["tsx", path.join(__dirname, "mockScale.ts"), String(nodes)], {
    cwd: ROOT,
    maxBuffer: 1 << 20,
    timeout: 600_000,
  }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? "",
  );
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (!line) throw new Error(`mockScale ${nodes} printed no result: ${stdout}`);
  return JSON.parse(line) as MockFigure;
}

function markdown(r: {
  when: string;
  machine: string;
  loadBefore: string;
  loadAfter: string;
  lab: LabFigure[];
  labSkipped?: string;
  mocks: MockFigure[];
}): string {
  const lines: string[] = [];
  lines.push("# Benchmark: SwarmCluster on the lab and under mocks", "");
  lines.push(
    `Measured ${r.when} by \`npx tsx bench/cluster.ts\` on ${r.machine}; load average (1/5/15 min) ${r.loadBefore} before, ${r.loadAfter} after.`,
    "The machine is shared with other engineers, so absolute times vary from run to run; the ratios are the figures to compare.",
    "",
  );
  lines.push("## Lab `up` against its lower bound", "");
  if (r.labSkipped) {
    lines.push(`**Not measured: ${r.labSkipped}.**`, "");
  } else {
    lines.push(
      "The program runs under the lab runner (`test/lab/realCommands.ts`): Pulumi mocks whose `command:remote:Command` create runs over real SSH on lab hosts (network namespaces with their own sshd and dockerd). The real Pulumi engine cannot run here yet (docs/engine.md), so the engine's own overhead is not in these figures.",
      "Lower bound = init + each manager's join in sequence + the slowest worker join, from the durations recorded in the same run (swarm membership changes cannot go faster than that).",
      "The no-op re-run runs the same program again: under the lab runner every host script runs again (each is guarded, so nothing changes); the real engine would run no command at all for unchanged inputs, so this is an upper bound of a no-op `up` (and the cost of a `reconcile` run).",
      "",
      "| managers + workers | hosts boot (s) | `up` (s) | commands | lower bound (s) | init / manager joins / slowest worker join (s) | `up` / lower bound | no-op re-run (s) | no-op / `up` |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const f of r.lab) {
      lines.push(
        `| ${f.managers} + ${f.workers} | ${f.hostsBootSeconds} | ${f.upSeconds} | ${f.commands} | ${f.lowerBoundSeconds} | ${f.lowerBoundParts.init} / ${f.lowerBoundParts.managerJoins.join(" + ")} / ${f.lowerBoundParts.slowestWorkerJoin} | ${f.ratio} | ${f.noopSeconds} | ${f.noopRatio} |`,
      );
    }
    lines.push("");
  }
  lines.push("## Program construction under mocks", "");
  lines.push(
    "A SwarmCluster of N fake hosts (3 managers, N-3 workers), mocks answering init and join like the unit tests; one process per size. `constructed` = the constructor call; `settled` = until every resource is registered; heap after a full GC (retained) and at the end of the run before GC (peak).",
    "",
    "| nodes | resources | constructed (ms) | settled (ms) | settled per node (ms) | heap retained (MB) | heap peak (MB) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const m of r.mocks) {
    lines.push(
      `| ${m.nodes} | ${m.resources} | ${m.constructedMs} | ${m.settledMs} | ${round(m.settledMs / m.nodes)} | ${m.heapRetainedMB} | ${m.heapPeakMB} |`,
    );
  }
  lines.push("");
  const bySize = (n: number) => r.mocks.find((m) => m.nodes === n);
  const pairs = [
    [3, 30],
    [30, 300],
  ] as const;
  lines.push("Linearity (1.0 = exactly linear; > 1 grows faster than the node count, < 1 slower):", "");
  for (const [a, b] of pairs) {
    const x = bySize(a);
    const y = bySize(b);
    if (!x || !y) continue;
    const factor = b / a;
    lines.push(
      `- ${a} -> ${b} nodes (x${factor}): settled time x${round(y.settledMs / x.settledMs, 2)} (ratio ${round(y.settledMs / x.settledMs / factor, 2)}), resources x${round(y.resources / x.resources, 2)}, heap peak x${round(y.heapPeakMB / x.heapPeakMB, 2)} (ratio ${round(y.heapPeakMB / x.heapPeakMB / factor, 2)}).`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const sizesArg = argv.includes("--sizes") ? argv[argv.indexOf("--sizes") + 1] : "1,3,5";
  const sizes = sizesArg.split(",").map(Number);
  const skipLab = argv.includes("--skip-lab");
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown cpu"}), ${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const loadBefore = load();
  console.error(`bench: ${machine}; load ${loadBefore}`);

  const labFigures: LabFigure[] = [];
  let labSkipped = skipLab ? "skipped with --skip-lab" : labUnavailableReason();
  if (labSkipped) console.error(`\n*** LAB PART NOT MEASURED: ${labSkipped} ***\n`);
  else {
    for (const [i, managers] of sizes.entries()) {
      console.error(`bench: lab ${managers} managers + 2 workers (lab ${FIRST_LAB_ID + i}) ...`);
      try {
        labFigures.push(await labFigure(managers, FIRST_LAB_ID + i));
        console.error(`bench:   ${JSON.stringify(labFigures[labFigures.length - 1])}`);
      } catch (err) {
        labSkipped = `the ${managers}-manager run failed: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
        console.error(`bench: ${labSkipped}`);
        break;
      }
    }
  }
  const mocks: MockFigure[] = [];
  for (const n of [3, 30, 300]) {
    console.error(`bench: mocks ${n} nodes ...`);
    mocks.push(await mockFigure(n));
  }
  const result = {
    when: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine,
    loadBefore,
    loadAfter: load(),
    lab: labFigures,
    ...(labSkipped ? { labSkipped } : {}),
    mocks,
  };
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, "benchmark.json"), `${JSON.stringify(result, null, 2)}\n`);
  const md = markdown(result);
  fs.writeFileSync(path.join(RESULTS, "benchmark.md"), md);
  console.log(md);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
