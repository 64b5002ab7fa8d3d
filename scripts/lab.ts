/**
 * The main job on the built-in lab: five lab hosts on this machine (network namespaces with their
 * own IP, sshd and dockerd), a 3-manager + 2-worker swarm built by the SwarmCluster program, and a
 * two-service compose stack deployed by ComposeStack; then it prints the nodes and services.
 *
 * The program runs with every remote command executed for real over SSH (see test/lab/realCommands.ts);
 * until the real engine runs here (docs/engine.md), this is how the lab stack is applied.
 *
 *   npm run lab         bring the lab up (idempotent: a second run changes nothing)
 *   npm run lab:down    remove the lab hosts and everything on them
 */
import type * as pulumi from "@pulumi/pulumi";
import { eventually, Lab, labUnavailableReason } from "../test/lab/lab";
import { mockWithRealCommands, settleOutput } from "../test/lab/realCommands";

const LAB_ID = 1;
const HOSTS = 5;

const LAB_COMPOSE = `services:
  web:
    image: lab/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports:
      - { target: 8080, published: 8080, mode: host }
    deploy:
      mode: global
      endpoint_mode: dnsrr
  cache:
    image: lab/busybox:latest
    command: ["sh", "-c", "while true; do echo PONG | nc -l -p 6379; done"]
    environment:
      CACHE_PASSWORD: "\${CACHE_PASSWORD}"
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
`;

function step(text: string): void {
  console.log(`\n==> ${text}`);
}

async function up(): Promise<void> {
  const reason = labUnavailableReason();
  if (reason)
    throw new Error(
      `the lab cannot run here: ${reason}. Run as root on Linux after: apt-get install docker.io openssh-server iproute2 busybox-static curl`,
    );
  const started = Date.now();
  step(`starting ${HOSTS} lab hosts (lab${LAB_ID}-1..${HOSTS}, 10.213.${LAB_ID}.11-${10 + HOSTS})`);
  const lab = await Lab.up(LAB_ID, HOSTS);
  console.log(`    ${lab.hosts.map((h) => `${h.name}=${h.ip}`).join("  ")}`);

  step("building the swarm: 3 managers + 2 workers (each remote command runs over SSH)");
  const run = await mockWithRealCommands(lab);
  const { SwarmCluster } = await import("../components/cluster/swarmCluster");
  const { ComposeStack } = await import("../components/workloads/composeStack");
  const [h1, h2, h3, h4, h5] = lab.swarmHosts();
  const cluster = new SwarmCluster("lab", {
    nodes: [
      { host: h1, role: "manager", labels: { zone: "a" } },
      { host: h2, role: "manager", labels: { zone: "b" } },
      { host: h3, role: "manager", labels: { zone: "c" } },
      { host: h4, role: "worker", labels: { tier: "web" } },
      { host: h5, role: "worker", labels: { tier: "web" } },
    ],
  });
  let shown = 0;
  const progress = setInterval(() => {
    for (; shown < run.commands.length; shown++) {
      const c = run.commands[shown];
      console.log(`    ${c.name.padEnd(28)} ${c.host.padEnd(14)} ${(c.ms / 1000).toFixed(1)} s`);
    }
  }, 250);
  try {
    await settleOutput(cluster.provider.urn as pulumi.Output<string>, run);
    step("deploying the compose stack 'demo' (web on every node, cache x2)");
    const stack = new ComposeStack("demo", {
      cluster,
      composeContent: LAB_COMPOSE,
      environment: { CACHE_PASSWORD: "lab-only-password" },
    });
    await settleOutput(stack.urn as pulumi.Output<string>, run);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    clearInterval(progress);
    for (; shown < run.commands.length; shown++) console.log(`    ${run.commands[shown].name}`);
  }
  const manager = lab.hosts[0].name;
  step("waiting for the services to converge");
  const converged = await eventually(120, async () => {
    const replicas = await lab.sh(manager, "docker stack services demo --format '{{.Replicas}}'");
    return replicas
      .trim()
      .split("\n")
      .every((r) => /^(\d+)\/\1\b/.test(r));
  });
  if (!converged)
    throw new Error("the demo stack did not converge in 120 s; see: docker stack ps demo --no-trunc");
  step("nodes (docker node ls on lab1-1)");
  console.log(await lab.sh(manager, "docker node ls"));
  step("services (docker stack services demo)");
  console.log(await lab.sh(manager, "docker stack services demo"));
  console.log(
    `lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: curl http://${lab.hosts[3].ip}:8080/hostname`,
  );
  console.log(
    `SSH: ssh -i ${lab.privateKeyPath} root@${lab.hosts[0].ip}    Remove everything: npm run lab:down`,
  );
}

async function down(): Promise<void> {
  step(`removing lab ${LAB_ID}`);
  const lab = await Lab.up(LAB_ID, 0).catch(() => undefined);
  if (lab) await lab.down();
  console.log("lab removed");
}

const action = process.argv[2] ?? "up";
(action === "down" ? down() : up()).then(
  () => {
    // The runtime's exit hook reports outputs nobody awaited (e.g. provider fields); they are
    // expected in this runner, which stops as soon as the lab is up.
    process.removeAllListeners("exit");
    process.exit(0);
  },
  (err: Error) => {
    console.error(`\nlab ${action} failed: ${err.message}`);
    process.exit(1);
  },
);
