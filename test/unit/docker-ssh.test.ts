import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretOutput, valueOf } from "../helpers/mocks";
import { divertUnhandledRejections } from "../helpers/unhandled";

/*
 * dockerSsh.ts turns a SwarmHost's connection into the `host` and `sshOpts` of the Docker provider:
 * the key as a 0600 file in a 0700 directory (PULUMI_SWARM_SSH_DIR, a temporary one here), the
 * pinned host key as a private known_hosts file, a ProxyCommand through the bastion.
 */

// Key-shaped text made at run time: no key-shaped literal lives in the repository.
const fakeKey = (label: string) =>
  [
    `-----BEGIN OPENSSH ${"PRIVATE"} KEY-----`,
    crypto.randomBytes(48).toString("base64"),
    `${label}${crypto.randomBytes(24).toString("base64")}`,
    `-----END OPENSSH ${"PRIVATE"} KEY-----`,
  ].join("\n");
const hostKey = () => `ssh-ed25519 ${crypto.randomBytes(32).toString("base64")}`;
/** The part of a fake key that must never show anywhere but its file. */
const body = (key: string) => key.split("\n")[1];

const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** The words a POSIX shell makes of `command` (how ssh runs a ProxyCommand: `$SHELL -c "exec ..."`). */
function shellWords(command: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `for w in ${command}; do printf '%s\\0' "$w"; done`], {
    encoding: "utf8",
  });
  return out.split("\0").slice(0, -1);
}

/** The value of every `-o Name=value` option, by name. */
function options(opts: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  opts.forEach((o, i) => {
    if (opts[i - 1] !== "-o") return;
    const [name, ...rest] = o.split("=");
    (out[name] ??= []).push(rest.join("="));
  });
  return out;
}

/** A UserKnownHostsFile value without the double quotes that protect its whitespace. */
/** The component the provider connection belongs to (its late errors are tied to it). */
const OWNER = { type: "swarm:cluster:SwarmCluster", name: "c" };

const unquote = (value: string) => value.replace(/^"(.*)"$/, "$1");

/** The argument that follows `flag`. */
function flag(opts: string[], name: string): string | undefined {
  const i = opts.indexOf(name);
  return i >= 0 ? opts[i + 1] : undefined;
}

