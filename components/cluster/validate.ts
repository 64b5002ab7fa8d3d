import type { SwarmClusterArgs } from "./args";
import { SwarmNodeArgs } from "./types";
import { requireDataPathPort } from "../hosts/firewall";
import { fail, isHostAddress, isIpv4Cidr, isKnown, requireBoolean, requireDnsLabel } from "../validation";
import { validateHostKeyArgs as validateSshHostKeyArgs } from "../ssh/hostKeys";

/** Raft keeps working with a majority of managers; beyond seven, each write costs more than it protects. */
export const MAX_MANAGERS = 7;

/** True for a manager count Raft handles well: odd, 1 to {@link MAX_MANAGERS} (even ones with `allowEven`). */
export function isValidManagerCount(managers: number, allowEven = false): boolean {
  return (
    Number.isInteger(managers) &&
    managers >= 1 &&
    managers <= MAX_MANAGERS &&
    (allowEven || managers % 2 === 1)
  );
}

/** True for labels known now: a plain map with no Output or Promise in it (its values are checked as they are). */
export function plainLabels(labels: SwarmNodeArgs["labels"]): labels is Record<string, string> | undefined {
  return labels === undefined || (isKnown(labels) && Object.values(labels).every((v) => isKnown(v)));
}

/** Throws unless every node label has a key Docker accepts (not this library's own) and a single-line value. */
export function requireNodeLabels(argument: string, labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$/.test(key) || key.startsWith("pulumi-swarm.")) {
      fail(
        argument,
        key,
        'Use label keys of letters, digits, ".", "_", "-" or "/" (not starting with "pulumi-swarm.", which this library uses).',
      );
    }
    if (typeof value !== "string" || /[\n\r,]/.test(value) || value.length > 256) {
      fail(`${argument}.${key}`, value, "Use a single-line string without commas, at most 256 characters.");
    }
  }
}

/** Turns a duration such as "90d", "2160h" or "1h30m" into Go's canonical form ("2160h0m0s"), which `docker info` prints. */
export function normalizeCertExpiry(argument: string, value: string): string {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!value || !match)
    fail(argument, value, 'Use a duration such as "2160h" or "90d" (units d, h, m, s), at least 1h.');
  const [, d, h, m, s] = match.map((part) => Number(part ?? 0));
  const seconds = d * 86400 + h * 3600 + m * 60 + s;
  if (seconds < 3600)
    fail(argument, value, 'Docker needs at least 1h; use e.g. "2160h" (90 days, the default).');
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${hours}h${minutes}m${seconds % 60}s`;
}

/** Checks the address other nodes reach a node on; it becomes a word of the swarm scripts. */
export function requireNodeAdvertiseAddr(argument: string, value: string): void {
  if (typeof value !== "string" || !isHostAddress(value)) {
    fail(argument, value, "Use the IPv4 address other nodes reach this host on.");
  }
}

/**
 * The widest IPv4 block `insecure-registries` may name: a /16 (65,536 addresses) is a whole
 * private site network or a cloud VPC, where an internal registry sits. Anything wider switches
 * TLS off for registries across many networks at once (a /8 is 16.7 million addresses, a large
 * share of them public), and a registry's address is what an attacker on the path would spoof.
 */
export const WIDEST_INSECURE_PREFIX = 16;

/**
 * Public registries whose TLS must never be switched off: exact hosts, and domain suffixes (any
 * host under them, e.g. "123456789012.dkr.ecr.eu-central-1.amazonaws.com" or "eu.gcr.io").
 */
const PUBLIC_REGISTRY_HOSTS = [
  "docker.io",
  "registry-1.docker.io",
  "index.docker.io",
  "registry.hub.docker.com",
  "ghcr.io",
  "quay.io",
  "gcr.io",
  "registry.k8s.io",
  "k8s.gcr.io",
  "mcr.microsoft.com",
  "public.ecr.aws",
  "registry.gitlab.com",
  "nvcr.io",
];
const PUBLIC_REGISTRY_SUFFIXES = [
  ".docker.io",
  ".docker.com",
  ".gcr.io",
  ".pkg.dev",
  ".amazonaws.com",
  ".amazonaws.com.cn",
  ".azurecr.io",
  ".aliyuncs.com",
  ".ghcr.io",
  ".quay.io",
];

/** True for a public registry host (see PUBLIC_REGISTRY_HOSTS and PUBLIC_REGISTRY_SUFFIXES). */
export function isPublicRegistryHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return (
    PUBLIC_REGISTRY_HOSTS.includes(name) || PUBLIC_REGISTRY_SUFFIXES.some((suffix) => name.endsWith(suffix))
  );
}

/**
 * Checks an `insecure-registries` entry: "host[:port]" or a CIDR, never a scheme or a path (dockerd
 * would not start), never a block wider than /16 and never a public registry (either would switch
 * off TLS where an attacker on the path can serve any image).
 */
export function validateInsecureRegistry(argument: string, value: string): void {
  if (isIpv4Cidr(value)) {
    if (Number(value.split("/")[1]) < WIDEST_INSECURE_PREFIX) {
      fail(
        argument,
        value,
        `This switches off TLS for every registry in a block wider than /${WIDEST_INSECURE_PREFIX} (public ones included); name the registry's own "host:port", or its subnet of /${WIDEST_INSECURE_PREFIX} or narrower.`,
      );
    }
    return;
  }
  if (/^[0-9a-fA-F:]*:[0-9a-fA-F:]*\/\d{1,3}$/.test(value)) {
    fail(
      argument,
      value,
      'IPv6 blocks are not accepted here (::/0 would switch off TLS for every registry); name the registry\'s own "host:port".',
    );
  }
  const match = /^([^/:\s]+)(?::(\d+))?$/.exec(value);
  if (
    !match ||
    !isHostAddress(match[1]) ||
    (match[2] !== undefined && !(Number(match[2]) >= 1 && Number(match[2]) <= 65535))
  ) {
    fail(
      argument,
      value,
      'Use "host:port" (e.g. "harbor.internal:80") or a CIDR, with no scheme and no path: a path stops dockerd from starting.',
    );
  }
  if (isPublicRegistryHost(match[1])) {
    fail(
      argument,
      value,
      "This is a public registry: switching its TLS off lets anyone on the path serve any image; remove it (only your own plain-HTTP registry belongs here).",
    );
  }
}

