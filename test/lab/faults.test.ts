import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { SwarmClusterArgs } from "../../components/cluster/args";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import { cliVersion, EngineResult, EngineStack } from "../engine/engine";
import { describeLab, eventually, Lab, NodeRow, useTempSshDir } from "./lab";
import { divertUnhandledRejections } from "../helpers/unhandled";
import type { FaultRecord, FaultRun } from "../helpers/faultRecord";

jest.setTimeout(15 * 60_000);

const exec = promisify(execFile);
const LAB_ID = 41;
const PROJECT = "swarm-faults";
const STACK = `lab${LAB_ID}`;
/** The SwarmCluster's name: its resources are `lab-<host>-prepare`, `lab-<host>-join`, ... */
const CLUSTER = "lab";
const h = (n: number) => `lab${LAB_ID}-${n}`;
const ip = (n: number) => `10.213.${LAB_ID}.${10 + n}`;
const res = (n: number, step: string) => `${CLUSTER}-${h(n)}-${step}`;
const REPLICAS = 4;
/** Text only the prepare script carries (it shows in the `bash -c` command line of its SSH session). */
const PREPARE_MARKER = "install_docker()";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (s: number) => Math.round(s * 10) / 10;

/** The declared cluster: which hosts (1-5), the reconcile value, labels added on top of the base ones. */
interface Config {
  present: number[];
  reconcile: string;
  extraLabels?: Record<number, Record<string, string>>;
}

/** One message of the engine's "Diagnostics:" section. */
interface Diagnostic {
  /** The resource's name, e.g. "lab-lab41-2-join" (the stack's name for the stack itself). */
  resource: string;
  severity: "error" | "warning" | "info";
  /** The message on one line, with host scripts quoted in it replaced by their length. */
  text: string;
}

/**
 * The engine's "Diagnostics:" section, as the user reads it at the end of `pulumi up`. The command
 * provider quotes the whole host script in a failed command's error (`running "bash -s ..."`):
 * that part is replaced by `<host script, N chars>`; everything else is kept verbatim.
 */
function diagnostics(output: string): Diagnostic[] {
  const start = output.indexOf("\nDiagnostics:\n");
  if (start < 0) return [];
  const body = output.slice(start + "\nDiagnostics:\n".length);
  const end = body.search(/\n(Outputs|Resources|Duration):/);
  const out: Diagnostic[] = [];
  let resource = "";
  for (const line of (end < 0 ? body : body.slice(0, end)).split("\n")) {
    const header = /^ {2}\S+ \((.+)\):$/.exec(line);
    if (header) {
      resource = header[1];
      continue;
    }
    const text = line.trim();
    if (!text) continue;
    const message = /^(error|warning|info): /.exec(text);
    if (message || out.length === 0 || out[out.length - 1].resource !== resource)
      out.push({ resource, severity: (message?.[1] ?? "info") as Diagnostic["severity"], text });
    else out[out.length - 1].text += ` ${text}`;
  }
  return out.map((d) => ({
    ...d,
    text: d.text.replace(
      /running "((?:[^"\\]|\\.)*)"/g,
      (_, script: string) => `running "<host script, ${script.length} chars>"`,
    ),
  }));
}

/** The warning every updated command shows while the SSH server refuses PULUMI_COMMAND_STDOUT/STDERR. */
const ENV_WARNING = /^warning: Unable to set 'PULUMI_COMMAND_STD(OUT|ERR)'/;
/** The error diagnostics of an operation, one line each: the resources' errors first, the stack's last. */
const errorsOf = (r: EngineResult) =>
  diagnostics(r.output)
    .filter((d) => d.severity === "error")
    .sort(
      (a, b) => Number(a.resource === `${PROJECT}-${STACK}`) - Number(b.resource === `${PROJECT}-${STACK}`),
    )
    .map((d) => `${d.resource}: ${d.text}`);

/** The engine's resource counts from its "Resources:" block (what a failed operation did too). */
function resourceCounts(output: string): Record<string, number> {
  const block = /\nResources:\n([\s\S]*?)\n\n/.exec(output)?.[1] ?? "";
  const verbs: Record<string, string> = {
    created: "create",
    updated: "update",
    deleted: "delete",
    replaced: "replace",
    errored: "error",
  };
  const out: Record<string, number> = {};
  for (const m of block.matchAll(/(\d+) (created|updated|deleted|replaced|errored)\b/g))
    out[verbs[m[2]]] = Number(m[1]);
  return out;
}

/** Names of the resources the operation finished with `verb`, from the engine's progress lines. */
function steps(output: string, verb: "created" | "updated" | "deleted"): string[] {
  const re = new RegExp(`^ [~+-] +\\S+ (\\S+) ${verb} \\(`, "gm");
  return [...new Set([...output.matchAll(re)].map((m) => m[1]))].sort();
}

/** The progress lines of one resource (their tails carry the last line its script printed). */
/**
 * Every step a changed `reconcile` value re-runs: each node's prepare and join commands and its
 * node resource. After a failed run, the steps it finished and the ones the next run finishes are
 * exactly these, once each.
 */
