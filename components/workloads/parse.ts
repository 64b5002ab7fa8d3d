import { fail } from "../validation";

/*
 * Friendly values (durations like "10s", memory like "512M", image references) turned into what the
 * Docker provider stores. Pure functions: they throw a ValidationError naming the argument.
 */

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "\u00b5s": 1_000n,
  "\u03bcs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const DURATION = /^((\d+(\.\d+)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+)(?:\.(\d+))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

/** Nanoseconds of a Go-style duration ("10s", "1m30s", "500ms", "1.5h"); throws when it does not parse. */
export function durationNanos(argument: string, value: string): bigint {
  if (value === "0") return 0n;
  if (typeof value !== "string" || !DURATION.test(value)) {
    fail(
      argument,
      value,
      'Use a duration made of a number and a unit (ns, us, ms, s, m, h), e.g. "10s", "500ms" or "1m30s".',
    );
  }
  let total = 0n;
  for (const match of value.matchAll(DURATION_PART)) {
    const unit = NS_PER_UNIT[match[3]];
    total += BigInt(match[1]) * unit;
    if (match[2]) total += (BigInt(match[2]) * unit) / 10n ** BigInt(match[2].length);
  }
  return total;
}

/**
 * Formats nanoseconds the way the Docker provider reads durations back (Go's Duration.String with
 * the provider's trimming of "0s"/"0m"), so a value written by this library never shows a diff.
 */
export function formatDuration(nanos: bigint): string {
  if (nanos === 0n) return "0s";
  if (nanos < 1_000n) return `${nanos}ns`;
  if (nanos < 1_000_000n) return `${fraction(nanos, 3)}\u00b5s`;
  if (nanos < 1_000_000_000n) return `${fraction(nanos, 6)}ms`;
  const secondsPart = fraction(nanos % 60_000_000_000n, 9);
  const minutes = nanos / 60_000_000_000n;
  let text: string;
  if (minutes === 0n) text = `${secondsPart}s`;
  else if (minutes < 60n) text = `${minutes}m${secondsPart}s`;
  else text = `${minutes / 60n}h${minutes % 60n}m${secondsPart}s`;
  if (text.endsWith("m0s")) text = text.slice(0, -2);
  if (text.endsWith("h0m")) text = text.slice(0, -2);
  return text;
}

function fraction(value: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const whole = value / scale;
  const rest = (value % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : `${whole}`;
}

/** A duration normalized for the provider ("90s" -> "1m30s"); throws when it does not parse. */
export function parseDuration(argument: string, value: string): string {
  return formatDuration(durationNanos(argument, value));
}

const MEMORY = /^(\d+(?:\.\d+)?)\s*([bkmgtp]?)(i?b)?$/i;
const MEMORY_POWER: Record<string, number> = { "": 0, b: 0, k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * Bytes of a memory size as the Docker CLI reads it (binary units: "512M" and "512MiB" are both
 * 512 * 1024 * 1024, "1g" is 1024^3, a bare number is bytes); throws when it does not parse.
 */
export function parseMemory(argument: string, value: string | number): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    fail(argument, value, 'Use a positive whole number of bytes, or a size like "512M" or "2G".');
  }
  const match = typeof value === "string" ? MEMORY.exec(value.trim()) : null;
  if (!match) {
    fail(
      argument,
      value,
      'Use a size like "512M", "1.5G", "256MiB" or a number of bytes (units b, k, m, g, t, p).',
    );
  }
  const unit = match[2].toLowerCase();
  if (unit === "b" && match[3]) {
    fail(
      argument,
      value,
      'Use a size like "512M", "1.5G", "256MiB" or a number of bytes (units b, k, m, g, t, p).',
    );
  }
  const bytes = Math.floor(Number(match[1]) * 1024 ** MEMORY_POWER[unit]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    fail(argument, value, "Use a size greater than zero bytes and smaller than 8 PiB.");
  }
  return bytes;
}

/** The parts of an image reference: `[registry[:port]/]path[:tag][@digest]`. */
export interface ImageReference {
  /** Registry host (with port) when the reference names one, e.g. "registry.example.com:5000". */
  registry?: string;
  /** Repository path, e.g. "library/tomcat" or "tomcat". */
  repository: string;
  /** Tag, e.g. "9.0"; undefined when none is given (Docker then uses "latest"). */
  tag?: string;
  /** Content digest, e.g. "sha256:...". */
  digest?: string;
}

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/**
 * Parses an image reference with the grammar of Docker's distribution/reference package; throws
 * when it does not parse (uppercase repository, stray spaces, empty tag, a URL scheme...).
 */
export function parseImageReference(argument: string, value: string): ImageReference {
  const match = typeof value === "string" ? REFERENCE.exec(value) : null;
  if (!match || value.length > 512) {
    fail(
      argument,
      value,
      'Use an image reference like "nginx:1.27", "library/redis:7" or "registry.example.com:5000/team/app:1.2@sha256:<digest>" (lowercase repository, no scheme, no spaces).',
    );
  }
  let registry: string | undefined = match[1];
  let repository: string = match[2];
  // A first component without "." or ":" and not "localhost" is a path component (e.g. "team/app"),
  // which the regex above may have taken as a registry: give it back to the repository.
  if (registry !== undefined && !/[.:[]/.test(registry) && registry !== "localhost") {
    if (!new RegExp(`^${PATH_COMPONENT}$`).test(registry)) {
      fail(
        argument,
        value,
        "Repository names must be lowercase; only a registry host may use uppercase letters.",
      );
    }
    repository = `${registry}/${repository}`;
    registry = undefined;
  }
  if (repository.length > 255) fail(argument, value, "Keep the repository name under 256 characters.");
  return {
    ...(registry !== undefined ? { registry } : {}),
    repository,
    ...(match[3] !== undefined ? { tag: match[3] } : {}),
    ...(match[4] !== undefined ? { digest: match[4] } : {}),
  };
}

const SWARM_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;

/** Throws unless `value` is a name swarm accepts for a service, network or stack (DNS-like, 1-63 chars). */
export function requireSwarmName(argument: string, value: string): void {
  if (typeof value !== "string" || !SWARM_NAME.test(value) || value.length > 63) {
    fail(
      argument,
      value,
      "Use 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit (swarm names must be valid DNS name components).",
    );
  }
}
