import * as crypto from "crypto";
import { ComposeHost } from "../../components/cicd/composeHost";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { describeLab, Lab } from "./lab";

jest.setTimeout(15 * 60_000);

/**
 * ComposeHost through the real engine on lab 34 (one host outside any swarm), with Debian's
 * docker-compose (the lab has no compose plugin): up, a second up that changes nothing, an
 * environment change that recreates the container, destroy. The secret reaches the container and
 * nothing else (engine output, exported state).
 */
describeLab(
  "ComposeHost: a compose project on a single host (lab 34)",
  () => {
    const LAB_ID = 34;
    const HOST = `lab${LAB_ID}-1`;
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
    let lab: Lab;
    let stack: EngineStack | undefined;
    let hostDir: string;
    const timings: string[] = [];
    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const program = (greeting: string) => async () => {
      const tools = new ComposeHost("tools", {
        host: lab.swarmHosts()[0],
        composeContent: COMPOSE,
        environment: { GREETING: greeting },
        directory: `${hostDir}${DIR}`,
      });
      return { projectName: tools.projectName, directory: tools.directory };
    };
    const container = async () =>
      (await lab.sh(HOST, "docker ps -q --filter label=com.docker.compose.project=tools")).trim();

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 1);
      // The host's / is this machine's: keep the project under the lab host's own directory.
      hostDir = lab.host(HOST).dir;
      console.log(`pulumi ${cliVersion()}; ${await lab.sh(HOST, "docker-compose version --short")}`);
      stack = await EngineStack.create("swarm-compose-host", program(SECRET), `lab${LAB_ID}`);
    });
    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      await stack?.destroy();
      await stack?.remove();
      await lab?.release();
    });

    it("up runs the project; the secret reaches the container only", async () => {
      const up = await op("up 1", () => stack!.up());
      expect(up.changes).toEqual({ create: 3 });
      const id = await container();
      expect(id).toMatch(/^[0-9a-f]{12}$/);
      expect((await lab.sh(HOST, `docker exec ${id} cat /tmp/greeting`)).trim()).toBe(SECRET);
      expect((await lab.sh(HOST, `stat -c '%a' ${hostDir}${DIR} ${hostDir}${DIR}/.env.pulumi`)).trim()).toBe(
        "700\n600",
      );
      expect(up.output).not.toContain(SECRET);
      expect(await stack!.exportState()).not.toContain(SECRET);
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

    it("a new environment value recreates the container with it; destroy removes the project and its files", async () => {
      const before = await container();
      const changed = await op("up 3 (GREETING changed)", () => stack!.up(program(SECRET_2)));
      expect(changed.changes).toEqual({ update: 1 });
      const after = await container();
      expect(after).not.toBe(before);
      expect((await lab.sh(HOST, `docker exec ${after} cat /tmp/greeting`)).trim()).toBe(SECRET_2);
      expect(changed.output).not.toContain(SECRET_2);
      const down = await op("destroy", () => stack!.destroy());
      expect(down.changes).toEqual({ delete: 3 });
      expect(await container()).toBe("");
      expect((await lab.ssh(HOST, `test -e ${hostDir}${DIR}`)).code).toBe(1);
    });
  },
  { engine: true },
);
