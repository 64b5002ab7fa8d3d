/**
 * LAB STAND-IN for `pulumi-resource-command` 1.2.1, the plugin behind `@pulumi/command`.
 *
 * The real provider cannot be built on these machines (the Go module proxy refuses
 * github.com/pulumi/pulumi-command/provider, see docs/engine.md), so the engine tests install this
 * one under the same name and version. It implements only what this project's components use,
 * following the real provider's 1.2.1 behaviour:
 *
 * - `command:remote:Command`: `connection` {host, port, user, privateKey, perDialTimeout,
 *   dialErrorLimit, proxy}, `create`, `update`, `delete`, `stdin`, `triggers`, `environment`,
 *   `logging`; outputs the inputs plus `stdout` and `stderr` (one trailing newline trimmed).
 * - `command:local:Command`: the same with `/bin/sh -c` on this machine, plus `dir`.
 * - Diff: a change to `connection` or `triggers` replaces (create the new one, then delete the old
 *   one; see triggersReplace); a change to any other input updates (runs `update`, or `create` when
 *   `update` is unset); no change runs nothing.
 * - Delete runs `delete` when set. Preview runs nothing (the engine does not call create/update).
 *
 * Not implemented (refused in check, never silently ignored): password and agent authentication,
 * host key checking, `addPreviousOutputInEnv`'s PULUMI_COMMAND_STDOUT/_STDERR variables, local
 * `interpreter`, `assetPaths`, `archivePaths`, and the CopyToRemote/CopyFile resources. Outputs are
 * secret exactly where the engine makes them so (inputs keep their secretness, and
 * `additionalSecretOutputs` applies); the provider itself never prints a secret: logged output and
 * error text have every secret input redacted, and `logging: "none"` prints nothing.
 *
 * Remote commands are only sent to lab addresses (10.213.0.0/16) and loopback. Every command it
 * runs is appended (operation, type, resource name, host) to the file named by
 * PULUMI_COMMAND_STANDIN_JOURNAL, when set, so tests can prove that an `up` ran nothing.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import type * as pulumiProvider from "@pulumi/pulumi/provider";
import {
  assertLabAddress,
  Connection,
  redact,
  runLocal,
  runRemote,
  RunResult,
  SUPPORTED_CONNECTION_FIELDS,
} from "./exec";
import { engineLog } from "./engineLog";
import { canonical, containsUnknown, reveal, secretStrings, UNKNOWN } from "./wire";

/** The version of `@pulumi/command` this stands in for (its package.json asks for this plugin version). */
export const VERSION = "1.2.1";
export const REMOTE = "command:remote:Command";
export const LOCAL = "command:local:Command";

type Logging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

/** Inputs of both Command types, secrets revealed. */
interface CommandInputs {
  connection?: Connection;
  create?: string;
  update?: string;
  delete?: string;
  stdin?: string;
  triggers?: unknown[];
  environment?: Record<string, string>;
  logging?: Logging;
  dir?: string;
}

/** Inputs a diff compares; a change to `connection` replaces, to any other one updates. */
const DIFFED_INPUTS = [
  "connection",
  "triggers",
  "create",
  "update",
  "delete",
  "stdin",
  "environment",
  "logging",
  "dir",
];
const REMOTE_INPUTS = [...DIFFED_INPUTS.filter((k) => k !== "dir"), "addPreviousOutputInEnv"];
const LOCAL_INPUTS = [...DIFFED_INPUTS.filter((k) => k !== "connection"), "addPreviousOutputInEnv"];
const LOGGING = ["stdout", "stderr", "stdoutAndStderr", "none"];

/** The resource type and name in a URN (`urn:pulumi:stack::project::parent$type::name`). */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: (parts[2] ?? "").split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

/** Validation failures of a Command's inputs (unknown values pass: they are checked again later). */
export function checkInputs(type: string, news: Record<string, unknown>): pulumiProvider.CheckFailure[] {
  const failures: pulumiProvider.CheckFailure[] = [];
  const allowed = type === REMOTE ? REMOTE_INPUTS : type === LOCAL ? LOCAL_INPUTS : undefined;
  if (!allowed) return [{ property: "", reason: `${type} is not implemented by this lab stand-in` }];
  for (const key of Object.keys(news)) {
    if (!allowed.includes(key)) {
      failures.push({ property: key, reason: `${key} is not implemented by this lab stand-in of ${type}` });
    }
  }
  const inputs = reveal(news) as Record<string, unknown>;
  if (
    inputs.logging !== undefined &&
    inputs.logging !== UNKNOWN &&
    !LOGGING.includes(String(inputs.logging))
  ) {
    failures.push({ property: "logging", reason: `logging must be one of ${LOGGING.join(", ")}` });
  }
  if (type !== REMOTE) return failures;
  const checkConnection = (conn: unknown, prefix: string) => {
    if (conn === UNKNOWN) return;
    if (typeof conn !== "object" || conn === null) {
      failures.push({ property: prefix, reason: `${prefix} is required` });
      return;
    }
    const c = conn as Record<string, unknown>;
    for (const key of Object.keys(c)) {
      if (!SUPPORTED_CONNECTION_FIELDS.includes(key) && c[key] !== undefined && c[key] !== null) {
        failures.push({
          property: `${prefix}.${key}`,
          reason: `${prefix}.${key} is not implemented by this lab stand-in`,
        });
      }
    }
    if (typeof c.host === "string" && c.host !== UNKNOWN) {
      try {
        assertLabAddress(c.host);
      } catch (err) {
        failures.push({ property: `${prefix}.host`, reason: (err as Error).message });
      }
    }
    if (c.proxy !== undefined && c.proxy !== null) checkConnection(c.proxy, `${prefix}.proxy`);
  };
  checkConnection(inputs.connection, "connection");
  return failures;
}