describe("dockerSsh: the Docker provider's ssh options", () => {
  let tmp: string;
  let dir: string;
  const savedDir = process.env.PULUMI_SWARM_SSH_DIR;
  let mod: typeof import("../../components/cluster/dockerSsh");

  beforeAll(async () => {
    await installMocks();
    // A directory name with a space: ssh must still read every path as one (see the bastion case).
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "docker ssh test-"));
    dir = path.join(tmp, "nested", "ssh");
    process.env.PULUMI_SWARM_SSH_DIR = dir;
    mod = await import("../../components/cluster/dockerSsh");
  });
  afterAll(() => {
    if (savedDir === undefined) delete process.env.PULUMI_SWARM_SSH_DIR;
    else process.env.PULUMI_SWARM_SSH_DIR = savedDir;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("uses PULUMI_SWARM_SSH_DIR, and ~/.pulumi-swarm/ssh without it", () => {
    expect(mod.dockerSshDir()).toBe(dir);
    delete process.env.PULUMI_SWARM_SSH_DIR;
    try {
      expect(mod.dockerSshDir()).toBe(path.join(os.homedir(), ".pulumi-swarm", "ssh"));
    } finally {
      process.env.PULUMI_SWARM_SSH_DIR = dir;
    }
  });

  it("plain connection: the key as a 0600 file in a 0700 directory, the pinned host key checked strictly", () => {
    const key = fakeKey("plain");
    const pinned = hostKey();
    const opts = mod.dockerSshOptions(
      { host: "10.0.0.1", port: 22, user: "root", privateKey: key, hostKey: pinned },
      undefined,
    );
    const keyFile = flag(opts, "-i")!;
    const knownHosts = unquote(options(opts).UserKnownHostsFile[0]);
    expect(opts).toEqual([
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      keyFile,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      // ssh splits this option's value on whitespace: the path (with its space) is quoted.
      `UserKnownHostsFile="${knownHosts}"`,
    ]);
    expect(path.dirname(keyFile)).toBe(dir);
    expect(path.dirname(knownHosts)).toBe(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(knownHosts)).toBe(0o600);
    // Exactly the key (OpenSSH wants the final newline), and exactly the one host key.
    expect(fs.readFileSync(keyFile, "utf8")).toBe(`${key}\n`);
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(`10.0.0.1 ${pinned}\n`);
    // The file is named after a hash of the key, never the key; no key material in any option.
    expect(path.basename(keyFile)).toMatch(/^key-[0-9a-f]{32}$/);
    expect(JSON.stringify(opts)).not.toContain(body(key));
  });

  it("the same key maps to the same file (destroy and refresh find it); another key to another file", () => {
    const key = fakeKey("same");
    const a = flag(
      mod.dockerSshOptions({ host: "h1", port: 22, user: "root", privateKey: key }, undefined),
      "-i",
    );
    const b = flag(
      // Surrounding whitespace does not make another file.
      mod.dockerSshOptions({ host: "h2", port: 2222, user: "ubuntu", privateKey: `\n${key}\n\n` }, undefined),
      "-i",
    );
    const c = flag(
      mod.dockerSshOptions({ host: "h1", port: 22, user: "root", privateKey: fakeKey("other") }, undefined),
      "-i",
    );
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("tightens a directory and a key file that exist with loose modes, and rewrites a wrong key file", () => {
    const key = fakeKey("loose");
    const file = flag(
      mod.dockerSshOptions({ host: "h", port: 22, user: "root", privateKey: key }, undefined),
      "-i",
    )!;
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(file, "tampered\n");
    fs.chmodSync(file, 0o644);
    const again = flag(
      mod.dockerSshOptions({ host: "h", port: 22, user: "root", privateKey: key }, undefined),
      "-i",
    );
    expect(again).toBe(file);
    expect(mode(dir)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toBe(`${key}\n`);
    // Nothing else is left in the directory (no temporary files).
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("a non-default port: the known_hosts entry names [host]:port", () => {
    const pinned = hostKey();
    const opts = mod.dockerSshOptions(
      { host: "10.0.0.2", port: 2222, user: "root", privateKey: fakeKey("port"), hostKey: pinned },
      undefined,
    );
    const knownHosts = unquote(options(opts).UserKnownHostsFile[0]);
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(`[10.0.0.2]:2222 ${pinned}\n`);
  });

  it("no pinned host key: accept-new; no key: the agent (no -i, no IdentitiesOnly); a passphrase: the agent too", () => {
    const unpinned = mod.dockerSshOptions(
      { host: "h", port: 22, user: "root", privateKey: fakeKey("unpinned") },
      undefined,
    );
    expect(options(unpinned).StrictHostKeyChecking).toEqual(["accept-new"]);
    expect(options(unpinned).UserKnownHostsFile).toBeUndefined();

    const agentOnly = mod.dockerSshOptions({ host: "h", port: 22, user: "root" }, undefined);
    expect(agentOnly).toEqual(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new"]);

    const withPassphrase = mod.dockerSshOptions(
      { host: "h", port: 22, user: "root", privateKey: fakeKey("pass"), privateKeyPassword: "pw" },
      undefined,
    );
    expect(flag(withPassphrase, "-i")).toBeUndefined();
    expect(withPassphrase).not.toContain("IdentitiesOnly=yes");
  });

  it("user options come first (ssh keeps the first value of an option)", () => {
    const opts = mod.dockerSshOptions(
      { host: "h", port: 22, user: "root", privateKey: fakeKey("user"), hostKey: hostKey() },
      undefined,
      ["-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=5"],
    );
    expect(opts.slice(0, 4)).toEqual(["-o", "StrictHostKeyChecking=no", "-o", "ConnectTimeout=5"]);
    expect(options(opts).StrictHostKeyChecking[0]).toBe("no");
  });

  it("a bastion: a ProxyCommand with the bastion's own key, port, user and host key, quoted for the shell", () => {
    const targetKey = fakeKey("target");
    const bastionKey = fakeKey("bastion");
    const bastionHostKey = hostKey();
    const opts = mod.dockerSshOptions(
      { host: "10.0.0.3", port: 22, user: "pswlab", privateKey: targetKey, hostKey: hostKey() },
      { host: "203.0.113.9", port: 2200, user: "jump", privateKey: bastionKey, hostKey: bastionHostKey },
    );
    expect(opts[opts.length - 2]).toBe("-o");
    const proxy = opts[opts.length - 1];
    expect(proxy).toMatch(/^ProxyCommand=ssh /);
    const words = shellWords(proxy.slice("ProxyCommand=".length));
    const bastionFile = flag(words, "-i")!;
    const bastionKnownHosts = unquote(options(words).UserKnownHostsFile[0]);
    expect(words).toEqual([
      "ssh",
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      bastionFile,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile="${bastionKnownHosts}"`,
      "-p",
      "2200",
      "-W",
      "%h:%p",
      "jump@203.0.113.9",
    ]);
    // The paths hold a space (see beforeAll): they survived the shell as one word each.
    expect(bastionFile.startsWith(dir)).toBe(true);
    expect(fs.readFileSync(bastionFile, "utf8")).toBe(`${bastionKey}\n`);
    expect(mode(bastionFile)).toBe(0o600);
    expect(fs.readFileSync(bastionKnownHosts, "utf8")).toBe(`[203.0.113.9]:2200 ${bastionHostKey}\n`);
    // The target keeps its own key; neither key's material is in any option.
    expect(fs.readFileSync(flag(opts, "-i")!, "utf8")).toBe(`${targetKey}\n`);
    expect(JSON.stringify(opts)).not.toContain(body(targetKey));
    expect(JSON.stringify(opts)).not.toContain(body(bastionKey));
  });

  it("refuses a key directory ssh would misread ('%', '${', quotes, backslashes), naming the fix", () => {
    for (const bad of ["pct%d", "dollar${HOME}", "quote'd", 'dq"x', "back\\slash", "new\nline"]) {
      process.env.PULUMI_SWARM_SSH_DIR = path.join(tmp, bad, "ssh");
      try {
        expect(() =>
          mod.dockerSshOptions({ host: "h", port: 22, user: "root", privateKey: fakeKey("bad") }, undefined),
        ).toThrow(/set PULUMI_SWARM_SSH_DIR to a plain directory/);
        expect(fs.existsSync(path.join(tmp, bad))).toBe(false);
      } finally {
        process.env.PULUMI_SWARM_SSH_DIR = dir;
      }
    }
    // A plain '$' (not '${') and spaces are fine.
    process.env.PULUMI_SWARM_SSH_DIR = path.join(tmp, "ok $x", "ssh");
    try {
      const opts = mod.dockerSshOptions(
        { host: "h", port: 22, user: "root", privateKey: fakeKey("ok"), hostKey: hostKey() },
        undefined,
      );
      expect(fs.existsSync(flag(opts, "-i")!)).toBe(true);
    } finally {
      process.env.PULUMI_SWARM_SSH_DIR = dir;
    }
  });

  it("dockerProviderConnection: ssh:// URL and options from a connection of secrets and outputs, neither secret", async () => {
    const key = fakeKey("conn");
    const bastionKey = fakeKey("conn-bastion");
    const pinned = hostKey();
    const { host, sshOpts } = mod.dockerProviderConnection(
      {
        host: pulumi.output("10.0.0.4"),
        port: 2222,
        user: "pswlab",
        privateKey: pulumi.secret(key),
        hostKey: pinned,
        proxy: pulumi.output({ host: "10.0.0.5", privateKey: pulumi.secret(bastionKey) }),
      },
      ["-o", "ServerAliveInterval=15"],
      OWNER,
    );
    expect(await valueOf(host)).toBe("ssh://pswlab@10.0.0.4:2222");
    expect(await isSecretOutput(host)).toBe(false);
    expect(await isSecretOutput(sshOpts)).toBe(false);
    const opts = await valueOf(sshOpts);
    expect(opts.slice(0, 2)).toEqual(["-o", "ServerAliveInterval=15"]);
    expect(fs.readFileSync(flag(opts, "-i")!, "utf8")).toBe(`${key}\n`);
    expect(fs.readFileSync(unquote(options(opts).UserKnownHostsFile[0]), "utf8")).toBe(
      `[10.0.0.4]:2222 ${pinned}\n`,
    );
    // The bastion's defaults: port 22, user root, no pinned key (accept-new).
    const words = shellWords(options(opts).ProxyCommand[0]);
    expect(words.slice(-5)).toEqual(["-p", "22", "-W", "%h:%p", "root@10.0.0.5"]);
    expect(options(words).StrictHostKeyChecking).toEqual(["accept-new"]);
    expect(fs.readFileSync(flag(words, "-i")!, "utf8")).toBe(`${bastionKey}\n`);
    expect(JSON.stringify(opts)).not.toContain(body(key));
    expect(JSON.stringify(opts)).not.toContain(body(bastionKey));
  });

  it("dockerProviderConnection: an unusable key directory is the cluster's ResourceError", async () => {
    process.env.PULUMI_SWARM_SSH_DIR = path.join(tmp, "pct%d", "ssh");
    // The Outputs derived inside the Output runtime (isKnown, isSecret) reject too, unawaited.
    const restore = divertUnhandledRejections(() => {});
    try {
      const { host, sshOpts } = mod.dockerProviderConnection(
        { host: "10.0.0.7", privateKey: fakeKey("late") },
        [],
        OWNER,
      );
      // Both Outputs reject; await both so neither rejection is left unhandled.
      const [settledHost, settledOpts] = await Promise.allSettled(
        [host, sshOpts].map((o) => (o as unknown as { promise(): Promise<unknown> }).promise()),
      );
      expect(settledOpts.status).toBe("rejected");
      const error = settledHost.status === "rejected" ? (settledHost.reason as unknown) : undefined;
      expect(error).toBeInstanceOf(pulumi.ResourceError);
      expect((error as Error).message).toMatch(
        /^swarm:cluster:SwarmCluster "c": pulumi-swarm: the Docker provider's ssh cannot use key files under .*set PULUMI_SWARM_SSH_DIR to a plain directory/,
      );
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      restore();
      process.env.PULUMI_SWARM_SSH_DIR = dir;
    }
  });

  it("dockerProviderConnection: defaults port 22 and user root", async () => {
    const { host, sshOpts } = mod.dockerProviderConnection(
      { host: "10.0.0.6", privateKey: fakeKey("d") },
      [],
      OWNER,
    );
    expect(await valueOf(host)).toBe("ssh://root@10.0.0.6:22");
    expect(options(await valueOf(sshOpts)).StrictHostKeyChecking).toEqual(["accept-new"]);
  });
});
