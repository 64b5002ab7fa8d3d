import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import * as current from "../../index";
import { fingerprintOf, normalizeKey, presentedKey } from "../../components/ssh/hostKeyProvider";
import type { SwarmHost } from "../../components/hosts/types";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { extractLibrary } from "../engine/oldLibrary";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

/** The library as users have it before host keys were pinned (main when this branch started). */
const BEFORE_PINS = "1651dd5";
/**
 * The library with the cluster's pins in components/cluster/ (pin inputs `cluster`, no bastion pins),
 * before they moved to components/ssh/ and were shared with the delivery platform's components.
 */
const PINS_IN_CLUSTER = "bb52882";

jest.setTimeout(30 * 60_000);

const run = promisify(execFile);

type Library = Pick<typeof current, "SwarmCluster" | "OverlayNetwork" | "ComposeStack">;

interface StateResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/**
 * Host keys pinned in state, through the REAL engine (lab 121: 1 manager + 1 worker).
 *
 * 1. Upgrade hazard: a stack made by the library before pins (the manager with a given hostKey,
 *    the worker without) is taken over by the library with pins (at bb52882). The plan must
 *    replace and delete nothing: the two pins are created, the given key's connections do not
 *    change at all, and the learned host's resources update in place (their connection gains the
 *    pinned key). Then the current library (pins shared with the delivery platform, in
 *    components/ssh/) takes it over: the two pins update in place (new inputs and provider code)
 *    and keep their keys; no command runs again but each host's prepare and join, whose scripts
 *    changed since bb52882.
 * 2. The worker's sshd gets a new host key: the next `pulumi up` and `pulumi refresh` refuse with
 *    the host, both fingerprints and the fix, and nothing logs in to that host; accepting the
 *    new fingerprint with `acceptHostKeys` works and the preview after it is clean.
 */
