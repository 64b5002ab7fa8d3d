import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { SwarmHost } from "../../components/hosts/types";
import { engineUnavailableReason } from "../engine/engine";

const run = promisify(execFile);
const LABHOSTS = path.join(__dirname, "hosts", "labhosts.sh");

/** One lab host: a network namespace with its own IP, sshd and dockerd. */
export interface LabHost {
  name: string;
  ip: string;
  netns: string;
  dir: string;
}

/** What labhosts.sh reports about a lab besides its hosts. */
export interface LabInfo {
  /** The bridge's address (the machine, seen from the hosts). */
  gateway: string;
  /** The SSH host public key file shared by every host of the lab. */
  hostKeyPath: string;
  /** A login user other than root (password-less sudo) that the lab key also lets in. */
  user: string;
  /** A second port every host's sshd listens on. */
  altSshPort: number;
}

/** The result of running a command on a lab host. */
export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Why lab tests cannot run here, or undefined when they can. Lab tests need root and Debian's
 * docker.io, openssh-server, iproute2 and busybox-static (`.ci/run` installs them).
 */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `lab hosts need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return "lab hosts need root (network namespaces, mounts, dockerd)";
  const tools = ["/usr/sbin/dockerd", "/usr/sbin/sshd", "/usr/bin/unshare", "/bin/busybox", "/usr/bin/curl"];
  const missing = tools.filter((t) => !fs.existsSync(t));
  if (missing.length > 0)
    return `missing ${missing.join(", ")} (apt-get install docker.io openssh-server iproute2 busybox-static curl)`;
  return undefined;
}

/**
 * `describe` for lab suites: runs them when the lab can run; otherwise fails under CI (a lab
 * that cannot run there is a broken CI, not a pass) and says SKIPPED loudly elsewhere.
 */
export function describeLab(title: string, body: () => void, needs: { engine?: boolean } = {}): void {
  const reason = labUnavailableReason() ?? (needs.engine ? engineUnavailableReason() : undefined);
  if (!reason) {
    describe(title, body);
    return;
  }
  if (process.env.CI) {
    describe(title, () => {
      it("can run the lab", () => {
        throw new Error(`lab tests cannot run: ${reason}`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED lab suite "${title}": ${reason} ***\n`);
  describe.skip(title, body);
}

/** A set of lab hosts with an SSH key that reaches them all; refuses any other address. */
export class Lab {
  private constructor(
    readonly id: number,
    readonly hosts: LabHost[],
    readonly privateKeyPath: string,
    /** The lab's facts beside the hosts: pinned host key, the non-root user, the second SSH port. */
    readonly info: LabInfo,
  ) {}

  /** Brings `count` hosts up (idempotent) as lab `id` (1-200: bridge pswbr<id>, 10.213.<id>.0/24). */
  static async up(id: number, count: number): Promise<Lab> {
    const { stdout } = await run("bash", [LABHOSTS, "up", String(id), String(count)], { maxBuffer: 1 << 20 });
    const json = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as LabInfo & {
      hosts: LabHost[];
      privateKeyPath: string;
    };
    return new Lab(id, json.hosts, json.privateKeyPath, {
      gateway: json.gateway,
      hostKeyPath: json.hostKeyPath,
      user: json.user,
      altSshPort: json.altSshPort,
    });
  }

  /**
   * Takes lab `id` down first (leftovers of an earlier run, a swarm or claims, would hide what this
   * run does), then brings `count` hosts up.
   */
  static async fresh(id: number, count: number): Promise<Lab> {
    await run("bash", [LABHOSTS, "down", String(id)]);
    return Lab.up(id, count);
  }

  /** Removes the lab, unless LAB_KEEP is set (to look at it after a failed run). */
  async release(): Promise<void> {
    if (!process.env.LAB_KEEP) await this.down();
  }

  /** Stops and removes every host of the lab. */
  async down(): Promise<void> {
    await run("bash", [LABHOSTS, "down", String(this.id)]);
  }

  get privateKey(): string {
    return fs.readFileSync(this.privateKeyPath, "utf8");
  }

  host(name: string): LabHost {
    const host = this.hosts.find((h) => h.name === name || h.ip === name);
    if (!host) throw new Error(`${name} is not a host of lab ${this.id}: refusing to send it any traffic`);
    return host;
  }

  /** The SSH host public key every host of this lab presents ("ssh-ed25519 AAAA..."). */
  get hostPublicKey(): string {
    return fs.readFileSync(this.info.hostKeyPath, "utf8").trim();
  }

  /**
   * The lab hosts as SwarmHosts: root over SSH with the lab key and the pinned host key,
   * advertising their lab IP. The private key is a plain string here; components make it secret.
   */
  swarmHosts(): SwarmHost[] {
    return this.hosts.map((h) => ({
      name: h.name,
      connection: {
        host: h.ip,
        port: 22,
        user: "root",
        privateKey: this.privateKey,
        hostKey: this.hostPublicKey,
      },
      advertiseAddr: h.ip,
    }));
  }

