import * as fs from "fs";
import * as path from "path";
import * as current from "../../index";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { extractLibrary } from "../engine/oldLibrary";
import { describeLab, Lab, useTempSshDir } from "./lab";

/**
 * The library as users have it: main before dockerd restarts moved from the prepare steps into the
 * membership steps (the managers' prepare steps were chained after the previous manager's join).
 */
const BEFORE_DEFERRED_RESTART = "60cf284";

jest.setTimeout(20 * 60_000);

type Library = Pick<typeof current, "SwarmCluster">;

/**
 * Upgrading a stack made by that release through the REAL engine (lab 191: 3 managers + 2 workers,
 * autolock, a managed daemon.json key): the prepare and join scripts changed, so each host's
 * prepare and join Command update in place; each host-key pin updates too (its provider code now
 * takes the key the program read, and read/delete run the code in state), which runs nothing on
 * the host; init updates (it prints the swarm's expiry and CA fingerprint now) and so does the
 * swarm resource (its provider code). Nothing else changes. The re-runs restart no
 * dockerd (daemon.json is unchanged), no node leaves or is replaced (the same node ids), and the
 * preview after it shows no change.
 */
describeLab(
  "Deferred dockerd restarts: an upgrade from the release before them updates scripts in place only (lab 191)",
  () => {
    const LAB_ID = 191;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let oldCode = "";
    const timings: string[] = [];

    const program = (lib: Library) => async () => {
      const hosts = lab.swarmHosts();
      const cluster = new lib.SwarmCluster("rs", {
        nodes: hosts.map((host, i) => ({
          host,
          role: i < 3 ? ("manager" as const) : ("worker" as const),
          labels: { n: String(i + 1) },
        })),
        autolock: true,
        insecureRegistries: [`10.213.${LAB_ID}.1:5000`],
      });
      return { nodeIds: cluster.nodeIds };
    };
    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const pids = async () =>
      Object.fromEntries(
        await Promise.all(
          lab.hosts.map(async (x) => [x.name, (await lab.sh(x.name, "cat /run/docker.pid")).trim()]),
        ),
      );

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 5);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID}: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      releaseSshDir = useTempSshDir();
      oldCode = await extractLibrary(BEFORE_DEFERRED_RESTART, "before-restart");
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack) await stack.cleanUp();
      releaseSshDir();
      if (oldCode) fs.rmSync(oldCode, { recursive: true, force: true });
      await lab?.release();
    });

    it("up with the old library, then with the current one: only the prepare, join and init Commands, the host-key pins and the swarm resource update, no dockerd restarts, the same node ids", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require(path.join(oldCode, "index")) as Library;
      expect(old.SwarmCluster).not.toBe(current.SwarmCluster);
      stack = await EngineStack.create("swarm-upgrade-restart", program(old), `lab${LAB_ID}`);
      const first = await op(`up 1 (library at ${BEFORE_DEFERRED_RESTART})`, () => engine().up(program(old)));
      expect(Object.keys(first.changes)).toEqual(["create"]);
      const before = await pids();

      const preview = await op("preview (current library)", () => engine().preview(program(current)));
      const up = await op("up 2 (current library)", () => engine().up(program(current)));
      const expected = [
        ...lab.hosts.flatMap((x) => [`rs-${x.name}-prepare`, `rs-${x.name}-join`, `rs-${x.name}-host-key`]),
        "rs-init",
        "rs-swarm",
      ].sort();
      // init's script changed, so its printout (tokens included) is unknown until it re-runs: the
      // preview cannot tell that the node resources' secrets stay the same and lists them too.
      expect(preview.changes).toEqual({ update: expected.length + lab.hosts.length });
      expect(up.changes).toEqual({ update: expected.length });
      const updated = [...up.output.matchAll(/~\s+[\w:/-]+ (\S+) updated/g)].map((m) => m[1]).sort();
      expect(updated).toEqual(expected);
      expect(up.output).not.toMatch(/\b(deleted|replaced|create-replacement|delete-replaced)\b/);
      // The re-runs changed nothing on the hosts: no dockerd restarted, no node joined again.
      expect(up.output).not.toMatch(/restarting dockerd|dockerd restarts/);
      expect(await pids()).toEqual(before);
      expect(up.outputs.nodeIds?.value).toEqual(first.outputs.nodeIds?.value);
      const rows = await lab.nodes(lab.hosts[0].name);
      expect(rows.filter((r) => r.state === "ready")).toHaveLength(5);

      const again = await op("preview (after the upgrade)", () => engine().preview(program(current)));
      expect(again.changes).toEqual({});
    });
  },
  { engine: true },
);
