import { asRemoteCommand } from "../../components/shell";
import { renderPrepareScript } from "../../components/cluster/scripts/prepare";
import { renderInitScript } from "../../components/cluster/scripts/init";
import { renderJoinScript, renderLeaveScript } from "../../components/cluster/scripts/join";
import { RESTART_PENDING } from "../../components/cluster/scripts/restart";
import { describeLab, eventually, Lab } from "./lab";

jest.setTimeout(10 * 60_000);

/**
 * The rendered host scripts, byte for byte, over real SSH: daemon.json merge and restart, autolock
 * with unlock after a restart, claims protecting a node from a replaced resource, and the first
 * manager refusing to start a second swarm.
 */
describeLab("cluster scripts on lab hosts (autolock, daemon.json, claims)", () => {
  let lab: Lab;
  const [a, b, c, d] = ["lab22-1", "lab22-2", "lab22-3", "lab22-4"];
  const ip = (h: string) => lab.host(h).ip;
  const state = async (h: string) =>
    (await lab.sh(h, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim();
  const prepare = (h: string, registries = ["10.213.22.1:5000"]) =>
    asRemoteCommand(
      renderPrepareScript({
        installDocker: true,
        daemonConfig: { "insecure-registries": registries },
        hostFirewall: "auto",
        peers: lab.hosts.filter((x) => x.name !== h).map((x) => x.ip),
        dataPathPort: 4789,
        allowEsp: false,
      }),
    );
  const join = asRemoteCommand(renderJoinScript({ cluster: "lab", claim: "claim-1" }));
  let summary: { clusterId: string; managerToken: string; unlockKey: string };
  const joinStdin = (h: string, remotes: string[]) =>
    `${JSON.stringify({ ListenAddr: "0.0.0.0:2377", AdvertiseAddr: ip(h), RemoteAddrs: remotes.map((r) => `${ip(r)}:2377`), JoinToken: summary.managerToken })}\n${summary.unlockKey}\n${summary.clusterId}\n`;

  beforeAll(async () => {
    lab = await Lab.up(22, 4);
  });
  afterAll(async () => {
    await lab?.down();
  });

  it("merges daemon.json keeping other keys, restarting dockerd only when it changed", async () => {
    await lab.sh(a, `echo '{"log-level": "warn"}' > /etc/docker/daemon.json`);
    const pidBefore = (await lab.sh(a, "cat /run/docker.pid")).trim();
    const first = await lab.ssh(a, prepare(a));
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("daemon.json changed; restarting dockerd");
    const merged = JSON.parse(await lab.sh(a, "cat /etc/docker/daemon.json"));
    expect(merged).toEqual({ "insecure-registries": ["10.213.22.1:5000"], "log-level": "warn" });
    const pidAfter = (await lab.sh(a, "cat /run/docker.pid")).trim();
    expect(pidAfter).not.toBe(pidBefore);
    expect(await lab.sh(a, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")).toContain(
      "10.213.22.1:5000",
    );
    const second = await lab.ssh(a, prepare(a));
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain("restarting");
    expect((await lab.sh(a, "cat /run/docker.pid")).trim()).toBe(pidAfter);
    for (const h of [b, c]) await lab.sh(h, prepare(h));
  });

  it("initialises with autolock and prints the summary once, the same on a re-run", async () => {
    const init = asRemoteCommand(
      renderInitScript({
        advertiseAddr: ip(a),
        otherManagers: [ip(b), ip(c)],
        dataPathPort: 4789,
        defaultAddrPool: ["10.90.0.0/16"],
        defaultAddrPoolMaskLength: 24,
        certExpiry: "2160h0m0s",
        autolock: true,
      }),
    );
    const out = await lab.sh(a, init);
    summary = JSON.parse(out.trim());
    expect(summary.unlockKey.startsWith(["SWMKEY", "1", ""].join("-"))).toBe(true);
    // What the swarm resource's create takes instead of dialling again: the swarm's own values.
    const printed = JSON.parse(out.trim()) as {
      certExpiry: string;
      caFingerprint: string;
      printedAt: number;
    };
    expect(printed.certExpiry).toBe("2160h0m0s");
    const trustRoot = await lab.sh(
      a,
      "docker info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}' | sha256sum",
    );
    expect(printed.caFingerprint).toBe(trustRoot.slice(0, 64));
    expect(Math.abs(printed.printedAt - Date.now() / 1000)).toBeLessThan(60);
    const withoutTime = (text: string) => ({ ...JSON.parse(text.trim()), printedAt: undefined });
    expect(withoutTime(await lab.sh(a, init))).toEqual(withoutTime(out));
    expect(
      (
        await lab.sh(a, "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'")
      ).trim(),
    ).toBe("true");
  });

  it("joins managers one at a time with the token on stdin, and a re-run changes nothing", async () => {
    const ids: string[] = [];
    ids.push((await lab.sh(a, join, joinStdin(a, []))).trim());
    ids.push((await lab.sh(b, join, joinStdin(b, [a]))).trim());
    ids.push((await lab.sh(c, join, joinStdin(c, [a, b]))).trim());
    const rows = await lab.nodes(a);
    expect(rows.filter((r) => r.role === "manager" && r.reachability === "reachable")).toHaveLength(3);
    const again = await lab.ssh(b, join, joinStdin(b, [a]));
    expect(again.stdout.trim()).toBe(ids[1]);
    expect(again.stderr).toBe("");
    // The token never reached a process's argv on the host.
    expect(join).not.toContain(summary.managerToken);
  });

  it("a restarted manager comes back locked and the membership script unlocks it", async () => {
    await lab.sh(b, "dockerd-ctl restart");
    expect(await eventually(30, async () => (await state(b)) === "locked")).toBe(true);
    const result = await lab.ssh(b, join, joinStdin(b, [a]));
    expect(result.stderr).toContain("unlocking");
    expect(await state(b)).toBe("active");
    expect(
      await eventually(60, async () => (await lab.nodes(a)).every((r) => r.reachability === "reachable")),
    ).toBe(true);
  });

  it("a member's daemon.json change: prepare only records the restart; the membership step restarts dockerd and unlocks it", async () => {
    const pid = async () => (await lab.sh(b, "cat /run/docker.pid")).trim();
    const before = await pid();
    const registries = ["10.213.22.1:5000", "10.213.22.1:5001"];
    const prepared = await lab.ssh(b, prepare(b, registries));
    expect(prepared.code).toBe(0);
    expect(prepared.stderr).toContain("daemon.json changed; dockerd restarts in this node's membership step");
    // Nothing restarted: the manager still serves, the restart is recorded.
    expect(await pid()).toBe(before);
    expect(await state(b)).toBe("active");
    expect((await lab.ssh(b, `test -e ${RESTART_PENDING}`)).code).toBe(0);
    expect(JSON.parse(await lab.sh(b, "cat /etc/docker/daemon.json"))["insecure-registries"]).toEqual(
      registries,
    );
    // A second prepare run changes nothing more.
    const again = await lab.ssh(b, prepare(b, registries));
    expect(again.stderr).not.toContain("daemon.json changed");
    expect(await pid()).toBe(before);

    const joined = await lab.ssh(b, join, joinStdin(b, [a]));
    expect(joined.code).toBe(0);
    expect(joined.stderr).toContain("restarting dockerd for its new configuration");
    // autolock: the restarted manager came back locked, and the same step unlocked it.
    expect(joined.stderr).toContain("unlocking");
    expect(await pid()).not.toBe(before);
    expect(await state(b)).toBe("active");
    expect((await lab.ssh(b, `test -e ${RESTART_PENDING}`)).code).not.toBe(0);
    expect(await lab.sh(b, "docker info --format '{{json .RegistryConfig.IndexConfigs}}'")).toContain(
      "10.213.22.1:5001",
    );
    // Nothing pending any more: the next membership run restarts nothing.
    const after = await pid();
    const rerun = await lab.ssh(b, join, joinStdin(b, [a]));
    expect(rerun.stderr).toBe("");
    expect(await pid()).toBe(after);
    expect(
      await eventually(60, async () => (await lab.nodes(a)).every((r) => r.reachability === "reachable")),
    ).toBe(true);
  });

  it("a replaced membership resource's delete leaves the node in the swarm", async () => {
    // The replacement ran first and wrote its claim; the old resource's delete must not act.
    await lab.sh(c, `echo claim-2 > /etc/docker/pulumi-swarm-lab.claim`);
    const out = await lab.sh(c, asRemoteCommand(renderLeaveScript({ cluster: "lab", claim: "claim-1" })));
    expect(out).toBe("");
    expect(await state(c)).toBe("active");
    await lab.sh(c, `echo claim-1 > /etc/docker/pulumi-swarm-lab.claim`);
  });

  it("a fresh first manager refuses to start a second swarm beside the running one", async () => {
    const init = asRemoteCommand(
      renderInitScript({
        advertiseAddr: ip(d),
        otherManagers: [ip(a), ip(b)],
        dataPathPort: 4789,
        defaultAddrPool: [],
        certExpiry: "2160h0m0s",
        autolock: false,
      }),
    );
    const result = await lab.ssh(d, init);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `manager ${ip(a)} already answers on 2377: a swarm exists. List an existing manager first in nodes`,
    );
    expect(await state(d)).toBe("inactive");
  });

  it("managers leave one by one without losing quorum; the last one ends the swarm", async () => {
    const leave = asRemoteCommand(renderLeaveScript({ cluster: "lab", claim: "claim-1" }));
    await lab.sh(c, leave);
    let rows = (await lab.nodes(a)).filter((r) => r.state === "ready");
    expect(rows.filter((r) => r.role === "manager")).toHaveLength(2);
    await lab.sh(b, leave);
    rows = (await lab.nodes(a)).filter((r) => r.state === "ready");
    expect(rows.filter((r) => r.role === "manager")).toHaveLength(1);
    const last = await lab.ssh(a, leave);
    expect(last.stderr).toContain("last manager: the swarm ends here");
    for (const h of [a, b, c]) expect(await state(h)).toBe("inactive");
  });
});
