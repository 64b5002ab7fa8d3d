import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import { DeployKey } from "../../components/cicd/deployKey";
import { renderPipelineScript } from "../../components/cicd/scripts/pipeline";
import { SwarmService } from "../../components/workloads/swarmService";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(25 * 60_000);

/**
 * The delivery pipeline end to end on lab 33, through the real engine for everything Pulumi owns:
 * lab33-1 manager + lab33-2, lab33-3 workers (a SwarmCluster trusting the lab registry through
 * `insecureRegistries`), a 3-replica SwarmService with imageOwner "pipeline" and a DeployKey on the
 * manager; lab33-4 stands in for the Jenkins agent (it runs the rendered pipeline script in a git
 * checkout) and serves Debian's docker-registry standing in for Harbor. No Docker Hub: the app's
 * image is built FROM the lab's imported busybox image.
 */
describeLab(
  "delivery pipeline: commit -> build -> registry -> restricted deploy key -> swarm (lab 33)",
  () => {
    const LAB_ID = 33;
    const name = (n: number) => `lab${LAB_ID}-${n}`;
    const ip = (n: number) => `10.213.${LAB_ID}.${10 + n}`;
    const MANAGER = name(1);
    const AGENT = name(4);
    const REGISTRY = `${ip(4)}:5000`;
    const REPOSITORY = `${REGISTRY}/app/web`;
    const SERVICE = "web";
    /** The sshd on the manager that reads ~/.ssh/authorized_keys (the lab's own sshd reads only the lab key). */
    const GATE_PORT = 2022;

    let lab: Lab;
    let stack: EngineStack | undefined;
    let destroyed = false;
    let releaseSshDir = () => {};
    let savedAgent: string | undefined;
    const timings: string[] = [];
    let agentDir: string;
    let checkout: string;
    let deployKeyFile: string;
    let deployPublicKey: string;
    let pipelineFile: string;

    const program =
      (env: Record<string, string>, imageOwner: "pulumi" | "pipeline" = "pipeline") =>
      async () => {
        const hosts = lab.swarmHosts();
        const cluster = new SwarmCluster("pl", {
          nodes: [
            { host: hosts[0], role: "manager" },
            { host: hosts[1], role: "worker" },
            { host: hosts[2], role: "worker" },
          ],
          insecureRegistries: [REGISTRY],
        });
        const service = new SwarmService("web", {
          cluster,
          serviceName: SERVICE,
          image: "lab/busybox:latest",
          imageOwner,
          command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
          replicas: 3,
          maxReplicasPerNode: 1,
          endpointMode: "dnsrr",
          env,
          updatePolicy: { parallelism: 3, delay: "0s", monitor: "1s" },
        });
        const key = new DeployKey(
          "ci",
          {
            // The cluster's own manager: it comes with the cluster's host key pin, not pinned again.
            managers: [cluster.managerHost],
            publicKey: deployPublicKey,
            targets: [{ service: SERVICE, repository: REPOSITORY }],
          },
          { dependsOn: [cluster] },
        );
        return { serviceId: service.serviceId, marker: key.marker };
      };

    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };

    /** Image and state of every task swarm wants running, read with `docker inspect` of the tasks. */
    async function runningTasks(): Promise<{ image: string; state: string; node: string }[]> {
      const out = await lab.sh(
        MANAGER,
        `docker service ps -q --filter desired-state=running ${SERVICE} | xargs -r docker inspect --format '{{.Spec.ContainerSpec.Image}}|{{.Status.State}}|{{.NodeID}}'`,
      );
      return out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [image, state, node] = line.split("|");
          return { image, state, node };
        });
    }
    const serviceImage = async () =>
      (
        await lab.sh(
          MANAGER,
          `docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' ${SERVICE}`,
        )
      ).trim();

    /** What /version.txt says in every running container of the service, on every node. */
    async function versionsServed(): Promise<string[]> {
      const versions: string[] = [];
      for (const n of [1, 2, 3]) {
        const out = await lab.sh(
          name(n),
          `for c in $(docker ps -q --filter label=com.docker.swarm.service.name=${SERVICE}); do docker exec "$c" cat /version.txt; done`,
        );
        versions.push(...out.trim().split("\n").filter(Boolean));
      }
      return versions.sort();
    }

    /** Commits `version` in the checkout and runs the rendered pipeline there, as the Jenkins job does. */
    async function commitAndRun(
      version: string,
    ): Promise<{ commit: string; deployed: string; stderr: string }> {
      const git = `git -C ${checkout} -c user.name=lab -c user.email=lab@lab.invalid`;
      await lab.sh(
        AGENT,
        `printf '%s\\n' ${version} >${checkout}/version.txt && ${git} add -A && ${git} commit -q -m ${version}`,
      );
      const commit = (await lab.sh(AGENT, `git -C ${checkout} rev-parse HEAD`)).trim();
      const started = Date.now();
      const result = await lab.ssh(
        AGENT,
        `cd ${checkout} && DEPLOY_KEY_FILE=${deployKeyFile} bash ${pipelineFile}`,
      );
      console.log(
        `pipeline run for ${version} (commit ${commit.slice(0, 12)}) in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${result.code}\n--- stderr\n${result.stderr}--- stdout\n${result.stdout}`,
      );
      expect(result.code).toBe(0);
      // stdout is the deployed reference alone (docker's own output goes to stderr).
      expect(result.stdout.split("\n")).toHaveLength(2);
      return { commit, deployed: result.stdout.trim(), stderr: result.stderr };
    }

    beforeAll(async () => {
      savedAgent = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 4);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      if (!fs.existsSync("/usr/bin/docker-registry")) {
        throw new Error(
          "/usr/bin/docker-registry is missing: apt-get install docker-registry (in .ci/run-deps.txt)",
        );
      }
      const managerDir = lab.host(MANAGER).dir;
      agentDir = lab.host(AGENT).dir;

      // The manager's home is this machine's /root: give the manager its own, in its private mount
      // namespace, so the DeployKey writes ~/.ssh/authorized_keys there and nowhere else. The lab's
      // sshd reads only the lab key file; a second sshd on the manager reads ~/.ssh/authorized_keys
      // and lets root in with forced commands only, as a hardened manager would.
      const hostKey = path.join(path.dirname(lab.privateKeyPath), "ssh_host_ed25519_key");
      fs.mkdirSync(`${managerDir}/root`, { recursive: true, mode: 0o700 });
      fs.writeFileSync(
        `${managerDir}/sshd_gate_config`,
        [
          `ListenAddress ${ip(1)}`,
          `Port ${GATE_PORT}`,
          `HostKey ${hostKey}`,
          "PidFile /run/sshd-gate.pid",
          "AuthorizedKeysFile .ssh/authorized_keys",
          "PermitRootLogin forced-commands-only",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "StrictModes no",
          "UsePAM no",
          "",
        ].join("\n"),
      );
      await lab.sh(
        MANAGER,
        `mount --bind ${managerDir}/root /root && /usr/sbin/sshd -f ${managerDir}/sshd_gate_config -E ${managerDir}/sshd-gate.log`,
      );
      expect((await lab.sh(MANAGER, "findmnt -n -o SOURCE /root")).trim()).toContain(`${managerDir}/root`);

      // The registry standing in for Harbor, and the agent's dockerd told it may push there over HTTP.
      const registryDir = `${agentDir}/registry`;
      fs.mkdirSync(`${registryDir}/data`, { recursive: true });
      fs.writeFileSync(
        `${registryDir}/config.yml`,
        `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${registryDir}/data\nhttp:\n  addr: ${REGISTRY}\n`,
      );
      await lab.sh(
        AGENT,
        `cd ${registryDir} || exit 1; setsid nohup /usr/bin/docker-registry serve config.yml >registry.log 2>&1 </dev/null & echo $! >registry.pid`,
      );
      await lab.sh(
        AGENT,
        `printf '{"insecure-registries": ["${REGISTRY}"]}\\n' >/etc/docker/daemon.json && dockerd-ctl restart`,
      );
      expect(
        await eventually(
          20,
          async () =>
            (await lab.ssh(AGENT, `curl -fsS --max-time 3 http://${REGISTRY}/v2/`)).stdout.trim() === "{}",
        ),
      ).toBe(true);

      // The app: a git checkout on the agent whose Dockerfile builds FROM the lab's busybox image.
      checkout = `${agentDir}/checkout`;
      fs.mkdirSync(checkout, { recursive: true });
      fs.writeFileSync(
        `${checkout}/Dockerfile`,
        'FROM lab/busybox:latest\nCOPY version.txt /version.txt\nCMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do sleep 1; done"]\n',
      );
      await lab.sh(AGENT, `git init -q ${checkout}`);

      // The deploy key, as Jenkins holds it in a credential: its private key file on the agent.
      deployKeyFile = `${agentDir}/deploy_key`;
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "jenkins-lab", "-f", deployKeyFile]);
      deployPublicKey = fs.readFileSync(`${deployKeyFile}.pub`, "utf8").trim();

      // The pipeline script exactly as the library renders it for this job, pinning the manager's host key.
      pipelineFile = `${agentDir}/pipeline.sh`;
      fs.writeFileSync(
        pipelineFile,
        renderPipelineScript({
          repository: REPOSITORY,
          service: SERVICE,
          manager: {
            host: ip(1),
            port: GATE_PORT,
            user: "root",
            hostKey: lab.hostPublicKey.split(" ").slice(0, 2).join(" "),
          },
        }),
        { mode: 0o755 },
      );
      execFileSync("bash", ["-n", pipelineFile]);

      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-pipeline", program({ APP_MODE: "a" }), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
      releaseSshDir();
      if (lab) {
        await lab.ssh(AGENT, `kill "$(cat ${agentDir}/registry/registry.pid)"`);
        await lab.ssh(MANAGER, 'kill "$(cat /run/sshd-gate.pid)"');
        await lab.release();
      }
    });

    let firstDeploy = "";

    it("pulumi up: the cluster, the service (imageOwner pipeline) and the restricted deploy key", async () => {
      const up = await op("up 1 (cluster, service, deploy key)", () => engine().up());
      expect(Object.keys(up.changes)).toEqual(["create"]);
      const marker = up.outputs.marker.value as string;
      expect(marker).toBe("pulumi-swarm-deploy-ci");
      // The deploy key reaches the manager through the cluster's pin: none of its own, and its
      // command waits for the cluster's.
      const state = (await engine().stack.exportStack()).deployment as {
        resources: { urn: string; dependencies?: string[] }[];
      };
      const named = (name: string) => state.resources.find((r) => r.urn.endsWith(`::${name}`));
      expect(state.resources.filter((r) => /::ci-.*host-key$/.test(r.urn))).toEqual([]);
      const managerPin = named(`pl-${MANAGER}-host-key`)!.urn;
      expect(named(`ci-${MANAGER}`)!.dependencies).toContain(managerPin);
      const keys = await lab.sh(MANAGER, "cat /root/.ssh/authorized_keys");
      expect(keys).toBe(
        `restrict,command="/root/.pulumi-swarm/deploy-gate-${marker}" ${deployPublicKey.split(" ").slice(0, 2).join(" ")} ${marker}\n`,
      );
      expect((await lab.sh(MANAGER, `stat -c '%a' /root/.pulumi-swarm/deploy-gate-${marker}`)).trim()).toBe(
        "700",
      );
      expect(
        await eventually(
          120,
          async () => (await runningTasks()).filter((t) => t.state === "running").length === 3,
        ),
      ).toBe(true);
      expect((await runningTasks()).map((t) => t.image.replace(/@sha256:.*/, ""))).toEqual(
        Array(3).fill("lab/busybox:latest"),
      );
    });

    it("commit 1: the pipeline builds, pushes and deploys through the key; every task runs the new image", async () => {
      const run = await commitAndRun("v1");
      const tag = run.commit.slice(0, 12);
      expect(run.deployed).toMatch(
        new RegExp(`^${REPOSITORY.replace(/\./g, "\\.")}:${tag}@sha256:[0-9a-f]{64}$`),
      );
      expect(run.stderr).toContain(`pipeline: service ${SERVICE} now runs ${run.deployed}`);
      firstDeploy = run.deployed;
      expect(
        await eventually(180, async () => {
          const tasks = await runningTasks();
          return tasks.length === 3 && tasks.every((t) => t.image === run.deployed && t.state === "running");
        }),
      ).toBe(true);
      console.log(await lab.sh(MANAGER, `docker service ps ${SERVICE}`));
      expect(new Set((await runningTasks()).map((t) => t.node)).size).toBe(3);
      expect(await versionsServed()).toEqual(["v1", "v1", "v1"]);
      // The registry holds the tag: the nodes pulled it from there.
      expect((await lab.sh(AGENT, `curl -fsS http://${REGISTRY}/v2/app/web/tags/list`)).trim()).toBe(
        `{"name":"app/web","tags":["${tag}"]}`,
      );
    });

    it("commit 2 rolls again", async () => {
      const run = await commitAndRun("v2");
      expect(run.deployed).not.toBe(firstDeploy);
      expect(
        await eventually(180, async () => {
          const tasks = await runningTasks();
          return tasks.length === 3 && tasks.every((t) => t.image === run.deployed && t.state === "running");
        }),
      ).toBe(true);
      console.log(await lab.sh(MANAGER, `docker service ps ${SERVICE}`));
      expect(await versionsServed()).toEqual(["v2", "v2", "v2"]);
      firstDeploy = run.deployed;
    });

    it("the key can do nothing else: each refusal is shown exactly", async () => {
      const key = (command: string) =>
        lab.ssh(
          AGENT,
          `ssh -i ${deployKeyFile} -p ${GATE_PORT} -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@${ip(1)} ${command}`,
        );
      const allowed = `allowed: docker service update [--with-registry-auth] [--no-resolve-image] [--detach=false] [--quiet] --image <repository>:<tag>|<repository>@sha256:<digest> <service>, for ${SERVICE} <- ${REPOSITORY}\n`;
      const cases: [string, string][] = [
        ["docker service rm web", "only 'docker service update' is allowed"],
        ["id", "only 'docker service update' is allowed"],
        ["'cat /etc/shadow'", "only 'docker service update' is allowed"],
        [
          `docker service update --image ${REGISTRY}/other/app:1 web`,
          `service web may only run images of ${REPOSITORY}, not ${REGISTRY}/other/app:1`,
        ],
        [
          `docker service update --image ${REPOSITORY}:1 pl-other`,
          "service pl-other is not one this key may update",
        ],
        [
          `docker service update --image ${REPOSITORY}:1 --mount-add type=bind,source=/,target=/host web`,
          "the command contains characters other than letters, digits, spaces and ._:/@=+-",
        ],
        [
          `docker service update --env-add X=1 --image ${REPOSITORY}:1 web`,
          "option --env-add is not allowed (only --image and --with-registry-auth --no-resolve-image --detach --detach=true --detach=false -d --quiet -q)",
        ],
        [
          `"docker service update --image ${REPOSITORY}:1 web; docker service rm web"`,
          "the command contains characters other than letters, digits, spaces and ._:/@=+-",
        ],
      ];
      for (const [command, why] of cases) {
        const result = await key(command);
        console.log(`$ ssh -i deploy_key root@${ip(1)} ${command}\n${result.stderr}exit ${result.code}`);
        expect(result).toEqual({
          code: 1,
          stdout: "",
          stderr: `pulumi-swarm deploy gate: refused: ${why}\n${allowed}`,
        });
      }
      // No command at all asks for a shell: refused too (no pty is allocated: `restrict`).
      const shell = await lab.ssh(
        AGENT,
        `ssh -i ${deployKeyFile} -p ${GATE_PORT} -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@${ip(1)} </dev/null`,
      );
      expect(shell).toEqual({
        code: 1,
        stdout: "",
        stderr: `pulumi-swarm deploy gate: refused: no command given (this key cannot open a shell)\n${allowed}`,
      });
      // Nothing changed: the service still runs what the pipeline deployed.
      expect(await serviceImage()).toBe(firstDeploy);
    });

    it("the next pulumi up changes nothing and keeps the pipeline's image; so does preview --refresh", async () => {
      const up = await op("up 2 (after the pipeline rolled twice)", () => engine().up());
      expect(up.changes).toEqual({});
      expect(await serviceImage()).toBe(firstDeploy);
      const preview = await op("preview --refresh", () => engine().preview(undefined, { refresh: true }));
      if (Object.keys(preview.changes).length > 0) console.log(preview.output);
      expect(preview.changes).toEqual({});
      expect(await serviceImage()).toBe(firstDeploy);
    });

    it("a change to another field with up --refresh re-sends the pipeline's image, not the first one", async () => {
      const up = await op("up 3 --refresh (env APP_MODE a -> b)", () =>
        engine().up(program({ APP_MODE: "b" }), { refresh: true }),
      );
      expect(up.changes).toEqual({ update: 1 });
      expect(await serviceImage()).toBe(firstDeploy);
      expect(
        await eventually(180, async () => {
          const tasks = await runningTasks();
          return tasks.length === 3 && tasks.every((t) => t.image === firstDeploy && t.state === "running");
        }),
      ).toBe(true);
      expect(
        (
          await lab.sh(
            MANAGER,
            `docker service inspect --format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}' ${SERVICE}`,
          )
        ).trim(),
      ).toBe('["APP_MODE=b"]');
      expect(await versionsServed()).toEqual(["v2", "v2", "v2"]);
    });

    it("without imageOwner pipeline, the same refresh would put the first image back (preview only)", async () => {
      const preview = await op("preview --refresh with imageOwner pulumi", () =>
        engine().preview(program({ APP_MODE: "b" }, "pulumi"), { refresh: true }),
      );
      expect(preview.changes).toEqual({ update: 1 });
      expect(preview.output).toMatch(
        /image\s*:\s*"10\.213\.33\.14:5000\/app\/web:[0-9a-f]{12}@sha256:[0-9a-f]{64}" => "lab\/busybox:latest"/,
      );
      // A preview changes nothing: the service still runs the pipeline's image.
      expect(await serviceImage()).toBe(firstDeploy);
    });

    it("destroy removes the service and revokes the key", async () => {
      const down = await op("destroy", () => engine().destroy());
      expect(down.ok).toBe(true);
      destroyed = true;
      expect(await lab.sh(MANAGER, "cat /root/.ssh/authorized_keys")).toBe("");
      expect((await lab.ssh(MANAGER, "ls /root/.pulumi-swarm/")).stdout.trim()).toBe("");
    });
  },
  { engine: true },
);
