import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as current from "../../index";
import { TOKENS } from "../../components/tokens";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { extractLibrary } from "../engine/oldLibrary";
import { describeLab, Lab, useTempSshDir } from "./lab";

/**
 * The library as users have it: main at the commit before the type tokens moved to
 * `swarm:<folder>:<Type>` (`swarm:index:SwarmCluster`, `swarm:aws:AwsHosts`,
 * `swarm:alicloud:AlicloudHosts` then).
 */
const BEFORE_TOKENS = "2d652e4";

jest.setTimeout(20 * 60_000);

/** The part of the public API the program below uses, from either version of the library. */
type Library = Pick<typeof current, "SwarmCluster" | "OverlayNetwork" | "SwarmService" | "ComposeStack">;

interface StateResource {
  urn: string;
  type: string;
  id?: string;
}

/**
 * Upgrading across the type-token move through the REAL engine (lab 111: 1 manager + 1 worker):
 * a stack made by the library before the move (a SwarmCluster with labelled nodes and an insecure
 * registry, an OverlayNetwork, a SwarmService on it and a ComposeStack) is taken over by the
 * current library. The aliases of components/tokens.ts must carry every resource over: nothing
 * deleted or replaced, the same resources under the same names and ids, and the preview after it
 * shows no change. The one resource created is new in this release by design: the cluster's
 * swarm-wide day-2 state (`up-swarm`: certificate expiry, rotations, the quorum probe); the
 * commands' text changed with the shell toolkit, so they update in place (guarded scripts, no node
 * leaves: nodeIds are the same).
 */
