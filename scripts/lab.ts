/**
 * The main job on the built-in lab, as a user runs it: five lab hosts on this machine (network
 * namespaces with their own IP, sshd and dockerd), then the real `pulumi up` of the `lab` stack
 * (stacks/Pulumi.lab.yaml) with the engine's own progress: a 3-manager + 2-worker swarm, the
 * overlay `volatile` with a 3-replica service through the Docker provider, and a compose stack.
 * It then waits for the services to converge and prints the nodes and services.
 *
 *   npm run lab         toolchain (built once), lab hosts, `pulumi up --stack lab` (a re-run changes nothing)
 *   npm run lab:down    `pulumi destroy`, then the lab hosts are removed
 *
 * State lives in a local backend under .lab/state; the lab's secrets passphrase is a lab-only default.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Lab, labUnavailableReason } from "../test/lab/lab";
import { engineEnv, REPO } from "../test/engine/engine";
import { showConvergedLab } from "./labShow";

const LAB_ID = 1;
const HOSTS = 5;
const STACK = "lab";
const STATE = path.join(REPO, ".lab", "state");
const env = { ...process.env, ...engineEnv(STATE) };

function step(text: string): void {
  console.log(`\n==> ${text}`);
}

/** Runs the real CLI in the project directory; its output goes straight to the terminal. */
function pulumi(args: string[], opts: { quiet?: boolean; allowFailure?: boolean } = {}): string {
  const result = spawnSync("pulumi", args, {
    cwd: REPO,
    env,
    encoding: "utf8",
    stdio: opts.quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0 && !opts.allowFailure) {
    throw new Error(
      `pulumi ${args.join(" ")} exited ${result.status}${opts.quiet ? `: ${result.stderr.trim()}` : ""}`,
    );
  }
  return result.stdout ?? "";
}

function setupToolchain(): void {
  step(
    "the Pulumi toolchain: CLI, Node.js language host, command and docker providers (built once, ~20 min cold)",
  );
  const result = spawnSync("bash", [path.join(REPO, "scripts", "setup-pulumi-tools.sh")], {
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error("scripts/setup-pulumi-tools.sh failed (see above)");
}

async function up(): Promise<void> {
  const reason = labUnavailableReason();
  if (reason)
    throw new Error(
      `the lab cannot run here: ${reason}. Run as root on Linux after: apt-get install docker.io openssh-server iproute2 busybox-static curl sudo`,
    );
  const started = Date.now();
  setupToolchain();
  step(`starting ${HOSTS} lab hosts (lab${LAB_ID}-1..${HOSTS}, 10.213.${LAB_ID}.11-${10 + HOSTS})`);
  const lab = await Lab.up(LAB_ID, HOSTS);
  console.log(`    ${lab.hosts.map((h) => `${h.name}=${h.ip}`).join("  ")}`);

  fs.mkdirSync(STATE, { recursive: true });
  pulumi(["stack", "select", "--create", STACK], { quiet: true });
  step(`pulumi up --stack ${STACK} (backend ${path.relative(REPO, STATE)})`);
  pulumi(["up", "--stack", STACK, "--yes"]);

  const outputs = JSON.parse(pulumi(["stack", "output", "--stack", STACK, "--json"], { quiet: true })) as {
    composeStacks?: string[];
    services?: string[];
  };
  await showConvergedLab(lab, outputs.composeStacks ?? [], outputs.services ?? []);
  console.log(
    `lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Try: curl http://${lab.hosts[3].ip}:8080/hostname`,
  );
  console.log(
    `SSH: ssh -i ${lab.privateKeyPath} root@${lab.hosts[0].ip}    Remove everything: npm run lab:down`,
  );
}

async function down(): Promise<void> {
  const hostsUp = fs.existsSync(`/tmp/pulumi-swarm-lab/lab${LAB_ID}/count`);
  if (fs.existsSync(STATE)) {
    const stacks = pulumi(["stack", "ls", "--json"], { quiet: true, allowFailure: true });
    if (stacks.includes(`"${STACK}"`)) {
      if (hostsUp) {
        step(`pulumi destroy --stack ${STACK}`);
        pulumi(["destroy", "--stack", STACK, "--yes"]);
      }
      pulumi(["stack", "rm", STACK, "--yes", "--force", "--preserve-config"], { quiet: true });
    }
  }
  step(`removing lab ${LAB_ID}`);
  const lab = await Lab.up(LAB_ID, 0).catch(() => undefined);
  if (lab) await lab.down();
  console.log("lab removed");
}

const action = process.argv[2] ?? "up";
(action === "down" ? down() : up()).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`\nlab ${action} failed: ${err.message}`);
    process.exit(1);
  },
);
