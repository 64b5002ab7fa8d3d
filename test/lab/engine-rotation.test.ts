import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmClusterArgs } from "../../components/cluster/args";
import type { SwarmNodeArgs } from "../../components/cluster/types";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, eventually, Lab, NodeRow } from "./lab";

jest.setTimeout(30 * 60_000);

/**
 * Rotations and quorum recovery through the REAL Pulumi engine on five lab hosts (lab 82:
 * 3 managers + 2 workers, a service running that the program does not own): CA and join-token
 * rotation and a certificate expiry change, each declared in config and read back from the swarm
 * while the service's tasks keep running; then two of three managers stopped: `pulumi up` refuses,
 * and `recoverQuorum` brings the swarm back with its service.
 */
describeLab(
  "Rotations and quorum recovery through the real Pulumi engine (lab 82: 3 managers + 2 workers)",
  () => {
    const LAB_ID = 82;
    const h = (i: number) => `lab${LAB_ID}-${i}`;
    const FIRST = h(1);
    const SERVICE = "keeper";
    const REPLICAS = 4;

    let lab: Lab;
    let stack: EngineStack | undefined;
    let destroyed = false;
    const timings: string[] = [];

    type Extra = Pick<SwarmClusterArgs, "rotations" | "certExpiry" | "recoverQuorum">;
    const program =
      (extra: Extra = {}, members = [1, 2, 3, 4, 5]) =>
      async () => {
        const hosts = lab.swarmHosts();
        const nodes: SwarmNodeArgs[] = members.map((i) => ({
          host: hosts.find((x) => x.name === h(i))!,
          role: i <= 3 ? "manager" : "worker",
          labels: { slot: String(i) },
        }));
        const cluster = new SwarmCluster("rot", { nodes, dockerProvider: false, ...extra });
        return {
          nodeIds: cluster.nodeIds,
          caFingerprint: cluster.caFingerprint,
          workerJoinToken: cluster.workerJoinToken,
          managerJoinToken: cluster.managerJoinToken,
        };
      };
    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const on = async (host: string, command: string) => (await lab.sh(host, command)).trim();
    const caFingerprint = () =>
      on(FIRST, "docker info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}' | sha256sum | cut -c1-64");
    const tokens = async () => ({
      worker: await on(FIRST, "docker swarm join-token -q worker"),
      manager: await on(FIRST, "docker swarm join-token -q manager"),
    });
    const runningTasks = async (manager = FIRST) =>
      (await on(manager, `docker service ps ${SERVICE} -q --filter desired-state=running`))
        .split("\n")
        .filter(Boolean)
        .sort();
    const converged = async (manager = FIRST) =>
      (await on(manager, `docker service ls --filter name=${SERVICE} --format '{{.Replicas}}'`)) ===
      `${REPLICAS}/${REPLICAS}`;
    const secretValue = (r: EngineResult, key: string) => r.outputs[key]?.value as string;

    beforeAll(async () => {
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 5);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      stack = await EngineStack.create("swarm-engine-rotation", program(), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (lab) for (const i of [2, 3]) await lab.sh(h(i), "dockerd-ctl start").catch(() => undefined);
      if (stack && !destroyed) await stack.destroy().catch(() => undefined);
      await stack?.remove();
      await lab?.release();
    });

    let tasks: string[];
    let firstIds: Record<string, string>;

    it("up: a 3+2 swarm; its outputs are the swarm's tokens and CA; a service runs on it", async () => {
      const up = await op("up 1 (3+2 swarm)", () => engine().up(program()));
      expect(Object.keys(up.changes)).toEqual(["create"]);
      firstIds = up.outputs.nodeIds?.value as Record<string, string>;
      expect(secretValue(up, "workerJoinToken")).toBe((await tokens()).worker);
      expect(secretValue(up, "managerJoinToken")).toBe((await tokens()).manager);
      expect(up.outputs.caFingerprint?.value).toBe(await caFingerprint());
      expect(await on(FIRST, "docker info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}'")).toBe(
        "2160h0m0s",
      );
      await on(
        FIRST,
        `docker service create -d -q --name ${SERVICE} --replicas ${REPLICAS} --endpoint-mode dnsrr lab/busybox:latest sleep 1000000 >/dev/null`,
      );
      expect(await eventually(120, () => converged())).toBe(true);
      tasks = await runningTasks();
      expect(tasks).toHaveLength(REPLICAS);
      const again = await op("up 2 (nothing changed)", () => engine().up(program()));
      expect(again.changes).toEqual({});
    });

    it("CA and join-token rotation declared in config: new CA and tokens read back, outputs follow, the service's tasks keep running", async () => {
      const before = { ca: await caFingerprint(), ...(await tokens()) };
      const rotations = { caGeneration: 1, workerTokenGeneration: 1, managerTokenGeneration: 1 };
      const preview = await op("preview (rotate CA and tokens)", () =>
        engine().preview(program({ rotations })),
      );
      expect(preview.output).toMatch(/~ generations\s*: \{[\s\S]*~ ca\s*: 0 => 1/);
      const up = await op("up 3 (rotate CA and tokens)", () => engine().up(program({ rotations })));
      expect(up.changes.update).toBeGreaterThanOrEqual(1);
      const after = { ca: await caFingerprint(), ...(await tokens()) };
      expect(after.ca).not.toBe(before.ca);
      expect(after.worker).not.toBe(before.worker);
      expect(after.manager).not.toBe(before.manager);
      expect(up.outputs.caFingerprint?.value).toBe(after.ca);
      expect(secretValue(up, "workerJoinToken")).toBe(after.worker);
      expect(secretValue(up, "managerJoinToken")).toBe(after.manager);
      // Every node holds a certificate of the new CA.
      const perNode = await on(
        FIRST,
        "for id in $(docker node ls -q); do docker node inspect --format '{{.Description.TLSInfo.TrustRoot}}' \"$id\" | sha256sum | cut -c1-64; done | sort -u",
      );
      expect(perNode).toBe(after.ca);
      // The tasks did not restart: same task ids, all running.
      expect(await runningTasks()).toEqual(tasks);
      expect(await converged()).toBe(true);
      // No token reached the engine's output.
      for (const t of [after.worker, after.manager, before.worker, before.manager])
        expect(engine().log.join("")).not.toContain(t);
      const again = await op("up 4 (same generations: nothing rotates)", () =>
        engine().up(program({ rotations })),
      );
      expect(again.changes).toEqual({});
      expect(await caFingerprint()).toBe(after.ca);
      expect(await tokens()).toEqual({ worker: after.worker, manager: after.manager });
    });

    it("certificate expiry: a change in config is applied and read back; a change by hand shows in preview --refresh and is put back", async () => {
      const rotations = { caGeneration: 1, workerTokenGeneration: 1, managerTokenGeneration: 1 };
      const expiry = () =>
        on(FIRST, "docker info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}'");
      const preview = await op("preview (certExpiry 720h)", () =>
        engine().preview(program({ rotations, certExpiry: "720h" })),
      );
      expect(preview.output).toMatch(/~ certExpiry\s*: "2160h0m0s" => "720h0m0s"/);
      await op("up 5 (certExpiry 720h)", () => engine().up(program({ rotations, certExpiry: "720h" })));
      expect(await expiry()).toBe("720h0m0s");
      await on(h(2), "docker swarm update --cert-expiry 1000h >/dev/null");
      const drift = await op("preview --refresh (expiry changed by hand)", () =>
        engine().preview(program({ rotations, certExpiry: "720h" }), { refresh: true }),
      );
      expect(drift.output).toMatch(/~ certExpiry\s*: "1000h0m0s" => "720h0m0s"/);
      await op("up 6 --refresh (expiry put back)", () =>
        engine().up(program({ rotations, certExpiry: "720h" }), { refresh: true }),
      );
      expect(await expiry()).toBe("720h0m0s");
      expect(await runningTasks()).toEqual(tasks);
    });

    it("a worker added after the rotation joins with the rotated token (the old one no longer works)", async () => {
      const rotations = { caGeneration: 1, workerTokenGeneration: 1, managerTokenGeneration: 1 };
      const extra = { rotations, certExpiry: "720h" };
      await op("up 6a (worker 5 taken out)", () => engine().up(program(extra, [1, 2, 3, 4])));
      expect(await on(h(5), "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
      const up = await op("up 6b (worker 5 added again)", () => engine().up(program(extra)));
      expect(up.changes.create).toBeGreaterThanOrEqual(3);
      const rows = await lab.nodes(FIRST);
      expect(rows.map((r) => `${r.hostname}:${r.state}`).sort()).toEqual(
        [1, 2, 3, 4, 5].map((i) => `${h(i)}:ready`),
      );
      expect(await eventually(120, () => converged())).toBe(true);
      tasks = await runningTasks();
    });

    const config: Extra = {
      rotations: { caGeneration: 1, workerTokenGeneration: 1, managerTokenGeneration: 1 },
      certExpiry: "720h",
    };

    it("two of three managers stopped: `pulumi up` refuses, naming who answers, who does not, and the recovery", async () => {
      for (const i of [2, 3]) await on(h(i), "dockerd-ctl stop");
      expect(
        await eventually(120, async () => (await lab.ssh(FIRST, "timeout 20 docker node ls -q")).code !== 0),
      ).toBe(true);
      const up = await op("up 7 (quorum lost: refused)", () => engine().up(program(config)), false);
      expect(up.ok).toBe(false);
      const text = `${up.error}\n${up.output}`;
      // The engine interleaves its progress lines with the message while it streams; the
      // diagnostics at the end hold it whole.
      const refusal = text.slice(
        text.lastIndexOf('SwarmCluster "rot": the swarm has lost its manager quorum'),
      );
      console.log(`the refusal, as the engine printed it:\n${refusal.slice(0, 2500)}`);
      expect(text).toContain('SwarmCluster "rot": the swarm has lost its manager quorum');
      expect(refusal).toContain("no membership change, demotion or removal runs while quorum is lost");
      expect(refusal).toMatch(
        new RegExp(`managers that answer: ${h(1)} \\(10\\.213\\.${LAB_ID}\\.\\d+: [^)]*(leader|deadline)`),
      );
      expect(refusal).toMatch(
        new RegExp(`managers that do not answer: ${h(2)} \\([^)]*dockerd does not answer\\), ${h(3)} \\(`),
      );
      expect(refusal).toContain(`recoverQuorum: { survivor: "${h(1)}"`);
      expect(refusal).toContain('docs/day2.md, "Quorum loss"');
      expect(up.changes).toEqual({});
    });

    it("recoverQuorum: force-new-cluster on the survivor (the service survives); the stopped managers, back with their stale state, leave and rejoin; no stale entries", async () => {
      const recovering = { ...config, recoverQuorum: { survivor: h(1), generation: 1 } };
      const first = await op(
        "up 8 (recoverQuorum while managers 2 and 3 are still down)",
        () => engine().up(program(recovering)),
        false,
      );
      expect(first.ok).toBe(false);
      expect(`${first.error}\n${first.output}`).toMatch(
        new RegExp(
          `the swarm runs again from ${h(1)} \\(force-new-cluster\\), but these managers do not answer: ${h(2)} .*${h(3)} `,
        ),
      );
      // The swarm answers again from the survivor, with its service and the same tasks.
      expect(
        await eventually(60, async () => (await lab.ssh(FIRST, "timeout 20 docker node ls -q")).code === 0),
      ).toBe(true);
      // Tasks that ran on the stopped managers are rescheduled once the forced cluster marks them
      // down: 120 s was not always enough on the loaded 2-core lab machine.
      expect(await eventually(300, () => converged())).toBe(true);
      // The two managers come back holding the old cluster's state.
      for (const i of [2, 3]) await on(h(i), "dockerd-ctl start");
      const up = await op("up 9 (recovery resumes: managers 2 and 3 leave and rejoin)", () =>
        engine().up(program(recovering)),
      );
      // The survivor and the workers keep their node ids; managers 2 and 3 either rejoined (new id)
      // or are reachable members again under their own (what Docker made of them is read back below).
      const ids = up.outputs.nodeIds?.value as Record<string, string>;
      for (const i of [1, 4]) expect(ids[h(i)]).toBe(firstIds[h(i)]);
      console.log(
        `managers 2 and 3 after the recovery: ${[2, 3].map((i) => `${h(i)} ${firstIds[h(i)]} -> ${ids[h(i)]}`).join(", ")}`,
      );
      let rows: NodeRow[] = [];
      const healthy = async () => {
        rows = await lab.nodes(FIRST);
        return (
          rows.length === 5 &&
          rows.every((r) => r.state === "ready") &&
          rows.filter((r) => r.role === "manager" && ["reachable", "leader"].includes(r.reachability))
            .length === 3
        );
      };
      expect(await eventually(90, healthy)).toBe(true);
      console.log(
        `after the recovery: ${rows.map((r) => `${r.hostname}:${r.role}/${r.state}/${r.reachability}`).join(" ")}`,
      );
      expect(rows.map((r) => r.hostname).sort()).toEqual([1, 2, 3, 4, 5].map(h));
      expect(rows.filter((r) => r.state === "down")).toEqual([]);
      for (const r of rows) expect(r.labels.slot).toBe(r.hostname.slice(-1));
      for (const r of rows) expect(ids[r.hostname]).toBe(r.id);
      expect(await eventually(120, () => converged())).toBe(true);
      for (const i of [2, 3])
        expect(await on(h(i), "docker info --format '{{.Swarm.ControlAvailable}}'")).toBe("true");
      const again = await op("up 10 (nothing changed)", () => engine().up(program(recovering)));
      expect(again.changes).toEqual({});
    });

    it("destroy empties the swarm", async () => {
      await on(FIRST, `docker service rm ${SERVICE} >/dev/null`);
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      for (const x of lab.hosts)
        expect(await on(x.name, "docker info --format '{{.Swarm.LocalNodeState}}'")).toBe("inactive");
    });
  },
  { engine: true },
);
