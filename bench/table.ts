/**
 * The benchmark's figures and their markdown (bench/cluster.ts measures, this formats): kept apart
 * so the formatting is unit-tested (test/unit/bench-table.test.ts) without a lab.
 */
import type { Timeline } from "./timeline";

/** One engine operation as measured. */
export interface OpFigure {
  ok: boolean;
  /** Wall time of the `pulumi` CLI run of the operation (what `pulumi up` on a terminal takes). */
  seconds: number;
  /** Wall time of the whole Automation API call: the CLI run plus the CLI runs it adds around it. */
  automationSeconds: number;
  changes: Record<string, number>;
  /** Peak resident memory of the engine (summed over `pulumi`, its plugins and their children), MB. */
  enginePeakMB: number;
  /** The error, when the operation failed. */
  error?: string;
  /** Load average (1 min) when the operation started. */
  load1: number;
  /** Engine start, resource steps, finish, and every step's span (from the engine's events). */
  timeline: Timeline;
}

/** One size on the lab: the bound, the five operations, memory. */
export interface LabFigure {
  managers: number;
  workers: number;
  labId: number;
  hostsBootSeconds: number;
  /** The same swarm by hand: total and its parts (s). */
  bound: { seconds: number; init: number; managerJoins: number[]; workerJoins: number };
  up: OpFigure;
  noChangeUp: OpFigure;
  preview: OpFigure;
  labelUp: OpFigure;
  destroy: OpFigure;
  /** `up` / bound. */
  ratio: number;
  /** What was read back from the swarm after each step ("ok" or what differed). */
  readBack: { up: string; labelUp: string; destroy: string };
  /** Slowest resource steps of the first `up`, from the engine's own per-step times. */
  slowestSteps: string[];
  memory: {
    /** Peak resident memory of this process (the inline program and the Automation API), MB. */
    programPeakMB: number;
    /** Resident memory of all lab host processes (dockerd, containerd, sshd) after `up`, MB. */
    labHostsMB: number;
    /** The machine's MemAvailable before the size started and its lowest value while it ran, MB. */
    availableBeforeMB: number;
    availableLowestMB: number;
  };
}

/** A user's project (bench/userProject.ts): the program in its own language host each time. */
export interface UserProjectFigure {
  managers: number;
  workers: number;
  /** `npm pack` (with the build) and the install into the project, s (once per run). */
  prepareSeconds: number;
  up: OpFigure;
  /** Pulumi's default for a TypeScript program: ts-node type-checks it on every run. */
  typeChecked: { noChangeUp: OpFigure; preview: OpFigure };
  /** The same with PULUMI_NODEJS_TRANSPILE_ONLY=true. */
  transpileOnly: { noChangeUp: OpFigure; preview: OpFigure };
  destroy: OpFigure;
}

