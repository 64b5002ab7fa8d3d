/*
 * The dynamic provider behind HostKeyPin: the SSH host key of one host or bastion, learned once and
 * kept in state (or the given one, verified), checked again on every preview, up and refresh. The
 * SwarmCluster and every delivery-platform component pin their hosts with it (hostKeys.ts).
 *
 * Serialized into the state like nodeProvider.ts: it captures code and constants only; the
 * connection (with its private key) arrives as a secret input.
 *
 * How the key is read: the system `ssh` (the same options dockerSsh.ts gives the Docker provider,
 * bastion included) connects with an empty private known_hosts file and
 * `StrictHostKeyChecking=accept-new`, so ssh itself writes the key the server proved it holds
 * during the key exchange into that file; the file is read back and removed. ssh writes it before
 * authentication, and the probe never authenticates (every method off): nothing runs on the host,
 * and a host that may be an impostor never sees a login attempt. The algorithms are restricted to
 * the pinned key's type (or, at first contact, Ed25519 first), so a host that offers several key
 * types is always compared type for type.
 *
 * Why the comparison also runs in `diff`: a plain `pulumi up` never refreshes, and `diff` runs on
 * every preview and up before the pin's step (and so before every step that depends on it). Every command, node resource and the Docker provider of the host
 * take their connection from this resource's output, so when the key changed, `check` fails and
 * nothing runs on the host; the error names the host, both fingerprints and the fix.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { dockerSshOptions, plainConnection as plain, type ResolvedConnection } from "./sshOptions";

/** The value the engine sends for an input that is not known yet (preview). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The resolved inputs. */
export interface HostKeyInputs {
  /**
   * Tells these resources apart from other dynamic resources. It keeps the name it had when only
   * the cluster pinned keys, so policies written against it still match.
   */
  kind: "swarm:cluster:HostKey";
  /** The owning component's type name, e.g. "SwarmCluster" or "ComposeHost" (shown in errors). */
  component: string;
  /** The owning component's name. */
  owner: string;
  /** The host's name in the component, or "bastion:<address>[:<port>]" for a bastion. */
  host: string;
  /** SSH to the host (secret). */
  connection: ResolvedConnection;
  /** The host key the user gave (`connection.hostKey`): verified, never replaced by a learned one; "" when none. */
  given: string;
  /** A fingerprint ("SHA256:...") the user accepts for this host; "" when none. */
  accept: string;
  /**
   * The key the host presented to the program in this run (see {@link observedKey}); "" when the
   * program did not read it, {@link UNANSWERED} when it tried and the host did not answer. Not
   * compared: it only spares the provider a probe of its own.
   */
  presented?: string;
}

/** The state: the inputs plus the pinned key. */
export interface HostKeyOutputs extends HostKeyInputs {
  /** The pinned host public key, "<type> <base64>". */
  hostKey: string;
  /** Its SHA-256 fingerprint as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Where the pin came from: "given", "learned" (first contact) or "accepted" (a change the user accepted). */
  source: "given" | "learned" | "accepted";
}

