import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { SwarmCluster } from "../../components/cluster/swarmCluster";
import type { SwarmHost } from "../../components/hosts/types";
import { OverlayNetwork } from "../../components/workloads/overlayNetwork";
import { SwarmService } from "../../components/workloads/swarmService";
import { EngineResult, EngineStack, cliVersion } from "../engine/engine";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(15 * 60_000);

const run = promisify(execFile);

/**
 * The Docker provider of a SwarmCluster through the REAL engine (pulumi CLI, real command and docker
 * plugins) with NO ssh-agent, for every way a SwarmHost can be reached (lab 62): the connection's
 * key as given, a non-default port, a bastion, a non-root user with sudo. Each scenario is its own
 * stack: a one-node swarm, an overlay network and a 1-replica service created through the cluster's
 * provider, read back on the host, destroyed and read back gone. Where a scenario must take one path
 * only, the other paths are blocked on the host (iptables) and the test checks they really fail.
 * No key material may show in the engine output, in `pulumi stack export` or in any process's
 * command line during the up; the key file must be 0600 in a 0700 directory and hold exactly the key.
 */
describeLab(
  "Docker provider over SSH without an agent (lab 62: plain, port 2222, bastion, non-root user)",
  () => {
    const LAB_ID = 62;
    const h = (i: number) => `lab${LAB_ID}-${i}`;
    const BASTION = h(1);

    interface Scenario {
      id: string;
      title: string;
      /** The lab host that becomes the one-node swarm. */
      target: string;
      /** Its SwarmHost (connection) for this scenario. */
      host: () => SwarmHost;
      /** The user the provider's (and the commands') SSH sessions must log in as. */
      user: string;
      /** The address those sessions must come from, as the target's sshd sees it. */
      from: () => string;
      /** The port they must arrive on. */
      port: number;
    }

    let lab: Lab;
    let releaseSshDir = () => {};
    let savedAgent: string | undefined;
    const timings: string[] = [];
    /** Lines of the lab private key that identify it (see beforeAll). */
    const keyLines: string[] = [];
    const leaksIn = (text: string) =>
      keyLines.filter((l) => text.includes(l)).map((l) => `${l.slice(0, 8)}...`);

    const ip = (name: string) => lab.host(name).ip;
    const base = (name: string): SwarmHost => {
      const host = lab.swarmHosts().find((x) => x.name === name);
      if (!host) throw new Error(`${name} is not a lab host`);
      return host;
    };

    const scenarios: Scenario[] = [
      {
        id: "plain",
        title: "the connection's own key, root, port 22",
        target: h(1),
        host: () => base(h(1)),
        user: "root",
        from: () => lab.info.gateway,
        port: 22,
      },
      {
        id: "port",
        title: "port 2222 (22 blocked from the machine)",
        target: h(2),
        host: () => ({ ...base(h(2)), connection: { ...base(h(2)).connection, port: lab.info.altSshPort } }),
        user: "root",
        from: () => lab.info.gateway,
        port: 2222,
      },
      {
        id: "bastion",
        title: `through a bastion (${BASTION}); direct SSH from the machine blocked`,
        target: h(3),
        host: () => {
          const b = base(BASTION).connection;
          return {
            ...base(h(3)),
            connection: {
              ...base(h(3)).connection,
              proxy: { host: b.host, port: 22, user: "root", privateKey: b.privateKey, hostKey: b.hostKey },
            },
          };
        },
        user: "root",
        from: () => ip(BASTION),
        port: 22,
      },
      {
        id: "user",
        title: "the non-root user pswlab (sudo; prepare adds it to the docker group)",
        target: h(4),
        host: () => ({ ...base(h(4)), connection: { ...base(h(4)).connection, user: lab.info.user } }),
        user: "pswlab",
        from: () => lab.info.gateway,
        port: 22,
      },
    ];

    /**
     * The inline program of a scenario: a one-node swarm, and (unless `workloads` is false) an overlay
     * network and a 1-replica service on it, through the cluster's Docker provider.
     */
    const program =
      (s: Scenario, workloads = true) =>
      async () => {
        const cluster = new SwarmCluster(`ds-${s.id}`, { nodes: [{ host: s.host(), role: "manager" }] });
        if (!workloads) return { clusterId: cluster.clusterId };
        const network = new OverlayNetwork("ds-net", { cluster, networkName: `ds-${s.id}-net` });
        const service = new SwarmService("ds-svc", {
          cluster,
          serviceName: `ds-${s.id}-svc`,
          image: "lab/busybox:latest",
          command: ["sleep", "86400"],
          replicas: 1,
          endpointMode: "dnsrr",
          networks: [network],
          waitForConvergence: { timeout: "2m", delay: "2s" },
        });
        return { clusterId: cluster.clusterId, networkId: network.networkId, serviceId: service.serviceId };
      };

    /**
     * A command on the scenario's target, as root. Where the machine's SSH to the target is blocked
     * (port, bastion) the command runs from the bastion (same lab key, shared filesystem).
     */
    async function onTarget(s: Scenario, command: string): Promise<string> {
      if (s.id !== "bastion" && s.id !== "port") return lab.sh(s.target, command);
      const quoted = `'${command.replace(/'/g, `'\\''`)}'`;
      return lab.sh(
        BASTION,
        `ssh -i ${lab.privateKeyPath} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@${ip(s.target)} ${quoted}`,
      );
    }

    /** Whether a plain ssh from the machine reaches `target` on `port` (as root, lab key). */
    async function sshWorks(target: string, port: number): Promise<{ ok: boolean; stderr: string }> {
      return new Promise((resolve) => {
        execFile(
          "ssh",
          [
            "-i",
            lab.privateKeyPath,
            "-p",
            String(port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=5",
            `root@${ip(target)}`,
            "true",
          ],
          (err, _stdout, stderr) => resolve({ ok: !err, stderr: String(stderr).trim() }),
        );
      });
    }

    /** Samples `ps -eo args` every 150 ms until stopped; returns every distinct line seen. */
    function samplePs(): { stop: () => Promise<{ lines: string[]; samples: number }> } {
      const lines = new Set<string>();
      let samples = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          const { stdout } = await run("ps", ["-eo", "args"], { maxBuffer: 16 << 20 });
          samples++;
          for (const l of stdout.split("\n")) if (l.trim()) lines.add(l);
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      return {
        stop: async () => {
          running = false;
          await loop;
          return { lines: [...lines], samples };
        },
      };
    }

    /** The Docker provider's inputs recorded in a `pulumi stack export`. */
    function providerInputs(exported: string): { host: string; sshOpts: string[] } {
      const deployment = JSON.parse(exported) as {
        deployment: { resources?: { type: string; inputs?: Record<string, unknown> }[] };
      };
      const providers = (deployment.deployment.resources ?? []).filter(
        (r) => r.type === "pulumi:providers:docker",
      );
      expect(providers).toHaveLength(1);
      const inputs = providers[0].inputs ?? {};
      const sshOpts = typeof inputs.sshOpts === "string" ? JSON.parse(inputs.sshOpts) : inputs.sshOpts;
      return { host: String(inputs.host), sshOpts: sshOpts as string[] };
    }

    /**
     * The lab's non-root user logs in with the lab key (labhosts.sh unlocks the account with the
     * password field "*" and leaves the lab directory traversable, 0711, for sshd reading
     * authorized_keys as that user).
     */
    async function letLabUserIn(): Promise<void> {
      const user = lab.info.user;
      const target = lab.hosts[0].name;
      const probe = () =>
        run("ssh", [
          "-i",
          lab.privateKeyPath,
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "LogLevel=ERROR",
          `${user}@${ip(target)}`,
          "id -un",
        ]).then(
          (r) => r.stdout.trim() === user,
          () => false,
        );
      expect(await probe()).toBe(true);
    }

    const record = (title: string, r: EngineResult) => {
      const line = `${title}: ${r.seconds.toFixed(1)} s, changes ${JSON.stringify(r.changes)}${r.ok ? "" : " FAILED"}`;
      timings.push(line);
      console.log(`engine ${line}`);
    };
    const failure = (r: EngineResult) => `${r.error}\n--- engine output (tail)\n${r.output.slice(-6000)}`;

    beforeAll(async () => {
      // No agent anywhere in this process or what it starts: the key must come from the connection.
      savedAgent = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      const started = Date.now();
      lab = await Lab.fresh(LAB_ID, 4);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID} up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      // The key's base64 lines, except the first: that one encodes only the format header and is the
      // same in every unencrypted ed25519 key, so it would not identify this key.
      const body = lab.privateKey.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
      keyLines.push(...body.slice(1));
      expect(keyLines.length).toBeGreaterThan(0);
      await letLabUserIn();
      // The Docker provider's key and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
      releaseSshDir();
      await lab?.release();
    });

    it("the run has no ssh-agent, and the leak checks see key material where it is (positive controls)", async () => {
      expect(process.env.SSH_AUTH_SOCK).toBeUndefined();
      // A process with a key line in its command line: the sampler must report it.
      const decoy = spawn("sh", ["-c", "sleep 3", "decoy", keyLines[0]], { stdio: "ignore" });
      try {
        const sampler = samplePs();
        await new Promise((r) => setTimeout(r, 600));
        const { lines } = await sampler.stop();
        expect(leaksIn(lines.join("\n")).length).toBeGreaterThan(0);
      } finally {
        decoy.kill();
      }
      expect(leaksIn(`log: ${lab.privateKey}`).length).toBe(keyLines.length);
    });

    it("direct SSH is blocked where a scenario must take another path", async () => {
      expect((await sshWorks(h(2), 22)).ok).toBe(true);
      await lab.blockSshFromMachine(h(2), [22]);
      await lab.blockSshFromMachine(h(3));
      const blocked = [await sshWorks(h(2), 22), await sshWorks(h(3), 22), await sshWorks(h(3), 2222)];
      console.log(`direct ssh after blocking: ${blocked.map((b) => b.stderr || "ok").join(" | ")}`);
      expect(blocked.map((b) => b.ok)).toEqual([false, false, false]);
      expect(blocked.every((b) => /refused|unreachable/i.test(b.stderr))).toBe(true);
      // The paths the scenarios take still work.
      expect((await sshWorks(h(2), 2222)).ok).toBe(true);
      expect((await sshWorks(BASTION, 22)).ok).toBe(true);
      expect((await onTarget(scenarios[2], "hostname")).trim()).toBe(h(3));
    });

    for (const s of scenarios) {
      it(`${s.id}: ${s.title}: network and service created and destroyed through the cluster's provider`, async () => {
        expect(process.env.SSH_AUTH_SOCK).toBeUndefined();
        if (s.id === "user") {
          // Lab hosts share the machine's /etc/group: take the user out of the docker group first, so
          // this run sees prepare put it in (an earlier run left it there).
          await run("gpasswd", ["-d", lab.info.user, "docker"]).catch(() => undefined);
        }
        const groupsBefore =
          s.id === "user" ? (await lab.sh(s.target, `id -nG ${lab.info.user}`)).trim().split(/\s+/) : [];
        if (s.id === "user") expect(groupsBefore).not.toContain("docker");
        const stack = await EngineStack.create("swarm-docker-ssh", program(s), `lab${LAB_ID}-${s.id}`);
        let destroyed = false;
        try {
          const logOffset = lab.sshdLogSize(s.target);
          const sampler = samplePs();
          const up = await stack.up();
          const ps = await sampler.stop();
          record(`${s.id}: up`, up);
          expect(up.ok ? "" : failure(up)).toBe("");
          const slow = up.output.split("\n").filter((l) => /created \((\d{2,}|[3-9])(\.\d+)?s\)/.test(l));
          console.log(
            `${s.id}: resources that took 3 s or more:\n  ${slow.map((l) => l.trim()).join("\n  ")}`,
          );

          // Every SSH session the target accepted during the up: the expected user, origin and port.
          const accepted = lab.loginsSince(s.target, logOffset);
          const unexpected = accepted.filter(
            (l) => !new RegExp(`for ${s.user} from ${s.from().replace(/\./g, "\\.")} port \\d+ ssh2`).test(l),
          );
          console.log(
            `${s.id}: ${accepted.length} SSH sessions accepted during the up, e.g. ${accepted[0] ?? "-"}`,
          );
          expect(accepted.length).toBeGreaterThan(0);
          expect(unexpected).toEqual([]);

          // Read back on the host: the overlay network and the running task.
          const net = (
            await onTarget(
              s,
              `docker network inspect ds-${s.id}-net --format '{{.Id}} {{.Driver}} {{.Scope}}'`,
            )
          ).trim();
          expect(net).toBe(`${up.outputs.networkId?.value} overlay swarm`);
          const tasks = (
            await onTarget(
              s,
              `docker service ps ds-${s.id}-svc --filter desired-state=running --format '{{.CurrentState}}'`,
            )
          )
            .trim()
            .split("\n");
          expect(tasks).toHaveLength(1);
          expect(tasks[0]).toMatch(/^Running/);
          expect((await onTarget(s, `docker service inspect ds-${s.id}-svc --format '{{.ID}}'`)).trim()).toBe(
            up.outputs.serviceId?.value,
          );
          if (s.id === "user") {
            const groups = (await lab.sh(s.target, `id -nG ${lab.info.user}`)).trim().split(/\s+/);
            console.log(
              `user: ${lab.info.user} groups before the up: ${groupsBefore.join(",")}; after: ${groups.join(",")}`,
            );
            expect(groups).toContain("docker");
            expect(up.output).toMatch(/added pswlab to the docker group/);
          }

          // The provider's connection as recorded in state: the scenario's user, host and port, the
          // key as a path, never key material.
          const exported = await stack.exportState();
          const provider = providerInputs(exported);
          expect(provider.host).toBe(`ssh://${s.user}@${ip(s.target)}:${s.port}`);
          const keyFile = provider.sshOpts[provider.sshOpts.indexOf("-i") + 1];
          expect(provider.sshOpts).toContain("IdentitiesOnly=yes");
          expect(provider.sshOpts).toContain("StrictHostKeyChecking=yes");
          if (s.id === "bastion") expect(provider.sshOpts.join(" ")).toMatch(/ProxyCommand=ssh .* root@/);
          console.log(`${s.id}: provider host ${provider.host}; sshOpts ${JSON.stringify(provider.sshOpts)}`);

          // The key file: exactly the key, 0600, in a 0700 directory.
          expect(path.dirname(keyFile)).toBe(process.env.PULUMI_SWARM_SSH_DIR);
          expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
          expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
          expect(fs.readFileSync(keyFile, "utf8")).toBe(`${lab.privateKey.trim()}\n`);
          for (const f of fs.readdirSync(path.dirname(keyFile)))
            expect(fs.statSync(path.join(path.dirname(keyFile), f)).mode & 0o777).toBe(0o600);

          // No key material in the engine's output, the exported state or any command line.
          const dialers = ps.lines.filter((l) => l.includes("docker system dial-stdio"));
          console.log(
            `${s.id}: ps sampled ${ps.samples} times during the up; ${dialers.length} distinct provider ssh command lines, e.g. ${dialers[0] ?? "-"}`,
          );
          // The sampler did see the provider's ssh at work (so it would have seen a key there).
          expect(dialers.length).toBeGreaterThan(0);
          expect(leaksIn(ps.lines.join("\n"))).toEqual([]);
          expect(leaksIn(stack.log.join(""))).toEqual([]);
          expect(leaksIn(exported)).toEqual([]);

          // The workloads removed through the provider (an up without them), read back on the live swarm.
          const removed = await stack.up(program(s, false));
          record(`${s.id}: up without the workloads`, removed);
          expect(removed.ok ? "" : failure(removed)).toBe("");
          expect(removed.changes).toEqual({ delete: 4 });
          // The service is gone at once; the node's own copy of the overlay network stays until the
          // task's container has stopped (busybox `sleep` as PID 1 ignores SIGTERM: Docker kills it
          // after the 10 s stop grace period), so the network is read back until then.
          const left = () =>
            onTarget(
              s,
              `docker service ls -q; docker network ls --format '{{.Name}}' --filter name=ds-${s.id}-net`,
            ).then((out) => out.trim());
          const firstLook = await left();
          if (firstLook) console.log(`${s.id}: right after the up, still listed: ${firstLook}`);
          expect(await eventually(30, async () => (await left()) === "")).toBe(true);

          const down = await stack.destroy();
          record(`${s.id}: destroy`, down);
          expect(down.ok ? "" : failure(down)).toBe("");
          destroyed = true;
          expect((await onTarget(s, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe(
            "inactive",
          );
          expect(leaksIn(stack.log.join(""))).toEqual([]);
        } finally {
          if (!destroyed) await stack.destroy().catch(() => undefined);
          await stack.remove();
        }
      });
    }
  },
  { engine: true },
);
