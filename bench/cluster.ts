/**
 * The cluster benchmark, one run: `npm run bench` (root, for the lab part); docs/bench.md explains it.
 *
 * 1. Lab, through the REAL Pulumi engine (the `pulumi` CLI and the real command and docker provider
 *    plugins built by scripts/setup-pulumi-tools.sh; test/engine/engine.ts drives them through the
 *    Automation API), for 1+2, 3+2, 3+12 and 5+20 managers+workers, a fresh lab per size (ids
 *    171-174, `Lab.fresh`). In one run per size: the lower bound (the same swarm made by hand with the
 *    minimal commands over SSH: init, each manager's join in turn, every worker's join in parallel),
 *    then the hosts are emptied again and the engine runs `up`, a no-change `up`, `preview`, an `up`
 *    that adds one label, and `destroy`; each result is read back from the swarm. Each operation's
 *    time is its `pulumi` CLI run (the Automation API's own extra CLI runs are shown apart), with the
 *    load average at its start and the engine's per-step timeline (its events). Peak memory of the
 *    engine (the `pulumi` process and its plugins), of this process (which runs the inline program)
 *    and of the lab hosts is sampled while it runs; a size whose hosts would not fit in the
 *    available memory is not started.
 * 2. Program construction time and heap under mocks for 3, 30 and 300 nodes (bench/mockScale.ts,
 *    one process each): no command runs there, mocks only answer the registrations.
 *
 * Writes docs/results/benchmark.md and benchmark.json and prints the markdown.
 * Options: --sizes 1+2,3+2 (default 1+2,3+2,3+12,5+20), --skip-lab (mock part only), --skip-mocks.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { SwarmNodeArgs } from "../components/cluster/types";
import { SwarmCluster } from "../components/cluster/swarmCluster";
import { cliVersion, EngineResult, EngineStack, engineUnavailableReason } from "../test/engine/engine";
import { Lab, labUnavailableReason } from "../test/lab/lab";
import { TimelineRecorder, waterfall } from "./timeline";
import { LabFigure, markdown, MockFigure, OpFigure, parseSizes, round } from "./table";

const exec = promisify(execFile);
const ROOT = path.join(__dirname, "..");
const RESULTS = path.join(ROOT, "docs", "results");
const FIRST_LAB_ID = 171;
const CLUSTER = "bench";
/**
 * Memory a size needs before it starts: headroom for the engine and the program, plus each lab
 * host's dockerd, containerd and sshd (about 130 MB each, measured at 3+12).
 */
const neededMB = (hosts: number) => 1500 + 150 * hosts;

const since = (start: number) => round((Date.now() - start) / 1000, 2);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

/** MemAvailable of the machine, MB. */
function availableMB(): number {
  const line = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync("/proc/meminfo", "utf8"));
  return line ? Math.round(Number(line[1]) / 1024) : -1;
}

