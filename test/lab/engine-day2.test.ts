import * as fs from "fs";
import * as path from "path";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmNodeArgs } from "../../components/cluster/types";
import { EngineResult, EngineStack, REPO, cliVersion, recordOp } from "../engine/engine";
import { extractLibrary } from "../engine/oldLibrary";
import { describeLab, eventually, Lab, NodeRow, useTempSshDir } from "./lab";

/** The release users have stacks from: the last landed commit whose nodes were `-node` Commands. */
const PREVIOUS_RELEASE = "51cf92962251102f24de3dda15d1c0d03b7b3cf5";

jest.setTimeout(20 * 60_000);

/**
 * Day 2 through the REAL Pulumi engine on five lab hosts (lab 81: 3 managers + 2 workers,
 * autolock): a stack made by the previous release (the `-node` Commands) upgrades in place, then
 * drift made by hand on the hosts is seen and repaired through the node state resources
 * (components/cluster/nodeState.ts). Every step is read back from the swarm.
 */
describeLab(
  "Day 2 through the real Pulumi engine (lab 81: 3 managers + 2 workers, autolock)",
  () => {
    const LAB_ID = 81;
    const h = (i: number) => `lab${LAB_ID}-${i}`;
    const FIRST = h(1);

    interface NodeSpec {
      host: string;
      role: "manager" | "worker";
      labels?: Record<string, string>;
      availability?: "active" | "pause" | "drain";
    }
    const full: NodeSpec[] = [
      { host: h(1), role: "manager", labels: { zone: "a" } },
      { host: h(2), role: "manager", labels: { zone: "b" } },
      { host: h(3), role: "manager", labels: { zone: "c" } },
      { host: h(4), role: "worker", labels: { tier: "web", zone: "a" } },
      { host: h(5), role: "worker", labels: { tier: "db" } },
    ];
    // One label changed in config: worker 4 moves to zone b.
    const relabelled: NodeSpec[] = full.map((n) =>
      n.host === h(4) ? { ...n, labels: { tier: "web", zone: "b" } } : n,
    );

    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let oldCode: string;
    let destroyed = false;
    const timings: string[] = [];

    type ClusterClass = typeof SwarmCluster;
    /** The inline program: a SwarmCluster (of this code or of `impl`) of `spec` on the lab hosts. */
    const program =
      (spec: NodeSpec[], impl: ClusterClass = SwarmCluster, extra: { insecureRegistries?: string[] } = {}) =>
      async () => {
        const hosts = lab.swarmHosts();
        const nodes: SwarmNodeArgs[] = spec.map((n) => {
          const host = hosts.find((x) => x.name === n.host);
          if (!host) throw new Error(`${n.host} is not a lab host`);
          return { host, role: n.role, labels: n.labels, availability: n.availability };
        });
        const cluster = new impl("day2", { nodes, autolock: true, ...extra });
        return { nodeIds: cluster.nodeIds, unlockKey: cluster.unlockKey };
      };

    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const byHost = (rows: NodeRow[]) => new Map(rows.map((r) => [r.hostname, r]));
    const userLabels = (row: NodeRow | undefined) =>
      Object.fromEntries(Object.entries(row?.labels ?? {}).filter(([k]) => !k.startsWith("pulumi-swarm.")));
    const swarmState = async (host: string) =>
      (await lab.sh(host, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim();

    /** What differs between the swarm (read on `manager`) and `spec`: empty when they match. */
    async function mismatches(spec: NodeSpec[], manager = FIRST): Promise<string[]> {
      const rows = await lab.nodes(manager);
      const found = byHost(rows);
      const problems: string[] = [];
      const listed = rows.map((r) => `${r.hostname}`).sort();
      if (JSON.stringify(listed) !== JSON.stringify(spec.map((n) => n.host).sort()))
        problems.push(`listed ${rows.map((r) => `${r.hostname}:${r.state}`).join(",")}`);
      for (const n of spec) {
        const row = found.get(n.host);
        if (!row) continue;
        if (row.state !== "ready") problems.push(`${n.host} state ${row.state}`);
        if (row.role !== n.role) problems.push(`${n.host} role ${row.role}`);
        if (row.availability !== (n.availability ?? "active"))
          problems.push(`${n.host} availability ${row.availability}`);
        if (n.role === "manager" && row.reachability !== "reachable")
          problems.push(`${n.host} reachability ${row.reachability}`);
        const labels = userLabels(row);
        const want = n.labels ?? {};
        if (
          JSON.stringify(labels, Object.keys(labels).sort()) !==
          JSON.stringify(want, Object.keys(want).sort())
        )
          problems.push(`${n.host} labels ${JSON.stringify(labels)}`);
      }
      return problems;
    }
    async function expectSwarm(spec: NodeSpec[], manager = FIRST): Promise<void> {
      let problems: string[] = [];
      await eventually(30, async () => (problems = await mismatches(spec, manager)).length === 0);
      expect(problems).toEqual([]);
    }

    beforeAll(async () => {
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 5);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      // The Docker provider's key and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
      // The previous release's components (the last landed commit before node resources, with the
      // `-node` settings Commands), extracted with `git archive` next to a symlink to this repo's
      // node_modules: the old program runs from there, in this process, against the same stack and
      // backend as the new one.
      oldCode = await extractLibrary(PREVIOUS_RELEASE, "old-code");
      stack = await EngineStack.create("swarm-engine-day2", program(full), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.destroy().catch(() => undefined);
      await stack?.remove();
      releaseSshDir();
      if (oldCode) fs.rmSync(oldCode, { recursive: true, force: true });
      await lab?.release();
    });

    let nodeIds: Record<string, string>;

    it("upgrade: a stack made by the previous release (settings as `-node` Commands) moves to node state resources; no node drains, leaves or loses a label", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require(path.join(oldCode, "components", "cluster", "swarmCluster")) as {
        SwarmCluster: ClusterClass;
      };
      expect(old.SwarmCluster).not.toBe(SwarmCluster);
      const first = await op("up 1 (previous release: -node Commands)", () =>
        engine().up(program(full, old.SwarmCluster)),
      );
      expect(Object.keys(first.changes)).toEqual(["create"]);
      await expectSwarm(full);
      const before = JSON.parse(await engine().exportState()) as {
        deployment: { resources: { type: string; urn: string }[] };
      };
      const oldSettings = before.deployment.resources.filter(
        (r) => r.type === "command:remote:Command" && r.urn.endsWith("-node"),
      );
      expect(oldSettings).toHaveLength(5);
      nodeIds = first.outputs.nodeIds?.value as Record<string, string>;
      // Watch the swarm during the upgrade: any node ever seen not active/ready is recorded.
      const seen = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const rows = await lab.nodes(FIRST).catch(() => []);
          for (const r of rows)
            if (r.availability !== "active" || r.state !== "ready")
              seen.add(`${r.hostname}:${r.availability}/${r.state}`);
          await new Promise((r) => setTimeout(r, 300));
        }
      })();

      // From the previous release, the five settings Commands go and the five node resources come.
      // The release's host scripts changed too (prepare adds a non-root login user to the docker
      // group), so prepare, and the guarded join and init scripts that carry its hash, update in
      // place: re-runs that change nothing on a node already in the swarm; every Command also stops
      // sending its previous output in the environment (registration re-runs its `echo`);
      // the Docker provider gets the connection's key and pinned host key. Nothing is replaced.
      const upgradeChanges = (r: EngineResult) => {
        // Five node resources, the swarm resource and five host-key pins come, the five settings
        // Commands go.
        expect(r.changes).toMatchObject({ create: 11, delete: 5 });
        expect(Object.keys(r.changes).sort()).toEqual(
          Object.keys(r.changes)
            .filter((k) => ["create", "delete", "update"].includes(k))
            .sort(),
        );
        // Both output forms: `~  <type> <name> updated` (up) and `~ <type>: (update) ... [urn=...::<name>]` (preview --diff).
        const updated = new Set([
          ...[...r.output.matchAll(/^\s*~\s+(\S+:\S+)\s+(\S+)\s+updat/gm)].map((m) => `${m[1]} ${m[2]}`),
          ...[
            ...r.output.matchAll(/~ (\S+): \(update\)\n(?:\s+\[id=[^\]]*\]\n)?\s+\[urn=[^\]]*::([^\]:]+)\]/g),
          ].map((m) => `${m[1]} ${m[2]}`),
        ]);
        // The summary does not count the Docker provider, whose ssh options the release changed.
        expect(updated.size).toBeGreaterThanOrEqual(r.changes.update ?? 0);
        for (const u of updated)
          expect(u).toMatch(
            /^(command:remote:Command day2-(lab81-\d-(prepare|join|registration)|init)|pulumi:providers:docker day2-docker)$/,
          );
      };
      let up: EngineResult;
      try {
        const preview = await op("preview (upgrade)", () => engine().preview(program(full)));
        upgradeChanges(preview);
        up = await op("up 2 (upgrade to node state resources)", () => engine().up(program(full)));
      } finally {
        // Stopped whatever happens: a watcher left polling keeps jest from exiting.
        watching = false;
        await watcher;
      }
      upgradeChanges(up);
      // Each old Command's delete found the node claimed by the new resource and left it alone.
      // (The engine prints each Command's stderr line twice: as it streams and in its summary.)
      expect(
        (up.output.match(/is owned by a newer resource; leaving it as it is/g) ?? []).length,
      ).toBeGreaterThanOrEqual(5);
      for (let i = 1; i <= 5; i++)
        expect(up.output).toContain(
          `node ${nodeIds[h(i)]} is owned by a newer resource; leaving it as it is`,
        );
      expect(up.output).not.toMatch(/^\s*drained\s*$/m);
      expect([...seen]).toEqual([]);
      await expectSwarm(full);
      expect(up.outputs.nodeIds?.value).toEqual(nodeIds);
      const after = JSON.parse(await engine().exportState()) as {
        deployment: { resources: { type: string; urn: string }[] };
      };
      expect(
        after.deployment.resources.filter(
          (r) => r.type === "command:remote:Command" && r.urn.endsWith("-node"),
        ),
      ).toEqual([]);
      expect(
        after.deployment.resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource"),
      ).toHaveLength(11); // five node resources, the swarm resource, five host-key pins
      const again = await op("up 3 (nothing changed)", () => engine().up(program(full)));
      expect(again.changes).toEqual({});
    });

    it("a manager's dockerd restarted comes back locked; a plain `up` (no refresh, config unchanged) unlocks it with the key from state", async () => {
      const m3 = h(3);
      await lab.sh(m3, "dockerd-ctl restart");
      expect(await eventually(60, async () => (await swarmState(m3)) === "locked")).toBe(true);
      const preview = await op("preview (manager 3 locked)", () => engine().preview(program(full)));
      expect(preview.changes).toEqual({ update: 1 });
      expect(preview.output).toMatch(/\+ unlock\s*: "manager is locked/);
      const up = await op("up 4 (plain: unlocks manager 3)", () => engine().up(program(full)));
      expect(up.changes).toEqual({ update: 1 });
      expect(await swarmState(m3)).toBe("active");
      await expectSwarm(full);
      // The key never went through a command line: the engine output has no key either.
      const key = (await lab.sh(FIRST, "docker swarm unlock-key -q")).trim();
      expect(engine().log.join("")).not.toContain(key);
      const again = await op("up 5 (nothing changed)", () => engine().up(program(full)));
      expect(again.changes).toEqual({});
    });

    it("`docker swarm leave` on a worker: `up --refresh` rejoins it, and no stale Down entry remains", async () => {
      const w5 = h(5);
      await lab.sh(w5, "docker swarm leave >/dev/null");
      expect(await swarmState(w5)).toBe("inactive");
      expect(await eventually(60, async () => byHost(await lab.nodes(FIRST)).get(w5)?.state === "down")).toBe(
        true,
      );
      const preview = await op("preview --refresh (worker 5 left)", () =>
        engine().preview(program(full), { refresh: true }),
      );
      expect(preview.output).toMatch(/~ membership\s*: "left" => "joined"/);
      const up = await op("up 6 --refresh (rejoin worker 5)", () =>
        engine().up(program(full), { refresh: true }),
      );
      expect(up.changes).toEqual({ update: 1 });
      expect(await swarmState(w5)).toBe("active");
      const rows = await lab.nodes(FIRST);
      // Exactly five entries, all ready: the old entry of worker 5 is gone.
      expect(rows.map((r) => `${r.hostname}:${r.state}`).sort()).toEqual(
        full.map((n) => `${n.host}:ready`).sort(),
      );
      await expectSwarm(full);
      const ids = up.outputs.nodeIds?.value as Record<string, string>;
      expect(ids[w5]).not.toBe(nodeIds[w5]);
      expect(ids[w5]).toBe(byHost(rows).get(w5)?.id);
      nodeIds = ids;
      const again = await op("up 7 --refresh (nothing changed)", () =>
        engine().up(program(full), { refresh: true }),
      );
      expect(again.changes).toEqual({});
    });

    it("a label added and a node drained by hand: `preview --refresh` shows both in config words, `up --refresh` puts them back", async () => {
      const w4 = nodeIds[h(4)];
      await lab.sh(h(2), `docker node update --label-add handmade=yes --availability drain ${w4} >/dev/null`);
      // A plain preview compares config and state only: it does not see the drift.
      const plain = await op("preview (drift, no refresh)", () => engine().preview(program(full)));
      expect(plain.changes).toEqual({});
      const preview = await op("preview --refresh (label added, node drained)", () =>
        engine().preview(program(full), { refresh: true }),
      );
      expect(preview.changes).toEqual({ update: 1 });
      expect(preview.output).toMatch(/~ availability\s*: "drain" => "active"/);
      expect(preview.output).toMatch(
        /~ labels\s*: \{\s*- handmade\s*: "yes"\s*tier\s*: "web"\s*zone\s*: "a"\s*\}/,
      );
      expect(preview.output).not.toMatch(/bash|set -euo/);
      const up = await op("up 8 --refresh (put them back)", () =>
        engine().up(program(full), { refresh: true }),
      );
      expect(up.changes).toEqual({ update: 1 });
      await expectSwarm(full);
      const again = await op("up 9 --refresh (nothing changed)", () =>
        engine().up(program(full), { refresh: true }),
      );
      expect(again.changes).toEqual({});
    });

    it("a label changed in config: `preview` shows it in config words (saved for the docs), `up` applies it", async () => {
      const preview = await op("preview (zone a => b on worker 4)", () =>
        engine().preview(program(relabelled)),
      );
      expect(preview.changes).toEqual({ update: 1 });
      expect(preview.output).toMatch(/~ labels\s*: \{\s*tier\s*: "web"\s*~ zone\s*: "a" => "b"\s*\}/);
      expect(preview.output).not.toMatch(/bash|set -euo|runs again when this changes/);
      const text = preview.output.replace(/\r/g, "");
      fs.writeFileSync(
        path.join(REPO, "docs", "results", "preview-label-change.txt"),
        `# pulumi preview --diff of a label change (worker lab${LAB_ID}-4: zone a => b), test/lab/engine-day2.test.ts\n${text}`,
      );
      const up = await op("up 10 (relabel worker 4)", () => engine().up(program(relabelled)));
      expect(up.changes).toEqual({ update: 1 });
      await expectSwarm(relabelled);
    });

    it("a daemon.json change on the running swarm: prepare steps run at once, every dockerd restarts once, managers one at a time, each back and unlocked before the next", async () => {
      const managers = full.filter((n) => n.role === "manager").map((n) => n.host);
      const all = full.map((n) => n.host);
      const pidOf = async (host: string) => (await lab.sh(host, "cat /run/docker.pid")).trim();
      const pidsBefore = Object.fromEntries(await Promise.all(all.map(async (x) => [x, await pidOf(x)])));
      // A sampler on each manager (the hosts share this machine's clock) writes, every 0.1 s, when
      // it read dockerd's pid, the pid, the node's swarm state and when that answer came. (`docker
      // info` can stall on the other managers while a restarted leader's successor is elected: a
      // slow answer is not a restart, so a restart is told by the pid, and its end by the first
      // "active" under the new pid. Each answer is waited for 2 s at most: a call that stalls for
      // 8-13 s, as seen here while a node was pending, would otherwise report "active" only when it
      // returns, long after the node was, and a later sample would have seen it within 0.1 s.)
      const SAMPLES = "/run/day2-restart-samples";
      const sampler = `while :; do t0=$(date +%s.%N); pid=$(cat /run/docker.pid 2>/dev/null || true); st=$(timeout 2 docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true); echo "$t0 $(date +%s.%N) \${pid:-none} \${st:-none}"; sleep 0.1; done`;
      for (const m of managers)
        await lab.sh(
          m,
          `cat > ${SAMPLES}.sh; rm -f ${SAMPLES}; setsid nohup bash ${SAMPLES}.sh >${SAMPLES} 2>/dev/null </dev/null & echo $! > ${SAMPLES}.pid`,
          sampler,
        );
      const registry = `10.213.${LAB_ID}.1:5999`;
      let up: EngineResult;
      try {
        up = await op("up 11 (insecureRegistries added: daemon.json changes on every host)", () =>
          engine().up(program(relabelled, SwarmCluster, { insecureRegistries: [registry] })),
        );
      } finally {
        for (const m of managers) await lab.sh(m, `kill "$(cat ${SAMPLES}.pid)"`).catch(() => undefined);
      }
      // Each manager's restart, [from, to] in seconds, widened to be safe: from the last moment its
      // old dockerd was seen to the first answer "active" from the new one.
      const restarts = new Map<string, [number, number][]>();
      for (const m of managers) {
        const rows = (await lab.sh(m, `cat ${SAMPLES}`))
          .trim()
          .split("\n")
          .map((line) => line.split(" "))
          .map(([t0, t1, pid, st]) => ({ t0: Number(t0), t1: Number(t1), pid, st }));
        const list: [number, number][] = [];
        let pid = pidsBefore[m];
        let lastSeen = rows[0]?.t0 ?? 0;
        let open: [number, number] | undefined;
        for (const row of rows) {
          if (!open && row.pid === pid) lastSeen = row.t0;
          else if (!open) list.push((open = [lastSeen, Number.POSITIVE_INFINITY]));
          if (open && row.pid !== "none" && row.pid !== pid && row.st === "active") {
            open[1] = row.t1;
            pid = row.pid;
            lastSeen = row.t0;
            open = undefined;
          }
        }
        restarts.set(m, list);
        // The samples around each restart, as read: the evidence behind the windows below.
        const near = rows.filter((r) =>
          list.some(([a, b]) => r.t1 >= a - 1 && r.t0 <= Math.min(b, a + 60) + 1),
        );
        console.log(
          `${m} samples around its restart (read at / answered at / pid / state):\n  ${near.map((r) => `${r.t0.toFixed(2)} ${r.t1.toFixed(2)} ${r.pid} ${r.st}`).join("\n  ")}`,
        );
      }
      console.log(
        `daemon.json change, managers' restarts until active again (s): ${managers.map((m) => `${m} ${JSON.stringify(restarts.get(m))}`).join("; ")}`,
      );
      // Each host's prepare and join update (the join carries the prepare script's hash); nothing else.
      expect(up.changes).toEqual({ update: 10 });
      // No prepare restarted anything: each recorded the restart for the node's membership step.
      expect(
        up.output.match(/daemon\.json changed; dockerd restarts in this node's membership step/g)?.length,
      ).toBeGreaterThanOrEqual(5);
      expect(up.output).not.toMatch(/daemon\.json changed; restarting dockerd/);
      // Every dockerd restarted (once: a second restart would need a second pending record).
      for (const x of all) expect(await pidOf(x)).not.toBe(pidsBefore[x]);
      for (const x of all)
        expect(await lab.sh(x, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")).toContain(
          registry,
        );
      // Each manager restarted once, in the chain's order, and each was back and unlocked before
      // the next one went: never two managers out at once.
      for (const m of managers) expect(restarts.get(m)).toHaveLength(1);
      for (let i = 1; i < managers.length; i++)
        expect(restarts.get(managers[i])![0][0]).toBeGreaterThan(restarts.get(managers[i - 1])![0][1]);
      await expectSwarm(relabelled);
      const again = await op("up 12 (nothing changed)", () =>
        engine().up(program(relabelled, SwarmCluster, { insecureRegistries: [registry] })),
      );
      expect(again.changes).toEqual({});
      // Back to the config without registries: the scripts change back (no daemon.json key is
      // managed any more, so the file and dockerd stay as they are).
      const pidsNow = Object.fromEntries(await Promise.all(all.map(async (x) => [x, await pidOf(x)])));
      const back = await op("up 13 (insecureRegistries no longer managed)", () =>
        engine().up(program(relabelled)),
      );
      expect(back.changes).toEqual({ update: 10 });
      for (const x of all) expect(await pidOf(x)).toBe(pidsNow[x]);
      await expectSwarm(relabelled);
    });

    it("state holds no key, token or unlock key in plain text, and the serialized provider none at all", async () => {
      const exported = await engine().exportState();
      for (const marker of ["SWMTKN-", "SWMKEY-", "PRIVATE KEY"]) expect(exported).not.toContain(marker);
      const decrypted = (await engine().stack.exportStack()) as unknown as {
        deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
      };
      const nodes = decrypted.deployment.resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource");
      expect(nodes).toHaveLength(11); // five node resources, the swarm resource, five host-key pins
      const keyLine = lab.privateKey.split("\n").find((l) => l.length > 20 && !l.startsWith("-----"))!;
      for (const n of nodes) {
        const provider = JSON.stringify(n.outputs?.__provider ?? "");
        expect(provider.length).toBeGreaterThan(1000);
        for (const marker of ["SWMTKN-", "SWMKEY-", "PRIVATE KEY", keyLine])
          expect(provider).not.toContain(marker);
      }
      // Positive control: decrypted, the inputs do hold the key.
      expect(nodes.some((n) => JSON.stringify(n.outputs).includes(keyLine))).toBe(true);
    });

    it("a node removed from config is drained, leaves and is removed from the node list; destroy empties the swarm", async () => {
      const shrunk = relabelled.filter((n) => n.host !== h(5));
      await op("up 11 (remove worker 5)", () => engine().up(program(shrunk)));
      await expectSwarm(shrunk);
      expect(await swarmState(h(5))).toBe("inactive");
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      const states = await Promise.all(lab.hosts.map(async (x) => `${x.name}=${await swarmState(x.name)}`));
      expect(states).toEqual(lab.hosts.map((x) => `${x.name}=inactive`));
    });
  },
  { engine: true },
);
