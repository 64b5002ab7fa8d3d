import * as crypto from "crypto";
import { ComposeHost } from "../../components/cicd/composeHost";
import { RegistryTrust } from "../../components/cicd/registryTrust";
import type { SwarmHost } from "../../components/hosts/types";
import { fingerprintOf, normalizeKey } from "../../components/ssh/hostKeyProvider";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, Lab, useTempSshDir } from "./lab";

jest.setTimeout(20 * 60_000);

interface StateResource {
  urn: string;
  type: string;
  outputs?: Record<string, unknown>;
}

/**
 * ComposeHost through the real engine on lab 34, with Debian's docker-compose (the lab has no
 * compose plugin).
 *
 * lab34-1, outside any swarm, reached directly with NO host key given: the first up learns and
 * pins its key, a second up changes nothing, an environment change recreates the container. Its
 * sshd then gets a new key: preview and up stop with the host, both fingerprints and the fix
 * before anything runs there (no login in its sshd log, the pending change not applied);
 * accepting the new fingerprint applies it. Destroy. The secret reaches the container and nothing
 * else (engine output, exported state).
 *
 * lab34-3 and lab34-4 behind the bastion lab34-2 (direct SSH from this machine to them blocked),
 * no key given for any: a ComposeHost on lab34-3 and a RegistryTrust over both learn one pin per
 * host and one per bastion per component; the bastion's new key stops preview and up before
 * anything runs through it; accepting "bastion:<address>" lets the next up through.
 */
