/**
 * The lab stack (stacks/Pulumi.lab.yaml) through the real Pulumi engine: `pulumi up` of the stack
 * program on the five lab hosts with a local backend, then the nodes and services it built; `down`
 * destroys the stack and removes the lab hosts. Run through scripts/lab-engine.sh, which provides
 * the CLI and the environment. An inline Automation API program, because the Node.js language
 * host cannot be built here; no `docker.*` resources, because the Docker provider plugin cannot be
 * either (the lab stack deploys its services with ComposeStack over SSH).
 */
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { Lab } from "../test/lab/lab";
import { showConvergedLab } from "./labShow";

const LAB_ID = 1;
const REPO = path.join(__dirname, "..");
const STACK_FILE = path.join(REPO, "stacks", "Pulumi.lab.yaml");

async function stack() {
  const backend = process.env.PULUMI_BACKEND_URL;
  if (!backend)
    throw new Error(
      "PULUMI_BACKEND_URL is not set: run this through scripts/lab-engine.sh (npm run lab:engine)",
    );
  const program = async () => {
    const { buildStack, loadStackFile } = await import("../stacks/program");
    const built = buildStack(loadStackFile(STACK_FILE), {}, { dockerProvider: false, baseDir: REPO });
    return {
      managerAddress: built.outputs.managerAddress,
      nodeIds: built.outputs.nodeIds,
      stacks: built.outputs.composeStacks,
    };
  };
  return LocalWorkspace.createOrSelectStack(
    { projectName: "pulumi-swarm", stackName: "lab", program },
    {
      workDir: path.join(REPO, ".lab"),
      projectSettings: { name: "pulumi-swarm", runtime: "nodejs", backend: { url: backend } },
    },
  );
}

async function up(): Promise<void> {
  const started = Date.now();
  console.log("==> starting 5 lab hosts (lab1-1..5, 10.213.1.11-15)");
  const lab = await Lab.up(LAB_ID, 5);
  console.log("==> pulumi up (stack lab)");
  const s = await stack();
  const result = await s.up({ onOutput: (line) => process.stdout.write(line) });
  await showConvergedLab(lab, (result.outputs.stacks?.value as string[] | undefined) ?? []);
  console.log(
    `lab up through the engine in ${((Date.now() - started) / 1000).toFixed(1)} s. Remove it: npm run lab:engine -- down`,
  );
}

async function down(): Promise<void> {
  console.log("==> pulumi destroy (stack lab)");
  const s = await stack();
  await s.destroy({ onOutput: (line) => process.stdout.write(line) });
  const lab = await Lab.up(LAB_ID, 0);
  await lab.down();
  console.log("lab stack destroyed and lab hosts removed");
}

const action = process.argv[2] ?? "up";
(action === "down" ? down() : up()).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`\nlab:engine ${action} failed: ${err.message}`);
    process.exit(1);
  },
);