const reconcileSteps = (present: number[]) =>
  present.flatMap((n) => [res(n, "prepare"), res(n, "join"), res(n, "node")]).sort();

const linesOf = (output: string, name: string) =>
  output
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.includes(` ${name} `));

/**
 * Faults on a 3-manager + 2-worker lab swarm running a replicated service, applied through the REAL
 * Pulumi engine: the `pulumi` CLI and the real `pulumi-resource-command` / `pulumi-resource-docker`
 * plugins (scripts/setup-pulumi-tools.sh), the SwarmCluster program inline through the Automation
 * API. Faults are injected between operations, or during an `up` by watching the host (the process
 * table of its network namespace shows which host script its SSH session runs), as an operator
 * would meet them. Each scenario records what the user saw (the engine's diagnostics) and ends with
 * the service's tasks running on ready nodes.
 */
describeLab(
  "fault suite (real engine): 3 managers + 2 workers under faults",
  () => {
    let lab: Lab;
    let stack: EngineStack;
    let sshDir: string;
    let removeSshDir = () => {};
    let config: Config = { present: [1, 2, 3, 4, 5], reconcile: "r0" };
    const records: FaultRecord[] = [];
    /** Every engine operation of the suite, with what it showed. */
    const operations: { what: string; result: EngineResult }[] = [];
    const rejections: string[] = [];
    let restoreRejections = () => {};

    const baseLabels: Record<number, Record<string, string>> = {
      1: { zone: "a" },
      2: { zone: "b" },
      3: { zone: "c" },
      4: { tier: "web" },
      5: { tier: "batch" },
    };

    const clusterArgs = (c: Config): SwarmClusterArgs => {
      const hosts = lab.swarmHosts();
      const nodes: SwarmClusterArgs["nodes"] = c.present.map((n) => ({
        host: hosts[n - 1],
        role: n <= 3 ? "manager" : "worker",
        labels: { ...baseLabels[n], ...(c.extraLabels?.[n] ?? {}) },
      }));
      const managers = nodes.filter((n) => n.role === "manager").length;
      return { nodes, reconcile: c.reconcile, allowEvenManagers: managers % 2 === 0 };
    };

    const program =
      (c: Config): PulumiFn =>
      async () => {
        const cluster = new SwarmCluster(CLUSTER, clusterArgs(c));
        return { nodeIds: cluster.nodeIds, clusterId: cluster.clusterId };
      };

    /** `pulumi up` of `c` (which becomes the declared config). */
    async function up(c: Config, what: string): Promise<EngineResult> {
      config = c;
      const result = await stack.up(program(c));
      operations.push({ what, result });
      if (!result.ok)
        console.log(
          `${what}: \`up\` failed after ${result.seconds.toFixed(1)} s:\n  ${errorsOf(result).join("\n  ")}`,
        );
      return result;
    }

    const run = (operation: string, note: string, r: EngineResult): FaultRun => ({
      operation,
      note,
      ok: r.ok,
      seconds: round(r.seconds),
      changes: r.ok ? r.changes : resourceCounts(r.output),
    });

    /** Starts a record; `body` fills it; it is marked passed only when `body` completes. */
    async function scenario(
      scenarioName: string,
      fault: string,
      body: (rec: FaultRecord) => Promise<void>,
    ): Promise<void> {
      const rec: FaultRecord = {
        scenario: scenarioName,
        fault,
        userSees: [],
        outcome: "",
        runs: [],
        replicasAfter: "",
        seconds: 0,
        passed: false,
      };
      records.push(rec);
      const started = Date.now();
      try {
        await body(rec);
        rec.passed = true;
      } catch (err) {
        rec.failure = String((err as Error).message ?? err).slice(0, 3000);
        throw err;
      } finally {
        rec.seconds = round((Date.now() - started) / 1000);
      }
    }

    /** The newest row per hostname (a node that left and rejoined keeps an old "down" entry). */
    async function current(manager: string): Promise<Record<string, NodeRow>> {
      const rows = await lab.nodes(manager);
      const byHost: Record<string, NodeRow> = {};
      for (const r of rows) if (!byHost[r.hostname] || r.state === "ready") byHost[r.hostname] = r;
      return byHost;
    }

    /** The swarm matches the declared config: every declared host ready in its role with its labels. */
    async function inDeclaredState(manager: string): Promise<boolean> {
      const rows = await current(manager);
      return clusterArgs(config).nodes.every((n) => {
        const r = rows[n.host.name];
        if (!r || r.state !== "ready" || r.role !== n.role || r.availability !== "active") return false;
        if (n.role === "manager" && !/^(leader|reachable)$/.test(r.reachability)) return false;
        return Object.entries(n.labels ?? {}).every(([k, v]) => r.labels[k] === v);
      });
    }

    /** The hostname of the Raft leader, as a manager sees it. */
    async function leaderOf(manager: string): Promise<string | undefined> {
      const out = await lab.sh(
        manager,
        "docker node ls --filter role=manager --format '{{.Hostname}} {{.ManagerStatus}}'",
      );
      return out
        .split("\n")
        .map((l) => l.trim().split(" "))
        .find(([, status]) => status === "Leader")?.[0];
    }

    async function replicas(manager: string): Promise<string> {
      return (await lab.sh(manager, "docker service ls --filter name=probe --format '{{.Replicas}}'")).trim();
    }

    /** Probe tasks that should run and do, on nodes that are ready (not on stale "down" entries). */
    async function runningOnReadyNodes(manager: string): Promise<number> {
      const ready = new Set((await lab.nodes(manager)).filter((r) => r.state === "ready").map((r) => r.id));
      const out = await lab.sh(
        manager,
        "docker service ps -q --filter desired-state=running probe | xargs -r docker inspect --format '{{.NodeID}} {{.Status.State}}'",
      );
      return out
        .split("\n")
        .map((l) => l.trim().split(" "))
        .filter(([node, state]) => ready.has(node) && state === "running").length;
    }

    /** Every replica of the probe service running on a ready node, seen from `manager`. */
    async function noTaskLost(manager: string): Promise<string> {
      const ok = await eventually(120, async () => (await runningOnReadyNodes(manager)) === REPLICAS);
      const running = await runningOnReadyNodes(manager).catch(() => -1);
      expect({ ok, running }).toEqual({ ok: true, running: REPLICAS });
      return `${running}/${REPLICAS} running on ready nodes (docker service ls: ${await replicas(manager)})`;
    }

    async function netnsPids(host: string): Promise<number[]> {
      const { stdout } = await exec("ip", ["netns", "pids", lab.host(host).netns]);
      return stdout.split("\n").filter(Boolean).map(Number);
    }
    const readProc = (pid: number, file: string) => {
      try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
      } catch {
        return "";
      }
    };
    const cmdline = (pid: number) => readProc(pid, "cmdline").split("\0").filter(Boolean).join(" ");
    const comm = (pid: number) => readProc(pid, "comm").trim();
    const sshdLine = (host: string) => {
      const dir = lab.host(host).dir;
      return ["/usr/sbin/sshd", "-f", path.join(dir, "sshd_config"), "-E", path.join(dir, "sshd.log")];
    };

    /** The host scripts with `marker` that a lab host is running (its SSH session's `bash -c`). */
    async function scriptsRunning(host: string, marker: string): Promise<number> {
      const pids = await netnsPids(host);
      return pids.filter((p) => {
        const line = cmdline(p);
        return line.startsWith("bash -c ") && line.includes(marker);
      }).length;
    }

    /**
     * Watches a host (every 20 ms) until a host script with `marker` has started and ended, then
     * runs `act` at once. Never rejects: an exception in the test's process during an inline
     * program would be taken for the program's own.
     */
    async function whenScriptEnds(
      host: string,
      marker: string,
      seconds: number,
      act: () => void,
    ): Promise<string> {
      try {
        const deadline = Date.now() + seconds * 1000;
        let seen = false;
        while (Date.now() < deadline) {
          const running = (await scriptsRunning(host, marker)) > 0;
          if (running) seen = true;
          else if (seen) {
            act();
            return "injected";
          }
          await sleep(20);
        }
        return seen ? "the script never ended" : "the script never started";
      } catch (err) {
        return `the watch failed: ${String(err)}`;
      }
    }

    /** SIGTERM to a host's dockerd from this machine (no SSH round trip: it must land at once). */
    async function dockerdPid(host: string): Promise<number | undefined> {
      return (await netnsPids(host)).find((p) => comm(p) === "dockerd");
    }

    /** Stops the SSH server of a lab host (the listening sshd of that host, by pid; sessions stay). */
    async function stopSshd(host: string): Promise<void> {
      // sshd retitles its listener "sshd: <command line> [listener] ..."
      const want = `sshd: ${sshdLine(host).join(" ")} [listener]`;
      const pids = (await netnsPids(host)).filter((p) => cmdline(p).startsWith(want));
      expect(pids).toHaveLength(1);
      process.kill(pids[0], "SIGTERM");
      expect(await eventually(10, async () => (await lab.ssh(host, "true", "", 5000)).code !== 0)).toBe(true);
    }

    async function sshdListening(host: string): Promise<boolean> {
      const want = `sshd: ${sshdLine(host).join(" ")} [listener]`;
      return (await netnsPids(host)).some((p) => cmdline(p).startsWith(want));
    }

    /**
     * Starts sshd again inside the host's own mount/UTS/net namespaces, as host-boot.sh does, entered
     * through any process of the host (dockerd, or the placeholder kept while dockerd is stopped).
     */
    async function startSshd(host: string): Promise<void> {
      const ownNs = fs.readlinkSync("/proc/self/ns/mnt");
      const anchor = (await netnsPids(host)).find((p) => {
        try {
          return fs.readlinkSync(`/proc/${p}/ns/mnt`) !== ownNs;
        } catch {
          return false;
        }
      });
      if (anchor === undefined) throw new Error(`no process left in ${host}'s namespaces to enter`);
      await exec("nsenter", ["-t", String(anchor), "-m", "-u", "-n", ...sshdLine(host)]);
      expect(await eventually(10, async () => (await lab.ssh(host, "true", "", 5000)).code === 0)).toBe(true);
    }

    beforeAll(async () => {
      restoreRejections = divertUnhandledRejections((reason) => rejections.push(String(reason)));
      // The Docker provider's and the node resources' key files go to a directory of this run.
      removeSshDir = useTempSshDir();
      sshDir = process.env.PULUMI_SWARM_SSH_DIR!;
      // A fresh lab: leftovers of an earlier run would hide what this one does.
      lab = await Lab.fresh(LAB_ID, 5);
      stack = await EngineStack.create(PROJECT, program(config), STACK);
      const first = await up(config, "initial up");
      if (!first.ok)
        throw new Error(`the initial cluster did not form: ${first.error}\n${first.output.slice(-3000)}`);
      console.log(
        `initial 3+2 cluster formed by the engine in ${first.seconds.toFixed(1)} s: ${JSON.stringify(first.changes)}`,
      );
      const preview = await stack.preview();
      operations.push({ what: "preview after the initial up", result: preview });
      expect({ ok: preview.ok, changes: preview.changes }).toEqual({ ok: true, changes: {} });
      await lab.sh(
        h(1),
        `docker service create -d -q --name probe --replicas ${REPLICAS} lab/busybox:latest sleep 3600 >/dev/null`,
      );
      await noTaskLost(h(1));
    });

    // A scenario that failed halfway must not leave its fault behind for the next one.
    afterEach(async () => {
      if (!lab) return;
      for (const host of lab.hosts) {
        if (!(await sshdListening(host.name))) await startSshd(host.name).catch(() => undefined);
        if ((await dockerdPid(host.name)) === undefined) await lab.ssh(host.name, "dockerd-ctl start");
      }
    });

    afterAll(async () => {
      restoreRejections();
      writeResults();
      await stack?.remove();
      await lab?.release();
      removeSshDir();
    });

    /** The warnings the engine showed the user across all operations (none should show). */
    function warnings() {
      return operations.flatMap(({ what, result }) =>
        diagnostics(result.output)
          .filter((d) => d.severity === "warning")
          .map((d) => ({ what, resource: d.resource, text: d.text })),
      );
    }

    function warningSummary() {
      const all = warnings();
      return {
        operations: operations.length,
        count: all.length,
        distinct: [...new Set(all.map((w) => w.text))].map((text) => ({
          text,
          count: all.filter((w) => w.text === text).length,
        })),
      };
    }

    function writeResults(): void {
      const dir = process.env.PROOF_RESULTS_DIR;
      if (!dir || records.length === 0) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, "faults.json"),
        `${JSON.stringify({ lab: LAB_ID, engine: `pulumi ${cliVersion()}`, records, warnings: warningSummary() }, null, 2)}\n`,
      );
    }

    it("a manager's dockerd stops during an `up`: the run fails at that manager's join naming the host; after a restart the same `up` converges", async () => {
      await scenario(
        "manager dockerd stopped during an `up`",
        `dockerd of manager ${h(2)} stopped (SIGTERM) the moment its prepare step ends, while \`up\` (reconcile r0 -> r1) runs`,
        async (rec) => {
          const pid = await dockerdPid(h(2));
          expect(pid).toBeDefined();
          let injectedAt = 0;
          const watch = whenScriptEnds(h(2), PREPARE_MARKER, 180, () => {
            process.kill(pid!, "SIGTERM");
            injectedAt = Date.now();
          });
          const failed = await up({ ...config, reconcile: "r1" }, "up during the dockerd fault");
          expect(await watch).toBe("injected");
          expect(injectedAt).toBeGreaterThan(0);
          rec.runs.push(run("up", "reconcile r0 -> r1; dockerd stopped mid-run", failed));
          expect(failed.ok).toBe(false);
          rec.userSees = errorsOf(failed);
          expect(rec.userSees).toHaveLength(2);
          expect(rec.userSees).toEqual(
            expect.arrayContaining([
              expect.stringMatching(
                new RegExp(
                  `^${res(2, "join")}: error: Process exited with status 1: running "<host script, \\d+ chars>": pulumi-swarm\\[${h(2)}\\]: ERROR: dockerd does not answer on this host$`,
                ),
              ),
              `${PROJECT}-${STACK}: error: update failed`,
            ]),
          );
          // What ran: the steps before that join; nothing that needs that manager. (The engine
          // starts no new step after a failure: independent steps may or may not have run; the
          // workers' joins need only the first manager, and no prepare step waits for another
          // (a member's dockerd restart waits for its membership step), so they are such steps.)
          const updated = steps(failed.output, "updated");
          expect(updated).toEqual(
            expect.arrayContaining([res(1, "prepare"), res(1, "join"), res(2, "prepare")]),
          );
          for (const never of [res(3, "join"), res(1, "node"), res(2, "node"), res(3, "node")])
            expect(updated).not.toContain(never);
          // The two other managers keep quorum and the service whole meanwhile.
          expect(
            await eventually(60, async () => (await current(h(1)))[h(2)].reachability === "unreachable"),
          ).toBe(true);
          await noTaskLost(h(1));

          // dockerd-ctl start does nothing while the stopped dockerd is still shutting down.
          expect(await eventually(60, async () => !fs.existsSync(`/proc/${pid}`))).toBe(true);
          await lab.sh(h(2), "dockerd-ctl start");
          const again = await up(config, "same up after dockerd restarted");
          rec.runs.push(run("up", "same config, dockerd started again", again));
          expect(again.ok).toBe(true);
          expect(errorsOf(again)).toEqual([]);
          // Exactly the steps the failed run did not finish.
          expect([...updated, ...steps(again.output, "updated")].sort()).toEqual(
            reconcileSteps(config.present),
          );
          expect(await eventually(60, () => inDeclaredState(h(1)))).toBe(true);
          rec.outcome = `the run stops at ${res(2, "join")}: nothing that needs ${h(2)} runs (${h(3)}'s join, the managers' settings; the prepare steps only write configuration and the workers' joins need only ${h(1)}); the 2 other managers keep quorum. dockerd started again -> the same \`up\` runs the ${again.changes.update ?? 0} steps left and the swarm is in the declared state`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("a worker's dockerd down before an `up`: a plain `up` sees nothing; a change on that node fails naming it; once dockerd is back the same `up` applies it", async () => {
      await scenario(
        "dockerd down before an `up`",
        `dockerd of worker ${h(4)} stopped before the runs; then \`up\` with nothing changed, and \`up\` adding a label to ${h(4)}`,
        async (rec) => {
          await lab.sh(h(4), "dockerd-ctl stop");
          expect(await eventually(60, async () => (await current(h(1)))[h(4)].state === "down")).toBe(true);
          const plain = await up(config, "plain up with a node's dockerd down");
          rec.runs.push(run("up", "same config", plain));
          // Command resources cannot read the host: the engine has nothing to do.
          expect({ ok: plain.ok, changes: plain.changes }).toEqual({ ok: true, changes: {} });

          const labelled: Config = { ...config, extraLabels: { ...config.extraLabels, 4: { disk: "ssd" } } };
          const failed = await up(labelled, "label change on the node whose dockerd is down");
          rec.runs.push(run("up", `label disk=ssd added to ${h(4)}`, failed));
          expect(failed.ok).toBe(false);
          rec.userSees = [
            `plain up: succeeds, no changes (${plain.seconds.toFixed(1)} s)`,
            ...errorsOf(failed),
          ];
          expect(errorsOf(failed)).toHaveLength(2);
          expect(errorsOf(failed)).toEqual(
            expect.arrayContaining([
              expect.stringMatching(
                // Names the host, and says what is wrong there.
                new RegExp(
                  `^${res(4, "node")}: error: .*\\b${h(4)}\\b.*pulumi-swarm\\[${h(4)}\\]: ERROR: dockerd does not answer on this host$`,
                ),
              ),
              `${PROJECT}-${STACK}: error: update failed`,
            ]),
          );
          await noTaskLost(h(1));

          await lab.sh(h(4), "dockerd-ctl start");
          const again = await up(labelled, "same up after dockerd started");
          rec.runs.push(run("up", "same config, dockerd started again", again));
          expect({ ok: again.ok, changes: again.changes }).toEqual({ ok: true, changes: { update: 1 } });
          expect(await eventually(60, () => inDeclaredState(h(1)))).toBe(true);
          expect((await current(h(1)))[h(4)].labels.disk).toBe("ssd");
          rec.outcome = `a plain \`up\` reports no changes while ${h(4)} is down (nothing is refreshed); the label change fails after ${failed.seconds.toFixed(1)} s at ${res(4, "node")}, naming the host; dockerd started -> the same \`up\` updates that one resource and the label is on the node`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("a manager's dockerd down before a reconcile `up`: the run succeeds (its prepare step starts dockerd again)", async () => {
      await scenario(
        "manager dockerd down when a reconcile `up` starts",
        `dockerd of manager ${h(3)} stopped before \`up\` with reconcile r1 -> r2`,
        async (rec) => {
          await lab.sh(h(3), "dockerd-ctl stop");
          const survived = await up(
            { ...config, reconcile: "r2" },
            "reconcile with a manager's dockerd down",
          );
          rec.runs.push(run("up", "reconcile r1 -> r2", survived));
          expect(errorsOf(survived)).toEqual([]);
          expect(survived.ok).toBe(true);
          expect((await lab.ssh(h(3), "dockerd-ctl status")).code).toBe(0);
          expect(await eventually(90, () => inDeclaredState(h(1)))).toBe(true);
          rec.userSees = [`nothing: up succeeds (${JSON.stringify(survived.changes)})`];
          rec.outcome = `${res(3, "prepare")} finds dockerd not answering and starts it; ${h(3)} is a reachable manager again; swarm in the declared state`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("SSH to one host refused, then back: the run fails naming its address; the other nodes are reconciled; the same `up` then converges", async () => {
      await scenario(
        "SSH refused on one host, then back",
        `sshd of worker ${h(5)} stopped before \`up\` (reconcile r2 -> r3), started again after it`,
        async (rec) => {
          await stopSshd(h(5));
          const failed = await up({ ...config, reconcile: "r3" }, "up with a host's SSH refused");
          rec.runs.push(run("up", "reconcile r2 -> r3; sshd of one worker stopped", failed));
          expect(failed.ok).toBe(false);
          rec.userSees = errorsOf(failed);
          expect(rec.userSees).toEqual([
            `${res(5, "prepare")}: error: after 10 failed attempts: dial tcp ${ip(5)}:22: connect: connection refused`,
            `${PROJECT}-${STACK}: error: update failed`,
          ]);
          // Nothing of that host ran; the other nodes' steps ran until the failure (the engine then
          // starts no new step) and the next run does the rest.
          const updated = steps(failed.output, "updated");
          expect(updated).not.toContain(res(5, "join"));
          expect(updated).not.toContain(res(5, "node"));
          await noTaskLost(h(1));
          await startSshd(h(5));
          const again = await up(config, "same up after sshd started");
          rec.runs.push(run("up", "same config, sshd started again", again));
          // Exactly the steps the failed run did not finish, that host's three among them.
          expect(again.ok).toBe(true);
          expect(errorsOf(again)).toEqual([]);
          const rest = steps(again.output, "updated");
          expect(rest).toEqual(expect.arrayContaining([res(5, "join"), res(5, "node"), res(5, "prepare")]));
          expect([...updated, ...rest].sort()).toEqual(reconcileSteps(config.present));
          expect(await inDeclaredState(h(1))).toBe(true);
          rec.outcome = `the command provider retries the dial 10 times (${failed.seconds.toFixed(0)} s in all), then fails that host's first step; ${updated.length} steps of the other nodes had finished (the engine starts no new step after a failure); sshd back -> the same \`up\` runs the ${rest.length} steps left, ${h(5)}'s 3 among them`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("a node that left the swarm by hand: a plain `up` sees nothing; a changed reconcile value rejoins it", async () => {
      await scenario(
        "node left the swarm by hand",
        `\`docker swarm leave\` on worker ${h(5)}`,
        async (rec) => {
          const before = (await current(h(1)))[h(5)].id;
          await lab.sh(h(5), "docker swarm leave >/dev/null");
          expect(await eventually(60, async () => (await current(h(1)))[h(5)].state === "down")).toBe(true);
          const plain = await up(config, "plain up after a node left");
          rec.runs.push(run("up", "same config", plain));
          expect({ ok: plain.ok, changes: plain.changes }).toEqual({ ok: true, changes: {} });
          const again = await up({ ...config, reconcile: "r4" }, "reconcile after a node left");
          rec.runs.push(run("up", "reconcile r3 -> r4", again));
          expect(again.ok).toBe(true);
          expect(errorsOf(again)).toEqual([]);
          expect(linesOf(again.output, res(5, "join")).some((l) => l.includes("joining the swarm"))).toBe(
            true,
          );
          const after = (again.outputs.nodeIds?.value as Record<string, string> | undefined)?.[h(5)];
          expect(after).toBeDefined();
          expect(after).not.toBe(before);
          expect(await eventually(60, () => inDeclaredState(h(1)))).toBe(true);
          // The old entry the rejoin left "down" is gone (the node resource removes it).
          expect((await lab.nodes(h(1))).filter((r) => r.hostname === h(5)).map((r) => r.id)).toEqual([
            after,
          ]);
          rec.userSees = [
            `plain up: succeeds, no changes (${plain.seconds.toFixed(1)} s)`,
            `up with reconcile r4: succeeds (${JSON.stringify(again.changes)}); the stack output nodeIds.${h(5)} changes ${before} -> ${after}`,
          ];
          rec.outcome = `a plain \`up\` cannot see the departure; with the reconcile value changed the join script finds the node inactive and joins it again (new node id), and its node resource removes the old "down" entry ${before}`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("the leader (the first manager, which the program administers through) stopped: a new leader is elected; `up` fails at that host until it answers, then converges", async () => {
      await scenario(
        "leader stopped (the first manager)",
        `dockerd and sshd of ${h(1)} (the first manager, made the leader first) stopped`,
        async (rec) => {
          // Make the first manager the leader (restart whoever leads instead), so the fault hits both.
          for (let i = 0; i < 6 && (await leaderOf(h(1))) !== h(1); i++) {
            await lab.sh((await leaderOf(h(1)))!, "dockerd-ctl restart");
            // After each restart a leader must be elected again before the next try.
            expect(await eventually(60, async () => /^lab/.test((await leaderOf(h(1))) ?? ""))).toBe(true);
          }
          const leaderBefore = await leaderOf(h(1));
          expect(leaderBefore).toBe(h(1));
          // A placeholder keeps the host's mount namespace alive (and enterable) while dockerd and sshd are down.
          await lab.sh(
            h(1),
            "setsid nohup sleep 1200 >/dev/null 2>&1 </dev/null & echo $! > /run/fault-placeholder.pid",
          );
          const placeholder = Number((await lab.sh(h(1), "cat /run/fault-placeholder.pid")).trim());
          try {
            await lab.sh(h(1), "dockerd-ctl stop");
            await stopSshd(h(1));
            let newLeader: string | undefined;
            expect(
              await eventually(60, async () => {
                newLeader = await leaderOf(h(2));
                return newLeader === h(2) || newLeader === h(3);
              }),
            ).toBe(true);
            await noTaskLost(h(2));
            const plain = await up(config, "plain up with the leader down");
            rec.runs.push(run("up", "same config", plain));
            expect({ ok: plain.ok, changes: plain.changes }).toEqual({ ok: true, changes: {} });
            const failed = await up({ ...config, reconcile: "r5" }, "reconcile with the leader down");
            rec.runs.push(run("up", "reconcile r4 -> r5", failed));
            expect(failed.ok).toBe(false);
            rec.userSees = [
              `plain up: succeeds, no changes (${plain.seconds.toFixed(1)} s)`,
              ...errorsOf(failed),
            ];
            expect(errorsOf(failed)).toEqual([
              `${res(1, "prepare")}: error: after 10 failed attempts: dial tcp ${ip(1)}:22: connect: connection refused`,
              `${PROJECT}-${STACK}: error: update failed`,
            ]);
            // Everything else waits on the first manager: only the other hosts' prepare steps ran
            // (configuration only: a member's dockerd restart waits for its membership step).
            expect(steps(failed.output, "updated").sort()).toEqual(
              [2, 3, 4, 5].map((n) => res(n, "prepare")).sort(),
            );

            // Its SSH comes back (dockerd still stopped): the run's prepare starts dockerd and converges.
            await startSshd(h(1));
            const again = await up(config, "same up after the first manager's sshd is back");
            rec.runs.push(run("up", "same config, sshd back (dockerd still stopped)", again));
            expect(again.ok).toBe(true);
            expect(errorsOf(again)).toEqual([]);
            expect((await lab.ssh(h(1), "dockerd-ctl status")).code).toBe(0);
            expect(await eventually(90, () => inDeclaredState(h(2)))).toBe(true);
            const leaderAfter = await leaderOf(h(2));
            rec.outcome = `new leader ${newLeader} elected and the service stays whole; a plain \`up\` has nothing to do; a reconcile \`up\` fails at ${h(1)}'s first step and runs nothing that needs it (init, every join and settings step go through the first manager); once its SSH answers, the same \`up\` restarts its dockerd and converges (leader now ${leaderAfter})`;
            rec.replicasAfter = await noTaskLost(h(2));
          } finally {
            // Bring the host back before the placeholder goes, or nothing is left to enter.
            if (!(await sshdListening(h(1)))) await startSshd(h(1)).catch(() => undefined);
            await lab.ssh(h(1), "dockerd-ctl start").catch(() => undefined);
            process.kill(placeholder, "SIGTERM");
          }
        },
      );
    });

    it("removes managers one by one down to one through `up`, never losing quorum", async () => {
      await scenario(
        "managers removed one by one down to one",
        `${h(3)} then ${h(2)} taken out of the config (3 -> 2 -> 1 managers); the engine runs the deletes`,
        async (rec) => {
          for (const [gone, remaining] of [
            [3, [1, 2, 4, 5]],
            [2, [1, 4, 5]],
          ] as [number, number[]][]) {
            // Quorum: a manager that stays answers management calls all through the run.
            const polls: number[] = [];
            let polling = true;
            const poller = (async () => {
              while (polling) {
                polls.push(
                  (
                    await lab
                      .ssh(h(1), "docker node ls -q >/dev/null", "", 20_000)
                      .catch(() => ({ code: -1 }))
                  ).code,
                );
                await sleep(300);
              }
            })();
            const next = await up({ ...config, present: remaining }, `remove ${h(gone)}`);
            polling = false;
            await poller;
            rec.runs.push(run("up", `${h(gone)} removed from the config`, next));
            expect(errorsOf(next)).toEqual([]);
            expect(next.ok).toBe(true);
            expect(steps(next.output, "deleted")).toEqual(
              [
                res(gone, "host-key"),
                res(gone, "join"),
                res(gone, "node"),
                res(gone, "prepare"),
                res(gone, "registration"),
              ].sort(),
            );
            // The departed manager's entry is gone from the node list (its registration's delete
            // removes it once the managers see it down), not left behind "down".
            expect((await lab.nodes(h(1))).map((r) => `${r.hostname} ${r.state}`)).not.toContain(
              `${h(gone)} down`,
            );
            const lines = (step: string) =>
              linesOf(next.output, res(gone, step)).filter((l) => / deleted \(/.test(l));
            expect(lines("join")[0]).toMatch(/ left$/);
            expect(
              linesOf(next.output, res(gone, "join")).some((l) => l.includes("demoting this manager")),
            ).toBe(true);
            rec.userSees.push(
              ...[...lines("node"), ...lines("join"), ...lines("registration")].map((l) =>
                l.trim().replace(/\s+/g, " "),
              ),
            );
            expect({ polls: polls.length > 0, failed: polls.filter((c) => c !== 0).length }).toEqual({
              polls: true,
              failed: 0,
            });
            rec.outcome += `${rec.outcome ? "; " : ""}${h(gone)} out: docker node ls on ${h(1)} answered ${polls.length}/${polls.length} times during the run`;
            expect(await eventually(60, () => inDeclaredState(h(1)))).toBe(true);
            const managers = (await lab.nodes(h(1))).filter((r) => r.role === "manager");
            expect(managers.map((r) => r.hostname).sort()).toEqual(
              remaining
                .filter((n) => n <= 3)
                .map(h)
                .sort(),
            );
            expect((await lab.nodes(h(1))).map((r) => r.hostname)).not.toContain(h(gone));
            expect((await lab.sh(h(gone), "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
              "inactive",
            );
            await noTaskLost(h(1));
          }
          const final = await up(config, "up with nothing changed after the removals");
          rec.runs.push(run("up", "same config", final));
          expect({ ok: final.ok, changes: final.changes }).toEqual({ ok: true, changes: {} });
          rec.outcome += `; removed hosts inactive; 1 manager + 2 workers in the declared state; a further \`up\` changes nothing`;
          rec.replicasAfter = await noTaskLost(h(1));
        },
      );
    });

    it("leaks no secret into the engine's output, errors, state or files of any run", async () => {
      const tokens = (
        await lab.sh(h(1), "docker swarm join-token -q worker; docker swarm join-token -q manager")
      )
        .trim()
        .split("\n");
      expect(tokens).toHaveLength(2);
      const secrets = [...tokens, lab.privateKey.trim(), ...privateKeyBody(lab.privateKey)];
      const leaks: string[] = [];
      let scanned = 0;
      const scan = (where: string, text: string | undefined) => {
        scanned++;
        secrets.forEach((secret, k) => {
          const at = text && secret ? text.indexOf(secret) : -1;
          if (at >= 0)
            leaks.push(
              `${where}: secret #${k} after "${text!.slice(Math.max(0, at - 60), at).replace(/\s+/g, " ")}"`,
            );
        });
      };
      stack.log.forEach((line, i) => scan(`engine output line ${i}`, line));
      for (const op of operations) scan(`error of "${op.what}"`, op.result.error);
      const state = await stack.exportState();
      scan("pulumi stack export", state);
      // The backend's files: the checkpoint, its history and backups, the project and stack files.
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else files.push(full);
        }
      };
      walk(stack.workDir);
      for (const f of files) scan(path.relative(stack.workDir, f), fs.readFileSync(f, "utf8"));
      for (const r of rejections) scan("unhandled rejection", r);
      // The Docker provider's key file holds the key by design: it must be private.
      const loose = fs
        .readdirSync(sshDir)
        .map((f) => path.join(sshDir, f))
        .filter((f) => (fs.statSync(f).mode & 0o077) !== 0);
      const result = {
        engineOutputLines: stack.log.length,
        operations: operations.length,
        stateFilesScanned: files.length,
        textsScanned: scanned,
        secretsChecked: secrets.length,
        secretsInState: state.includes("ciphertext") ? "encrypted (ciphertext)" : "none found",
        sshDirMode: (fs.statSync(sshDir).mode & 0o777).toString(8),
        looseKeyFiles: loose.map((f) => path.basename(f)),
        leaks,
      };
      const dir = process.env.PROOF_RESULTS_DIR;
      if (dir) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "leak-lab.json"), `${JSON.stringify(result, null, 2)}\n`);
      }
      console.log(`leak check over the engine runs: ${JSON.stringify({ ...result, leaks: leaks.length })}`);
      expect(leaks).toEqual([]);
      expect(loose).toEqual([]);
      expect(result.sshDirMode).toBe("700");
    });

    it("shows the user no warning in any run (the diagnostics carry only real problems)", () => {
      const shown = warnings();
      const summary = warningSummary();
      console.log(
        `warnings across ${summary.operations} operations: ${summary.count}${summary.distinct.map((d) => `\n  ${d.count} x ${d.text}`).join("")}`,
      );
      // Seen: every updated command warns "Unable to set 'PULUMI_COMMAND_STDOUT'" because
      // SwarmCluster's commands keep @pulumi/command's addPreviousOutputInEnv default (true) and
      // the SSH server does not AcceptEnv it. The other components set it to false.
      expect(shown.filter((w) => ENV_WARNING.test(w.text)).map((w) => w.resource)).toEqual([]);
      expect(shown).toEqual([]);
    });
  },
  { engine: true },
);

/** The base64 lines of an OpenSSH private key: none of them may appear anywhere either. */
function privateKeyBody(key: string): string[] {
  return key
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith("-----"));
}
