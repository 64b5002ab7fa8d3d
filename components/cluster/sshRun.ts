/*
 * One script on one host over the system ssh, for the dynamic providers (nodeProvider.ts,
 * swarmProvider.ts). Their code is serialized into the state with everything it references, so
 * this module and what it imports stay free of @pulumi/pulumi (which would be serialized by value:
 * seconds to serialize on every run and some 150 KB in the state per resource).
 */
import { spawn } from "child_process";
import { dockerSshOptions, plainConnection as plain, type ResolvedConnection } from "../ssh/sshOptions";
import { asRemoteCommand } from "../shell/remote";

/**
 * Runs `script` on the host of `conn` over the system ssh, `stdin` on the script's fd 3. Retries
 * while ssh itself fails to connect (exit 255), then fails with the host and stderr (never stdin).
 */
export async function runOn(
  conn: ResolvedConnection,
  what: string,
  script: string,
  stdin = "",
): Promise<string> {
  const target = plain(conn);
  const args = [
    ...dockerSshOptions(target, conn.proxy ? plain(conn.proxy) : undefined),
    "-o",
    `ConnectTimeout=${Math.max(1, Math.round(conn.perDialTimeout ?? 15))}`,
    "-o",
    "LogLevel=ERROR",
    "-p",
    String(target.port),
    `${target.user}@${target.host}`,
    asRemoteCommand(script),
  ];
  const once = () =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin);
    });
  let result = await once();
  for (let attempt = 1; result.code === 255 && attempt < 4; attempt++) {
    await new Promise((r) => setTimeout(r, 2000 * attempt));
    result = await once();
  }
  if (result.code !== 0) {
    throw new Error(
      `${what} on ${target.user}@${target.host}:${target.port} failed (exit ${result.code}): ${result.stderr.trim().slice(-1500)}`,
    );
  }
  return result.stdout;
}
