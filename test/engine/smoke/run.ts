/**
 * Engine smoke test: drives the real Pulumi CLI (built by scripts/setup-pulumi-tools.sh) through the
 * Automation API. Run it with test/engine/smoke.sh, which compiles this file and sets the environment.
 *
 * Inline programs: @pulumi/pulumi serves the language runtime in this process and hands its address
 * to the CLI (--client); the CLI runs the real provider plugins.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { Checks, changes, requireEnv as requireEnvOf } from "../checks";
import { COMMAND_MESSAGE, ECHO_MESSAGE, commandProgram, echoProgram } from "./program";

const PROJECT = "swarm-engine-smoke";
const COMMAND_PLUGIN_VERSION = "1.2.1";

/** How the engine marks a secret value in state (the same sigil the SDK uses on the wire). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

interface StateResource {
  type: string;
  outputs?: Record<string, unknown>;
}

const checks = new Checks();
const check = checks.check.bind(checks);
const requireEnv = (name: string) => requireEnvOf(name, "test/engine/smoke.sh");

async function timed<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const start = Date.now();
  const result = await fn();
  return [result, `${((Date.now() - start) / 1000).toFixed(1)}s`];
}

function backendDir(): string {
  const url = requireEnv("PULUMI_BACKEND_URL");
  if (!url.startsWith("file://")) throw new Error(`PULUMI_BACKEND_URL must be file://, got ${url}`);
  return url.slice("file://".length);
}

/** The root stack resource's `token` output must be a secret sigil wrapping ciphertext, not a value. */
function secretOutputIsCiphertext(exported: string): boolean {
  const deployment = (JSON.parse(exported) as { deployment: { resources?: StateResource[] } }).deployment;
  const root = deployment.resources?.find((r) => r.type === "pulumi:pulumi:Stack");
  const token = root?.outputs?.token as Record<string, unknown> | undefined;
  return (
    token?.[SECRET_SIG] === SECRET_SIG_VALUE &&
    typeof token.ciphertext === "string" &&
    token.ciphertext.length > 0 &&
    !("plaintext" in token)
  );
}

function journalLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

function commandPluginInstalled(): boolean {
  const plugins = JSON.parse(
    execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" }) || "[]",
  ) as {
    name: string;
    kind: string;
    version: string;
  }[];
  return plugins.some(
    (p) => p.name === "command" && p.kind === "resource" && p.version === COMMAND_PLUGIN_VERSION,
  );
}

async function newStack(
  stackName: string,
  workDir: string,
  program: () => Promise<Record<string, unknown>>,
): Promise<Stack> {
  fs.mkdirSync(workDir, { recursive: true });
  return LocalWorkspace.createStack(
    { projectName: PROJECT, stackName, program },
    {
      workDir,
      projectSettings: {
        name: PROJECT,
        runtime: "nodejs",
        backend: { url: requireEnv("PULUMI_BACKEND_URL") },
      },
    },
  );
}

async function removeStack(stack: Stack): Promise<void> {
  await stack.workspace.removeStack(stack.name, { force: true });
}

