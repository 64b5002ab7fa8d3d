/**
 * How the lab stand-in of the command provider runs a command: over SSH with the system `ssh`
 * client (remote) or with `/bin/sh -c` (local). Remote commands only ever go to lab addresses.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** `connection` of a remote Command, secrets already revealed. */
export interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  perDialTimeout?: number;
  dialErrorLimit?: number;
  proxy?: Connection;
}

/** What a command printed and how it ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Connection fields the stand-in implements; any other one is refused, never silently ignored. */
export const SUPPORTED_CONNECTION_FIELDS = [
  "host",
  "port",
  "user",
  "privateKey",
  "perDialTimeout",
  "dialErrorLimit",
  "proxy",
];

/**
 * Throws unless `host` is an address the lab owns: 10.213.0.0/16 (lab bridges) or loopback.
 * Names are refused too: where they resolve is not ours to vouch for.
 */
export function assertLabAddress(host: string): void {
  const ok =
    host === "localhost" ||
    host === "::1" ||
    (net.isIPv4(host) && (host.startsWith("10.213.") || host.startsWith("127.")));
  if (!ok) {
    throw new Error(
      `connection.host: received ${JSON.stringify(host)}. This lab stand-in of pulumi-resource-command only dials lab addresses (10.213.0.0/16) and loopback`,
    );
  }
}

/** Replaces every occurrence of the given secrets (and each of their lines) with "[secret]". */
export function redact(text: string, secrets: string[]): string {
  const pieces = secrets
    .flatMap((s) => [s, ...s.split("\n")])
    .map((s) => s.trim())
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length);
  return pieces.reduce((out, piece) => out.split(piece).join("[secret]"), text);
}

function spawnAndCollect(
  file: string,
  args: string[],
  stdin: string,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env, cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on("error", () => undefined); // the remote side may close stdin early
    child.stdin.end(stdin);
  });
}

/** ssh options shared by the target and the proxy hop; the key file is the caller's. */
function sshOptions(conn: Connection, keyFile: string | undefined): string[] {
  return [
    ...(keyFile ? ["-i", keyFile, "-o", "IdentitiesOnly=yes"] : []),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    `ConnectTimeout=${conn.perDialTimeout ?? 15}`,
    "-o",
    `ConnectionAttempts=${Math.max(1, Math.min(conn.dialErrorLimit ?? 10, 10))}`,
    "-p",
    String(conn.port ?? 22),
    "-l",
    conn.user ?? "root",
  ];
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `command` on the host of `conn` through the system ssh client, `stdin` piped to it. Private
 * keys go to 0600 files in a private temporary directory that is removed as soon as ssh exits.
 */
export async function runRemote(
  conn: Connection,
  command: string,
  stdin: string,
  environment: Record<string, string>,
): Promise<RunResult> {
  assertLabAddress(conn.host);
  if (conn.proxy) assertLabAddress(conn.proxy.host);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-command-standin-"));
  try {
    const keyFile = (name: string, key?: string) => {
      if (!key) return undefined;
      const file = path.join(dir, name);
      fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
      return file;
    };
    const targetKey = keyFile("target", conn.privateKey);
    const proxyArgs: string[] = [];
    if (conn.proxy) {
      const hop = ["ssh", ...sshOptions(conn.proxy, keyFile("proxy", conn.proxy.privateKey))];
      const proxyCommand = [...hop, "-W", "%h:%p", "--", conn.proxy.host].map(shellQuote).join(" ");
      proxyArgs.push("-o", `ProxyCommand=${proxyCommand}`);
    }
    // Like the real provider's session.Setenv: sent, and kept only when the server's AcceptEnv allows.
    const sendEnv = Object.keys(environment).flatMap((k) => ["-o", `SendEnv=${k}`]);
    return await spawnAndCollect(
      "ssh",
      [...sshOptions(conn, targetKey), ...proxyArgs, ...sendEnv, "--", conn.host, command],
      stdin,
      { ...process.env, ...environment },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `command` on this machine with `/bin/sh -c`, as local.Command does with its default interpreter. */
export function runLocal(
  command: string,
  stdin: string,
  environment: Record<string, string>,
  dir?: string,
): Promise<RunResult> {
  return spawnAndCollect("/bin/sh", ["-c", command], stdin, { ...process.env, ...environment }, dir);
}
