import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/*
 * ssh options for a host (no @pulumi/pulumi here: the dynamic providers' code is serialized into
 * the state with everything it references, and this module is part of it; cluster/dockerSsh.ts
 * builds the Docker provider's connection from it, the host key pins and the node resources probe
 * and run over ssh with it).
 *
 * How the `@pulumi/docker` provider reaches a manager. The provider shells out to the local `ssh`
 * client (`ssh ... docker system dial-stdio`), which knows only its command line, ~/.ssh/config and
 * an agent: it never sees the key, port or bastion of a `SwarmHost`. So the connection is turned
 * into ssh options here, and the key into a file that `ssh -i` reads.
 *
 * The key file lives in a private directory (0700) as a 0600 file named after a hash of the key,
 * never the key: the same key always maps to the same path, so `pulumi destroy` and `refresh`
 * (which do not run the program, only the provider recorded in state) find it where `up` put it.
 */

/** A resolved SSH connection (the @pulumi/command shape, plain values), as dynamic providers receive it. */
export interface ResolvedConnection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  password?: string;
  hostKey?: string;
  perDialTimeout?: number;
  proxy?: ResolvedConnection;
}

/** The plain connection values the Docker provider's ssh needs (resolved, secrets included). */
export interface PlainConnection {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  privateKeyPassword?: string;
  hostKey?: string;
}

/** Where key and known_hosts files are written. Default: ~/.pulumi-swarm/ssh. */
export function dockerSshDir(): string {
  return process.env.PULUMI_SWARM_SSH_DIR ?? path.join(os.homedir(), ".pulumi-swarm", "ssh");
}

/**
 * ssh reads these files through its own parsers: it expands `%` tokens (and `${VAR}`) in
 * IdentityFile and UserKnownHostsFile, and splits UserKnownHostsFile on whitespace unless quoted.
 * `%` cannot even be escaped for `-i` (ssh checks the raw path exists before expanding it). So a
 * directory with such characters is refused with the fix, instead of an ssh failure far away
 * ("Host key verification failed", "percent_expand: unknown key %d").
 */
const UNSAFE_FOR_SSH = /[%"'\\]|\$\{|\p{Cc}/u;

function privateDir(): string {
  const dir = dockerSshDir();
  if (UNSAFE_FOR_SSH.test(dir)) {
    throw new Error(
      `pulumi-swarm: the Docker provider's ssh cannot use key files under ${JSON.stringify(dir)} (ssh expands or splits ` +
        "'%', '${', quotes, backslashes and control characters in file paths); set PULUMI_SWARM_SSH_DIR to a plain directory, e.g. /var/lib/pulumi-swarm/ssh",
    );
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir keeps the mode of a directory that already exists: tighten it every time.
  fs.chmodSync(dir, 0o700);
  return dir;
}

const digest = (...parts: string[]) =>
  crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);

/** Writes `content` to `dir/name` with mode 0600, atomically, unless it is already there. */
function writePrivateFile(name: string, content: string): string {
  const file = path.join(privateDir(), name);
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (current !== content) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  fs.chmodSync(file, 0o600);
  return file;
}

/** The key as a file `ssh -i` accepts (OpenSSH wants the final newline). Returns its path. */
export function writeKeyFile(privateKey: string): string {
  const content = `${privateKey.trim()}\n`;
  return writePrivateFile(`key-${digest(content)}`, content);
}

/** A known_hosts file holding exactly the pinned host key of `host:port`. Returns its path. */
export function writeKnownHosts(host: string, port: number, hostKey: string): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const content = `${name} ${hostKey.trim()}\n`;
  return writePrivateFile(`known_hosts-${digest(content)}`, content);
}

/** ssh splits a UserKnownHostsFile value on whitespace (it takes a list): quote a path that has any. */
const quoteIfSpaced = (file: string) => (/\s/.test(file) ? `"${file}"` : file);

/** ssh options that authenticate with the connection's key and check the host key when pinned. */
function authOptions(conn: PlainConnection): string[] {
  // With a passphrase the key cannot be used non-interactively: ssh falls back to the agent.
  const key =
    conn.privateKey && !conn.privateKeyPassword
      ? ["-o", "IdentitiesOnly=yes", "-i", writeKeyFile(conn.privateKey)]
      : [];
  const hostKey = conn.hostKey
    ? [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${quoteIfSpaced(writeKnownHosts(conn.host, conn.port, conn.hostKey))}`,
      ]
    : ["-o", "StrictHostKeyChecking=accept-new"];
  return ["-o", "BatchMode=yes", ...key, ...hostKey];
}

/** Quotes one word for the shell that runs a ProxyCommand. */
const shellWord = (word: string) =>
  /^[\w@%:./=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * The ssh options for the Docker provider: `userOptions` first (ssh keeps the first value of an
 * option, so they win), then the key, the host key check, and a `ProxyCommand` through the bastion.
 */
export function dockerSshOptions(
  conn: PlainConnection,
  proxy: PlainConnection | undefined,
  userOptions: string[] = [],
): string[] {
  const viaBastion = proxy
    ? [
        "-o",
        `ProxyCommand=${[
          "ssh",
          ...authOptions(proxy),
          "-p",
          String(proxy.port),
          "-W",
          "%h:%p",
          `${proxy.user}@${proxy.host}`,
        ]
          .map(shellWord)
          .join(" ")}`,
      ]
    : [];
  return [...userOptions, ...authOptions(conn), ...viaBastion];
}

/** A connection as the dynamic providers receive it, with ssh's defaults filled in (port 22, root). */
export function plainConnection(conn: ResolvedConnection): PlainConnection {
  return {
    host: conn.host,
    port: conn.port ?? 22,
    user: conn.user ?? "root",
    ...(conn.privateKey ? { privateKey: conn.privateKey } : {}),
    ...(conn.privateKeyPassword ? { privateKeyPassword: conn.privateKeyPassword } : {}),
    ...(conn.hostKey ? { hostKey: conn.hostKey } : {}),
  };
}
