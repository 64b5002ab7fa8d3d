import * as crypto from "crypto";
import * as path from "path";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmNodeArgs } from "../../components/cluster/types";
import { OverlayNetwork } from "../../components/workloads/overlayNetwork";
import { SwarmService } from "../../components/workloads/swarmService";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(20 * 60_000);

/**
 * Workloads through the REAL engine and the REAL Docker provider (pulumi-resource-docker 5.2.0),
 * with NO ssh-agent: the provider reaches the manager only with what the SwarmCluster hands it.
 * Lab 61: 1 manager + 2 workers. An overlay network and a 3-replica service on it (update policy:
 * parallelism 2, delay 1s, failure action rollback) with a secret and a config mounted; preview
 * right after; an image change rolled 2 tasks at a time; a config whose health check fails rolled
 * back; destroy. Every step is read back from the swarm (`docker service inspect/ps`, `docker exec`).
 */
describeLab(
  "Workloads through the real Docker provider (lab 61: 1 manager + 2 workers, no ssh-agent)",
  () => {
    const LAB_ID = 61;
    const h = (i: number) => `lab${LAB_ID}-${i}`;
    const MANAGER = h(1);
    const SERVICE = "wl-web";
    const NETWORK = "wl-net";

    /** What changes between the ups: the image and the config file's content. */
    interface Variant {
      image: string;
      config: string;
    }
    const GOOD: Variant = { image: "lab/busybox:latest", config: "status=ok\nversion=1\n" };
    const V2: Variant = { image: "lab/busybox:v2", config: GOOD.config };
    // The health check greps for status=ok: this config makes every new task unhealthy.
    const BROKEN: Variant = { image: "lab/busybox:v2", config: "status=broken\nversion=2\n" };

    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let savedAgent: string | undefined;
    let destroyed = false;
    const timings: string[] = [];
    // Made at run time: the secret's value must reach the task's file and nowhere else in plain text.
    const SECRET_VALUE = `wl-secret-${crypto.randomBytes(16).toString("hex")}`;
    /** Plain-text values that must never show in engine output or exported state. */
    const secrets: string[] = [SECRET_VALUE];
    const leaksIn = (text: string) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 8)}...`);

    const program = (v: Variant) => async () => {
      const hosts = lab.swarmHosts();
      const nodes: SwarmNodeArgs[] = [
        { host: hosts[0], role: "manager" },
        { host: hosts[1], role: "worker" },
        { host: hosts[2], role: "worker" },
      ];
      const cluster = new SwarmCluster("wl", { nodes });
      const network = new OverlayNetwork("wl-net", { cluster, networkName: NETWORK });
      const service = new SwarmService("wl-web", {
        cluster,
        serviceName: SERVICE,
        image: v.image,
        // sh as PID 1 ignores SIGTERM unless it traps it: stop promptly so the rollout is not slowed.
        // (No stopGracePeriod: with one set, the provider's delete waits that long for the manager's
        // task containers to be REMOVED and fails when they are not, see the report.)
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        replicas: 3,
        endpointMode: "dnsrr",
        networks: [network],
        healthcheck: {
          test: "grep -q status=ok /etc/app.conf && test -s /run/secrets/db-password",
          interval: "1s",
          timeout: "2s",
          retries: 2,
        },
        updatePolicy: { parallelism: 2, delay: "1s", failureAction: "rollback", monitor: "3s" },
        rollbackPolicy: { parallelism: 3, delay: "0s", monitor: "2s" },
        secrets: [{ name: "db-password", data: SECRET_VALUE }],
        configs: [{ name: "app-conf", data: v.config, fileName: "/etc/app.conf" }],
      });
      return {
        networkId: network.networkId,
        serviceId: service.serviceId,
        secretId: service.secrets["db-password"].id,
        configId: service.configs["app-conf"].id,
      };
    };

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const mgr = (command: string) => lab.sh(MANAGER, command);

    /** One task of the service, as `docker inspect` of the task reads it. */
    interface Task {
      id: string;
      slot: number;
      node: string;
      image: string;
      desired: string;
      state: string;
      createdAt: number;
      configId: string;
    }
    async function tasks(): Promise<Task[]> {
      const out = await mgr(
        `docker service ps -q ${SERVICE} | xargs docker inspect --format '{{.ID}}|{{.Slot}}|{{.NodeID}}|{{.Spec.ContainerSpec.Image}}|{{.DesiredState}}|{{.Status.State}}|{{.CreatedAt.Format "2006-01-02T15:04:05.000000000Z07:00"}}|{{range .Spec.ContainerSpec.Configs}}{{.ConfigID}}{{end}}'`,
      );
      const nodeNames = await nodeNamesById();
      return out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [id, slot, node, image, desired, state, createdAt, configId] = l.split("|");
          return {
            id,
            slot: Number(slot),
            node: nodeNames[node] ?? node,
            image,
            desired,
            state,
            createdAt: Date.parse(createdAt),
            configId,
          };
        });
    }
    let nodeNameCache: Record<string, string> | undefined;
    async function nodeNamesById(): Promise<Record<string, string>> {
      if (!nodeNameCache)
        nodeNameCache = Object.fromEntries((await lab.nodes(MANAGER)).map((n) => [n.id, n.hostname]));
      return nodeNameCache;
    }
    const running = async () =>
      (await tasks()).filter((t) => t.desired === "running" && t.state === "running");

    async function serviceSpec(): Promise<{
      id: string;
      image: string;
      replicas: number;
      update: { Parallelism: number; Delay: number; FailureAction: string; Monitor: number };
      endpointMode: string;
      networks: string[];
      updateStatus?: { State: string; Message: string; CompletedAt?: string };
      previousImage?: string;
    }> {
      const raw = JSON.parse(await mgr(`docker service inspect ${SERVICE}`))[0];
      return {
        id: raw.ID,
        image: raw.Spec.TaskTemplate.ContainerSpec.Image,
        replicas: raw.Spec.Mode.Replicated.Replicas,
        update: raw.Spec.UpdateConfig,
        endpointMode: raw.Spec.EndpointSpec.Mode,
        networks: (raw.Spec.TaskTemplate.Networks ?? []).map((n: { Target: string }) => n.Target),
        updateStatus: raw.UpdateStatus,
        previousImage: raw.PreviousSpec?.TaskTemplate?.ContainerSpec?.Image,
      };
    }

    /** Runs `command` inside a running task's container on the node that runs it. */
    async function inTask(task: Task, command: string): Promise<string> {
      const container = (
        await lab.sh(task.node, `docker ps -q --filter label=com.docker.swarm.task.id=${task.id}`)
      ).trim();
      expect(container).toMatch(/^[0-9a-f]{12}$/);
      return lab.sh(task.node, `docker exec ${container} ${command}`);
    }

    beforeAll(async () => {
      savedAgent = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 3);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      for (const line of lab.privateKey
        .split("\n")
        .filter((l) => l.length > 20 && !l.startsWith("-----"))
        .slice(1))
        secrets.push(line);
      // A second image on every host: the same busybox rootfs with another ENV (no registry here).
      const tar = path.join(path.dirname(lab.privateKeyPath), "busybox.tar");
      for (const host of lab.hosts)
        await lab.sh(
          host.name,
          `docker import --change 'ENV PATH=/bin LAB_IMAGE=v2' ${tar} lab/busybox:v2 >/dev/null`,
        );
      // The Docker provider's key and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-workloads", program(GOOD), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
      releaseSshDir();
      await lab?.release();
    });

    let ids: { networkId: string; serviceId: string; secretId: string; configId: string };

    it("creates the overlay network and a 3-replica service with its secret and config, without an ssh-agent", async () => {
      expect(process.env.SSH_AUTH_SOCK).toBeUndefined();
      const up = await op("up 1 (cluster, network, service, secret, config)", () =>
        engine().up(program(GOOD)),
      );
      expect(Object.keys(up.changes)).toEqual(["create"]);
      ids = {
        networkId: up.outputs.networkId?.value,
        serviceId: up.outputs.serviceId?.value,
        secretId: up.outputs.secretId?.value,
        configId: up.outputs.configId?.value,
      };

      const net = JSON.parse(await mgr(`docker network inspect ${NETWORK}`))[0];
      expect({ id: net.Id, driver: net.Driver, scope: net.Scope, attachable: net.Attachable }).toEqual({
        id: ids.networkId,
        driver: "overlay",
        scope: "swarm",
        attachable: true,
      });

      const spec = await serviceSpec();
      console.log(`service spec read back: ${JSON.stringify(spec)}`);
      expect(spec).toMatchObject({
        id: ids.serviceId,
        image: GOOD.image,
        replicas: 3,
        endpointMode: "dnsrr",
        networks: [ids.networkId],
        update: { Parallelism: 2, Delay: 1e9, FailureAction: "rollback", Monitor: 3e9 },
      });
      const up3 = await running();
      expect(up3).toHaveLength(3);
      console.log(`tasks: ${up3.map((t) => `slot ${t.slot} on ${t.node} ${t.state}`).join(", ")}`);

      // The secret and the config exist in the swarm under the ids the engine recorded.
      expect((await mgr(`docker secret inspect --format '{{.ID}}' ${ids.secretId}`)).trim()).toBe(
        ids.secretId,
      );
      expect((await mgr(`docker config inspect --format '{{.ID}}' ${ids.configId}`)).trim()).toBe(
        ids.configId,
      );
      // ... and are mounted: read inside a running task on the node that runs it.
      for (const task of up3.slice(0, 2)) {
        expect(await inTask(task, "cat /run/secrets/db-password")).toBe(SECRET_VALUE);
        expect(await inTask(task, "cat /etc/app.conf")).toBe(GOOD.config);
        console.log(
          `task slot ${task.slot} on ${task.node}: /run/secrets/db-password and /etc/app.conf read back`,
        );
      }
      const health = (
        await lab.sh(
          up3[0].node,
          `docker ps --filter label=com.docker.swarm.task.id=${up3[0].id} --format '{{.Status}}'`,
        )
      ).trim();
      expect(health).toMatch(/\(healthy\)/);

      // The provider reached the manager with the cluster's key file, not an agent.
      const exported = await engine().exportState();
      expect(exported).toMatch(/"host": "ssh:\/\/root@10\.213\.61\.11:22"/);
      expect(leaksIn(exported)).toEqual([]);
      expect(leaksIn(engine().log.join(""))).toEqual([]);
    });

    it("a preview right after reports no changes (no perpetual diff)", async () => {
      const preview = await op("preview after up 1", () => engine().preview(program(GOOD)));
      if (Object.keys(preview.changes).length) console.log(`preview diff:\n${preview.output.slice(-8000)}`);
      expect(preview.changes).toEqual({});
    });

    it("an image change rolls the tasks in place, 2 at a time with 1s between batches", async () => {
      const before = await tasks();
      const up = await op("up 2 (image lab/busybox:latest -> lab/busybox:v2)", () =>
        engine().up(program(V2)),
      );
      // An update in place: nothing replaced, the same service.
      expect(up.changes).toEqual({ update: 1 });
      const returnedAt = Date.now();
      const statusAtReturn = (await serviceSpec()).updateStatus;
      console.log(`UpdateStatus when up returned: ${JSON.stringify(statusAtReturn)}`);
      let spec = await serviceSpec();
      await eventually(60, async () => (spec = await serviceSpec()).updateStatus?.State === "completed");
      // The provider's convergence check counts running tasks: it can return while the last batch
      // is still to come (say how far behind the swarm's own "completed" came).
      const completedAt = Date.parse(spec.updateStatus?.CompletedAt ?? "");
      console.log(
        `rolling update completed ${((completedAt - returnedAt) / 1000).toFixed(1)} s after up returned (negative: before)`,
      );
      expect(spec.id).toBe(ids.serviceId);
      expect(spec.image).toBe(V2.image);
      expect(spec.previousImage).toBe(GOOD.image);
      expect(spec.updateStatus).toMatchObject({ State: "completed" });

      const after = await tasks();
      const fresh = after.filter((t) => !before.some((b) => b.id === t.id));
      const current = fresh.filter((t) => t.desired === "running").sort((a, b) => a.createdAt - b.createdAt);
      console.log(
        `new tasks: ${current.map((t) => `slot ${t.slot} ${t.image} ${t.state} created +${((t.createdAt - current[0].createdAt) / 1000).toFixed(2)} s`).join(", ")}`,
      );
      expect(current).toHaveLength(3);
      expect(current.every((t) => t.image === V2.image && t.state === "running")).toBe(true);
      // Each slot's old task was shut down and replaced in the same slot.
      expect(current.map((t) => t.slot).sort()).toEqual(
        before
          .filter((t) => t.desired === "running")
          .map((t) => t.slot)
          .sort(),
      );
      for (const old of before.filter((t) => t.desired === "running")) {
        const now = after.find((t) => t.id === old.id);
        expect(now?.desired).toBe("shutdown");
      }
      // Two tasks started together, the third one batch later (after they ran, plus the 1s delay).
      const [a, b, c] = current.map((t) => t.createdAt);
      expect(b - a).toBeLessThan(1000);
      expect(c - b).toBeGreaterThanOrEqual(1000);
      expect(await inTask(current[0], `/bin/sh -c 'echo "$LAB_IMAGE"'`)).toBe("v2\n");

      const preview = await op("preview after up 2", () => engine().preview(program(V2)));
      expect(preview.changes).toEqual({});
    });

    it("a config whose health check fails is rolled back by the swarm, and up reports it", async () => {
      const before = await serviceSpec();
      const up = await op(
        "up 3 (config with a failing health check)",
        () => engine().up(program(BROKEN)),
        false,
      );
      console.log(`up 3 ok=${up.ok}; ${up.output.length} chars of streamed output; error: ${up.error}`);
      console.log(
        `up 3 engine lines about the service:\n  ${`${up.output}\n${up.error}`
          .split("\n")
          .filter((l) => /rollback|roll back|wl-web|error/i.test(l))
          .slice(-15)
          .join("\n  ")}`,
      );
      expect(up.ok).toBe(false);
      expect(up.error).toMatch(/service rollback completed/);

      let spec = await serviceSpec();
      await eventually(
        60,
        async () => (spec = await serviceSpec()).updateStatus?.State === "rollback_completed",
      );
      console.log(`UpdateStatus after up 3: ${JSON.stringify(spec.updateStatus)}`);
      expect(spec.updateStatus?.State).toBe("rollback_completed");
      expect(spec.id).toBe(before.id);
      expect(spec.image).toBe(V2.image);
      // The tasks run the previous config again, healthy.
      let live: Task[] = [];
      await eventually(60, async () => (live = await running()).length === 3);
      expect(live).toHaveLength(3);
      expect(new Set(live.map((t) => t.configId))).toEqual(new Set([ids.configId]));
      expect(await inTask(live[0], "cat /etc/app.conf")).toBe(GOOD.config);

      // What the engine believes now, in its own words.
      const previewBroken = await op("preview (broken config again) after the rollback", () =>
        engine().preview(program(BROKEN)),
      );
      console.log(
        `preview of the broken program after the rollback: changes ${JSON.stringify(previewBroken.changes)}`,
      );
      // The failed update is not recorded as applied: the next up would try the broken config again.
      expect(previewBroken.changes).toEqual({ update: 1 });
      const refresh = await op("refresh after the rollback", () => engine().refresh());
      console.log(`refresh after the rollback: changes ${JSON.stringify(refresh.changes)}`);
      // The state already holds the rolled-back service: refresh finds nothing to change.
      expect(refresh.changes).toEqual({});

      // Back to the good config: up converges and the stack is clean again.
      const back = await op("up 4 (good config again)", () => engine().up(program(V2)));
      console.log(`up 4 changes ${JSON.stringify(back.changes)}`);
      expect(await eventually(60, async () => (await running()).length === 3)).toBe(true);
      const again = await op("preview after up 4", () => engine().preview(program(V2)));
      expect(again.changes).toEqual({});
      const live2 = await running();
      expect(live2).toHaveLength(3);
      expect(await inTask(live2[0], "cat /etc/app.conf")).toBe(GOOD.config);
    });

    it("destroy removes the network, the service, the secret and the config (read back on the live swarm), then the swarm", async () => {
      const exported = JSON.parse(await engine().exportState()) as {
        deployment: { resources?: { urn: string; type: string }[] };
      };
      // First the workloads alone (`pulumi destroy --target`), so the swarm is still there to ask.
      const workloads = (exported.deployment.resources ?? [])
        .filter(
          (r) =>
            r.type.startsWith("swarm:workloads:") ||
            /^docker:index\/(service|network|secret|serviceConfig):/.test(r.type),
        )
        .map((r) => r.urn);
      console.log(`destroying ${workloads.length} workload resources first`);
      expect(workloads.length).toBe(6);
      const lines: string[] = [];
      const started = Date.now();
      await engine().stack.destroy({
        target: workloads,
        onOutput: (l) => {
          lines.push(l);
          engine().log.push(l);
        },
        color: "never",
      });
      const seconds = (Date.now() - started) / 1000;
      timings.push(`destroy --target (workloads): ${seconds.toFixed(1)} s`);
      const destroyOutput = lines.join("");
      for (const kind of [
        "Service wl-web",
        "Network wl-net",
        "Secret wl-web-secret-db-password",
        "ServiceConfig wl-web-config-app-conf",
      ])
        expect(destroyOutput).toContain(`docker:index:${kind} deleted`);
      expect(destroyOutput).toMatch(/- 6 deleted/);
      expect((await mgr(`docker service ls -q`)).trim()).toBe("");
      // The swarm drops the overlay at once, but the manager's local copy goes only when its last
      // task container is gone: wait for that (seen under load, with the service just removed).
      expect(
        await eventually(
          60,
          async () => (await mgr(`docker network ls -q --filter name=${NETWORK}`)).trim() === "",
        ),
      ).toBe(true);
      expect((await mgr(`docker secret ls -q`)).trim()).toBe("");
      expect((await mgr(`docker config ls -q`)).trim()).toBe("");
      expect((await mgr("docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe("active");

      const down = await op("destroy (the rest: cluster)", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      for (const host of lab.hosts) {
        expect((await lab.sh(host.name, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
          "inactive",
        );
        expect((await lab.sh(host.name, `docker network ls -q --filter name=${NETWORK}`)).trim()).toBe("");
      }
      expect(leaksIn(engine().log.join(""))).toEqual([]);
    });
  },
  { engine: true },
);