/**
 * Whether a change to `triggers` replaces even when `update` is set. The 1.2.1 SDK registers every
 * Command with `replaceOnChanges: ["triggers[*]"]`, so with the real provider a trigger change
 * replaces (pulumi/pulumi-command#855), although the docs say "updated when `update` is set". This
 * provider's protocol server returns no detailed diff for the engine to apply that option to, so
 * the stand-in applies it itself. PULUMI_COMMAND_STANDIN_TRIGGERS=update-if-set gives the documented
 * behaviour instead.
 */
function triggersReplace(): boolean {
  return process.env.PULUMI_COMMAND_STANDIN_TRIGGERS !== "update-if-set";
}

/** What the engine should do when a Command's inputs go from `olds` (its state) to `news`. */
export function diffInputs(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumiProvider.DiffResult {
  const plainOld = reveal(olds) as Record<string, unknown>;
  const plainNew = reveal(news) as Record<string, unknown>;
  const changed = DIFFED_INPUTS.filter(
    (key) => containsUnknown(plainNew[key]) || canonical(plainOld[key]) !== canonical(plainNew[key]),
  );
  const replaces = changed.filter(
    (key) =>
      key === "connection" || (key === "triggers" && (triggersReplace() || plainNew.update === undefined)),
  );
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

function journal(op: string, type: string, name: string, where: string): void {
  const file = process.env.PULUMI_COMMAND_STANDIN_JOURNAL;
  if (file) fs.appendFileSync(file, `${op}\t${type}\t${name}\t${where}\n`);
}

/** Runs one of the resource's commands; throws with redacted stderr when it fails. */
async function execute(
  op: "create" | "update" | "delete",
  urn: string,
  wireInputs: Record<string, unknown>,
  command: string,
): Promise<RunResult> {
  const { type, name } = parseUrn(urn);
  const inputs = reveal(wireInputs) as CommandInputs;
  const secrets = secretStrings(wireInputs);
  const logging: Logging = inputs.logging ?? "stdoutAndStderr";
  const where = type === REMOTE ? (inputs.connection?.host ?? "?") : "local";
  if (type === REMOTE) {
    assertLabAddress(inputs.connection?.host ?? "");
    if (inputs.connection?.proxy) assertLabAddress(inputs.connection.proxy.host);
  }
  journal(op, type, name, where);
  const result =
    type === REMOTE
      ? await runRemote(inputs.connection!, command, inputs.stdin ?? "", inputs.environment ?? {})
      : await runLocal(command, inputs.stdin ?? "", inputs.environment ?? {}, inputs.dir);
  // What `logging` lets through goes to the engine under the resource, like the real provider's output.
  const shown = [
    ...(logging === "stdout" || logging === "stdoutAndStderr" ? [result.stdout] : []),
    ...(logging === "stderr" || logging === "stdoutAndStderr" ? [result.stderr] : []),
  ]
    .join("")
    .trimEnd();
  await engineLog(urn, redact(shown, secrets));
  if (result.code !== 0) {
    const detail =
      logging === "stderr" || logging === "stdoutAndStderr"
        ? `:\n${redact(result.stderr.trimEnd().split("\n").slice(-40).join("\n"), secrets)}`
        : " (output withheld: logging is not stderr)";
    throw new Error(`${name}: the ${op} command exited with code ${result.code} on ${where}${detail}`);
  }
  return { ...result, stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
}

/** The provider served to the engine. */
export const commandProvider: pulumiProvider.Provider = {
  version: VERSION,

  async check(urn, _olds, news) {
    const failures = checkInputs(parseUrn(urn).type, news as Record<string, unknown>);
    return { inputs: news, failures };
  },

  async diff(_id, _urn, olds, news) {
    return diffInputs(olds, news);
  },

  async create(urn, inputs) {
    const id = `${parseUrn(urn).name}${crypto.randomBytes(4).toString("hex")}`;
    const create = reveal(inputs.create) as string | undefined;
    if (create === undefined) return { id, outs: { ...inputs, stdout: "", stderr: "" } };
    const { stdout, stderr } = await execute("create", urn, inputs, create);
    return { id, outs: { ...inputs, stdout, stderr } };
  },

  async update(_id, urn, olds, news) {
    const command = (reveal(news.update) ?? reveal(news.create)) as string | undefined;
    if (command === undefined)
      return { outs: { ...news, stdout: olds.stdout ?? "", stderr: olds.stderr ?? "" } };
    const { stdout, stderr } = await execute("update", urn, news, command);
    return { outs: { ...news, stdout, stderr } };
  },

  async delete(_id, urn, props) {
    const command = reveal(props.delete) as string | undefined;
    if (command !== undefined) await execute("delete", urn, props, command);
  },
};
