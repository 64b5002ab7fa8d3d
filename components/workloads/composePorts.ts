import * as YAML from "yaml";
import { fail } from "../validation";
import { requireUnreservedPort } from "./reservedPorts";

/*
 * The published ports of a compose file, held to SwarmService's rule (reservedPorts.ts): a stack
 * deployed on a swarm publishes through the routing mesh too, so 22, 2375-2377, 7946 and the data
 * path port are refused with the same message. Short syntax ("[ip:][published[-end]:]target[/proto]")
 * and long syntax ({ published }) are read, ranges cover every port in them, and `${VAR}` /
 * `${VAR:-default}` / `$VAR` in a published port are filled in from the stack's environment as
 * `docker stack deploy` would.
 */

/** One published port range of a compose file, with where it was written. */
interface Published {
  where: string;
  from: number;
  to: number;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** `text` with the compose variables filled in from `environment` (unset ones become "" or their default). */
function interpolate(text: string, environment: Record<string, string>): string {
  return text.replace(VARIABLE, (_m, braced?: string, op?: string, fallback?: string, bare?: string) => {
    const name = braced ?? bare ?? "";
    const value = environment[name];
    if (op === ":-") return value === undefined || value === "" ? (fallback ?? "") : value;
    if (op === "-") return value === undefined ? (fallback ?? "") : value;
    return value ?? "";
  });
}

/** "8080" or "8080-8081" as a range; anything else is refused naming `where`. */
function parseRange(where: string, text: string): { from: number; to: number } {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || from < 1 || to > 65535 || to < from)
    fail(where, text, "Use a published port 1-65535 or a range such as 8080-8081.");
  return { from, to };
}

/** The published part of a short-syntax entry, or undefined when it publishes nothing (target only). */
function shortPublished(entry: string): string | undefined {
  let rest = entry.trim().replace(/\/[a-z]+$/i, "");
  // A host IP first: "[::1]:8080:80" or "127.0.0.1:8080:80".
  const v6 = /^\[[^\]]*\]:(.*)$/.exec(rest);
  if (v6) rest = v6[1];
  const parts = rest.split(":");
  if (v6 && parts.length === 2) return parts[0] === "" ? undefined : parts[0];
  if (parts.length === 3) return parts[1] === "" ? undefined : parts[1];
  if (parts.length === 2) return parts[0] === "" ? undefined : parts[0];
  return undefined;
}

/** Every published port range of the compose file `content`. */
export function composePublishedPorts(
  argument: string,
  content: string,
  environment: Record<string, string> = {},
): Published[] {
  let doc: unknown;
  try {
    doc = YAML.parse(content);
  } catch (err) {
    fail(
      argument,
      "content that is not YAML",
      `Fix the compose file: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  const services = (doc as { services?: unknown } | null)?.services;
  if (!services || typeof services !== "object") return [];
  const found: Published[] = [];
  for (const [service, spec] of Object.entries(services as Record<string, unknown>)) {
    const ports = (spec as { ports?: unknown } | null)?.ports;
    if (!Array.isArray(ports)) continue;
    ports.forEach((entry: unknown, i) => {
      const where = `${argument} services.${service}.ports[${i}]`;
      let published: string | undefined;
      if (typeof entry === "string") published = shortPublished(interpolate(entry, environment));
      else if (entry && typeof entry === "object") {
        const value = (entry as { published?: unknown }).published;
        if (value !== undefined && value !== null && value !== "")
          published = interpolate(String(value), environment);
      }
      // A number or a target-only entry publishes nothing fixed (Docker picks a port from 30000 up).
      if (published === undefined || published === "") return;
      found.push({ where, ...parseRange(where, published) });
    });
  }
  return found;
}

/**
 * Refuses a compose file that publishes a reserved port (SwarmService's rule and message), in a
 * range too; `environment` fills in interpolated ports.
 */
export function requireComposePorts(
  argument: string,
  content: string,
  environment: Record<string, string>,
  dataPathPort?: number,
): void {
  for (const p of composePublishedPorts(argument, content, environment)) {
    for (let port = p.from; port <= p.to; port++)
      requireUnreservedPort(`${p.where}.published`, port, dataPathPort);
  }
}