/** Construction of one size under mocks. */
export interface MockFigure {
  nodes: number;
  resources: number;
  constructedMs: number;
  settledMs: number;
  heapRetainedMB: number;
  heapPeakMB: number;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** One cell: seconds, and the changes when they are not what the step should show. */
export function opCell(op: OpFigure, expected: Record<string, number> | "any"): string {
  if (!op.ok) return `**failed** after ${op.seconds}`;
  const matches = expected === "any" || JSON.stringify(op.changes) === JSON.stringify(expected);
  const ch = Object.entries(op.changes)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return matches ? `${op.seconds}` : `${op.seconds} (**${ch || "no changes"}**)`;
}

/** One run of the benchmark, as benchmark.json holds it. */
export interface BenchResult {
  when: string;
  machine: string;
  pulumi: string;
  loadBefore: string;
  loadAfter: string;
  lab: LabFigure[];
  labSkipped?: string;
  /** A user's project on the lab (not every size); absent in results from before it existed. */
  userProject?: UserProjectFigure[];
  /** Why the user's project was not measured, when it failed. */
  userProjectSkipped?: string;
  mocks: MockFigure[];
}

/** The targets (issue 17), checked against one run's figures; one line each. */
export function targetLines(lab: LabFigure[]): string[] {
  const size = (m: number, w: number) => lab.find((f) => f.managers === m && f.workers === w);
  const verdict = (ok: boolean) => (ok ? "met" : "**not met**");
  const out: string[] = [];
  const base = size(3, 2);
  const wide = size(3, 12);
  const big = size(5, 20);
  if (base) out.push(`- 3+2 \`up\` within 1.5x of its bound: x${base.ratio}, ${verdict(base.ratio <= 1.5)}.`);
  if (base && wide) {
    const growth = round(wide.up.seconds / base.up.seconds, 2);
    out.push(`- 3+12 \`up\` within 1.5x of 3+2's: x${growth}, ${verdict(growth <= 1.5)}.`);
  }
  for (const [f, limit] of [
    [base, 3],
    [big, 6],
  ] as const)
    if (f)
      out.push(
        `- ${f.managers}+${f.workers} no-change \`up\` ${f.noChangeUp.seconds} s and \`preview\` ${f.preview.seconds} s under ${limit} s: ${verdict(f.noChangeUp.seconds < limit && f.preview.seconds < limit)}.`,
      );
  return out;
}

export function markdown(r: BenchResult): string {
  const lines: string[] = [];
  lines.push("# Benchmark: SwarmCluster through the real engine, and construction under mocks", "");
  lines.push(
    `Measured ${r.when} by \`npm run bench\` (bench/cluster.ts) on ${r.machine}; ${r.pulumi}; load average (1/5/15 min) ${r.loadBefore} before, ${r.loadAfter} after.`,
    "The machine is shared with other engineers, so absolute times vary from run to run; the ratios are the figures to compare.",
    "",
  );
  lines.push("## Lab: the real engine against the hand-made lower bound", "");
  if (r.labSkipped) lines.push(`**Not measured: ${r.labSkipped}.**`, "");
  if (r.lab.length > 0) {
    lines.push(
      "Each size on a fresh lab (network namespaces on this machine, each with its own sshd and dockerd 20.10). The **lower bound** is the same swarm made by hand with the minimal commands, each over a fresh SSH connection: `docker swarm init` on the first manager (printing both join tokens in the same session), each other manager's `docker swarm join` in turn, then every worker's join at once. The hosts are then taken out of that swarm and the SwarmCluster program (inline Automation API program, real `pulumi` CLI, real `pulumi-resource-command` 1.2.1 and `pulumi-resource-docker` 5.2.0) runs: `up`, an `up` with nothing changed, `preview`, an `up` that adds one label to one node, and `destroy`. Times in seconds: the `pulumi` CLI run of each operation (engine start, plugin loads and state writes included), what `pulumi up` in a terminal takes; the Automation API's own extra CLI runs (`stack select`, `stack output`, `stack history`) are in the column `up` through the Automation API only; engine start / steps / finish split the `up` at its first and last resource step (the engine's events). A bold note shows resource changes that differ from what the step should show (create all / none / none / update 1 / delete all). Memory: the engine's peak is the resident memory summed over every process the operation started (the CLI, the command and docker provider plugins, the Node.js host of the dynamic node provider, their ssh clients), the largest over the five operations; the program's peak is this process (the inline program and the Automation API); the lab hosts' figure is every process of the lab's network namespaces (dockerd, containerd, sshd) after `up`.",
      "",
      "| managers + workers | lower bound (init / manager joins / workers) | `up` | `up` / bound | `up`: engine start / steps / finish | `up` through the Automation API | no-change `up` | `preview` | one-label `up` | `destroy` | resources | load (1 min) at `up` | engine peak RSS (MB) | program peak RSS (MB) | lab hosts RSS (MB) |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const f of r.lab) {
      const resources = f.up.changes.create ?? 0;
      const enginePeak = Math.max(
        f.up.enginePeakMB,
        f.noChangeUp.enginePeakMB,
        f.preview.enginePeakMB,
        f.labelUp.enginePeakMB,
        f.destroy.enginePeakMB,
      );
      lines.push(
        `| ${f.managers} + ${f.workers} | ${f.bound.seconds} (${f.bound.init} / ${f.bound.managerJoins.join(" + ") || "-"} / ${f.bound.workerJoins}) | ${opCell(f.up, "any")} | ${f.ratio} | ${f.up.timeline.beforeFirstStep} / ${f.up.timeline.steps} / ${f.up.timeline.afterLastStep} | ${f.up.automationSeconds} | ${opCell(f.noChangeUp, {})} | ${opCell(f.preview, {})} | ${opCell(f.labelUp, { update: 1 })} | ${opCell(f.destroy, { delete: resources })} | ${resources} | ${f.up.load1} | ${enginePeak} | ${f.memory.programPeakMB} | ${f.memory.labHostsMB} |`,
      );
    }
    lines.push("");
    const base = r.lab.find((f) => f.managers === 3 && f.workers === 2);
    const wide = r.lab.find((f) => f.managers === 3 && f.workers === 12);
    if (base && wide)
      lines.push(
        `Adding 10 workers (3+2 -> 3+12): \`up\` x${round(wide.up.seconds / base.up.seconds, 2)}, lower bound x${round(wide.bound.seconds / base.bound.seconds, 2)}, no-change \`up\` x${round(wide.noChangeUp.seconds / base.noChangeUp.seconds, 2)}, \`preview\` x${round(wide.preview.seconds / base.preview.seconds, 2)}.`,
        "",
      );
    const targets = targetLines(r.lab);
    if (targets.length > 0) lines.push("Targets (issue 17):", "", ...targets, "");
    lines.push(
      "Read back from the swarm after each step, and the slowest resource steps of the first `up` (the engine's own per-step times):",
      "",
    );
    for (const f of r.lab)
      lines.push(
        `- ${f.managers} + ${f.workers} (lab ${f.labId}, hosts booted in ${f.hostsBootSeconds} s): after \`up\` ${f.readBack.up}; after the label \`up\` ${f.readBack.labelUp}; after \`destroy\` ${f.readBack.destroy}. Slowest steps: ${f.slowestSteps.join(", ") || "none reported"}. Machine memory available ${f.memory.availableBeforeMB} MB before, lowest ${f.memory.availableLowestMB} MB during.`,
      );
    const failed = r.lab.flatMap((f) =>
      (["up", "noChangeUp", "preview", "labelUp", "destroy"] as const)
        .filter((k) => !f[k].ok)
        .map((k) => `- ${f.managers} + ${f.workers} ${k}: \`${(f[k].error ?? "").split("\n")[0]}\``),
    );
    if (failed.length > 0) lines.push("", "Failed operations:", "", ...failed);
    lines.push("");
  }
  if (r.userProject && r.userProject.length > 0) lines.push(...userProjectSection(r.userProject, r.lab));
  if (r.userProjectSkipped) lines.push(`**A user's project was not measured: ${r.userProjectSkipped}.**`, "");
  lines.push("## Program construction under mocks", "");
  lines.push(
    "A SwarmCluster of N fake hosts (3 managers, N-3 workers), mocks answering init and join like the unit tests; one process per size (bench/mockScale.ts). No command runs: this measures the program's own construction. `constructed` = the constructor call; `settled` = until every resource is registered; heap after a full GC (retained) and at the end of the run before GC (peak).",
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

/** The user's-project section: the same operations, the program in a language host of its own. */
export function userProjectSection(figures: UserProjectFigure[], lab: LabFigure[]): string[] {
  const lines = [
    "## A user's `pulumi up`: the program in its own language host",
    "",
    "The table above runs the program inline, in the benchmark's process, which loads the library, @pulumi/pulumi and the closure serializer once for all operations. A user's `pulumi up` starts a Node.js language host each time, which loads them again and compiles the TypeScript program with ts-node. Here the package as users install it (`npm pack`), in a TypeScript project that imports it by name, runs from its directory through the real CLI and language host on the same hosts, emptied again (bench/userProject.ts): `up`, then a no-change `up` and a `preview` type-checked (Pulumi's default) and again with `PULUMI_NODEJS_TRANSPILE_ONLY=true`, then `destroy`. Seconds of the `pulumi` CLI run; the inline program's figures of the same size for comparison. The engine's peak memory here includes the language host (the program's process).",
    "",
    "| managers + workers | `up` (inline) | no-change `up`: type-checked / transpile-only (inline) | `preview`: type-checked / transpile-only (inline) | `destroy` (inline) | engine peak RSS (MB), type-checked / transpile-only | pack + install (s) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const u of figures) {
    const inline = lab.find((f) => f.managers === u.managers && f.workers === u.workers);
    const resources = u.up.changes.create ?? 0;
    const paren = (n: number | undefined) => (n === undefined ? "" : ` (${n})`);
    lines.push(
      `| ${u.managers} + ${u.workers} | ${opCell(u.up, "any")}${paren(inline?.up.seconds)} | ${opCell(u.typeChecked.noChangeUp, {})} / ${opCell(u.transpileOnly.noChangeUp, {})}${paren(inline?.noChangeUp.seconds)} | ${opCell(u.typeChecked.preview, {})} / ${opCell(u.transpileOnly.preview, {})}${paren(inline?.preview.seconds)} | ${opCell(u.destroy, { delete: resources })}${paren(inline?.destroy.seconds)} | ${Math.max(u.typeChecked.noChangeUp.enginePeakMB, u.typeChecked.preview.enginePeakMB)} / ${Math.max(u.transpileOnly.noChangeUp.enginePeakMB, u.transpileOnly.preview.enginePeakMB)} | ${u.prepareSeconds} |`,
    );
  }
  lines.push("");
  return lines;
}

export function parseSizes(arg: string): [number, number][] {
  return arg.split(",").map((s) => {
    const m = /^(\d+)\+(\d+)$/.exec(s.trim());
    if (!m) throw new Error(`--sizes wants managers+workers pairs like 1+2,3+2,3+12; got "${s}"`);
    return [Number(m[1]), Number(m[2])];
  });
}
