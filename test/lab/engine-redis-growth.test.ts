import { type LabImages, redisCluster, scenarioSwarm } from "../../examples/scenarios";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { labWithImages } from "./labImages";
import { describeLab, Lab, useTempSshDir } from "./lab";

jest.setTimeout(30 * 60_000);

/**
 * The seeds' Redis Cluster grown by config through the REAL engine on lab 94 (1 manager + 2
 * workers): `RedisCluster` 3 masters + 3 replicas, keys written through the cluster, then `masters: 4`
 * (a new master and its replica) on the same stack. Read back with `redis-cli` inside the nodes:
 * 8 nodes, slots on 4 masters, every key still readable.
 */
describeLab(
  "Redis Cluster 3+3 -> 4+4 through the real engine (lab 94)",
  () => {
    const LAB_ID = 94;
    const MANAGER = `lab${LAB_ID}-1`;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let images: LabImages = {};
    let registry = "";
    let releaseSshDir = () => {};
    let destroyed = false;
    const timings: string[] = [];

    const program = (masters: number) => async () => {
      const hosts = lab.swarmHosts();
      const { cluster, network } = scenarioSwarm("rg", hosts, registry, "cache");
      const rc = redisCluster(
        cluster,
        network,
        images,
        { masters, replicasPerMaster: 1 },
        lab.hosts.map((h) => h.name),
      );
      return { rcPassword: rc.password, rcJob: rc.job.output };
    };

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    let nodeNames: Record<string, string> = {};

    /** Runs a script (on stdin) with sh inside the running task of a single-task service. */
    async function inService(service: string, script: string): Promise<string> {
      if (!Object.keys(nodeNames).length)
        nodeNames = Object.fromEntries((await lab.nodes(MANAGER)).map((n) => [n.id, n.hostname]));
      const out = await lab.sh(
        MANAGER,
        `docker service ps -q --filter desired-state=running ${service} | xargs docker inspect --format '{{.ID}}|{{.NodeID}}|{{.Status.State}}'`,
      );
      const task = out
        .trim()
        .split("\n")
        .map((l) => l.split("|"))
        .find(([, , state]) => state === "running");
      if (!task) throw new Error(`${service} has no running task`);
      const node = nodeNames[task[1]] ?? task[1];
      const container = (
        await lab.sh(node, `docker ps -q --filter label=com.docker.swarm.task.id=${task[0]}`)
      ).trim();
      return lab.sh(node, `docker exec -i ${container} sh -s`, script);
    }
    const redisCli = (service: string, args: string) =>
      inService(
        service,
        `REDISCLI_AUTH=$(cat /run/secrets/redis-password) redis-cli --no-auth-warning ${args}\n`,
      );
    const clusterInfo = async (service: string) =>
      Object.fromEntries(
        (await redisCli(service, "cluster info"))
          .split("\n")
          .map((l) => l.trim().split(":"))
          .filter((kv) => kv.length === 2),
      ) as Record<string, string>;
    /** `cluster nodes` of one node: id, flags, and slot ranges per node. */
    const clusterNodes = async (service: string) =>
      (await redisCli(service, "cluster nodes"))
        .trim()
        .split("\n")
        .map((l) => l.trim().split(" "))
        .map(([id, addr, flags, , , , , , ...slots]) => ({ id, addr, flags, slots }));

    beforeAll(async () => {
      ({ lab, registry, images } = await labWithImages(LAB_ID, 3, ["redis"]));
      console.log(`pulumi ${cliVersion()}`);
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-redis-growth", program(3), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (process.env.LAB_KEEP && !destroyed) {
        console.log(`LAB_KEEP: lab ${LAB_ID} and the stack in ${stack?.workDir} are left as they are`);
        return;
      }
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      releaseSshDir();
      await lab?.release();
    });

    const KEYS = 40;

    it("up: Redis Cluster 3+3 (6 nodes, 16384 slots); keys written through the cluster", async () => {
      const up = await op("up 1 (cluster, Redis Cluster 3+3)", () => engine().up(program(3)));
      expect(Object.keys(up.changes)).toEqual(["create"]);
      console.log(`converge job output:\n${String(up.outputs.rcJob?.value).slice(-1500)}`);
      const info = await clusterInfo("rc-m1");
      expect(info).toMatchObject({
        cluster_state: "ok",
        cluster_known_nodes: "6",
        cluster_slots_assigned: "16384",
        cluster_size: "3",
      });
      await inService(
        "rc-m1",
        `export REDISCLI_AUTH=$(cat /run/secrets/redis-password)\nfor i in $(seq 1 ${KEYS}); do redis-cli --no-auth-warning -c set key$i value$i >/dev/null; done\n`,
      );
    });

    it("grows to 4 masters + 4 replicas by config: 8 nodes, slots on 4 masters, every key still readable", async () => {
      const up = await op("up 2 (Redis Cluster 3+3 -> 4+4)", () => engine().up(program(4)));
      console.log(
        `up 2 changes ${JSON.stringify(up.changes)}; job output:\n${String(up.outputs.rcJob?.value).slice(-2500)}`,
      );
      expect(up.changes).toMatchObject({ create: expect.any(Number), update: expect.any(Number) });
      expect(up.changes.delete ?? 0).toBe(0);
      expect(up.changes.replace ?? 0).toBe(0);
      // Every node sees the same 8 nodes and 4 masters holding all 16384 slots.
      for (const node of [
        "rc-m1",
        "rc-m2",
        "rc-m3",
        "rc-m4",
        "rc-m1-r1",
        "rc-m2-r1",
        "rc-m3-r1",
        "rc-m4-r1",
      ]) {
        const info = await clusterInfo(node);
        expect({ node, ...info }).toMatchObject({
          node,
          cluster_state: "ok",
          cluster_known_nodes: "8",
          cluster_slots_assigned: "16384",
          cluster_size: "4",
        });
      }
      const nodes = await clusterNodes("rc-m4");
      const masters = nodes.filter((n) => n.flags.includes("master"));
      console.log(
        `cluster nodes (rc-m4's view):\n  ${nodes.map((n) => `${n.addr} ${n.flags} ${n.slots.join(" ")}`).join("\n  ")}`,
      );
      expect(masters).toHaveLength(4);
      expect(masters.every((m) => m.slots.length > 0)).toBe(true);
      expect(nodes.filter((n) => n.flags.includes("slave"))).toHaveLength(4);
      const values = await inService(
        "rc-m4",
        `export REDISCLI_AUTH=$(cat /run/secrets/redis-password)\nfor i in $(seq 1 ${KEYS}); do redis-cli --no-auth-warning -c get key$i; done\n`,
      );
      expect(values.trim().split("\n")).toEqual(Array.from({ length: KEYS }, (_, i) => `value${i + 1}`));
      // The keys were spread over the 3 old masters; some now live on the new one.
      const onNew = await redisCli("rc-m4", "dbsize");
      console.log(`keys on rc-m4 after the rebalance: ${onNew.trim()}`);
      expect(Number(onNew.trim())).toBeGreaterThan(0);
    });

    it("a preview after growing shows no change (the job does not run again)", async () => {
      const preview = await op("preview after up 2", () => engine().preview(program(4)));
      if (Object.keys(preview.changes).length) console.log(preview.output.slice(-6000));
      expect(preview.changes).toEqual({});
    });

    it("destroy removes every service, then the swarm", async () => {
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      const states = await Promise.all(
        lab.hosts.map((h) => lab.sh(h.name, "docker info --format '{{.Swarm.LocalNodeState}}'")),
      );
      expect(states.map((s) => s.trim())).toEqual(["inactive", "inactive", "inactive"]);
    });
  },
  { engine: true },
);
