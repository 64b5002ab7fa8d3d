import { execFile } from "child_process";
import { promisify } from "util";
import {
  hitCounter,
  type LabImages,
  redisCluster,
  rollingServices,
  scenarioSwarm,
} from "../../examples/scenarios";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { labWithImages } from "./labImages";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(40 * 60_000);
const run = promisify(execFile);

/**
 * The seeds' systems through the REAL engine on lab 91 (1 manager + 2 workers), with real images
 * built from Debian packages and pulled from a lab registry the hosts trust through the cluster's
 * `insecureRegistries`. Every claim is read back from the running software: the Flask app's hit
 * count over HTTP, `redis-cli cluster info/nodes` inside the cluster's containers, the tasks of a
 * rolling update one by one.
 */
describeLab(
  "Scenarios through the real engine (lab 91: web + Redis, Redis Cluster 3+3, rolling updates)",
  () => {
    const LAB_ID = 91;
    const MANAGER = `lab${LAB_ID}-1`;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let images: LabImages = {};
    let registry = "";
    let releaseSshDir = () => {};
    let destroyed = false;
    const timings: string[] = [];

    interface Variant {
      masters: number;
      replicasPerMaster: number;
      roll: "version" | "latest";
    }
    let first: Variant;

    const program = (v: Variant) => async () => {
      const hosts = lab.swarmHosts();
      const { cluster, network } = scenarioSwarm("sc", hosts, registry, "apps");
      const hits = hitCounter(cluster, network, images);
      const rc = redisCluster(
        cluster,
        network,
        images,
        { masters: v.masters, replicasPerMaster: v.replicasPerMaster },
        lab.hosts.map((h) => h.name),
      );
      rollingServices(cluster, images, v.roll);
      return { hitsPassword: hits.password, rcPassword: rc.password, rcJob: rc.job.output };
    };

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const mgr = (command: string) => lab.sh(MANAGER, command);

    interface Task {
      id: string;
      slot: number;
      node: string;
      image: string;
      desired: string;
      state: string;
      createdAt: number;
    }
    const nodeNames: Record<string, string> = {};
    async function tasks(service: string): Promise<Task[]> {
      if (!Object.keys(nodeNames).length)
        for (const n of await lab.nodes(MANAGER)) nodeNames[n.id] = n.hostname;
      const out = await mgr(
        `docker service ps -q ${service} | xargs docker inspect --format '{{.ID}}|{{.Slot}}|{{.NodeID}}|{{.Spec.ContainerSpec.Image}}|{{.DesiredState}}|{{.Status.State}}|{{.CreatedAt.Format "2006-01-02T15:04:05.000000000Z07:00"}}'`,
      );
      return out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [id, slot, node, image, desired, state, createdAt] = l.split("|");
          return {
            id,
            slot: Number(slot),
            node: nodeNames[node] ?? node,
            image,
            desired,
            state,
            createdAt: Date.parse(createdAt),
          };
        });
    }
    const running = async (service: string) =>
      (await tasks(service)).filter((t) => t.desired === "running" && t.state === "running");

    /** Runs `command` with sh inside the running task of a single-task service. */
    async function inService(service: string, command: string): Promise<string> {
      const [task] = await running(service);
      if (!task) throw new Error(`${service} has no running task`);
      const container = (
        await lab.sh(task.node, `docker ps -q --filter label=com.docker.swarm.task.id=${task.id}`)
      ).trim();
      return lab.sh(task.node, `docker exec -i ${container} sh -s`, command);
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

    beforeAll(async () => {
      ({ lab, registry, images } = await labWithImages(LAB_ID, 3, ["redis", "web", "nginx"]));
      first = { masters: 3, replicasPerMaster: 1, roll: "version" };
      console.log(`pulumi ${cliVersion()}`);
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-scenarios", program(first), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      releaseSshDir();
      await lab?.release();
    });

    it("up: web + Redis hit counter, Redis Cluster 3+3 (created by a SwarmJob), nginx and Redis to roll", async () => {
      const up = await op(
        "up 1 (cluster, registry trust, hit counter, Redis Cluster 3+3, rolling services)",
        () => engine().up(program(first)),
      );
      expect(Object.keys(up.changes)).toEqual(["create"]);
      console.log(`converge job output:\n${String(up.outputs.rcJob?.value).slice(-1500)}`);

      // The hosts pulled the images from the lab registry they trust through insecureRegistries.
      const daemon = JSON.parse(await lab.sh(`lab${LAB_ID}-2`, "cat /etc/docker/daemon.json"));
      expect(daemon["insecure-registries"]).toEqual([registry]);
    });

    it("the web app's hit count increases across requests answered by tasks on different nodes", async () => {
      const web = await running("hits-web");
      expect(web).toHaveLength(2);
      expect(new Set(web.map((t) => t.node)).size).toBe(2);
      const answers: { node: string; from: string; hits: number }[] = [];
      for (let i = 0; i < 3; i++)
        for (const t of web) {
          const ip = lab.host(t.node).ip;
          const { stdout } = await run("curl", ["-fsS", "--max-time", "10", `http://${ip}:8000/`]);
          const m = /^Hello from (\S+): (\d+) hits/.exec(stdout.trim());
          expect(m).not.toBeNull();
          answers.push({ node: t.node, from: m![1], hits: Number(m![2]) });
        }
      console.log(`answers: ${answers.map((a) => `${a.node}(${a.from})=${a.hits}`).join(", ")}`);
      expect(new Set(answers.map((a) => a.from)).size).toBe(2);
      for (let i = 1; i < answers.length; i++) expect(answers[i].hits).toBe(answers[i - 1].hits + 1);
    });

    it("redis-cli cluster info: cluster_state:ok, 6 nodes, 16384 slots; keys written through the cluster", async () => {
      const info = await clusterInfo("rc-m1");
      console.log(`cluster info: ${JSON.stringify(info)}`);
      expect(info).toMatchObject({
        cluster_state: "ok",
        cluster_known_nodes: "6",
        cluster_slots_assigned: "16384",
        cluster_size: "3",
      });
      const nodes = await redisCli("rc-m1", "cluster nodes");
      expect(nodes.split("\n").filter((l) => / slave /.test(l))).toHaveLength(3);
      await inService(
        "rc-m1",
        `export REDISCLI_AUTH=$(cat /run/secrets/redis-password)\nfor i in $(seq 0 19); do redis-cli --no-auth-warning -c set key$i value$i >/dev/null; done\n`,
      );
      const preview = await op("preview after up 1 (the job must not run again)", () =>
        engine().preview(program(first)),
      );
      if (Object.keys(preview.changes).length) console.log(preview.output.slice(-6000));
      expect(preview.changes).toEqual({});
    });

    it("rolls nginx 2 at a time with 1s between batches, and Redis one task every 10s, seen task by task", async () => {
      const before = { nginx: await tasks("roll-nginx"), redis: await tasks("roll-redis") };
      const next: Variant = { ...first, roll: "latest" };
      await op("up 3 (roll nginx and redis to the :latest tags)", () => engine().up(program(next)));
      for (const [service, old] of [
        ["roll-nginx", before.nginx],
        ["roll-redis", before.redis],
      ] as const) {
        // A stop-first update stops the old task before its successor runs, so "every running task is
        // new" also holds mid-roll with one slot empty: wait for all three slots.
        const rolled = await eventually(120, async () => {
          const now = await running(service);
          return now.length === 3 && now.every((t) => t.image.includes(":latest"));
        });
        expect(rolled).toBe(true);
        const fresh = (await tasks(service))
          .filter((t) => !old.some((o) => o.id === t.id) && t.desired === "running")
          .sort((a, b) => a.createdAt - b.createdAt);
        const t0 = fresh[0].createdAt;
        console.log(
          `${service}: ${fresh.map((t) => `slot ${t.slot} on ${t.node} ${t.state} +${((t.createdAt - t0) / 1000).toFixed(2)} s`).join(", ")}`,
        );
        expect(fresh).toHaveLength(3);
        const gaps = fresh.slice(1).map((t, i) => t.createdAt - fresh[i].createdAt);
        if (service === "roll-nginx") {
          expect(gaps[0]).toBeLessThan(1000);
          expect(gaps[1]).toBeGreaterThanOrEqual(1000);
        } else {
          expect(gaps.every((g) => g >= 10_000)).toBe(true);
        }
      }
    });

    it("destroy removes every service, then the swarm", async () => {
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      for (const host of lab.hosts)
        expect((await lab.sh(host.name, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
          "inactive",
        );
    });
  },
  { engine: true },
);