/** Checks a `registry-mirrors` entry: an http(s) URL with no path. */
export function validateRegistryMirror(argument: string, value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    !/^https?:$/.test(url.protocol) ||
    (url.pathname !== "/" && url.pathname !== "") ||
    url.search ||
    url.hash
  ) {
    fail(argument, value, 'Use an http(s) URL with no path, e.g. "https://mirror.example.com".');
  }
}

/** Validates the node list: names, roles, labels, availability, manager count and duplicates. */
export function validateNodes(nodes: SwarmNodeArgs[] | undefined, allowEvenManagers: boolean): void {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    fail("nodes", nodes, 'Declare at least one node: [{ host, role: "manager" }].');
  }
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    if (!node || typeof node !== "object" || !node.host || typeof node.host !== "object") {
      fail(`${at}.host`, node?.host, "Give a SwarmHost (from existingHosts, AwsHosts or AlicloudHosts).");
    }
    requireDnsLabel(`${at}.host.name`, node.host.name);
    const seen = names.get(node.host.name);
    if (seen !== undefined) {
      fail(
        `${at}.host.name`,
        node.host.name,
        `nodes[${seen}] already uses this host name; each host appears once, in one role.`,
      );
    }
    names.set(node.host.name, i);
    const conn = node.host.connection;
    if (isKnown(conn?.host)) {
      const key = `${conn.host}:${isKnown(conn.port) ? conn.port : 22}`;
      const other = addresses.get(key);
      if (other !== undefined) {
        fail(
          `${at}.host.connection.host`,
          key,
          `nodes[${other}] is the same machine; a host can be in the swarm once, in one role.`,
        );
      }
      addresses.set(key, i);
    }
    if (isKnown(node.host.advertiseAddr)) {
      requireNodeAdvertiseAddr(`${at}.host.advertiseAddr`, node.host.advertiseAddr);
    }
    if (node.role !== "manager" && node.role !== "worker") {
      fail(`${at}.role`, node.role, 'Use "manager" or "worker".');
    }
    if (node.availability !== undefined && !["active", "pause", "drain"].includes(node.availability)) {
      fail(`${at}.availability`, node.availability, 'Use "active", "pause" or "drain".');
    }
    // Labels that are (or hold) Outputs are checked when they resolve (SwarmCluster's checkedLabels).
    if (plainLabels(node.labels)) requireNodeLabels(`${at}.labels`, node.labels ?? {});
  });
  const managers = nodes.filter((n) => n.role === "manager").length;
  if (managers === 0) {
    fail(
      "nodes",
      `${nodes.length} workers, 0 managers`,
      'Give at least one node role "manager" (3 or 5 for a cluster that survives losing managers).',
    );
  }
  if (managers % 2 === 0 && !allowEvenManagers) {
    fail(
      "nodes",
      `${managers} managers`,
      `An even number of managers tolerates no more failures than ${managers - 1} and risks a split vote: use ${managers - 1} or ${managers + 1}, or set allowEvenManagers: true for a transition.`,
    );
  }
  if (managers > MAX_MANAGERS) {
    fail(
      "nodes",
      `${managers} managers`,
      `Use at most ${MAX_MANAGERS} managers (Raft slows down beyond that); make the rest workers.`,
    );
  }
}

