/**
 * How the benchmark measures one engine operation (bench/cluster.ts, bench/userProject.ts): the
 * `pulumi` CLI run's wall time, the engine's per-step timeline, the load, and peak memory of the
 * engine's process tree and of this process.
 */
import * as fs from "fs";
import * as os from "os";
import type { EngineResult, EngineStack } from "../test/engine/engine";
import { TimelineRecorder } from "./timeline";
import { OpFigure, round } from "./table";

/** MemAvailable of the machine, MB. */
export function availableMB(): number {
  const line = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync("/proc/meminfo", "utf8"));
  return line ? Math.round(Number(line[1]) / 1024) : -1;
}

/** Resident memory of one process, MB (0 when it is gone). */
export function rssMB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return kb ? Number(kb[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every process below `root` in the process tree. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: the ppid is the 2nd field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Samples memory every 250 ms until stopped: the engine's process tree, this process, the machine. */
export class MemorySampler {
  enginePeakMB = 0;
  programPeakMB = 0;
  availableLowestMB = Number.POSITIVE_INFINITY;
  private timer?: NodeJS.Timeout;

  start(): void {
    this.enginePeakMB = 0;
    this.timer = setInterval(() => this.sample(), 250);
    this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    // Everything this process started while an operation runs: the CLI and the plugins it starts
    // (command and docker providers, the Node.js dynamic provider host) and their `ssh` clients.
    // Not the lab's own processes (they are not our children).
    const engine = descendants(process.pid);
    this.enginePeakMB = Math.max(
      this.enginePeakMB,
      engine.reduce((sum, p) => sum + rssMB(p), 0),
    );
    this.programPeakMB = Math.max(this.programPeakMB, process.memoryUsage().rss / 1048576);
    this.availableLowestMB = Math.min(this.availableLowestMB, availableMB());
  }
}

/** Runs one operation of `stack` and measures it (see the header). */
export async function measured(
  sampler: MemorySampler,
  stack: EngineStack,
  op: () => Promise<EngineResult>,
): Promise<OpFigure> {
  const load1 = round(os.loadavg()[0], 2);
  const recorder = new TimelineRecorder();
  const opStarted = Date.now();
  stack.onEvent = recorder.onEvent;
  const runsBefore = stack.cliRuns.length;
  sampler.start();
  const r = await op();
  sampler.stop();
  stack.onEvent = undefined;
  // The operation's own CLI run (the Automation API adds `stack select`, `stack output`, ...).
  const main = stack.cliRuns
    .slice(runsBefore)
    .find((run) => ["up", "preview", "destroy", "refresh"].includes(run.command));
  const figure: OpFigure = {
    ok: r.ok,
    seconds: round(main?.seconds ?? r.seconds, 2),
    automationSeconds: round(r.seconds, 2),
    changes: r.changes,
    enginePeakMB: Math.round(sampler.enginePeakMB),
    load1,
    timeline: recorder.timeline(main?.startedAt ?? opStarted, main?.seconds ?? r.seconds),
  };
  if (!r.ok) {
    figure.error = (r.error ?? "").split("\n").slice(0, 20).join("\n");
    console.error(`bench:   FAILED: ${r.error}\n${r.output.slice(-4000)}`);
  }
  return figure;
}
