/**
 * The main job on the built-in lab: five lab hosts on this machine (network namespaces with their
 * own IP, sshd and dockerd) and the `lab` stack (stacks/Pulumi.lab.yaml) applied to them: a
 * 3-manager + 2-worker swarm and a two-service compose stack; then it prints the nodes and services.
 *
 * The program runs with every remote command executed for real over SSH (see test/lab/realCommands.ts);
 * until the real engine runs here (docs/engine.md), this is how the lab stack is applied.
 *
 *   npm run lab         bring the lab up (idempotent: a second run changes nothing)
 *   npm run lab:down    remove the lab hosts and everything on them
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { Lab, labUnavailableReason } from "../test/lab/lab";
import { showConvergedLab } from "./labShow";
import { mockWithRealCommands, settleOutput } from "../test/lab/realCommands";

const LAB_ID = 1;
const HOSTS = 5;

const STACK_FILE = path.join(__dirname, "..", "stacks", "Pulumi.lab.yaml");

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

  step(
    `applying the lab stack (${path.relative(process.cwd(), STACK_FILE)}); each remote command runs over SSH`,
  );
  const run = await mockWithRealCommands(lab);
  const { buildStack, loadStackFile } = await import("../stacks/program");
  const built = buildStack(loadStackFile(STACK_FILE));
  const cluster = built.cluster;
  let shown = 0;
  const progress = setInterval(() => {
    for (; shown < run.commands.length; shown++) {
      const c = run.commands[shown];
      console.log(`    ${c.name.padEnd(28)} ${c.host.padEnd(14)} ${(c.ms / 1000).toFixed(1)} s`);
    }
  }, 250);
  try {
    await settleOutput(cluster.provider.urn as pulumi.Output<string>, run);
    step("deploying the compose stacks");
    for (const stack of Object.values(built.workloads.stacks)) {
      await settleOutput(stack.urn as pulumi.Output<string>, run);
    }
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    clearInterval(progress);
    for (; shown < run.commands.length; shown++) console.log(`    ${run.commands[shown].name}`);
  }
  await showConvergedLab(lab, built.outputs.composeStacks);
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
