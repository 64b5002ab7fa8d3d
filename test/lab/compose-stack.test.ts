import { scriptOf } from "../../components/shell";
import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import { ComposeStack } from "../../components/workloads/composeStack";
import {
  composeStdin,
  renderStackDeployScript,
  renderStackRemoveScript,
} from "../../components/workloads/scripts/compose";
import { EngineResult, EngineStack, recordOp } from "../engine/engine";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(15 * 60_000);

/**
 * ComposeStack through the REAL Pulumi engine on a 3-node lab swarm (lab 31): an inline program
 * builds a SwarmCluster (1 manager + 2 workers) and a ComposeStack; the pulumi CLI runs the real
 * pulumi-resource-command plugin. The stack uses the locally imported lab/busybox image (no
 * registry on the lab); no IPVS on the lab, so ports are host-mode and services dnsrr.
 */
describeLab(
  "ComposeStack through the real Pulumi engine (lab 31: 1 manager + 2 workers)",
  () => {
    const LAB_ID = 31;
    const manager = `lab${LAB_ID}-1`;
    const managerIp = `10.213.${LAB_ID}.11`;
    // A value that would be easy to spot anywhere it leaks; only letters and digits so no quoting hides it.
    const SECRET = "Tok3nQ9zLabSecretX7";
    // The same secret as it travels on stdin (the environment file, base64): as good as plain text.
    const SECRET_ENV_B64 = composeStdin("services:\n", { APP_TOKEN: SECRET }).split("\n")[0];
    const WEB_PORT = 18080;

    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let destroyed = false;
    const timings: string[] = [];

    /** The web + redis-like stack. `webReplicas` and `extra` let a test change it. */
    const composeFile = (webReplicas: number, extra = "") => `services:
  web:
    image: lab/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 8080 -h /www"]
    environment:
      APP_TOKEN: \${APP_TOKEN}
      REDIS_HOST: redis
    ports:
      - target: 8080
        published: ${WEB_PORT}
        protocol: tcp
        mode: host
    deploy:
      replicas: ${webReplicas}
      endpoint_mode: dnsrr
      placement:
        max_replicas_per_node: 1
  redis:
    image: lab/busybox:latest
    command: ["nc", "-ll", "-p", "6379", "-e", "cat"]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
${extra}`;

    const workerService = `  worker:
    image: lab/busybox:latest
    command: ["sleep", "3600"]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
`;

    /** The program: the lab swarm, and the compose stack on it when `content` is given. */
    const program = (content?: string) => async () => {
      const [h1, h2, h3] = lab.swarmHosts();
      const cluster = new SwarmCluster("lab", {
        nodes: [
          { host: h1, role: "manager" },
          { host: h2, role: "worker" },
          { host: h3, role: "worker" },
        ],
      });
      if (content === undefined) return { nodeIds: cluster.nodeIds };
      const shop = new ComposeStack("shop", {
        cluster,
        composeContent: content,
        environment: { APP_TOKEN: pulumi.secret(SECRET) },
      });
      return { nodeIds: cluster.nodeIds, stackName: shop.stackName, deployOutput: shop.deployOutput };
    };

    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };

    /** The stack's remote.Command as recorded in the state, secrets decrypted. */
    async function stackCommandState(): Promise<{
      inputs: Record<string, unknown>;
      outputs: Record<string, unknown>;
    }> {
      const deployment = (await engine().stack.exportStack()).deployment as {
        resources?: {
          urn: string;
          type: string;
          inputs?: Record<string, unknown>;
          outputs?: Record<string, unknown>;
        }[];
      };
      const found = (deployment.resources ?? []).filter(
        (r) => r.type === "command:remote:Command" && r.urn.endsWith("::shop-stack"),
      );
      expect(found).toHaveLength(1);
      return { inputs: found[0].inputs ?? {}, outputs: found[0].outputs ?? {} };
    }

    /** A value of a decrypted export: secrets are `{ <sig>: ..., plaintext: "<json>" }`. */
    function reveal(value: unknown): unknown {
      const plaintext = (value as { plaintext?: unknown } | undefined)?.plaintext;
      return typeof plaintext === "string" ? JSON.parse(plaintext) : value;
    }

    /** `docker stack services`, as name -> replicas. */
    async function stackServices(): Promise<Record<string, string>> {
      const out = await lab.sh(manager, "docker stack services shop --format '{{.Name}}|{{.Replicas}}'");
      return Object.fromEntries(
        out
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((line) => line.split("|") as [string, string]),
      );
    }

    /** Running tasks of a service: task id -> node. */
    async function runningTasks(service: string): Promise<Record<string, string>> {
      const out = await lab.sh(
        manager,
        `docker service ps ${service} --filter desired-state=running --format '{{.ID}}|{{.Node}}|{{.CurrentState}}'`,
      );
      const rows = out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("|"));
      for (const [, , state] of rows) expect(state).toMatch(/^Running /);
      return Object.fromEntries(rows.map(([id, node]) => [id, node]));
    }

    const specAndVersion = async (service: string) =>
      (
        await lab.sh(
          manager,
          `docker service inspect --format '{{.Version.Index}} {{json .Spec}}' ${service}`,
        )
      ).trim();

    /**
     * Samples every process's command line on the manager (lab hosts share this machine's PID
     * namespace, so that is every process here, the engine and its plugins included) while `during`
     * runs, and returns the lines that contain the secret. The secret reaches the sampler on stdin
     * and is matched by awk from the environment, so the sampler's own arguments never contain it.
     */
    async function psLinesWithSecretDuring<T>(
      during: () => Promise<T>,
    ): Promise<{ hits: string[]; samples: number; result: T }> {
      const stop = `/tmp/ps-sampler-stop-${LAB_ID}`;
      await lab.sh(manager, `rm -f ${stop}`);
      const sampler = lab.ssh(
        manager,
        `IFS= read -r s; n=0; while [ ! -f ${stop} ] && [ $n -lt 3000 ]; do ` +
          `ps -eo pid=,args= | S="$s" awk 'index($0, ENVIRON["S"])'; n=$((n + 1)); sleep 0.05; done; ` +
          `rm -f ${stop}; echo "samples=$n"`,
        `${SECRET}\n`,
      );
      let result: T;
      try {
        result = await during();
      } finally {
        await lab.sh(manager, `touch ${stop}`);
      }
      const { stdout } = await sampler;
      const lines = stdout.trim().split("\n");
      const samples = Number(/^samples=(\d+)$/.exec(lines.pop() ?? "")?.[1] ?? 0);
      return { hits: lines.filter(Boolean), samples, result };
    }

    const stackTempDirs = async () =>
      (await lab.sh(manager, "ls -d /tmp/swarm-stack.* 2>/dev/null || true"))
        .trim()
        .split("\n")
        .filter(Boolean);

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 3);
      // The Docker provider's key and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-compose", program(), `lab${LAB_ID}`);
      await op("up (the swarm alone)", () => engine().up(program()));
      expect((await lab.nodes(manager)).map((n) => `${n.hostname} ${n.role} ${n.state}`).sort()).toEqual([
        `lab${LAB_ID}-1 manager ready`,
        `lab${LAB_ID}-2 worker ready`,
        `lab${LAB_ID}-3 worker ready`,
      ]);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.destroy().catch(() => undefined);
      await stack?.remove();
      releaseSshDir();
      await lab?.release();
    });

    it("deploys a web + redis stack through the engine; both services run and talk; the secret is in no command, process or output", async () => {
      const tempBefore = await stackTempDirs();
      const {
        hits,
        samples,
        result: up,
      } = await psLinesWithSecretDuring(async () => {
        // Positive control: a process whose arguments do carry the secret must be seen.
        await lab.sh(manager, `sh -c 'sleep 1' control-${SECRET}`);
        return op("up (add the compose stack)", () => engine().up(program(composeFile(2))));
      });
      console.log(`ps sampled ${samples} times during the deploy`);
      expect(Object.keys(up.changes)).toEqual(["create"]);

      // The command the engine ran is the pure renderer's text with the component's defaults, byte for byte.
      const { inputs } = await stackCommandState();
      expect(scriptOf(String(inputs.create))).toBe(
        renderStackDeployScript({ stackName: "shop", withRegistryAuth: false, prune: true, wait: true }),
      );
      expect(scriptOf(String(inputs.delete))).toBe(renderStackRemoveScript("shop", 60));
      // It runs on the first manager (the connection is a secret in state; decrypted here).
      expect((reveal(inputs.connection) as { host?: string }).host).toBe(managerIp);
      const deployOutput = String(up.outputs.deployOutput?.value ?? "");
      expect(up.outputs.deployOutput?.secret).toBe(true);
      expect(deployOutput).toContain("Creating service shop_web\n");
      expect(deployOutput).toContain("Creating service shop_redis\n");

      expect(await stackServices()).toEqual({ shop_redis: "1/1", shop_web: "2/2 (max 1 per node)" });
      const web = await runningTasks("shop_web");
      expect(Object.keys(web)).toHaveLength(2);
      expect(new Set(Object.values(web)).size).toBe(2);
      expect(Object.keys(await runningTasks("shop_redis"))).toHaveLength(1);

      // web answers on its host-mode port on each node that runs it, and reaches redis over the overlay by name.
      for (const node of Object.values(web)) {
        expect(await lab.sh(manager, `curl -sS --max-time 5 http://${lab.host(node).ip}:${WEB_PORT}/`)).toBe(
          "hello from web\n",
        );
        const echoed = await lab.sh(
          node,
          `docker exec "$(docker ps -q -f name=shop_web. | head -n1)" sh -c 'echo PING | nc -w 3 redis 6379'`,
        );
        expect(echoed).toBe("PING\n");
      }

      // The secret: in no process's arguments during the deploy (the control was seen), not in the
      // command strings, not in the deploy's output.
      expect(samples).toBeGreaterThan(20);
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.filter((line) => !line.includes(`control-${SECRET}`))).toEqual([]);
      for (const text of [String(inputs.create), String(inputs.delete), deployOutput]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(SECRET_ENV_B64);
      }
      // Where compose puts it, and nowhere else: the web service's container environment.
      const webInspect = JSON.parse(await lab.sh(manager, "docker service inspect shop_web"))[0];
      const env: string[] = webInspect.Spec.TaskTemplate.ContainerSpec.Env;
      expect(env.filter((e) => e.includes(SECRET))).toEqual([`APP_TOKEN=${SECRET}`]);
      delete webInspect.Spec.TaskTemplate.ContainerSpec.Env;
      expect(JSON.stringify(webInspect)).not.toContain(SECRET);
      expect(await lab.sh(manager, "docker service inspect shop_redis")).not.toContain(SECRET);
      expect(
        await lab.sh(manager, "docker stack services shop; docker service ps --no-trunc shop_web shop_redis"),
      ).not.toContain(SECRET);
      // The compose file and env file lived in a private temp dir that is gone.
      expect(await stackTempDirs()).toEqual(tempBefore);
    });

    it("an up with nothing changed runs nothing: changes {}, every service spec, version and task as it was", async () => {
      const services = ["shop_web", "shop_redis"];
      const before = {
        specs: await Promise.all(services.map(specAndVersion)),
        tasks: await Promise.all(services.map(runningTasks)),
      };
      const up = await op("up (nothing changed)", () => engine().up(program(composeFile(2))));
      expect(up.changes).toEqual({});
      const preview = await op("preview (nothing changed)", () => engine().preview(program(composeFile(2))));
      expect(preview.changes).toEqual({});
      // `docker stack deploy` bumps every service's version even for an identical file: unchanged
      // versions show the deploy did not run at all.
      expect(await Promise.all(services.map(specAndVersion))).toEqual(before.specs);
      expect(await Promise.all(services.map(runningTasks))).toEqual(before.tasks);
    });

    it("redeploys a changed file in place: web scaled to 3, a new service added; redis keeps its task", async () => {
      const redisTasks = await runningTasks("shop_redis");
      const up = await op("up (web x3, worker service added)", () =>
        engine().up(program(composeFile(3, workerService))),
      );
      // An update of the one command (a replacement would `docker stack rm` the stack first).
      expect(up.changes).toEqual({ update: 1 });
      const deployOutput = String(up.outputs.deployOutput?.value ?? "");
      expect(deployOutput).toContain("Creating service shop_worker\n");
      expect(deployOutput).toContain("Updating service shop_web");
      expect(await stackServices()).toEqual({
        shop_redis: "1/1",
        shop_web: "3/3 (max 1 per node)",
        shop_worker: "1/1",
      });
      expect(new Set(Object.values(await runningTasks("shop_web")))).toEqual(
        new Set([`lab${LAB_ID}-1`, `lab${LAB_ID}-2`, `lab${LAB_ID}-3`]),
      );
      expect(await runningTasks("shop_redis")).toEqual(redisTasks);
    });

    it("drops a service taken out of the file (--prune is the default)", async () => {
      const up = await op("up (worker service removed)", () => engine().up(program(composeFile(3))));
      expect(up.changes).toEqual({ update: 1 });
      expect(String(up.outputs.deployOutput?.value ?? "")).toContain("Removing service shop_worker\n");
      expect(await stackServices()).toEqual({ shop_redis: "1/1", shop_web: "3/3 (max 1 per node)" });
    });

    it("`pulumi stack export` holds the secret only encrypted", async () => {
      const exported = await engine().exportState();
      // Positive controls: the stdin (with the secret, base64) is in the state, encrypted; decrypted,
      // the same search finds it.
      expect(exported).toContain('"ciphertext"');
      expect(JSON.stringify(await engine().stack.exportStack())).toContain(SECRET_ENV_B64);
      expect(exported).not.toContain(SECRET);
      expect(exported).not.toContain(SECRET_ENV_B64);
      for (const line of lab.privateKey.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")))
        expect(exported).not.toContain(line);
    });

    it("removing the stack from the program removes its services, network and containers", async () => {
      const up = await op("up (compose stack removed)", () => engine().up(program()));
      expect(up.changes).toEqual({ delete: 2 });
      expect((await lab.sh(manager, "docker stack ls --format '{{.Name}}'")).trim()).toBe("");
      expect((await lab.sh(manager, "docker service ls -q")).trim()).toBe("");
      expect(
        (await lab.sh(manager, "docker network ls -q --filter label=com.docker.stack.namespace=shop")).trim(),
      ).toBe("");
      // Task containers go away on every node shortly after.
      for (const host of lab.hosts) {
        expect(
          await eventually(
            60,
            async () => (await lab.sh(host.name, "docker ps -q -f name=shop_")).trim() === "",
          ),
        ).toBe(true);
      }
    });

    it("destroy: every host leaves the swarm; no engine output line holds the secret", async () => {
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
      for (const host of lab.hosts) {
        expect((await lab.sh(host.name, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
          "inactive",
        );
      }
      const after = JSON.parse(await engine().exportState()) as { deployment?: { resources?: unknown[] } };
      expect(after.deployment?.resources ?? []).toEqual([]);
      const log = engine().log.join("");
      // Positive control: the deploys' own output reached the engine's output.
      expect(log).toContain("shop_web");
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain(SECRET_ENV_B64);
    });
  },
  { engine: true },
);