describeLab(
  "Host keys pinned in state: upgrade replaces nothing, a changed key is refused, an accepted one works (lab 121)",
  () => {
    const LAB_ID = 121;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let releaseSshDir = () => {};
    let oldCode = "";
    let pinsCode = "";
    const timings: string[] = [];
    const settings: { reconcile: string; accept: Record<string, string> } = { reconcile: "", accept: {} };

    const compose = `services:
  echo:
    image: lab/busybox:latest
    command: ["sleep", "3600"]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
`;

    /** Manager: the lab's host key given; worker: no host key (learned on first contact). */
    const hosts = (): SwarmHost[] => {
      const [h1, h2] = lab.swarmHosts();
      const withoutKey = { ...h2.connection };
      delete withoutKey.hostKey;
      return [h1, { ...h2, connection: withoutKey }];
    };

    const program = (lib: Library, pins: boolean) => async () => {
      const [h1, h2] = hosts();
      const cluster = new lib.SwarmCluster("hk", {
        nodes: [
          { host: h1, role: "manager" },
          { host: h2, role: "worker" },
        ],
        ...(settings.reconcile ? { reconcile: settings.reconcile } : {}),
        ...(pins && Object.keys(settings.accept).length > 0 ? { acceptHostKeys: settings.accept } : {}),
      });
      new lib.OverlayNetwork("hk-net", { cluster, networkName: "hk-net" });
      new lib.ComposeStack("hk-shop", { cluster, composeContent: compose });
      return { nodeIds: cluster.nodeIds };
    };

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
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
    const pinOf = async (hostName: string) => {
      const found = (await resources()).find((r) => r.urn.endsWith(`::hk-${hostName}-host-key`));
      if (!found) throw new Error(`no pin for ${hostName}`);
      return found.outputs as { hostKey: string; fingerprint: string; source: string; given: string };
    };
    /**
     * The library before pins connects to a host without a hostKey with ssh's
     * `StrictHostKeyChecking=accept-new` and the user's own ~/.ssh/known_hosts (ssh finds it through
     * the passwd entry, not $HOME): a lab host re-created under the same address with another key
     * then fails with "REMOTE HOST IDENTIFICATION HAS CHANGED". This lab's addresses are taken out
     * of that file before and after the suite (only this lab's, with ssh-keygen -R).
     */
    const forgetLabHostKeys = async () => {
      for (const h of lab?.hosts ?? []) await run("ssh-keygen", ["-R", h.ip]).catch(() => undefined);
    };

    beforeAll(async () => {
      lab = await Lab.fresh(LAB_ID, 2);
      console.log(
        `pulumi ${cliVersion()}; lab ${LAB_ID}: ${lab.hosts.map((x) => `${x.name}=${x.ip}`).join(" ")}`,
      );
      releaseSshDir = useTempSshDir();
      await forgetLabHostKeys();
      oldCode = await extractLibrary(BEFORE_PINS, "before-pins");
      pinsCode = await extractLibrary(PINS_IN_CLUSTER, "pins-in-cluster");
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack) await stack.cleanUp();
      await forgetLabHostKeys();
      releaseSshDir();
      if (oldCode) fs.rmSync(oldCode, { recursive: true, force: true });
      if (pinsCode) fs.rmSync(pinsCode, { recursive: true, force: true });
      await lab?.release();
    });

    it("upgrade from the library before pins: 2 pins created, 0 deleted, 0 replaced; only the learned host's commands run again; then to the shared pins: the pins update, no command but prepare/join/init (changed scripts) runs; preview after is clean", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require(path.join(oldCode, "index")) as Library;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pinned = require(path.join(pinsCode, "index")) as Library;
      expect(old.SwarmCluster).not.toBe(current.SwarmCluster);
      expect(pinned.SwarmCluster).not.toBe(current.SwarmCluster);
      stack = await EngineStack.create("swarm-host-keys", program(old, false), `lab${LAB_ID}`);
      const first = await op("up 1 (library at 1651dd5: no pins)", () => engine().up(program(old, false)));
      expect(Object.keys(first.changes)).toEqual(["create"]);
      const before = await resources();
      expect(before.some((r) => r.urn.endsWith("-host-key"))).toBe(false);

      const preview = await op(`preview (library at ${PINS_IN_CLUSTER}: pins)`, () =>
        engine().preview(program(pinned, true)),
      );
      const up = await op(`up 2 (library at ${PINS_IN_CLUSTER}: pins)`, () =>
        engine().up(program(pinned, true)),
      );
      const [h1, h2] = lab.hosts.map((h) => h.name);
      for (const r of [preview, up]) {
        expect(Object.keys(r.changes).filter((k) => k !== "update" && k !== "create")).toEqual([]);
        expect(r.changes.create).toBe(2);
        expect(r.output).not.toMatch(/\b(deleted|replaced|create-replacement|delete-replaced)\b/);
      }
      console.log(`engine summary of the upgrade: ${JSON.stringify(up.changes)}`);
      // Which resources updated: the learned host's own (its commands and node resource), and what
      // this release changes for every host once: the registration commands lost their no-op
      // create, and the node and swarm resources carry new provider code. The given-key host's
      // commands that run scripts (prepare, init, join) must not update.
      const expectedUpdate = (name: string | undefined) =>
        name !== undefined &&
        (name.includes(`hk-${h2}-`) || /-(registration|node)$/.test(name) || name === "hk-swarm");
      const scriptsOfGivenKeyHost = new RegExp(`^hk-${h1}-(prepare|init|join)$`);
      const updated = [
        ...preview.output.matchAll(/~ [\w:/-]+: \(update\)\s+\[id=[^\]]*\]\s+\[urn=([^\]]+)\]/g),
      ].map((m) => m[1].split("::").pop());
      console.log(`updated in place: ${updated.join(", ")}`);
      expect(updated.filter((n) => n?.includes(`hk-${h2}-`)).length).toBeGreaterThan(0);
      expect(updated.filter((n) => !expectedUpdate(n))).toEqual([]);
      expect(updated.filter((n) => scriptsOfGivenKeyHost.test(n ?? ""))).toEqual([]);
      // The same in what the up did.
      const upUpdated = [...up.output.matchAll(/~\s+[\w:/-]+ (\S+) updated/g)].map((m) => m[1]);
      console.log(`up updated: ${upUpdated.join(", ")}`);
      expect(upUpdated.length).toBe(up.changes.update);
      expect(upUpdated.filter((n) => !expectedUpdate(n))).toEqual([]);
      expect(upUpdated.filter((n) => scriptsOfGivenKeyHost.test(n))).toEqual([]);

      const after = await resources();
      const ids = (list: StateResource[]) =>
        Object.fromEntries(list.filter((r) => r.id).map((r) => [r.urn, r.id]));
      const kept = after.filter((r) => before.some((b) => b.urn === r.urn));
      expect(kept).toHaveLength(before.length);
      expect(ids(kept)).toEqual(ids(before));
      expect(up.outputs.nodeIds?.value).toEqual(first.outputs.nodeIds?.value);

      // The pins: the given key verified, the worker's learned on first contact; both the lab's key.
      const labKey = normalizeKey(lab.hostPublicKey);
      expect(await pinOf(h1)).toMatchObject({ hostKey: labKey, source: "given" });
      expect(await pinOf(h2)).toMatchObject({ hostKey: labKey, source: "learned", given: "" });

      // The current library: the pins moved to components/ssh/ (inputs component/owner instead of
      // cluster, new provider code). They update in place and keep their keys; nothing else runs.
      const beforeShared = await resources();
      const shared = await op("up 3 (current library: shared pins)", () =>
        engine().up(program(current, true)),
      );
      console.log(`engine summary of the move: ${JSON.stringify(shared.changes)}`);
      expect(Object.keys(shared.changes)).toEqual(["update"]);
      expect(shared.output).not.toMatch(/\b(deleted|replaced|create-replacement|delete-replaced)\b/);
      const movedUpdated = [...shared.output.matchAll(/~\s+[\w:/-]+ (\S+) updated/g)].map((m) => m[1]);
      console.log(`up 3 updated: ${movedUpdated.join(", ")}`);
      expect(movedUpdated.length).toBe(shared.changes.update);
      expect(movedUpdated.filter((n) => n.endsWith("-host-key")).sort()).toEqual(
        [`hk-${h1}-host-key`, `hk-${h2}-host-key`].sort(),
      );
      // No other command ran again (a dynamic node or swarm resource may carry new provider code).
      // The prepare and join steps do: their scripts changed after bb52882 (a swarm member's dockerd
      // restart moved from prepare into join), an update test/lab/engine-upgrade-restart proves alone;
      // so does init, which since then also prints the swarm's expiry and CA fingerprint.
      const commands = new Set(
        beforeShared.filter((r) => r.type === "command:remote:Command").map((r) => r.urn.split("::").pop()),
      );
      expect(movedUpdated.filter((n) => commands.has(n)).sort()).toEqual(
        ["hk-init", ...[h1, h2].flatMap((h) => [`hk-${h}-prepare`, `hk-${h}-join`])].sort(),
      );
      expect(ids(await resources())).toEqual(ids(beforeShared));
      expect(await pinOf(h1)).toMatchObject({ hostKey: labKey, source: "given" });
      expect(await pinOf(h2)).toMatchObject({ hostKey: labKey, source: "learned", given: "" });

      const again = await op("preview (after the upgrade)", () => engine().preview(program(current, true)));
      expect(again.changes).toEqual({});
    });

    it("a changed host key stops up and refresh with the host, both fingerprints and the fix, and nothing runs there; accepting it works", async () => {
      const target = lab.hosts[1];
      const oldKey = normalizeKey(lab.hostPublicKey)!;
      // The worker's sshd gets a new host key (a rebuilt machine, or someone in between).
      const newKey = normalizeKey(await lab.newHostKey(target.name))!;
      const conn = { host: target.ip, user: "root", privateKey: lab.privateKey };
      expect(await eventually(30, async () => (await presentedKey(conn, oldKey)) === newKey)).toBe(true);

      // Work that would run on the worker (reconcile re-applies every node): refused before it starts.
      settings.reconcile = "after-key-change";
      const offset = lab.sshdLogSize(target.name);
      const refused = await op(
        "up (worker's host key changed)",
        () => engine().up(program(current, true)),
        false,
      );
      expect(refused.ok).toBe(false);
      const expectedText = [
        `the SSH host key of host "${target.name}" (root@${target.ip}:22) is not the pinned one: pinned ${fingerprintOf(oldKey)} (ssh-ed25519), the host now presents ${fingerprintOf(newKey)} (ssh-ed25519). Nothing was run on this host.`,
        `accept it with acceptHostKeys: { "${target.name}": "${fingerprintOf(newKey)}" } on the SwarmCluster and run pulumi up`,
      ];
      for (const text of expectedText) expect(refused.output + (refused.error ?? "")).toContain(text);
      console.log(`the refusal, as the engine printed it:\n${(refused.error ?? "").slice(-1200)}`);
      expect(lab.loginsSince(target.name, offset)).toEqual([]);

      const refresh = await op("refresh (worker's host key changed)", () => engine().refresh(), false);
      expect(refresh.ok).toBe(false);
      expect(refresh.output + (refresh.error ?? "")).toContain(expectedText[0]);
      expect(lab.loginsSince(target.name, offset)).toEqual([]);
      // The pin in state is still the old key: neither run took the new one.
      expect((await pinOf(target.name)).hostKey).toBe(oldKey);

      // Accepting it deliberately: the pin takes the new key and the worker's work runs again.
      settings.accept = { [target.name]: fingerprintOf(newKey) };
      const accepted = await op("up (new key accepted)", () => engine().up(program(current, true)));
      expect(Object.keys(accepted.changes)).toEqual(["update"]);
      expect(await pinOf(target.name)).toMatchObject({ hostKey: newKey, source: "accepted" });
      expect(lab.loginsSince(target.name, offset).length).toBeGreaterThan(0);
      const nodes = await lab.nodes(lab.hosts[0].name);
      expect(nodes.map((n) => `${n.hostname} ${n.state}`).sort()).toEqual(
        lab.hosts.map((h) => `${h.name} ready`).sort(),
      );
      const clean = await op("preview (after accepting)", () => engine().preview(program(current, true)));
      expect(clean.changes).toEqual({});
    });
  },
  { engine: true },
);
