import * as pulumi from "@pulumi/pulumi";
import {
  CheckOwner,
  InputCheck,
  checkedInput,
  fail,
  isHostAddress,
  isKnown,
  requireDnsLabel,
  requirePort,
} from "../validation";
import { SwarmHost } from "../hosts/types";
import { CicdTool, HostRequirements, TOOL_MINIMUMS } from "./scripts/preflight";
import { SAFE_SECRET_CHARS, isSafeSecret } from "../shell";
import { isImageTag } from "./versions";

/** Throws unless every port is valid and no two are the same. */
export function requireDistinctPorts(ports: [argument: string, port: number][]): void {
  const seen = new Map<number, string>();
  for (const [argument, port] of ports) {
    requirePort(argument, port);
    const other = seen.get(port);
    if (other !== undefined) {
      fail(argument, port, `It is already used by ${other}; give each port its own number.`);
    }
    seen.set(port, argument);
  }
}

/** Throws unless `value` looks like a Docker image tag. */
export function requireImageTag(argument: string, value: string): void {
  if (typeof value !== "string" || !isImageTag(value)) {
    fail(
      argument,
      value,
      'Use an image tag: letters, digits, "_", "." or "-", at most 128 characters, e.g. "19.4.1-ce.0".',
    );
  }
}

/** Throws unless `value` is an absolute directory path made of plain characters (it is used in shell and YAML). */
export function requireDataDir(argument: string, value: string): void {
  if (
    typeof value !== "string" ||
    !/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(value) ||
    value.split("/").some((part) => part === "." || part === "..")
  ) {
    fail(
      argument,
      value,
      'Use an absolute path of letters, digits, ".", "_", "-" and "/", not "/" itself and without "..", e.g. "/srv/gitlab".',
    );
  }
}

/** Throws unless `value` is a whole number of `unit` in [min, max]. */
export function requireSeconds(
  argument: string,
  value: number,
  min: number,
  max: number,
  unit = "seconds",
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(argument, value, `Use a whole number of ${unit} between ${min} and ${max}.`);
  }
}

/** Throws unless `host` is a usable SwarmHost. */
export function requireHost(host: SwarmHost | undefined): SwarmHost {
  if (!host || typeof host !== "object" || !host.connection) {
    fail(
      "host",
      host === undefined ? undefined : "(no connection)",
      "Pass the SwarmHost the tool runs on, e.g. one of `new AwsHosts(...).hosts`.",
    );
  }
  requireDnsLabel("host.name", host.name);
  return host;
}

/** Throws when a known address is not an IPv4 address or DNS name; refuses loopback (clients cannot reach it). */
export function requireAddress(argument: string, value: pulumi.Input<string> | undefined): void {
  if (!isKnown(value)) return;
  if (!isHostAddress(value)) {
    fail(argument, value, "Use the IPv4 address or DNS name clients reach the host on.");
  }
  if (value === "localhost" || value.startsWith("127.")) {
    fail(argument, value, "Use an address other hosts can reach; loopback only works on the host itself.");
  }
}

/** Sizes the user declares for a host (e.g. from its instance type), checked before anything is created. */
export interface HostSize {
  /** CPUs of the host. */
  cpus?: number;
  /** Memory of the host in GiB. */
  memoryGiB?: number;
  /** Free disk in GiB where the tool keeps its data. */
  diskGiB?: number;
}

/** Raised minimums for the preflight check (each at least the tool's floor). */
export type RequirementsOverride = HostSize;

const SIZE_LABELS: Record<keyof HostSize, string> = {
  cpus: "CPUs",
  memoryGiB: "GiB of memory",
  diskGiB: "GiB of free disk",
};
const SIZE_KEYS = Object.keys(SIZE_LABELS) as (keyof HostSize)[];

/**
 * The tool's requirements with the user's raises applied; refuses a value below the tool's floor
 * and a declared host size below the result, so a host too small fails before anything exists.
 */
export function resolveRequirements(
  tool: CicdTool,
  override: RequirementsOverride | undefined,
  hostSize: HostSize | undefined,
): HostRequirements {
  const floor = TOOL_MINIMUMS[tool];
  requireAtLeast(
    tool,
    "requirements",
    override,
    floor,
    "requirements can raise the minimums, not lower them.",
  );
  const result: HostRequirements = { ...floor };
  for (const key of SIZE_KEYS) result[key] = override?.[key] ?? floor[key];
  requireAtLeast(tool, "hostSize", hostSize, result, "choose a larger host (instance type or disk).");
  return result;
}

/** Throws unless each size given in `sizes` is positive (CPUs whole) and at least its minimum. */
function requireAtLeast(
  tool: CicdTool,
  argument: string,
  sizes: HostSize | undefined,
  minimums: HostRequirements,
  fix: string,
): void {
  for (const key of SIZE_KEYS) {
    const value = sizes?.[key];
    if (value === undefined) continue;
    requirePositive(`${argument}.${key}`, value, key === "cpus");
    if (value < minimums[key]) {
      fail(
        `${argument}.${key}`,
        value,
        `${tool} needs at least ${minimums[key]} ${SIZE_LABELS[key]}; ${fix}`,
      );
    }
  }
}

function requirePositive(argument: string, value: number, integer: boolean): void {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    fail(argument, value, integer ? "Use a whole number greater than 0." : "Use a number greater than 0.");
  }
}

/** What a tool demands of an admin password. */
export interface PasswordRule {
  /** Minimum length. */
  minLength: number;
  /** Needs upper case, lower case and a digit. */
  mixed: boolean;
  /** Needs a character that is neither a letter nor a digit. */
  special: boolean;
}

/** The reason a password breaks `rule`, or undefined when it is fine. Never includes the password. */
export function passwordProblem(value: string, rule: PasswordRule): string | undefined {
  if (typeof value !== "string" || value.length < rule.minLength || value.length > 128) {
    return `Use ${rule.minLength} to 128 characters`;
  }
  if (!isSafeSecret(value)) return `Use only the characters ${SAFE_SECRET_CHARS}`;
  if (rule.mixed && !(/[A-Z]/.test(value) && /[a-z]/.test(value) && /\d/.test(value))) {
    return "Include an upper-case letter, a lower-case letter and a digit";
  }
  if (rule.special && !/[^A-Za-z0-9]/.test(value)) return "Include a character that is not a letter or digit";
  return undefined;
}

/**
 * A password as the component uses it: checked now when known, or when it resolves, with the same
 * rule and the same message (tied to `owner`); the value is never shown. Always secret.
 */
export function checkedPassword(
  argument: string,
  value: pulumi.Input<string>,
  rule: PasswordRule,
  owner?: CheckOwner,
): pulumi.Output<string> {
  const check: InputCheck<string> = (arg, resolved) => requireUsablePassword(arg, resolved, rule);
  return pulumi.secret(pulumi.output(checkedInput(argument, value, check, owner)));
}

/** Throws when a password known now breaks `rule`; the error never shows the value. */
export function requireUsablePassword(
  argument: string,
  value: pulumi.Input<string> | undefined,
  rule: PasswordRule,
): void {
  if (!isKnown(value)) return;
  const problem = passwordProblem(value, rule);
  if (problem) fail(argument, "(secret, not shown)", `${problem}.`);
}

/** Throws unless a compose project name is a DNS label. */
export function requireProjectName(argument: string, value: string): void {
  requireDnsLabel(argument, value);
}
