import * as pulumi from "@pulumi/pulumi";
import type { SwarmClusterLike } from "../../components/cluster/types";
import { describeLab, eventually, Lab } from "./lab";
import { ExecutedCommand, mockWithRealCommands, settleOutput } from "./realCommands";

jest.setTimeout(10 * 60_000);

/**
 * ComposeStack on a 3-node lab swarm: the component runs under mocks whose remote.Command create
 * goes over real SSH, so the deploy script and its stdin are exactly what the component renders.
 * The stack is built on the locally imported lab/busybox image (no registry on the lab); no IPVS
 * on the lab, so ports are host-mode and services dnsrr.
 */
describeLab("ComposeStack on a lab swarm (1 manager + 2 workers)", () => {
  const LAB_ID = 31;
  const manager = `lab${LAB_ID}-1`;
  const managerIp = `10.213.${LAB_ID}.11`;
  // A value that would be easy to spot anywhere it leaks; only letters and digits so no quoting hides it.
  const SECRET = "Tok3nQ9zLabSecretX7";
  const WEB_PORT = 18080;

  let lab: Lab;
  let ComposeStack: typeof import("../../components/workloads/composeStack").ComposeStack;
  let scripts: typeof import("../../components/workloads/composeScripts");
  let docker: typeof import("@pulumi/docker");

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

  function cluster(): SwarmClusterLike {
    const [managerHost] = lab.swarmHosts();
    return {
      provider: new docker.Provider("lab-swarm", { host: `ssh://root@${managerIp}:22` }),
      managerHost,
      managerAddress: pulumi.output(`${managerIp}:2377`),
      spansNetworks: false,
    };
  }

  /** Runs the ComposeStack program; its deploy command runs for real on the manager. */
  async function deploy(content: string): Promise<{ command: ExecutedCommand; ms: number }> {
    const run = await mockWithRealCommands(lab);
    const started = Date.now();
    const stack = new ComposeStack("shop", {
      cluster: cluster(),
      composeContent: content,
      environment: { APP_TOKEN: pulumi.secret(SECRET) },
    });
    await settleOutput(stack.deployOutput, run);
    return { command: run.byName("shop-stack"), ms: Date.now() - started };
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

  const spec = async (service: string) =>
    (await lab.sh(manager, `docker service inspect --format '{{json .Spec}}' ${service}`)).trim();

  /**
   * Samples every process's command line on the manager (lab hosts share this machine's PID
   * namespace, so that is every process here) while `during` runs, and returns the lines that
   * contain the secret. The secret reaches the sampler on stdin and is matched by awk from the
   * environment, so the sampler's own arguments never contain it.
   */
  async function psLinesWithSecretDuring<T>(
    during: () => Promise<T>,
  ): Promise<{ hits: string[]; samples: number; result: T }> {
    const sampler = lab.ssh(
      manager,
      `IFS= read -r s; n=0; while [ ! -f /tmp/ps-sampler-stop-${LAB_ID} ] && [ $n -lt 1200 ]; do ` +
        `ps -eo pid=,args= | S="$s" awk 'index($0, ENVIRON["S"])'; n=$((n + 1)); sleep 0.05; done; ` +
        `rm -f /tmp/ps-sampler-stop-${LAB_ID}; echo "samples=$n"`,
      `${SECRET}\n`,
    );
    let result: T;
    try {
      result = await during();
    } finally {
      await lab.sh(manager, `touch /tmp/ps-sampler-stop-${LAB_ID}`);
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

  let first: ExecutedCommand;

  beforeAll(async () => {
    lab = await Lab.up(LAB_ID, 3);
    await lab.sh(manager, `docker swarm init --advertise-addr ${managerIp} >/dev/null`);
    const token = (await lab.sh(manager, "docker swarm join-token -q worker")).trim();
    for (const worker of [`lab${LAB_ID}-2`, `lab${LAB_ID}-3`]) {
      // The token goes on stdin, as the cluster component does: never in a command string.
      await lab.sh(
        worker,
        `read -r token; docker swarm join --token "$token" ${managerIp}:2377 >/dev/null`,
        `${token}\n`,
      );
    }
    expect((await lab.nodes(manager)).map((n) => `${n.hostname} ${n.role} ${n.state}`).sort()).toEqual([
      `lab${LAB_ID}-1 manager ready`,
      `lab${LAB_ID}-2 worker ready`,
      `lab${LAB_ID}-3 worker ready`,
    ]);
    docker = await import("@pulumi/docker");
    scripts = await import("../../components/workloads/composeScripts");
    ({ ComposeStack } = await import("../../components/workloads/composeStack"));
  });
  afterAll(async () => {
    await lab?.down();
  });

  it("deploys a web + redis stack with the component's script and stdin; both services run and talk", async () => {
    const tempBefore = await stackTempDirs();
    const { hits, samples, result } = await psLinesWithSecretDuring(async () => {
      // Positive control: a process whose arguments do carry the secret must be seen.
      await lab.sh(manager, `sh -c 'sleep 1' control-${SECRET}`);
      return deploy(composeFile(2));
    });
    first = result.command;
    console.log(
      `first deploy of the stack: ${(result.ms / 1000).toFixed(1)} s; ps sampled ${samples} times during it`,
    );

    // The command is the pure renderer's text with the component's defaults, byte for byte.
    expect(first.host).toBe(managerIp);
    expect(first.create).toBe(
      scripts.renderStackDeployScript({
        stackName: "shop",
        withRegistryAuth: false,
        prune: true,
        wait: true,
      }),
    );
    expect(first.delete).toBe(scripts.renderStackRemoveScript("shop", 60));
    expect(first.stdin).toBe(scripts.composeStdin(composeFile(2), { APP_TOKEN: SECRET }));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Creating service shop_web\n");
    expect(first.stdout).toContain("Creating service shop_redis\n");

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

    // The secret: not in the command strings, not in any process's arguments during the deploy,
    // not in the deploy's output; only base64-encoded on stdin.
    expect(samples).toBeGreaterThan(20);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.filter((line) => !line.includes(`control-${SECRET}`))).toEqual([]);
    for (const text of [first.create, first.delete ?? "", first.stdout, first.stderr, first.stdin ?? ""]) {
      expect(text).not.toContain(SECRET);
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

  it("re-running the same script and stdin restarts nothing and leaves every service spec as it was", async () => {
    const services = ["shop_web", "shop_redis"];
    const before = {
      specs: await Promise.all(services.map(spec)),
      tasks: await Promise.all(services.map(runningTasks)),
    };
    const versionsBefore = await lab.sh(
      manager,
      "docker service inspect --format '{{.Version.Index}}' shop_web shop_redis",
    );
    const again = await lab.ssh(manager, first.create, first.stdin);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Updating service shop_web");
    expect(again.stdout).not.toContain("Creating");
    expect(await Promise.all(services.map(spec))).toEqual(before.specs);
    expect(await Promise.all(services.map(runningTasks))).toEqual(before.tasks);
    expect(await stackServices()).toEqual({ shop_redis: "1/1", shop_web: "2/2 (max 1 per node)" });
    // `docker stack deploy` always sends a service update, so swarm bumps Version/UpdatedAt even
    // when the spec is identical; under the Pulumi engine an unchanged file does not run it at all.
    const versionsAfter = await lab.sh(
      manager,
      "docker service inspect --format '{{.Version.Index}}' shop_web shop_redis",
    );
    console.log(
      `service versions before/after an unchanged re-run: ${versionsBefore.trim().split("\n")} -> ${versionsAfter.trim().split("\n")}`,
    );
  });

  it("redeploys a changed file: web scaled to 3, a new service added; redis keeps its task", async () => {
    const redisTasks = await runningTasks("shop_redis");
    const { command } = await deploy(composeFile(3, workerService));
    expect(command.create).toBe(first.create);
    expect(command.stdout).toContain("Creating service shop_worker\n");
    expect(command.stdout).toContain("Updating service shop_web");
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
    const { command } = await deploy(composeFile(3));
    expect(command.stdout).toContain("Removing service shop_worker\n");
    expect(await stackServices()).toEqual({ shop_redis: "1/1", shop_web: "3/3 (max 1 per node)" });
  });

  it("the remove script removes the stack, its services and network; running it again is not an error", async () => {
    const removed = await lab.ssh(manager, first.delete!);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("Removing service shop_web\n");
    expect(removed.stdout.endsWith("swarm-stack: removed shop\n")).toBe(true);
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
    const again = await lab.ssh(manager, first.delete!);
    expect(again).toEqual({
      code: 0,
      stdout: "swarm-stack: stack shop does not exist; nothing to remove\n",
      stderr: "",
    });
  });
});