/** Algorithms offered at first contact: Ed25519 first (what @pulumi/command pins best), then ECDSA, then RSA. */
const FIRST_CONTACT = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/** "<type> <base64>" without a comment, or undefined when `line` is not a public key line. */
export function normalizeKey(line: string | undefined): string | undefined {
  const m = /^((?:ssh|ecdsa|sk)-[a-z0-9@.-]+)\s+(AAAA[A-Za-z0-9+/]*={0,3})(\s.*)?$/s.exec(
    (line ?? "").trim(),
  );
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** The key's SHA-256 fingerprint, as `ssh-keygen -lf` prints it ("SHA256:<base64 without padding>"). */
export function fingerprintOf(key: string): string {
  const blob = Buffer.from(key.split(/\s+/)[1] ?? "", "base64");
  return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The HostKeyAlgorithms that make the server present a key of the pinned key's type. */
function algorithmsFor(pinned: string | undefined): string[] {
  const type = pinned?.split(" ")[0];
  if (!type) return FIRST_CONTACT;
  if (type === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [type];
}

const target = (conn: ResolvedConnection) => `${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22}`;

/** One attempt: the key the host presents, or undefined with ssh's stderr. */
async function presentedOnce(
  conn: ResolvedConnection,
  algorithms: string[],
): Promise<{ key?: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-swarm-hostkey-"));
  const knownHosts = path.join(dir, "known_hosts");
  try {
    // ssh keeps the first value of an option: these come before the ones dockerSshOptions adds.
    const own = [
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=accept-new",
      "-o",
      "HashKnownHosts=no",
      "-o",
      "UpdateHostKeys=no",
      "-o",
      `HostKeyAlgorithms=${algorithms.join(",")}`,
      "-o",
      `ConnectTimeout=${Math.max(1, Math.round(conn.perDialTimeout ?? 15))}`,
      "-o",
      "LogLevel=ERROR",
      // No login: the key is known after the key exchange; a host that may be an impostor gets no
      // authentication attempt and runs nothing ("Permission denied" is the expected end).
      "-o",
      "PreferredAuthentications=publickey",
      "-o",
      "PubkeyAuthentication=no",
      "-o",
      "PasswordAuthentication=no",
      "-o",
      "KbdInteractiveAuthentication=no",
      "-o",
      "GSSAPIAuthentication=no",
      "-o",
      "HostbasedAuthentication=no",
    ];
    // No pin and no key here: the point is to see whatever key the host presents.
    const withoutPin = { ...plain(conn), hostKey: undefined, privateKey: undefined };
    const args = [
      ...dockerSshOptions(withoutPin, conn.proxy ? plain(conn.proxy) : undefined, own),
      "-p",
      String(conn.port ?? 22),
      `${conn.user ?? "root"}@${conn.host}`,
      "true",
    ];
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", reject);
      child.on("close", () => resolve(err));
    });
    const line = fs.existsSync(knownHosts) ? fs.readFileSync(knownHosts, "utf8").split("\n")[0] : "";
    // known_hosts line: "<host pattern> <type> <base64>"
    const key = normalizeKey(line.split(/\s+/).slice(1).join(" "));
    return { ...(key ? { key } : {}), stderr: stderr.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The key the host presents now, retrying while it cannot be reached (a cloud instance may still be
 * booting). Throws "could not read the host key" when no attempt got as far as the key exchange.
 */
export async function presentedKey(
  conn: ResolvedConnection,
  pinned: string | undefined,
  attempts = 1,
): Promise<string> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 5000));
    const got = await presentedOnce(conn, algorithmsFor(pinned));
    if (got.key) return got.key;
    last = got.stderr;
  }
  throw new Error(`could not read the SSH host key of ${target(conn)}: ${last.slice(-500) || "no answer"}`);
}

/**
 * The key the host presents now, as the program reads it while it registers its pins: one probe
 * per host, all at once, where probes in the provider's `diff` run one after the other (the engine
 * generates steps, and so calls every `diff` and `check`, in one loop). Asks for the given key's
 * type when there is one, else the first-contact order; {@link UNANSWERED} when the host does not answer.
 */
export async function observedKey(conn: ResolvedConnection, given: string | undefined): Promise<string> {
  return presentedKey(conn, normalizeKey(given)).catch(() => UNANSWERED);
}

/**
 * `presented` when the program's read got no key: the host did not answer a moment ago, so the
 * `diff` does not wait for another timeout (an unreachable host is no finding there; its commands
 * report it). `create` and `update` still probe, with their retries (a machine may be booting).
 */
export const UNANSWERED = "(no answer)";

/**
 * The key the program saw (`presented`) when it answers for `expected`'s type (any type at first
 * contact); undefined when the provider has to probe itself: the program did not read the key, or
 * the host offered another type first than the one pinned.
 */
function seenByProgram(inputs: HostKeyInputs, expected: string | undefined): string | undefined {
  const seen = normalizeKey(inputs.presented);
  if (seen === undefined) return undefined;
  return expected === undefined || seen.split(" ")[0] === expected.split(" ")[0] ? seen : undefined;
}

/** True for the pin of a bastion (its `host` is "bastion:<address>[:<port>]"). */
const isBastion = (inputs: Pick<HostKeyInputs, "host">) => inputs.host.startsWith("bastion:");

/** "SwarmCluster "prod"": the component as the errors name it. */
const ownerOf = (inputs: Pick<HostKeyInputs, "component" | "owner">) =>
  `${inputs.component} "${inputs.owner}"`;

/** The refusal: the host, both fingerprints, and how to accept a change deliberately. */
export function changedKeyMessage(inputs: HostKeyInputs, pinned: string, presented: string): string {
  const old = `${fingerprintOf(pinned)} (${pinned.split(" ")[0]})`;
  const now = `${fingerprintOf(presented)} (${presented.split(" ")[0]})`;
  const bastion = isBastion(inputs);
  const noun = bastion ? "bastion" : "host";
  const nothing = bastion ? "Nothing was run through this bastion." : "Nothing was run on this host.";
  const head = `${ownerOf(inputs)}: the SSH host key of ${noun} "${inputs.host}" (${target(inputs.connection)}) is not the pinned one: pinned ${old}, the ${noun} now presents ${now}. ${nothing}`;
  if (inputs.given !== "")
    return `${head} The pinned key is the one given in ${bastion ? "the bastion's hostKey (connection.proxy.hostKey)" : "the host's connection.hostKey"}: if the ${noun}'s key was changed on purpose, put the new key there; otherwise the connection may be intercepted.`;
  return (
    `${head} If the ${noun} was rebuilt or its key rotated on purpose (check the fingerprint on it: ssh-keygen -lf /etc/ssh/ssh_host_${presented.split(" ")[0].replace(/^ssh-|-sha2-nistp\d+$/g, "")}_key.pub), ` +
    `accept it with acceptHostKeys: { "${inputs.host}": "${fingerprintOf(presented)}" } on the ${inputs.component} and run pulumi up (a plain up, not --refresh). Otherwise do not continue: the connection may be intercepted.`
  );
}

