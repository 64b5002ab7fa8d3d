/**
 * The stack config's errors: zod's issues turned into one line per problem, naming the config key
 * (in `pulumi config set --path` syntax), the value received and the fix, with "did you mean" for
 * mistyped keys and never the value of a secret-looking one.
 */
import { z } from "zod";
import { rules } from "../../index";
import { NO_VALUE } from "./crossChecks";
import { KINDS_FIX } from "./hostsSchema";
import { CONFIG_KEYS, SECRET_KEYS } from "./keys";

/** One problem in the stack config. */
export interface ConfigProblem {
  /** The config key, in `pulumi config set --path` syntax, e.g. `pulumi-swarm:cluster.managers`. */
  key: string;
  /** What was received, rendered for the message (never a secret). */
  received: string;
  /** What to do. */
  fix: string;
}

/** The stack config is invalid: one line per problem, "<key>: received <value>. <fix>". */
export class StackConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly source?: string,
  ) {
    super(problems.map((p) => `${p.key}: received ${p.received}. ${p.fix}`).join("\n"));
    this.name = "StackConfigError";
  }
}

/** `["pulumi-swarm:hosts", "servers", 2, "address"]` -> `pulumi-swarm:hosts.servers[2].address`. */
export function configKeyOf(path: readonly PropertyKey[]): string {
  let key = "";
  for (const part of path) {
    if (typeof part === "number") key += `[${part}]`;
    else if (key === "") key = String(part);
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(part))) key += `.${String(part)}`;
    else key += `[${JSON.stringify(String(part))}]`;
  }
  return key;
}

const SECRET_NAME = /key|password|passwd|token|secret|credential/i;

/** The known keys of the object at `path` (for "did you mean"), read from the schema. */
function knownKeys(schema: z.ZodType, input: unknown, path: readonly PropertyKey[]): string[] {
  let shape: z.ZodType | undefined = schema;
  let value: unknown = input;
  const unwrap = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let current = s;
    for (let i = 0; i < 8 && current; i++) {
      const def = (current as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (
        def.type === "optional" ||
        def.type === "default" ||
        def.type === "prefault" ||
        def.type === "nullable"
      )
        current = def.innerType as z.ZodType;
      else if (def.type === "pipe") current = def.in as z.ZodType;
      else if (def.type === "union" && Array.isArray(def.options)) {
        const kind = (value as { kind?: unknown } | undefined)?.kind;
        const options = def.options as z.ZodType[];
        current =
          options.find((o) => {
            const k = (o as unknown as { shape?: Record<string, z.ZodType> }).shape?.kind;
            return (
              k && (k as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def.values?.includes(kind)
            );
          }) ?? options[0];
      } else return current;
    }
    return current;
  };
  for (const part of path) {
    shape = unwrap(shape);
    const def = shape ? (shape as unknown as { _zod: { def: Record<string, unknown> } })._zod.def : undefined;
    if (!def) return [];
    if (def.type === "object") shape = (def.shape as Record<string, z.ZodType>)[String(part)];
    else if (def.type === "array") shape = def.element as z.ZodType;
    else return [];
    value = (value as Record<PropertyKey, unknown> | undefined)?.[part as string];
  }
  shape = unwrap(shape);
  const def = shape ? (shape as unknown as { _zod: { def: Record<string, unknown> } })._zod.def : undefined;
  return def?.type === "object" ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i][j] = Math.min(
          d[i - 1][j] + 1,
          d[i][j - 1] + 1,
          d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length][b.length];
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const dist = distance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** Turns zod's issues into the problems of a {@link StackConfigError}. */
export function problemsOf(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const iss of issues) {
    if (iss.code === "unrecognized_keys") {
      const known = knownKeys(schema, input, iss.path);
      for (const key of iss.keys) {
        const at = configKeyOf([...iss.path, key]);
        const suggestion = closest(key, known);
        if (iss.path.length === 0) {
          problems.push({
            key: at,
            received: "a key this program does not read",
            fix: `Known keys: ${[...Object.values(CONFIG_KEYS), ...Object.values(SECRET_KEYS)].join(", ")}${suggestion ? `; did you mean ${suggestion}?` : "."}`,
          });
        } else if (SECRET_NAME.test(key)) {
          problems.push({
            key: at,
            received: "a secret-looking key in plain config (value not shown)",
            fix: `Remove it: secrets never go in plain config. Set keys and passwords with \`pulumi config set --secret\`, e.g. \`pulumi config set --secret ${SECRET_KEYS.sshPrivateKey} < ~/.ssh/id_ed25519\`.`,
          });
        } else {
          problems.push({
            key: at,
            received: "an unknown key",
            fix: `${suggestion ? `Did you mean ${suggestion}? ` : ""}Known keys here: ${known.join(", ")}.`,
          });
        }
      }
      continue;
    }
    let received = "input" in iss && iss.input !== NO_VALUE ? rules.describeValue(iss.input) : "undefined";
    let fix = iss.message;
    if (iss.code === "invalid_union" && iss.path[iss.path.length - 1] === "kind") {
      fix = KINDS_FIX;
      const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
      received = rules.describeValue(kind);
    }
    problems.push({ key: configKeyOf(iss.path), received, fix });
  }
  return problems;
}
