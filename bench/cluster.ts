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
 * 3. For the sizes in --user-sizes (default 3+2), a user's `pulumi up` on the same hosts: the
 *    packed package in a TypeScript project, run by the language host (bench/userProject.ts).
 *
 * Writes docs/results/benchmark.md and benchmark.json and prints the markdown.
 * Options: --sizes 1+2,3+2 (default 1+2,3+2,3+12,5+20), --user-sizes 3+2 (or "none"), --skip-lab
 * (mock part only), --skip-mocks.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { SwarmNodeArgs } from "../components/cluster/types";
import { SwarmCluster } from "../components/cluster/swarmCluster";
import { cliVersion, EngineStack, engineUnavailableReason } from "../test/engine/engine";
import { Lab, labUnavailableReason } from "../test/lab/lab";
import { availableMB, measured, MemorySampler, rssMB } from "./measure";
import { waterfall } from "./timeline";
import { LabFigure, markdown, MockFigure, parseSizes, round, UserProjectFigure } from "./table";
import { UserProject } from "./userProject";

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

/**
 * One size: the bound and the five operations of the inline program; then, with `user`, the same
 * hosts once more through a user's project (bench/userProject.ts).
 */
async function labFigure(
  managers: number,
  workers: number,
  id: number,
  user?: () => Promise<UserProject>,
): Promise<{ figure: LabFigure; user?: UserProjectFigure | string }> {
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
    let userFigure: UserProjectFigure | string | undefined;
    if (user) {
      console.error(`bench:   a user's project on the same hosts ...`);
      userFigure = await (await user()).measure(lab, managers, workers).catch((err: Error) => {
        console.error(`bench:   the user's project failed: ${err.message}`);
        return `the ${managers}+${workers} user's project failed: ${err.message.split("\n")[0]}`;
      });
    }
    const figure: LabFigure = {
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
    return { figure, user: userFigure };
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
  // The engine runs at most this many resource steps at once (pulumi's --parallel); the steps here
  // are SSH sessions that wait on the hosts, so on a small machine it, not the CPU, caps the joins.
  const parallel = process.env.PULUMI_PARALLEL
    ? `PULUMI_PARALLEL=${process.env.PULUMI_PARALLEL}`
    : `${4 * os.cpus().length}, pulumi's default of 4 per CPU`;
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown cpu"}), ${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, engine parallelism ${parallel}`;
  const loadBefore = load();
  console.error(`bench: ${machine}; load ${loadBefore}`);

  const labFigures: LabFigure[] = [];
  const userFigures: UserProjectFigure[] = [];
  const userArg = argv.includes("--user-sizes") ? argv[argv.indexOf("--user-sizes") + 1] : "3+2";
  const userSizes = userArg === "none" ? [] : parseSizes(userArg);
  let userProject: Promise<UserProject> | undefined;
  let userSkipped: string | undefined;
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
        const withUser = userSizes.some(([m, w]) => m === managers && w === workers);
        try {
          const measuredSize = await labFigure(
            managers,
            workers,
            id,
            withUser ? () => (userProject ??= UserProject.make()) : undefined,
          );
          labFigures.push(measuredSize.figure);
          if (typeof measuredSize.user === "string") userSkipped = measuredSize.user;
          else if (measuredSize.user) userFigures.push(measuredSize.user);
        } catch (err) {
          labSkipped = `the ${managers}+${workers} run failed: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
          console.error(`bench: ${labSkipped}`);
          break;
        }
      }
    } finally {
      fs.rmSync(sshDir, { recursive: true, force: true });
      if (userProject) (await userProject.catch(() => undefined))?.remove();
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
    userProject: userFigures,
    ...(userSkipped ? { userProjectSkipped: userSkipped } : {}),
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
  const userBad =
    userSkipped !== undefined ||
    userFigures.some((u) =>
      [
        u.up,
        u.typeChecked.noChangeUp,
        u.typeChecked.preview,
        u.transpileOnly.noChangeUp,
        u.transpileOnly.preview,
        u.destroy,
      ].some((o) => !o.ok),
    );
  if (bad || userBad || (labSkipped && !skipLab)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