/** The key a new or changed pin holds, or the refusal. */
async function decide(
  inputs: HostKeyInputs,
  pinned: string | undefined,
  attempts: number,
): Promise<HostKeyOutputs> {
  const given = normalizeKey(inputs.given);
  const expected = given ?? pinned;
  const presented =
    seenByProgram(inputs, expected) ?? (await presentedKey(inputs.connection, expected, attempts));
  const out = (source: HostKeyOutputs["source"]): HostKeyOutputs => ({
    ...inputs,
    hostKey: presented,
    fingerprint: fingerprintOf(presented),
    source,
  });
  if (given !== undefined) {
    if (presented !== given) throw new Error(changedKeyMessage(inputs, given, presented));
    return out("given");
  }
  if (pinned === undefined) {
    // First contact: an `accept` given up front is the fingerprint checked out of band.
    if (inputs.accept !== "" && inputs.accept !== fingerprintOf(presented))
      throw new Error(
        `${ownerOf(inputs)}: ${isBastion(inputs) ? "bastion" : "host"} "${inputs.host}" (${target(inputs.connection)}) presents ${fingerprintOf(presented)}, but acceptHostKeys expects ${inputs.accept}. Nothing was run on this ${isBastion(inputs) ? "bastion" : "host"}.`,
      );
    return out(inputs.accept !== "" ? "accepted" : "learned");
  }
  if (presented === pinned) return out("learned");
  if (inputs.accept === fingerprintOf(presented)) return out("accepted");
  throw new Error(changedKeyMessage(inputs, pinned, presented));
}

/** Checks the live key against the pin; an unreachable host is no finding (the commands report it). */
async function verify(inputs: HostKeyInputs, pinned: string): Promise<void> {
  const expected = normalizeKey(inputs.given) ?? pinned;
  if (inputs.presented === UNANSWERED) return;
  let presented = seenByProgram(inputs, expected);
  try {
    if (presented === undefined) presented = await presentedKey(inputs.connection, expected);
  } catch {
    return;
  }
  if (presented === expected) return;
  if (inputs.given === "" && inputs.accept === fingerprintOf(presented)) return;
  throw new Error(changedKeyMessage(inputs, expected, presented));
}

const COMPARED = ["given", "accept", "connection"] as const;
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The provider object serialized into the state. */
export const hostKeyProvider: pulumi.dynamic.ResourceProvider = {
  async diff(
    _id: string,
    olds: HostKeyOutputs & { __provider?: string },
    news: HostKeyInputs & { __provider?: string },
  ) {
    // The comparison runs here, not in `check`: `check` sees only the old inputs, `diff` the state
    // with the pinned key. It runs on every preview and up, before any step that depends on the pin.
    const known = !JSON.stringify({ ...news, __provider: undefined }).includes(UNKNOWN);
    if (olds.hostKey && known) await verify(news, olds.hostKey);
    const changed = COMPARED.filter((k) => !same(olds[k], news[k]));
    const providerChanged =
      news.__provider !== undefined && news.__provider !== UNKNOWN && olds.__provider !== news.__provider;
    return { changes: changed.length > 0 || providerChanged, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: HostKeyInputs) {
    // First contact may meet a machine that is still booting: up to 2 minutes.
    const outs = await decide(inputs, undefined, 24);
    return { id: `${inputs.owner}/${inputs.host}`, outs };
  },

  async update(_id: string, olds: HostKeyOutputs, news: HostKeyInputs) {
    return { outs: await decide(news, olds.hostKey, 3) };
  },

  async read(id: string, props: HostKeyOutputs) {
    // Refresh: a changed key is refused here too (accepting it is a deliberate `pulumi up`). No
    // program runs, so `presented` is the one of the last up: the provider probes itself.
    const presented = await presentedKey(props.connection, normalizeKey(props.given) ?? props.hostKey).catch(
      () => undefined,
    );
    const expected = normalizeKey(props.given) ?? props.hostKey;
    if (presented !== undefined && presented !== expected)
      throw new Error(changedKeyMessage({ ...props, accept: "" }, expected, presented));
    return { id, props, inputs: { ...props } };
  },

  async delete() {
    // Nothing on the host to undo: the pin only lives in state.
  },
};