/** Resident memory of one process, MB (0 when it is gone). */
function rssMB(pid: number): number {
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
class MemorySampler {
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

/** Resident memory of every process inside the lab's network namespaces, MB. */
async function labHostsMB(lab: Lab): Promise<number> {
  let total = 0;
  for (const host of lab.hosts) {
    const { stdout } = await exec("ip", ["netns", "pids", host.netns]);
    for (const pid of stdout.split("\n").filter(Boolean)) total += rssMB(Number(pid));
  }
  return Math.round(total);
}

/** The hosts' swarm state, by host name. */
async function swarmStates(lab: Lab): Promise<Record<string, string>> {
  const states = await Promise.all(
    lab.hosts.map((h) => lab.sh(h.name, "docker info --format '{{.Swarm.LocalNodeState}}'")),
  );
  return Object.fromEntries(lab.hosts.map((h, i) => [h.name, states[i].trim()]));
}

/**
 * The lower bound: the same swarm made by hand with the minimal commands, each over a fresh SSH
 * connection as the command provider makes them. Init on the first manager (it prints both join
 * tokens in the same session), each further manager's join in turn (Raft membership changes one
 * at a time), then every worker's join at once. Tokens travel on stdin.
 */
async function lowerBound(lab: Lab, managers: number, workers: number): Promise<LabFigure["bound"]> {
  const hosts = lab.hosts.slice(0, managers + workers);
  const [first, ...otherManagers] = hosts.slice(0, managers);
  const workerHosts = hosts.slice(managers);
  const started = Date.now();
  const tokens = await lab.sh(
    first.name,
    `docker swarm init --advertise-addr ${first.ip} --listen-addr 0.0.0.0:2377 >/dev/null && docker swarm join-token -q worker && docker swarm join-token -q manager`,
  );
  const [workerToken, managerToken] = tokens.trim().split("\n");
  const init = since(started);
  const join = async (host: { name: string; ip: string }, token: string) => {
    const t = Date.now();
    await lab.sh(
      host.name,
      `read -r token; docker swarm join --token "$token" --advertise-addr ${host.ip} --listen-addr 0.0.0.0:2377 ${first.ip}:2377 >/dev/null`,
      `${token}\n`,
    );
    return since(t);
  };
  const managerJoins: number[] = [];
  for (const m of otherManagers) managerJoins.push(await join(m, managerToken));
  const w = Date.now();
  await Promise.all(workerHosts.map((h) => join(h, workerToken)));
  const workerJoins = workerHosts.length > 0 ? since(w) : 0;
  const seconds = since(started);
  const rows = await lab.nodes(first.name);
  const ready = rows.filter((r) => r.state === "ready").length;
  if (ready !== hosts.length)
    throw new Error(`the hand-made swarm has ${ready} ready nodes, not ${hosts.length}`);
  return { seconds, init, managerJoins, workerJoins };
}

/** Takes every host out of the swarm again (workers first), so the engine starts from empty hosts. */
async function emptyHosts(lab: Lab, managers: number): Promise<void> {
  const leave = (h: { name: string }) =>
    lab.sh(
      h.name,
      "if [ \"$(docker info --format '{{.Swarm.LocalNodeState}}')\" != inactive ]; then docker swarm leave --force >/dev/null; fi",
    );
  await Promise.all(lab.hosts.slice(managers).map(leave));
  await Promise.all(lab.hosts.slice(0, managers).map(leave));
  const states = await swarmStates(lab);
  const busy = Object.entries(states).filter(([, s]) => s !== "inactive");
  if (busy.length > 0) throw new Error(`hosts still in a swarm after leaving: ${JSON.stringify(busy)}`);
}

function clusterProgram(lab: Lab, managers: number, workers: number, extraLabel: boolean) {
  return async () => {
    const hosts = lab.swarmHosts().slice(0, managers + workers);
    const nodes: SwarmNodeArgs[] = hosts.map((host, i) => ({
      host,
      role: i < managers ? "manager" : "worker",
      // The one-label change: the last node gets a label.
      ...(extraLabel && i === hosts.length - 1 ? { labels: { bench: "yes" } } : {}),
    }));
    const cluster = new SwarmCluster(CLUSTER, { nodes });
    return { nodeIds: cluster.nodeIds };
  };
}

/** Does the swarm, read from the first manager, hold every node ready (and the label when asked)? */
async function readBack(lab: Lab, managers: number, workers: number, label: boolean): Promise<string> {
  const rows = await lab.nodes(lab.hosts[0].name);
  const want = lab.hosts.slice(0, managers + workers);
  const problems: string[] = [];
  if (rows.length !== want.length) problems.push(`${rows.length} nodes listed, ${want.length} expected`);
  for (const [i, h] of want.entries()) {
    const row = rows.find((r) => r.hostname === h.name);
    const role = i < managers ? "manager" : "worker";
    if (!row) problems.push(`${h.name} missing`);
    else {
      if (row.state !== "ready") problems.push(`${h.name} ${row.state}`);
      if (row.role !== role) problems.push(`${h.name} ${row.role}`);
      const last = i === want.length - 1;
      if ((row.labels.bench === "yes") !== (label && last))
        problems.push(`${h.name} label bench=${row.labels.bench}`);
    }
  }
  return problems.length === 0 ? "ok" : problems.join("; ");
}

/** The engine's per-step durations from its output ("... created (1.23s)"), slowest first. */
function slowestSteps(output: string, count = 5): string[] {
  const steps: { name: string; seconds: number }[] = [];
  // Resource steps only: not the stack or the component, whose times span the whole run.
  for (const m of output.matchAll(
    /^ [~+-] +(\S+) (\S+) (?:created|updated|deleted|replaced) \(([\d.]+)s\)/gm,
  ))
    if (!/^(pulumi:pulumi:Stack|swarm:cluster:SwarmCluster)/.test(m[1]))
      steps.push({ name: m[2], seconds: Number(m[3]) });
  return steps
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, count)
    .map((s) => `${s.name} ${s.seconds} s`);
}

async function measured(
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

async function labFigure(managers: number, workers: number, id: number): Promise<LabFigure> {
  const availableBeforeMB = availableMB();
  const needed = neededMB(managers + workers);
  if (availableBeforeMB < needed)
    throw new Error(
      `only ${availableBeforeMB} MB available, below the ${needed} MB ${managers}+${workers} lab hosts need`,
    );
  const bootStarted = Date.now();
  const lab = await Lab.fresh(id, managers + workers);
  const hostsBootSeconds = since(bootStarted);
  const sampler = new MemorySampler();
  let stack: EngineStack | undefined;
  try {
    // A lab left over from an interrupted run starts from empty hosts too.
    await emptyHosts(lab, managers);
    const bound = await lowerBound(lab, managers, workers);
    console.error(`bench:   lower bound ${bound.seconds} s ${JSON.stringify(bound)}`);
    await emptyHosts(lab, managers);

    stack = await EngineStack.create(
      "swarm-bench",
      clusterProgram(lab, managers, workers, false),
      `lab${id}`,
    );
    const s = stack;
    const up = await measured(sampler, s, () => s.up());
    const upOutput = s.log.join("");
    const readUp = up.ok ? await readBack(lab, managers, workers, false) : "up failed";
    const labHosts = await labHostsMB(lab);
    console.error(`bench:   up ${up.seconds} s ${JSON.stringify(up.changes)} read back: ${readUp}`);
    console.error(
      `bench:   up: ${up.timeline.beforeFirstStep} s before the first step, ${up.timeline.steps} s of steps, ${up.timeline.afterLastStep} s after\n${waterfall(up.timeline)}`,
    );
    const noChangeUp = await measured(sampler, s, () => s.up());
    const preview = await measured(sampler, s, () => s.preview());
    const labelUp = await measured(sampler, s, () => s.up(clusterProgram(lab, managers, workers, true)));
    const readLabel = labelUp.ok ? await readBack(lab, managers, workers, true) : "up failed";
    const destroy = await measured(sampler, s, () => s.destroy());
    const left = Object.entries(await swarmStates(lab)).filter(([, st]) => st !== "inactive");
    const readDestroy = left.length === 0 ? "ok" : `still in a swarm: ${JSON.stringify(left)}`;
    console.error(
      `bench:   no-change up ${noChangeUp.seconds} s ${JSON.stringify(noChangeUp.changes)}, preview ${preview.seconds} s ${JSON.stringify(preview.changes)}, label up ${labelUp.seconds} s ${JSON.stringify(labelUp.changes)} (${readLabel}), destroy ${destroy.seconds} s ${JSON.stringify(destroy.changes)} (${readDestroy})`,
    );
    return {
      managers,
      workers,
      labId: id,
      hostsBootSeconds,
      bound,
      up,
      noChangeUp,
      preview,
      labelUp,
      destroy,
      ratio: round(up.seconds / bound.seconds, 2),
      readBack: { up: readUp, labelUp: readLabel, destroy: readDestroy },
      slowestSteps: slowestSteps(upOutput),
      memory: {
        programPeakMB: Math.round(sampler.programPeakMB),
        labHostsMB: labHosts,
        availableBeforeMB,
        availableLowestMB: sampler.availableLowestMB,
      },
    };
  } finally {
    await stack?.remove();
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

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const sizes = parseSizes(
    argv.includes("--sizes") ? argv[argv.indexOf("--sizes") + 1] : "1+2,3+2,3+12,5+20",
  );
  const skipLab = argv.includes("--skip-lab");
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown cpu"}), ${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const loadBefore = load();
  console.error(`bench: ${machine}; load ${loadBefore}`);

  const labFigures: LabFigure[] = [];
  let labSkipped = skipLab
    ? "skipped with --skip-lab"
    : (labUnavailableReason() ?? engineUnavailableReason());
  const pulumi = labSkipped ? "engine not used" : `pulumi CLI ${cliVersion()}`;
  if (labSkipped) console.error(`\n*** LAB PART NOT MEASURED: ${labSkipped} ***\n`);
  else {
    // The Docker provider's key files go to a private directory of this run, removed at the end.
    const sshDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ssh-"));
    process.env.PULUMI_SWARM_SSH_DIR = sshDir;
    try {
      for (const [i, [managers, workers]] of sizes.entries()) {
        const id = FIRST_LAB_ID + i;
        console.error(`bench: ${managers} managers + ${workers} workers (lab ${id}) ...`);
        try {
          labFigures.push(await labFigure(managers, workers, id));
        } catch (err) {
          labSkipped = `the ${managers}+${workers} run failed: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
          console.error(`bench: ${labSkipped}`);
          break;
        }
      }
    } finally {
      fs.rmSync(sshDir, { recursive: true, force: true });
    }
  }
  const mocks: MockFigure[] = [];
  for (const n of argv.includes("--skip-mocks") ? [] : [3, 30, 300]) {
    console.error(`bench: mocks ${n} nodes ...`);
    mocks.push(await mockFigure(n));
  }
  const result = {
    when: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine,
    pulumi,
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
  // A failed engine operation or a wrong read-back is a failed benchmark run.
  const bad = labFigures.some(
    (f) =>
      [f.up, f.noChangeUp, f.preview, f.labelUp, f.destroy].some((o) => !o.ok) ||
      Object.values(f.readBack).some((v) => v !== "ok"),
  );
  if (bad || (labSkipped && !skipLab)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
