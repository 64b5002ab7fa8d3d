/**
 * One measurement of program construction under mocks: `npx tsx bench/mockScale.ts <nodes>` builds a
 * SwarmCluster of <nodes> fake hosts (3 managers, the rest workers) with mocks answering init and
 * join like the unit tests, waits until every resource is registered, and prints one JSON line.
 * Run in its own process per size so heap figures do not mix (bench/cluster.ts does that).
 */
import * as crypto from "crypto";
import * as v8 from "v8";
import * as vm from "vm";
import * as pulumi from "@pulumi/pulumi";

/** A full garbage collection, without needing node --expose-gc on the command line. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

async function main(): Promise<void> {
  const nodes = Number(process.argv[2]);
  if (!Number.isInteger(nodes) || nodes < 3)
    throw new Error(`usage: mockScale.ts <nodes >= 3>, got ${process.argv[2]}`);
  let resources = 0;
  const summary = JSON.stringify({
    clusterId: "bench",
    nodeId: "id-1",
    workerToken: crypto.randomBytes(16).toString("hex"),
    managerToken: crypto.randomBytes(16).toString("hex"),
    unlockKey: "",
  });
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources++;
        const stdout = args.name.endsWith("-init")
          ? `${summary}\n`
          : args.name.endsWith("-join")
            ? `id-${args.name}\n`
            : "ok\n";
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout } };
      },
      call: () => ({}),
    },
    "pulumi-swarm",
    "bench",
    false,
  );
  const { SwarmCluster } = await import("../components/cluster/swarmCluster");
  const key = pulumi.secret(crypto.randomBytes(32).toString("base64"));
  const hosts = Array.from({ length: nodes }, (_, i) => ({
    name: `node-${i + 1}`,
    connection: {
      host: `10.${Math.floor(i / 250)}.${i % 250}.${10 + (i % 200)}`,
      user: "root",
      privateKey: key,
    },
    advertiseAddr: `10.${Math.floor(i / 250)}.${i % 250}.${10 + (i % 200)}`,
  }));
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const cluster = new SwarmCluster("bench", {
    nodes: hosts.map((host, i) => ({ host, role: i < 3 ? ("manager" as const) : ("worker" as const) })),
  });
  const constructedMs = Number(process.hrtime.bigint() - started) / 1e6;
  await new Promise<void>((resolve) => cluster.provider.urn.apply(() => resolve()));
  const settledMs = Number(process.hrtime.bigint() - started) / 1e6;
  const heapPeak = process.memoryUsage().heapUsed;
  collectGarbage();
  const heapAfter = process.memoryUsage().heapUsed;
  // Largest command string: the prepare scripts list every other member (firewall peers).
  console.log(
    JSON.stringify({
      nodes,
      resources,
      constructedMs: Math.round(constructedMs * 10) / 10,
      settledMs: Math.round(settledMs),
      heapRetainedMB: Math.round(((heapAfter - heapBefore) / 1048576) * 10) / 10,
      heapPeakMB: Math.round(((heapPeak - heapBefore) / 1048576) * 10) / 10,
    }),
  );
  // Keep the cluster alive until after the measurement.
  if (!cluster.urn) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