  /**
   * Runs a command string on a lab host over real SSH, exactly as `@pulumi/command` does: the
   * string goes to the remote login shell, `stdin` to its standard input.
   */
  ssh(hostOrIp: string, command: string, stdin = "", timeoutMs = 300_000): Promise<SshResult> {
    const host = this.host(hostOrIp);
    return new Promise((resolve, reject) => {
      const child = spawn(
        "ssh",
        [
          "-i",
          this.privateKeyPath,
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "LogLevel=ERROR",
          "-o",
          "ConnectTimeout=10",
          `root@${host.ip}`,
          command,
        ],
        { stdio: ["pipe", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`ssh ${host.name}: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      // ssh that exits before reading stdin (host down) must not crash the test with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin);
    });
  }

  /** Like {@link ssh} but throws with the output when the command fails. */
  async sh(hostOrIp: string, command: string, stdin = ""): Promise<string> {
    const result = await this.ssh(hostOrIp, command, stdin);
    if (result.code !== 0) {
      throw new Error(
        `on ${hostOrIp}: exit ${result.code}\n--- command\n${command.slice(0, 2000)}\n--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`,
      );
    }
    return result.stdout;
  }

  /**
   * Gives one host's sshd a new Ed25519 host key (a rebuilt machine, or someone in between): its
   * own sshd_config points at a fresh key and sshd re-reads it. Returns the new public key line.
   */
  async newHostKey(name: string): Promise<string> {
    const host = this.host(name);
    const keyFile = path.join(host.dir, "swapped_host_key");
    fs.rmSync(keyFile, { force: true });
    fs.rmSync(`${keyFile}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
    const config = path.join(host.dir, "sshd_config");
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace(/^HostKey .*$/m, `HostKey ${keyFile}`));
    await this.sh(name, 'kill -HUP "$(cat /run/sshd.pid)"');
    return fs.readFileSync(`${keyFile}.pub`, "utf8").trim();
  }

  /** Size of a host's sshd log now: pass it to {@link loginsSince}. */
  sshdLogSize(name: string): number {
    return fs.statSync(path.join(this.host(name).dir, "sshd.log")).size;
  }

  /** "Accepted publickey" lines of a host's sshd log after `offset`: logins, i.e. anything run there. */
  loginsSince(name: string, offset: number): string[] {
    return fs
      .readFileSync(path.join(this.host(name).dir, "sshd.log"), "utf8")
      .slice(offset)
      .split("\n")
      .filter((l) => l.includes("Accepted publickey"));
  }

  /** Rejects SSH (`ports`: 22 and the second port) from this machine to a host, in the host's own netns. */
  async blockSshFromMachine(name: string, ports: number[] = [22, this.info.altSshPort]): Promise<void> {
    const ns = this.host(name).netns;
    for (const port of ports) {
      const rule = ["INPUT", "-p", "tcp", "-s", this.info.gateway, "--dport", String(port), "-j", "REJECT"];
      const present = await run("ip", ["netns", "exec", ns, "iptables", "-C", ...rule]).then(
        () => true,
        () => false,
      );
      if (!present) await run("ip", ["netns", "exec", ns, "iptables", "-A", ...rule]);
    }
  }

  /** `docker node ls` on a manager, parsed. */
  async nodes(manager: string): Promise<NodeRow[]> {
    const out = await this.sh(
      manager,
      `docker node ls -q | xargs docker node inspect --format '{{.ID}}|{{.Description.Hostname}}|{{.Spec.Role}}|{{.Status.State}}|{{.Spec.Availability}}|{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}|{{json .Spec.Labels}}'`,
    );
    return out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id, hostname, role, state, availability, reachability, labels] = line.split("|");
        return {
          id,
          hostname,
          role,
          state,
          availability,
          reachability,
          labels: JSON.parse(labels) as Record<string, string>,
        };
      });
  }
}

/** One row of `docker node ls`, read with `docker node inspect`. */
export interface NodeRow {
  id: string;
  hostname: string;
  role: string;
  state: string;
  availability: string;
  reachability: string;
  labels: Record<string, string>;
}

/** Polls `check` until it returns true or `seconds` pass. */
export async function eventually(seconds: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check().catch(() => false);
}

/**
 * Points the Docker provider's key and known_hosts files (PULUMI_SWARM_SSH_DIR) at a fresh private
 * directory instead of ~/.pulumi-swarm, and returns what removes it again.
 */
export function useTempSshDir(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-swarm-ssh-"));
  process.env.PULUMI_SWARM_SSH_DIR = path.join(root, "ssh");
  return () => {
    delete process.env.PULUMI_SWARM_SSH_DIR;
    fs.rmSync(root, { recursive: true, force: true });
  };
}
