/**
 * One seed scenario on the built-in lab, with one command, through the real engine:
 *
 *   npm run scenario -- <name>          build the images (cached), 3 lab hosts + a lab registry, `pulumi up`
 *   npm run scenario -- <name> down     `pulumi destroy`, then the lab hosts are removed
 *
 * Names: hit-counter, redis-cluster (3+3; `redis-cluster-grown` for 4+4 on the same stack),
 * mysql-replication, rolling (nginx + Redis; `rolling-latest` rolls them to the :latest tags),
 * monitoring. Lab 93 (bridge pswbr93, 10.213.93.0/24; SCENARIO_LAB_ID picks another id): 1 manager +
 * 2 workers. State: .lab/scenarios.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { SwarmCluster } from "../components/cluster/swarmCluster";
import { OverlayNetwork } from "../components/workloads/overlayNetwork";
import * as scenarios from "../examples/scenarios";
import { engineEnv, engineUnavailableReason, REPO } from "../test/engine/engine";
import { Lab, labUnavailableReason } from "../test/lab/lab";

const LAB_ID = Number(process.env.SCENARIO_LAB_ID ?? 93);
const IMAGES = path.join(REPO, "test", "lab", "images");
const STATE = path.join(REPO, ".lab", "scenarios");
const TOOLS = path.join(REPO, ".pulumi-tools");

type Build = (
  cluster: SwarmCluster,
  network: OverlayNetwork,
  images: scenarios.LabImages,
  lab: Lab,
) => Record<string, unknown>;

const names = (lab: Lab) => lab.hosts.map((h) => h.name);

/** Each scenario: the stack it lives in, the images it needs, and what it declares. */
const SCENARIOS: Record<string, { stack: string; images: string[]; build: Build }> = {
  "hit-counter": {
    stack: "hit-counter",
    images: ["redis", "web"],
    build: (c, n, i) => ({ web: scenarios.hitCounter(c, n, i).web.serviceName }),
  },
  "redis-cluster": {
    stack: "redis-cluster",
    images: ["redis"],
    build: (c, n, i, lab) => ({
      job: scenarios.redisCluster(c, n, i, { masters: 3, replicasPerMaster: 1 }, names(lab)).job.output,
    }),
  },
  "redis-cluster-grown": {
    stack: "redis-cluster",
    images: ["redis"],
    build: (c, n, i, lab) => ({
      job: scenarios.redisCluster(c, n, i, { masters: 4, replicasPerMaster: 1 }, names(lab)).job.output,
    }),
  },
  "mysql-replication": {
    stack: "mysql-replication",
    images: ["mariadb"],
    build: (c, n, i, lab) => ({ job: scenarios.mysqlReplication(c, n, i, names(lab).slice(1)).job.output }),
  },
  rolling: {
    stack: "rolling",
    images: ["nginx", "redis"],
    build: (c, _n, i) => (scenarios.rollingServices(c, i, "version"), {}),
  },
  "rolling-latest": {
    stack: "rolling",
    images: ["nginx", "redis"],
    build: (c, _n, i) => (scenarios.rollingServices(c, i, "latest"), {}),
  },
  monitoring: {
    stack: "monitoring",
    images: ["prometheus", "node-exporter", "cadvisor", "influxdb"],
    build: (c, n, i) => (scenarios.monitoring(c, n, i), { prometheus: `http://10.213.${LAB_ID}.11:9090` }),
  },
};

async function main(): Promise<void> {
  const [name, action = "up"] = process.argv.slice(2);
  const scenario = SCENARIOS[name];
  if (!scenario || !["up", "down"].includes(action))
    throw new Error(`usage: npm run scenario -- <${Object.keys(SCENARIOS).join("|")}> [up|down]`);
  if (!Number.isInteger(LAB_ID) || LAB_ID < 1 || LAB_ID > 200)
    throw new Error(`SCENARIO_LAB_ID: received ${process.env.SCENARIO_LAB_ID}; give a lab id from 1 to 200`);
  const reason = labUnavailableReason() ?? engineUnavailableReason();
  if (reason) throw new Error(`the lab cannot run here: ${reason}`);

  console.log(`==> images: ${scenario.images.join(", ")} (test/lab/images/build.sh, cached by recipe)`);
  const built = execFileSync("bash", [path.join(IMAGES, "build.sh"), ...scenario.images], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const all = JSON.parse(built.trim().split("\n").pop() ?? "{}") as scenarios.LabImages;
  // build.sh lists every image in its cache: keep the scenario's own (monitoring adds cAdvisor and
  // InfluxDB only when their images are given).
  const recipes = Object.fromEntries(scenario.images.map((n) => [n, all[n]]));
  console.log(`==> lab ${LAB_ID}: 3 hosts and a registry`);
  const lab = await Lab.up(LAB_ID, 3);
  const registry = execFileSync("bash", [path.join(IMAGES, "serve.sh"), String(LAB_ID)], {
    encoding: "utf8",
  }).trim();
  const images = Object.fromEntries(Object.entries(recipes).map(([k, v]) => [k, `${registry}/${v}`]));

  const program = async () => {
    const hosts = lab.swarmHosts();
    const { cluster, network } = scenarios.scenarioSwarm("scenario", hosts, registry, "apps");
    return scenario.build(cluster, network, images, lab);
  };

  fs.mkdirSync(STATE, { recursive: true });
  const env = engineEnv(STATE);
  const stack = await LocalWorkspace.createOrSelectStack(
    { projectName: "swarm-scenarios", stackName: scenario.stack, program },
    {
      workDir: STATE,
      envVars: env,
      pulumiHome: env.PULUMI_HOME,
      pulumiCommand: await PulumiCommand.get({ root: TOOLS }),
      projectSettings: {
        name: "swarm-scenarios",
        runtime: "nodejs",
        backend: { url: env.PULUMI_BACKEND_URL },
      },
    },
  );
  const onOutput = (text: string) => process.stdout.write(text);
  const started = Date.now();
  if (action === "down") {
    await stack.destroy({ onOutput, color: "never" });
    await lab.down();
  } else {
    const result = await stack.up({ onOutput, color: "never" });
    for (const [key, value] of Object.entries(result.outputs))
      if (!value.secret) console.log(`${key}: ${String(value.value).slice(-2000)}`);
  }
  console.log(`==> ${name} ${action}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