describeLab(
  "Type tokens moved to swarm:<folder>:<Type>: an upgrade through the real engine replaces nothing (lab 111)",
  () => {
    const LAB_ID = 111;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let oldCode = "";
    const timings: string[] = [];

    const compose = `services:
  echo:
    image: lab/busybox:latest
    command: ["sleep", "3600"]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
`;

    /** One program, run with either library. */
    const program = (lib: Library) => async () => {
      const [h1, h2] = lab.swarmHosts();
      const cluster = new lib.SwarmCluster("up", {
        nodes: [
          { host: h1, role: "manager", labels: { zone: "a" } },
          { host: h2, role: "worker", labels: { tier: "web" } },
        ],
        insecureRegistries: [`10.213.${LAB_ID}.11:5000`],
      });
      const net = new lib.OverlayNetwork("up-net", { cluster, networkName: "up-net" });
      const svc = new lib.SwarmService("up-web", {
        cluster,
        serviceName: "up-web",
        image: "lab/busybox:latest",
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        replicas: 1,
        endpointMode: "dnsrr",
        networks: [net],
      });
      const shop = new lib.ComposeStack("up-shop", {
        cluster,
        composeContent: compose,
        environment: { APP_TOKEN: pulumi.secret("upgrade-only-token") },
      });
      return { nodeIds: cluster.nodeIds, service: svc.serviceName, stackName: shop.stackName };
    };

    const op = (title: string, fn: () => Promise<EngineResult>) => recordOp(timings, title, fn);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const resources = async (): Promise<StateResource[]> => {
      const exported = JSON.parse(await engine().exportState()) as {
        deployment: { resources: StateResource[] };
      };
      return exported.deployment.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    };
    /** A resource's name (the URN's last segment) with its own type: what must survive the upgrade. */
    const nameOf = (r: StateResource) =>
      `${r.type.startsWith("swarm:") ? "swarm" : r.type} ${r.urn.split("::").pop()}`;

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 2);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID}: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      releaseSshDir = useTempSshDir();
      // The library before the move, extracted next to a symlink to this repo's node_modules: the
      // old program runs from there, in this process, against the same stack and backend.
      oldCode = await extractLibrary(BEFORE_TOKENS, "before-tokens");
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack) await stack.destroy().catch(() => undefined);
      await stack?.remove();
      releaseSshDir();
      if (oldCode) fs.rmSync(oldCode, { recursive: true, force: true });
      await lab?.release();
    });

    it("up with the old library, then up with the current one: 0 created, 0 deleted, 0 replaced; the preview after it has no changes", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require(path.join(oldCode, "index")) as Library;
      expect(old.SwarmCluster).not.toBe(current.SwarmCluster);

      stack = await EngineStack.create("swarm-upgrade-tokens", program(old), `lab${LAB_ID}`);
      const first = await op("up 1 (library at 2d652e4: old tokens)", () => engine().up(program(old)));
      expect(Object.keys(first.changes)).toEqual(["create"]);
      const before = await resources();
      const oldTypes = [...new Set(before.map((r) => r.type).filter((t) => t.startsWith("swarm:")))].sort();
      expect(oldTypes).toEqual([
        "swarm:index:SwarmCluster",
        "swarm:workloads:ComposeStack",
        "swarm:workloads:OverlayNetwork",
        "swarm:workloads:SwarmService",
      ]);

      // Control: without its alias the moved token would orphan the old cluster and everything under
      // it (the preview plans creates and deletes): the check below can fail.
      const cluster = TOKENS.SwarmCluster as { previous: readonly string[] };
      const aliases = cluster.previous;
      cluster.previous = [];
      let unaliased: EngineResult;
      try {
        unaliased = await op("preview (current library, alias removed: control)", () =>
          engine().preview(program(current)),
        );
      } finally {
        cluster.previous = aliases;
      }
      expect(unaliased.changes).toMatchObject({ create: expect.any(Number), delete: expect.any(Number) });

      const preview = await op("preview (current library)", () => engine().preview(program(current)));
      const up = await op("up 2 (current library: new tokens)", () => engine().up(program(current)));
      for (const r of [preview, up]) {
        // No step other than "same", "update" and the creates of what is new since that release:
        // the day-2 resource and one host-key pin per host.
        expect(Object.keys(r.changes).filter((k) => k !== "update" && k !== "create")).toEqual([]);
        expect(r.changes.create ?? 0).toBe(1 + lab.hosts.length);
        const created = [...r.output.matchAll(/^\s*\+\s+\S+:\S+\s+(\S+)\s+creat/gm)].map((m) => m[1]);
        if (created.length) expect(created.filter((n) => !/(-swarm|-host-key)$/.test(n))).toEqual([]);
        expect(r.output).not.toMatch(/\b(deleted|replaced|create-replacement|delete-replaced)\b/);
      }
      console.log(
        `engine summary of the upgrade: ${JSON.stringify(up.changes)}; output tail:\n${up.output.slice(-1500)}`,
      );

      const after = await resources();
      // The same resources, under the same names and with the same ids; only the tokens moved. New
      // since that release: the day-2 swarm resource and one host-key pin per host.
      expect(after.map(nameOf).sort()).toEqual(
        [
          ...before.map(nameOf),
          "pulumi-nodejs:dynamic:Resource up-swarm",
          ...lab.hosts.map((x) => `pulumi-nodejs:dynamic:Resource up-${x.name}-host-key`),
        ].sort(),
      );
      const ids = (list: StateResource[]) =>
        Object.fromEntries(list.filter((r) => r.id).map((r) => [nameOf(r), r.id]));
      const kept = after.filter((r) => before.some((b) => nameOf(b) === nameOf(r)));
      expect(ids(kept)).toEqual(ids(before));
      const newTypes = [...new Set(after.map((r) => r.type).filter((t) => t.startsWith("swarm:")))].sort();
      expect(newTypes).toEqual([
        "swarm:cluster:SwarmCluster",
        "swarm:workloads:ComposeStack",
        "swarm:workloads:OverlayNetwork",
        "swarm:workloads:SwarmService",
      ]);
      expect(after.every((r) => !r.urn.includes("swarm:index:"))).toBe(true);
      expect(up.outputs.nodeIds?.value).toEqual(first.outputs.nodeIds?.value);

      const again = await op("preview (after the upgrade)", () => engine().preview(program(current)));
      expect(again.changes).toEqual({});
    });
  },
  { engine: true },
);
