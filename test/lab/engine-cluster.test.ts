import * as fs from "fs";
import * as path from "path";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmNodeArgs } from "../../components/cluster/types";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, eventually, Lab, NodeRow, useTempSshDir } from "./lab";

jest.setTimeout(15 * 60_000);

/**
 * SwarmCluster through the REAL Pulumi engine on five lab hosts (lab 51): the pulumi CLI, the real
 * pulumi-resource-command and pulumi-resource-docker plugins, an inline Automation API program.
 * Every step is read back from the swarm with `docker node inspect`.
 */
describeLab(
  "SwarmCluster through the real Pulumi engine (lab 51: 3 managers + 2 workers, autolock)",
  () => {
    const LAB_ID = 51;
    const h = (i: number) => `lab${LAB_ID}-${i}`;
    const FIRST = h(1);

    /** One node of the desired config, by lab host name. */
    interface NodeSpec {
      host: string;
      role: "manager" | "worker";
      labels?: Record<string, string>;
      availability?: "active" | "pause" | "drain";
    }

    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    const timings: string[] = [];
    /** Join tokens and unlock key read from the swarm itself, plus the lab key's lines. */
    const secrets = new Set<string>();
    let destroyed = false;

    const full: NodeSpec[] = [
      { host: h(1), role: "manager", labels: { zone: "a" } },
      { host: h(2), role: "manager", labels: { zone: "b" } },
      { host: h(3), role: "manager", labels: { zone: "c" } },
      { host: h(4), role: "worker", labels: { tier: "web", zone: "a" } },
      { host: h(5), role: "worker", labels: { tier: "db" }, availability: "drain" },
    ];
    // Labels and availability changed in place: host 4 loses `zone` and gets tier=api, host 5 is active.
    const changed: NodeSpec[] = [
      full[0],
      full[1],
      full[2],
      { host: h(4), role: "worker", labels: { tier: "api" } },
      { host: h(5), role: "worker", labels: { tier: "db" } },
    ];
    // Manager 3 and worker 5 removed, worker 4 drained, manager 2 relabelled (2 managers).
    const shrunk: NodeSpec[] = [
      changed[0],
      { host: h(2), role: "manager", labels: { zone: "b2" } },
      { ...changed[3], availability: "drain" },
    ];
    // Both back: 3 managers again, worker 4 still drained.
    const regrown: NodeSpec[] = [
      shrunk[0],
      shrunk[1],
      { host: h(3), role: "manager", labels: { zone: "c" } },
      shrunk[2],
      { host: h(5), role: "worker", labels: { tier: "db" } },
    ];

    /** The inline program: a SwarmCluster of `spec` on the lab hosts (root, lab key, pinned host key). */
    const program =
      (spec: NodeSpec[], opts: { allowEvenManagers?: boolean; reconcile?: string } = {}) =>
      async () => {
        const hosts = lab.swarmHosts();
        const nodes: SwarmNodeArgs[] = spec.map((n) => {
          const host = hosts.find((x) => x.name === n.host);
          if (!host) throw new Error(`${n.host} is not a lab host`);
          return { host, role: n.role, labels: n.labels, availability: n.availability };
        });
        const cluster = new SwarmCluster("e2e", {
          nodes,
          autolock: true,
          allowEvenManagers: opts.allowEvenManagers,
          reconcile: opts.reconcile,
        });
        return {
          managerJoinToken: cluster.managerJoinToken,
          workerJoinToken: cluster.workerJoinToken,
          unlockKey: cluster.unlockKey,
          clusterId: cluster.clusterId,
          nodeIds: cluster.nodeIds,
        };
      };

    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };

    const byHost = (rows: NodeRow[]) => new Map(rows.map((r) => [r.hostname, r]));

    /** What differs between the swarm (read on `manager`) and `spec`: empty when they match. */
    async function mismatches(manager: string, spec: NodeSpec[]): Promise<string[]> {
      const rows = await lab.nodes(manager);
      const found = byHost(rows);
      const problems: string[] = [];
      const listed = rows.map((r) => r.hostname).sort();
      const wanted = spec.map((n) => n.host).sort();
      if (JSON.stringify(listed) !== JSON.stringify(wanted))
        problems.push(`listed ${listed.join(",")}, expected ${wanted.join(",")}`);
      for (const n of spec) {
        const row = found.get(n.host);
        if (!row) continue;
        if (row.state !== "ready") problems.push(`${n.host} state ${row.state}`);
        if (row.role !== n.role) problems.push(`${n.host} role ${row.role}`);
        if (row.availability !== (n.availability ?? "active"))
          problems.push(`${n.host} availability ${row.availability}`);
        if (n.role === "manager" && row.reachability !== "reachable")
          problems.push(`${n.host} reachability ${row.reachability}`);
        // The configured labels exactly, besides the cluster's own bookkeeping labels.
        const labels = Object.fromEntries(
          Object.entries(row.labels ?? {}).filter(([k]) => !k.startsWith("pulumi-swarm.")),
        );
        if (
          JSON.stringify(labels, Object.keys(labels).sort()) !==
          JSON.stringify(n.labels ?? {}, Object.keys(n.labels ?? {}).sort())
        )
          problems.push(`${n.host} labels ${JSON.stringify(labels)}`);
      }
      return problems;
    }

    async function expectSwarm(spec: NodeSpec[], manager = FIRST): Promise<void> {
      // Settings are applied before `up` returns; a short grace only for reachability to settle.
      let problems: string[] = [];
      await eventually(20, async () => (problems = await mismatches(manager, spec)).length === 0);
      expect(problems).toEqual([]);
    }

    const swarmState = async (host: string) =>
      (await lab.sh(host, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim();

    /** The swarm's own join tokens and unlock key (read on a manager), added to `secrets`. */
    async function collectSecrets(
      manager = FIRST,
    ): Promise<{ worker: string; manager: string; unlock: string }> {
      const [worker, mgr, unlock] = (
        await lab.sh(
          manager,
          "docker swarm join-token -q worker; docker swarm join-token -q manager; docker swarm unlock-key -q",
        )
      )
        .trim()
        .split("\n")
        .map((s) => s.trim());
      for (const s of [worker, mgr, unlock]) {
        expect(s).toMatch(/^SWM(TKN|KEY)-/);
        secrets.add(s);
      }
      return { worker, manager: mgr, unlock };
    }

    /** The secrets (as short names) that occur in `text` in plain text. */
    function plainSecretsIn(text: string): string[] {
      return [...secrets].filter((s) => text.includes(s)).map((s) => `${s.slice(0, 10)}...`);
    }

    /**
     * Each node's spec (role, availability, labels: what `docker node update` sets), by hostname.
     * Not the node's version: swarm bumps that by itself too, whenever it writes the node's status or
     * a manager's reachability into the node object, which is no change applied by anyone.
     */
    async function nodeSpecs(): Promise<Record<string, string>> {
      const out = await lab.sh(
        FIRST,
        "docker node ls -q | xargs docker node inspect --format '{{.Description.Hostname}} {{json .Spec}}'",
      );
      return Object.fromEntries(
        out
          .trim()
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
      );
    }

    beforeAll(async () => {
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 5);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      for (const line of lab.privateKey.split("\n"))
        if (line.length > 20 && !line.startsWith("-----")) secrets.add(line);
      expect(secrets.size).toBeGreaterThan(0);
      // The Docker provider's key and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-cluster", program(full), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.destroy().catch(() => undefined);
      await stack?.remove();
      releaseSshDir();
      await lab?.release();
    });

    let nodeIds: Record<string, string>;

    it("up: 3 managers + 2 workers Ready with their roles, labels and availability; outputs hold the swarm's real values", async () => {
      const up = await op("up 1 (3 managers + 2 workers)", () => engine().up(program(full)));
      expect(up.changes.create).toBeGreaterThan(0);
      expect(Object.keys(up.changes)).toEqual(["create"]);
      await expectSwarm(full);

      const rows = await lab.nodes(FIRST);
      nodeIds = up.outputs.nodeIds?.value as Record<string, string>;
      expect(nodeIds).toEqual(Object.fromEntries(rows.map((r) => [r.hostname, r.id])));

      // Managers joined one at a time in config order; workers after the first manager, alongside
      // the others (a worker is no Raft member: Docker does not make it wait). Read from the swarm:
      // each node's creation time.
      const created = (
        await lab.sh(
          FIRST,
          "docker node ls -q | xargs docker node inspect --format '{{.CreatedAt.Format \"2006-01-02T15:04:05.000000000Z07:00\"}} {{.Description.Hostname}}'",
        )
      )
        .trim()
        .split("\n")
        .sort()
        .map((line) => line.split(" ")[1]);
      expect(created).toHaveLength(5);
      expect(created.filter((n) => [h(1), h(2), h(3)].includes(n))).toEqual([h(1), h(2), h(3)]);
      expect(created[0]).toBe(h(1));
      expect(
        created
          .slice(1)
          .filter((n) => [h(4), h(5)].includes(n))
          .sort(),
      ).toEqual([h(4), h(5)]);

      const real = await collectSecrets();
      expect(up.outputs.workerJoinToken).toEqual({ value: real.worker, secret: true });
      expect(up.outputs.managerJoinToken).toEqual({ value: real.manager, secret: true });
      expect(up.outputs.unlockKey).toEqual({ value: real.unlock, secret: true });
      expect(up.outputs.clusterId?.value).toBe(
        (await lab.sh(FIRST, "docker info --format '{{.Swarm.Cluster.ID}}'")).trim(),
      );
      // Autolock is on: the swarm says so.
      expect(
        (
          await lab.sh(
            h(2),
            "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'",
          )
        ).trim(),
      ).toBe("true");
    });

    it("a second up with nothing changed runs nothing (changes {}), and a preview shows no changes", async () => {
      const specs = await nodeSpecs();
      const up = await op("up 2 (nothing changed)", () => engine().up(program(full)));
      expect(up.changes).toEqual({});
      expect(up.outputs.nodeIds?.value).toEqual(nodeIds);
      const preview = await op("preview (nothing changed)", () => engine().preview(program(full)));
      expect(preview.changes).toEqual({});
      // Nothing was applied to any node behind the engine's back either.
      expect(await nodeSpecs()).toEqual(specs);
      await expectSwarm(full);
    });

    it("changes labels and availability in place; an up after it changes nothing", async () => {
      const up = await op("up 3 (relabel worker 4, activate worker 5)", () => engine().up(program(changed)));
      // Only the two nodes' settings commands are updated: nothing created, replaced or deleted.
      expect(up.changes).toEqual({ update: 2 });
      await expectSwarm(changed);
      expect(up.outputs.nodeIds?.value).toEqual(nodeIds);
      const again = await op("up 4 (nothing changed)", () => engine().up(program(changed)));
      expect(again.changes).toEqual({});
    });

    it("removes a manager and a worker, drains a node and relabels one: the swarm lists exactly the rest", async () => {
      const up = await op("up 5 (remove manager 3 and worker 5, drain 4, relabel 2)", () =>
        engine().up(program(shrunk, { allowEvenManagers: true })),
      );
      // A replacement would run the old commands' delete (leave, drain) on nodes that stay.
      expect(Object.keys(up.changes).filter((k) => /replace|create/.test(k))).toEqual([]);
      expect(up.changes.delete).toBeGreaterThan(0);
      // No stale "down" entries: exactly the three remaining nodes, all ready.
      await expectSwarm(shrunk);
      expect(
        await lab.nodes(h(2)).then((rows) => rows.map((r) => `${r.hostname}:${r.state}`).sort()),
      ).toEqual([`${h(1)}:ready`, `${h(2)}:ready`, `${h(4)}:ready`]);
      expect(await swarmState(h(3))).toBe("inactive");
      expect(await swarmState(h(5))).toBe("inactive");
      const ids = up.outputs.nodeIds?.value as Record<string, string>;
      expect(ids).toEqual({ [h(1)]: nodeIds[h(1)], [h(2)]: nodeIds[h(2)], [h(4)]: nodeIds[h(4)] });
    });

    it("adds them back: 5 nodes Ready, host 3 a manager again; an up after it changes nothing", async () => {
      const up = await op("up 6 (add manager 3 and worker 5 back)", () => engine().up(program(regrown)));
      expect(Object.keys(up.changes).filter((k) => /replace|delete/.test(k))).toEqual([]);
      expect(up.changes.create).toBeGreaterThan(0);
      await expectSwarm(regrown);
      const rows = await lab.nodes(FIRST);
      nodeIds = up.outputs.nodeIds?.value as Record<string, string>;
      expect(nodeIds).toEqual(Object.fromEntries(rows.map((r) => [r.hostname, r.id])));
      const again = await op("up 7 (nothing changed)", () => engine().up(program(regrown)));
      expect(again.changes).toEqual({});
    });

    it("a manager's dockerd stopped: the swarm still answers from another manager; restarted (locked by autolock), the next up with a new `reconcile` unlocks it", async () => {
      const m3 = h(3);
      await lab.sh(m3, "dockerd-ctl stop");
      expect(
        await eventually(
          60,
          async () => byHost(await lab.nodes(h(2))).get(m3)?.reachability === "unreachable",
        ),
      ).toBe(true);
      // Two of three managers keep quorum: management still works from manager 2.
      const rows = byHost(await lab.nodes(h(2)));
      expect(rows.size).toBe(5);
      expect(rows.get(FIRST)?.reachability).toBe("reachable");
      expect(rows.get(h(2))?.reachability).toBe("reachable");
      await lab.sh(h(2), "docker node update --label-add probe=1 " + nodeIds[h(4)] + " >/dev/null");
      await lab.sh(h(2), "docker node update --label-rm probe " + nodeIds[h(4)] + " >/dev/null");

      await lab.sh(m3, "dockerd-ctl start");
      // Autolock: a restarted manager stays locked until someone gives it the unlock key.
      expect(await eventually(30, async () => (await swarmState(m3)) === "locked")).toBe(true);

      const up = await op("up 8 (reconcile: unlock the restarted manager)", () =>
        engine().up(program(regrown, { reconcile: "after-restart-1" })),
      );
      // Re-running the guarded scripts is an in-place update: nothing replaced, created or deleted.
      expect(Object.keys(up.changes)).toEqual(["update"]);
      expect(await swarmState(m3)).toBe("active");
      await expectSwarm(regrown);
      expect(up.outputs.nodeIds?.value).toEqual(nodeIds);
      const again = await op("up 9 (nothing changed)", () =>
        engine().up(program(regrown, { reconcile: "after-restart-1" })),
      );
      expect(again.changes).toEqual({});
    });

    it("`pulumi stack export` holds no join token, unlock key or private key in plain text", async () => {
      await collectSecrets();
      const exported = await engine().exportState();
      // Positive controls: the secrets are in the state, encrypted; decrypted, the same search finds them.
      expect(exported).toContain('"ciphertext"');
      const decrypted = JSON.stringify(await engine().stack.exportStack());
      const worker = (await lab.sh(FIRST, "docker swarm join-token -q worker")).trim();
      const unlock = (await lab.sh(FIRST, "docker swarm unlock-key -q")).trim();
      expect(plainSecretsIn(decrypted)).toEqual(
        expect.arrayContaining([`${worker.slice(0, 10)}...`, `${unlock.slice(0, 10)}...`]),
      );
      expect(plainSecretsIn(exported)).toEqual([]);
      for (const marker of ["SWMTKN-", "SWMKEY-", "PRIVATE KEY"]) expect(exported).not.toContain(marker);
      // The Docker provider's key file: private, under the directory the program chose.
      const dir = process.env.PULUMI_SWARM_SSH_DIR!;
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      const files = fs.readdirSync(dir);
      expect(files.some((f) => f.startsWith("key-"))).toBe(true);
      for (const f of files) expect([f, fs.statSync(path.join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    });

    it("destroy: every host leaves the swarm and the state is empty", async () => {
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      const states = await Promise.all(lab.hosts.map(async (x) => `${x.name}=${await swarmState(x.name)}`));
      expect(states).toEqual(lab.hosts.map((x) => `${x.name}=inactive`));
      const after = JSON.parse(await engine().exportState()) as { deployment?: { resources?: unknown[] } };
      expect(after.deployment?.resources ?? []).toEqual([]);
    });

    it("no engine output line of any up, preview or destroy holds a join token, unlock key or private key", () => {
      const log = engine().log.join("");
      // Positive controls: the commands' own output reaches the engine's output (logged lines of
      // the host scripts, and the node ids the join commands print), so a leak would show here.
      expect(log).toContain("pulumi-swarm[");
      expect(log).toContain(nodeIds[h(4)]);
      expect(plainSecretsIn(log)).toEqual([]);
      for (const marker of ["SWMTKN-", "SWMKEY-", "PRIVATE KEY"]) expect(log).not.toContain(marker);
    });
  },
  { engine: true },
);