/** Validates the swarm-wide settings. */
export function validateSwarmSettings(args: {
  dataPathPort?: number;
  defaultAddrPool?: string[];
  defaultAddrPoolMaskLength?: number;
  hostFirewall?: string;
  insecureRegistries?: unknown[];
  registryMirrors?: unknown[];
  installDocker?: unknown;
  autolock?: unknown;
  spansNetworks?: unknown;
  allowEvenManagers?: unknown;
  dockerSshOpts?: unknown;
}): void {
  for (const key of ["installDocker", "autolock", "spansNetworks", "allowEvenManagers"] as const) {
    requireBoolean(key, args[key]);
  }
  if (
    args.dockerSshOpts !== undefined &&
    !(Array.isArray(args.dockerSshOpts) && args.dockerSshOpts.every((o) => typeof o === "string"))
  ) {
    fail(
      "dockerSshOpts",
      args.dockerSshOpts,
      'Use a list of ssh options, one word each, e.g. ["-o", "ServerAliveInterval=30"].',
    );
  }
  if (args.dataPathPort !== undefined) requireDataPathPort("dataPathPort", args.dataPathPort);
  (args.defaultAddrPool ?? []).forEach((cidr, i) => {
    if (!isIpv4Cidr(cidr))
      fail(
        `defaultAddrPool[${i}]`,
        cidr,
        'Use an IPv4 CIDR block with no host bits set, e.g. "10.20.0.0/16".',
      );
  });
  if (args.defaultAddrPoolMaskLength !== undefined) {
    const mask = args.defaultAddrPoolMaskLength;
    const widest = Math.max(...(args.defaultAddrPool ?? ["0.0.0.0/8"]).map((c) => Number(c.split("/")[1])));
    if (!Number.isInteger(mask) || mask < widest || mask > 29) {
      fail(
        "defaultAddrPoolMaskLength",
        mask,
        `Use a prefix length between ${widest} (the pool's) and 29, e.g. 24.`,
      );
    }
  }
  if (args.hostFirewall !== undefined && args.hostFirewall !== "auto" && args.hostFirewall !== "none") {
    fail(
      "hostFirewall",
      args.hostFirewall,
      'Use "auto" (open swarm ports in an active ufw/firewalld) or "none".',
    );
  }
  // Outputs are checked when they resolve (SwarmCluster wraps them with checkedInput).
  (args.insecureRegistries ?? []).forEach((r, i) => {
    if (isKnown(r)) validateInsecureRegistry(`insecureRegistries[${i}]`, r as string);
  });
  (args.registryMirrors ?? []).forEach((r, i) => {
    if (isKnown(r)) validateRegistryMirror(`registryMirrors[${i}]`, r as string);
  });
}

/** `hostKeys` and `acceptHostKeys`: known words, host names of this cluster (or its bastions), SHA-256 fingerprints. */
export function validateHostKeyArgs(args: SwarmClusterArgs): void {
  validateSshHostKeyArgs(
    args,
    args.nodes.map((n) => n.host),
    "cluster",
  );
}