describeLab(
  "ComposeHost: a compose project on a single host, its host key and a bastion's pinned (lab 34)",
  () => {
    const LAB_ID = 34;
    const HOST = `lab${LAB_ID}-1`;
    const BASTION = `lab${LAB_ID}-2`;
    const BEHIND = [`lab${LAB_ID}-3`, `lab${LAB_ID}-4`];
    const DIR = "/srv/pulumi-swarm/compose/tools";
    const SECRET = `greeting-${crypto.randomBytes(12).toString("hex")}`;
    const SECRET_2 = `greeting-${crypto.randomBytes(12).toString("hex")}`;
    const COMPOSE = `services:
  app:
    image: lab/busybox:latest
    command: ["sh", "-c", "echo \\"$$GREETING\\" > /tmp/greeting; trap 'exit 0' TERM; while :; do sleep 1; done"]
    environment:
      GREETING: "\${GREETING:?GREETING is required}"
`;
    const CA = "-----BEGIN CERTIFICATE-----\nTEST-ONLY-CA\n-----END CERTIFICATE-----\n";
    const REGISTRY = `10.213.${LAB_ID}.99:5000`;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let edge: EngineStack | undefined;
    let releaseSshDir = () => {};
    let hostDir: string;
    const timings: string[] = [];
    const accepted: { host: Record<string, string>; edge: Record<string, string> } = { host: {}, edge: {} };
    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);

    /** A lab host as a SwarmHost with no host key given (and through `bastion` when given). */
    const unkeyed = (name: string, bastion?: string): SwarmHost => {
      const host = lab.swarmHosts().find((h) => h.name === name)!;
      const connection = { ...host.connection };
      delete connection.hostKey;
      if (bastion)
        connection.proxy = { host: lab.host(bastion).ip, port: 22, user: "root", privateKey: lab.privateKey };
      return { ...host, connection };
    };
    const program = (greeting: string) => async () => {
      const tools = new ComposeHost("tools", {
        host: unkeyed(HOST),
        composeContent: COMPOSE,
        environment: { GREETING: greeting },
        directory: `${hostDir}${DIR}`,
        ...(Object.keys(accepted.host).length > 0 ? { acceptHostKeys: accepted.host } : {}),
      });
      return { projectName: tools.projectName, directory: tools.directory };
    };
    const edgeProgram = (greeting: string) => async () => {
      const hostKeys = Object.keys(accepted.edge).length > 0 ? { acceptHostKeys: accepted.edge } : {};
      new ComposeHost("edge", {
        host: unkeyed(BEHIND[0], BASTION),
        composeContent: COMPOSE,
        environment: { GREETING: greeting },
        directory: `${lab.host(BEHIND[0]).dir}/srv/pulumi-swarm/compose/edge`,
        ...hostKeys,
      });
      new RegistryTrust("edge-trust", {
        hosts: BEHIND.map((name) => unkeyed(name, BASTION)),
        registry: REGISTRY,
        caCertificate: CA,
        ...hostKeys,
      });
      return {};
    };
    /** A command on a host behind the bastion, run from the bastion (direct SSH is blocked). */
    const onBehind = (name: string, command: string) =>
      lab.sh(
        BASTION,
        `ssh -i ${lab.privateKeyPath} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@${lab.host(name).ip} '${command.replace(/'/g, `'\\''`)}'`,
      );
    const run = (name: string, command: string) =>
      BEHIND.includes(name) ? onBehind(name, command) : lab.sh(name, command);
    const container = async (host = HOST, project = "tools") =>
      (await run(host, `docker ps -q --filter label=com.docker.compose.project=${project}`)).trim();
    const resources = async (of: EngineStack): Promise<StateResource[]> =>
      (JSON.parse(await of.exportState()) as { deployment: { resources: StateResource[] } }).deployment
        .resources;
    const pin = async (of: EngineStack, name: string) => {
      const found = (await resources(of)).find((r) => r.urn.endsWith(`::${name}`));
      if (!found) throw new Error(`no resource ${name} in the state`);
      return found.outputs as { hostKey: string; fingerprint: string; source: string; given: string };
    };
    const labKey = () => normalizeKey(lab.hostPublicKey)!;

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 4);
      // The host's / is this machine's: keep the project under the lab host's own directory.
      hostDir = lab.host(HOST).dir;
      console.log(
        `pulumi ${cliVersion()}; ${await lab.sh(HOST, "docker-compose version --short")}; lab ${LAB_ID}: ${lab.hosts.map((h) => `${h.name}=${h.ip}`).join(" ")}`,
      );
      // The pins' probes and known_hosts files: a private temp dir, not ~/.pulumi-swarm.
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-compose-host", program(SECRET), `lab${LAB_ID}`);
    });
    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      await stack?.destroy();
      await stack?.remove();
      if (edge) await edge.cleanUp();
      releaseSshDir();
      await lab?.release();
    });

    it("up runs the project and pins the host key it learned; the secret reaches the container only", async () => {
      const up = await op("up 1", () => stack!.up());
      expect(up.changes).toEqual({ create: 4 });
      const id = await container();
      expect(id).toMatch(/^[0-9a-f]{12}$/);
      expect((await lab.sh(HOST, `docker exec ${id} cat /tmp/greeting`)).trim()).toBe(SECRET);
      expect((await lab.sh(HOST, `stat -c '%a' ${hostDir}${DIR} ${hostDir}${DIR}/.env.pulumi`)).trim()).toBe(
        "700\n600",
      );
      expect(up.output).not.toContain(SECRET);
      expect(await stack!.exportState()).not.toContain(SECRET);
      expect(await pin(stack!, `tools-${HOST}-host-key`)).toMatchObject({
        hostKey: labKey(),
        fingerprint: fingerprintOf(labKey()),
        source: "learned",
        given: "",
      });
    });

    it("a second up changes nothing; running the script again by hand keeps the container", async () => {
      const before = await container();
      const again = await op("up 2 (unchanged)", () => stack!.up());
      expect(again.changes).toEqual({});
      const state = (await stack!.stack.exportStack()).deployment as {
        resources: { type: string; inputs: { create: string; stdin: string | { plaintext: string } } }[];
      };
      const command = state.resources.find((r) => r.type === "command:remote:Command")!;
      // The stdin is a secret in state: the export shows it as { plaintext: <JSON string> }.
      const stdin = command.inputs.stdin;
      expect(typeof stdin).toBe("object");
      const rerun = await lab.ssh(
        HOST,
        command.inputs.create,
        JSON.parse((stdin as { plaintext: string }).plaintext) as string,
      );
      console.log(`script run again by hand: exit ${rerun.code}\n${rerun.stderr}`);
      expect(rerun.code).toBe(0);
      expect(await container()).toBe(before);
    });

    it("a changed host key stops preview and up before anything runs there; accepting it applies the change", async () => {
      const before = await container();
      const newKey = normalizeKey(await lab.newHostKey(HOST))!;
      expect(newKey).not.toBe(labKey());
      const offset = lab.sshdLogSize(HOST);
      const expected = [
        `ComposeHost "tools": the SSH host key of host "${HOST}" (root@${lab.host(HOST).ip}:22) is not the pinned one: pinned ${fingerprintOf(labKey())} (ssh-ed25519), the host now presents ${fingerprintOf(newKey)} (ssh-ed25519). Nothing was run on this host.`,
        `accept it with acceptHostKeys: { "${HOST}": "${fingerprintOf(newKey)}" } on the ComposeHost and run pulumi up`,
      ];
      // A GREETING change is pending: the command would run on the host if anything got through.
      const preview = await op("preview (host key changed)", () => stack!.preview(program(SECRET_2)), false);
      const up = await op("up (host key changed)", () => stack!.up(program(SECRET_2)), false);
      for (const refused of [preview, up]) {
        expect(refused.ok).toBe(false);
        for (const text of expected) expect(refused.output + (refused.error ?? "")).toContain(text);
      }
      console.log(`the refusal, as the engine printed it:\n${(up.error ?? "").slice(-900)}`);
      expect(lab.loginsSince(HOST, offset)).toEqual([]);
      expect(await container()).toBe(before);
      expect((await lab.sh(HOST, `docker exec ${before} cat /tmp/greeting`)).trim()).toBe(SECRET);
      expect((await pin(stack!, `tools-${HOST}-host-key`)).hostKey).toBe(labKey());

      // Accepted on purpose: the pin takes the new key, and the pending change runs.
      accepted.host = { [HOST]: fingerprintOf(newKey) };
      const through = await op("up (new key accepted, GREETING changed)", () => stack!.up(program(SECRET_2)));
      expect(through.changes).toEqual({ update: 2 });
      expect(await pin(stack!, `tools-${HOST}-host-key`)).toMatchObject({
        hostKey: newKey,
        source: "accepted",
      });
      expect(lab.loginsSince(HOST, offset).length).toBeGreaterThan(0);
      const after = await container();
      expect(after).not.toBe(before);
      expect((await lab.sh(HOST, `docker exec ${after} cat /tmp/greeting`)).trim()).toBe(SECRET_2);
      expect(through.output).not.toContain(SECRET_2);
      const clean = await op("preview (after accepting)", () => stack!.preview(program(SECRET_2)));
      expect(clean.changes).toEqual({});
    });

    it("destroy removes the project and its files", async () => {
      const down = await op("destroy", () => stack!.destroy());
      expect(down.changes).toEqual({ delete: 4 });
      expect(await container()).toBe("");
      expect((await lab.ssh(HOST, `test -e ${hostDir}${DIR}`)).code).toBe(1);
    });

    it("behind a bastion: one pin per bastion and per host, learned through it; the bastion's new key stops everything that goes through it", async () => {
      for (const name of BEHIND) await lab.blockSshFromMachine(name);
      for (const name of BEHIND)
        expect((await lab.ssh(name, "true", "", 20_000).catch(() => ({ code: -1 }))).code).not.toBe(0);
      edge = await EngineStack.create("swarm-compose-bastion", edgeProgram(SECRET), `lab${LAB_ID}-edge`);
      const setUp = BEHIND.map((name) => lab.sshdLogSize(name));
      const up = await op("up (behind the bastion)", () => edge!.up());
      // 2 components, 2 bastion pins (one per component), 3 host pins, 3 commands, the stack.
      expect(up.changes).toEqual({ create: 11 });
      const bastionIp = lab.host(BASTION).ip;
      const names = (await resources(edge))
        .filter((r) => r.urn.endsWith("-host-key"))
        .map((r) => r.urn.split("::").pop())
        .sort();
      expect(names).toEqual(
        [
          `edge-bastion.${bastionIp}-host-key`,
          `edge-${BEHIND[0]}-host-key`,
          `edge-trust-bastion.${bastionIp}-host-key`,
          `edge-trust-${BEHIND[0]}-host-key`,
          `edge-trust-${BEHIND[1]}-host-key`,
        ].sort(),
      );
      for (const name of names)
        expect([name, await pin(edge, name!)]).toEqual([
          name,
          expect.objectContaining({ hostKey: labKey(), source: "learned", given: "" }),
        ]);
      // Everything on the hosts behind it came through the bastion.
      BEHIND.forEach((name, i) => {
        const logins = lab.loginsSince(name, setUp[i]);
        expect([name, logins.length > 0]).toEqual([name, true]);
        expect([name, logins.filter((l) => !l.includes(`from ${bastionIp} `))]).toEqual([name, []]);
      });
      expect((await onBehind(BEHIND[1], `cat /etc/docker/certs.d/${REGISTRY}/ca.crt`)).trim()).toBe(
        CA.trim(),
      );
      const app = await container(BEHIND[0], "edge");
      expect((await onBehind(BEHIND[0], `docker exec ${app} cat /tmp/greeting`)).trim()).toBe(SECRET);
      const again = await op("preview (behind the bastion, unchanged)", () => edge!.preview());
      expect(again.changes).toEqual({});

      const newKey = normalizeKey(await lab.newHostKey(BASTION))!;
      const offsets = [BASTION, ...BEHIND].map((name) => lab.sshdLogSize(name));
      const label = `bastion:${bastionIp}`;
      const expected = [
        `the SSH host key of bastion "${label}" (root@${bastionIp}:22) is not the pinned one: pinned ${fingerprintOf(labKey())} (ssh-ed25519), the bastion now presents ${fingerprintOf(newKey)} (ssh-ed25519). Nothing was run through this bastion.`,
        `accept it with acceptHostKeys: { "${label}": "${fingerprintOf(newKey)}" } on the`,
      ];
      const preview = await op(
        "preview (bastion key changed)",
        () => edge!.preview(edgeProgram(SECRET_2)),
        false,
      );
      const refused = await op("up (bastion key changed)", () => edge!.up(edgeProgram(SECRET_2)), false);
      for (const r of [preview, refused]) {
        expect(r.ok).toBe(false);
        for (const text of expected) expect(r.output + (r.error ?? "")).toContain(text);
      }
      console.log(`the bastion refusal, as the engine printed it:\n${(refused.error ?? "").slice(-900)}`);
      [BASTION, ...BEHIND].forEach((name, i) =>
        expect([name, lab.loginsSince(name, offsets[i])]).toEqual([name, []]),
      );

      accepted.edge = { [label]: fingerprintOf(newKey) };
      const through = await op("up (bastion key accepted, GREETING changed)", () =>
        edge!.up(edgeProgram(SECRET_2)),
      );
      expect(Object.keys(through.changes)).toEqual(["update"]);
      expect(await pin(edge, `edge-bastion.${bastionIp}-host-key`)).toMatchObject({
        hostKey: newKey,
        source: "accepted",
      });
      const changed = await container(BEHIND[0], "edge");
      expect(changed).not.toBe(app);
      expect((await onBehind(BEHIND[0], `docker exec ${changed} cat /tmp/greeting`)).trim()).toBe(SECRET_2);
      const clean = await op("preview (bastion key accepted)", () => edge!.preview(edgeProgram(SECRET_2)));
      expect(clean.changes).toEqual({});
    });
  },
  { engine: true },
);