/** up, up again, export, destroy: the life of one stack with a provider plugin and a secret. */
async function echoStack(workRoot: string, suffix: string): Promise<void> {
  const journal = path.join(workRoot, "echo-journal.txt");
  const token = `smoke-secret-${crypto.randomBytes(12).toString("hex")}`;
  const engineOutput: string[] = [];
  const onOutput = (line: string) => engineOutput.push(line);

  const stack = await newStack(`echo-${suffix}`, path.join(workRoot, "echo"), echoProgram(journal));
  try {
    await stack.setConfig("token", { value: token, secret: true });

    const [up1, up1Time] = await timed(() => stack.up({ onOutput }));
    check(
      "first up creates the stack and the echo resource",
      JSON.stringify(changes(up1.summary.resourceChanges)) === JSON.stringify({ create: 2 }),
      `${JSON.stringify(changes(up1.summary.resourceChanges))}, ${up1Time}`,
    );
    check("echo provider ran once", journalLines(journal).length === 1, journalLines(journal).join("; "));
    check(
      "stdout output read back",
      up1.outputs.stdout?.value === ECHO_MESSAGE,
      String(up1.outputs.stdout?.value),
    );
    check(
      "token output is a secret holding the configured value",
      up1.outputs.token?.secret === true && up1.outputs.token.value === token,
    );

    const [up2, up2Time] = await timed(() => stack.up({ onOutput }));
    check(
      "second up with nothing changed reports no changes",
      Object.keys(changes(up2.summary.resourceChanges)).length === 0,
      `${JSON.stringify(up2.summary.resourceChanges)}, ${up2Time}`,
    );
    check("second up ran no provider operation", journalLines(journal).length === 1);

    const [preview, previewTime] = await timed(() => stack.preview({ onOutput }));
    check(
      "preview with nothing changed reports no changes",
      Object.keys(changes(preview.changeSummary)).length === 0,
      `${JSON.stringify(preview.changeSummary)}, ${previewTime}`,
    );

    // Not stack.exportStack(): the Automation API exports with --show-secrets.
    const exported = execFileSync("pulumi", ["stack", "export", "--stack", stack.name], {
      cwd: stack.workspace.workDir,
      encoding: "utf8",
    });
    check("`pulumi stack export` does not contain the secret in plain text", !exported.includes(token));
    check("`pulumi stack export` holds the token output as ciphertext", secretOutputIsCiphertext(exported));
    const stateFile = path.join(backendDir(), ".pulumi", "stacks", PROJECT, `${stack.name}.json`);
    const onDisk = fs.existsSync(stateFile) ? fs.readFileSync(stateFile, "utf8") : "";
    check(
      "state file on disk holds the secret only encrypted",
      onDisk.length > 0 && !onDisk.includes(token),
      stateFile,
    );
    const config = fs.readFileSync(path.join(stack.workspace.workDir, `Pulumi.${stack.name}.yaml`), "utf8");
    check("stack config holds the secret encrypted", config.includes("secure:") && !config.includes(token));
    check("engine output does not contain the secret", !engineOutput.join("\n").includes(token));

    const [down, downTime] = await timed(() => stack.destroy({ onOutput }));
    check(
      "destroy deletes the echo resource and the stack",
      JSON.stringify(changes(down.summary.resourceChanges)) === JSON.stringify({ delete: 2 }),
      `${JSON.stringify(changes(down.summary.resourceChanges))}, ${downTime}`,
    );
    check("echo provider ran delete", journalLines(journal)[1] === `delete ${ECHO_MESSAGE}`);
    const after = (await stack.exportStack()).deployment as { resources?: unknown[] };
    check("state is empty after destroy", (after.resources ?? []).length === 0);
  } finally {
    await removeStack(stack);
  }
}

/** A local.Command through the real pulumi-resource-command (setup-pulumi-tools.sh installs it). */
async function commandStack(workRoot: string, suffix: string): Promise<void> {
  if (!commandPluginInstalled()) {
    check(
      `pulumi-resource-command ${COMMAND_PLUGIN_VERSION} is installed`,
      false,
      "run scripts/setup-pulumi-tools.sh (docs/engine.md)",
    );
    return;
  }
  const stack = await newStack(`command-${suffix}`, path.join(workRoot, "command"), commandProgram());
  try {
    const [up, upTime] = await timed(() => stack.up());
    check(
      "local.Command runs through pulumi-resource-command",
      up.outputs.stdout?.value === COMMAND_MESSAGE,
      upTime,
    );
    const [down, downTime] = await timed(() => stack.destroy());
    check("local.Command destroyed", changes(down.summary.resourceChanges).delete === 2, downTime);
  } finally {
    await removeStack(stack);
  }
}

async function main(): Promise<void> {
  const workRoot = requireEnv("SMOKE_WORK_DIR");
  const suffix = `${process.pid}`;
  const version = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
  console.log(`engine smoke: pulumi ${version}, backend ${requireEnv("PULUMI_BACKEND_URL")}`);
  for (const [name, step] of [
    ["echo stack", echoStack],
    ["command stack", commandStack],
  ] as const) {
    try {
      await step(workRoot, suffix);
    } catch (err) {
      check(`${name} ran to the end`, false, err instanceof Error ? err.message.slice(0, 2000) : String(err));
    }
  }
  checks.finish();
}

void main();
