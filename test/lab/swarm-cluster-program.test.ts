import type * as pulumi from "@pulumi/pulumi";
import type { SwarmClusterArgs } from "../../components/cluster/args";
import { describeLab, eventually, Lab, NodeRow } from "./lab";
import { mockWithRealCommands, ProgramRun, settleOutput } from "./realCommands";

jest.setTimeout(15 * 60_000);

/**
 * The SwarmCluster program itself on five lab hosts: under mocks whose remote.Command runs its
 * create over real SSH, so the component's wiring and ordering run end to end.
 */
describeLab("SwarmCluster program on lab hosts (3 managers + 2 workers)", () => {
  let lab: Lab;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;
  const m1 = "lab21-1";

  const nodesArgs = (overrides: Partial<Record<string, Partial<SwarmClusterArgs["nodes"][number]>>> = {}) => {
    const [h1, h2, h3, h4, h5] = lab.swarmHosts();
    const base: SwarmClusterArgs["nodes"] = [
      { host: h1, role: "manager", labels: { zone: "a" } },
      { host: h2, role: "manager", labels: { zone: "b" } },
      { host: h3, role: "manager", labels: { zone: "c" } },
      { host: h4, role: "worker", labels: { tier: "web", zone: "a" } },
      { host: h5, role: "worker", availability: "drain" },
    ];
    return base.map((n) => ({ ...n, ...(overrides[n.host.name] ?? {}) }));
  };

  async function deploy(
    args: SwarmClusterArgs,
  ): Promise<{ run: ProgramRun; nodeIds: Record<string, string>; ms: number }> {
    const run = await mockWithRealCommands(lab);
    const started = Date.now();
    const cluster = new SwarmCluster("lab", args);
    const nodeIds = await settleOutput(cluster.nodeIds as pulumi.Output<Record<string, string>>, run);
    // The settings commands finish after the node ids resolve; the provider depends on all of them.
    await settleOutput(cluster.provider.urn, run);
    return { run, nodeIds, ms: Date.now() - started };
  }

  const byHost = (rows: NodeRow[]) => Object.fromEntries(rows.map((r) => [r.hostname, r]));

  beforeAll(async () => {
    lab = await Lab.up(21, 5);
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
  });
  afterAll(async () => {
    await lab?.down();
  });

  let firstIds: Record<string, string>;

  it("forms the swarm: every node Ready with its role, labels and availability", async () => {
    const { run, nodeIds, ms } = await deploy({ nodes: nodesArgs() });
    console.log(
      `5-node lab cluster formed by the program in ${(ms / 1000).toFixed(1)} s (${run.commands.length} remote commands)`,
    );
    firstIds = nodeIds;
    const rows = byHost(await lab.nodes(m1));
    expect(Object.keys(rows).sort()).toEqual(["lab21-1", "lab21-2", "lab21-3", "lab21-4", "lab21-5"]);
    for (const name of ["lab21-1", "lab21-2", "lab21-3"]) {
      expect(rows[name]).toMatchObject({
        role: "manager",
        state: "ready",
        availability: "active",
        reachability: "reachable",
      });
    }
    expect(rows["lab21-4"]).toMatchObject({ role: "worker", state: "ready", availability: "active" });
    expect(rows["lab21-5"]).toMatchObject({ role: "worker", state: "ready", availability: "drain" });
    expect(rows["lab21-4"].labels).toMatchObject({ tier: "web", zone: "a" });
    expect(rows["lab21-2"].labels).toMatchObject({ zone: "b" });
    expect(Object.fromEntries(Object.values(rows).map((r) => [r.hostname, r.id]))).toEqual(nodeIds);
    // Managers joined one at a time, in order; workers after the last manager.
    const order = run.commands.map((c) => c.name).filter((n) => n.endsWith("-join"));
    expect(order.slice(0, 3)).toEqual(["lab-lab21-1-join", "lab-lab21-2-join", "lab-lab21-3-join"]);
    // No secret in any command string.
    const tokens = (await lab.sh(m1, "docker swarm join-token -q worker; docker swarm join-token -q manager"))
      .trim()
      .split("\n");
    for (const c of run.commands) for (const t of tokens) expect(c.create).not.toContain(t);
  });

  it("a second run changes nothing", async () => {
    const { run, nodeIds } = await deploy({ nodes: nodesArgs() });
    expect(nodeIds).toEqual(firstIds);
    for (const c of run.commands.filter((c) => c.name.endsWith("-node")))
      expect(c.stdout.trim()).toBe("unchanged");
    for (const c of run.commands) expect(c.stderr).not.toMatch(/joining|initialising|restarting|changed/);
  });

  it("changes labels and availability in place", async () => {
    const { run } = await deploy({
      nodes: nodesArgs({ "lab21-4": { labels: { tier: "api" } }, "lab21-5": { availability: "active" } }),
    });
    expect(run.byName("lab-lab21-4-node").stdout).toMatch(/^changed: label tier label -zone/);
    const rows = byHost(await lab.nodes(m1));
    expect(rows["lab21-4"].labels.tier).toBe("api");
    expect(rows["lab21-4"].labels.zone).toBeUndefined();
    expect(rows["lab21-5"].availability).toBe("active");
  });

  it("keeps answering with one of three managers' dockerd stopped; the stopped one rejoins on restart", async () => {
    await lab.sh("lab21-3", "dockerd-ctl stop");
    expect(
      await eventually(60, async () => byHost(await lab.nodes(m1))["lab21-3"].reachability === "unreachable"),
    ).toBe(true);
    const rows = byHost(await lab.nodes("lab21-2"));
    expect(rows["lab21-1"].reachability).toMatch(/reachable/);
    await lab.sh(
      m1,
      "docker service create -d -q --name probe --replicas 2 lab/busybox:latest sleep 600 >/dev/null",
    );
    await lab.sh("lab21-3", "dockerd-ctl start");
    expect(
      await eventually(90, async () => {
        const r = byHost(await lab.nodes(m1))["lab21-3"];
        return r.reachability === "reachable" && r.state === "ready";
      }),
    ).toBe(true);
    await lab.sh(m1, "docker service rm probe >/dev/null");
  });

  it("removes a worker and a manager cleanly, keeping quorum", async () => {
    const { run } = await deploy({
      nodes: nodesArgs({ "lab21-4": { labels: { tier: "api" } }, "lab21-5": { availability: "active" } }),
    });
    // Pulumi deletes a removed node's resources in reverse dependency order: settings (drain, on a
    // manager), membership (leave, on the node), registration (node rm, on a manager).
    for (const node of ["lab21-5", "lab21-3"]) {
      for (const suffix of ["node", "join", "registration"]) {
        const c = run.byName(`lab-${node}-${suffix}`);
        const out = await lab.sh(c.host, c.delete!);
        console.log(`delete ${c.name}: ${out.trim()}`);
      }
    }
    const rows = byHost(await lab.nodes(m1));
    expect(Object.keys(rows).sort()).toEqual(["lab21-1", "lab21-2", "lab21-4"]);
    expect(rows["lab21-2"]).toMatchObject({ role: "manager", reachability: "reachable" });
    for (const h of ["lab21-3", "lab21-5"]) {
      expect((await lab.sh(h, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe("inactive");
    }
    const [h1, h2, , h4] = lab.swarmHosts();
    const again = await deploy({
      nodes: [
        { host: h1, role: "manager", labels: { zone: "a" } },
        { host: h2, role: "manager", labels: { zone: "b" } },
        { host: h4, role: "worker", labels: { tier: "api" } },
      ],
      allowEvenManagers: true,
    });
    for (const c of again.run.commands.filter((c) => c.name.endsWith("-node")))
      expect(c.stdout.trim()).toBe("unchanged");
  });
});
