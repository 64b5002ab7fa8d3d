import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { installMocks, isSecretInput, MockRun, settle, unwrapSecrets, valueOf } from "../helpers/mocks";
import { pinnedClusterAnswer } from "../helpers/pinnedClusterMocks";
import { cloudCall, cloudNewResource } from "../helpers/cloudMocks";
import {
  changedKeyMessage,
  fingerprintOf,
  hostKeyProvider,
  UNANSWERED,
  normalizeKey,
  type HostKeyInputs,
  type HostKeyOutputs,
} from "../../components/ssh/hostKeyProvider";
import { launchedWith } from "../../components/hosts/cloudHostKeys";
import { renderCloudUserData } from "../../components/hosts/scripts/cloudinit";
import type { SwarmHost } from "../../components/hosts/types";

jest.setTimeout(60_000);

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
/** What the mocked pins "learn": one key per host, made from the host's name. */
const learned = (host: string) =>
  `ssh-ed25519 ${Buffer.from(`AAAAC3NzaC1lZDI1NTE5AAAAI-${host}`).toString("base64")}`;
const GIVEN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGivenGivenGivenGivenGivenGivenGivenGiven root@node-3";

describe("host key helpers (pure)", () => {
  it("computes the fingerprint ssh-keygen prints, for a real key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hk-"));
    try {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
      const pub = fs.readFileSync(path.join(dir, "k.pub"), "utf8");
      const printed = execFileSync("ssh-keygen", ["-lf", path.join(dir, "k.pub")], { encoding: "utf8" });
      expect(printed.split(" ")[1]).toMatch(/^SHA256:/);
      expect(fingerprintOf(normalizeKey(pub)!)).toBe(printed.split(" ")[1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("normalizes a key line to type and base64 (comment dropped) and refuses other text", () => {
    expect(normalizeKey("ssh-ed25519 AAAAC3Nz== root@host\n")).toBe("ssh-ed25519 AAAAC3Nz==");
    expect(normalizeKey("not a key")).toBeUndefined();
    expect(normalizeKey(undefined)).toBeUndefined();
  });

  it("names the host, both fingerprints and the deliberate fix in the refusal", () => {
    const inputs: HostKeyInputs = {
      kind: "swarm:cluster:HostKey",
      component: "SwarmCluster",
      owner: "prod",
      host: "node-2",
      connection: { host: "10.0.0.2", user: "root", privateKey: "PRIVATE-KEY" },
      given: "",
      accept: "",
    };
    const old = learned("old");
    const now = learned("new");
    const message = changedKeyMessage(inputs, old, now);
    expect(message).toContain('host "node-2" (root@10.0.0.2:22)');
    expect(message).toContain(`pinned ${fingerprintOf(old)} (ssh-ed25519)`);
    expect(message).toContain(`the host now presents ${fingerprintOf(now)} (ssh-ed25519)`);
    expect(message).toContain("Nothing was run on this host.");
    expect(message).toContain(`acceptHostKeys: { "node-2": "${fingerprintOf(now)}" }`);
    expect(message).not.toContain("PRIVATE-KEY");
    // A given key is changed where it was given, not accepted.
    const given = changedKeyMessage({ ...inputs, given: old }, old, now);
    expect(given).toContain("put the new key there");
    expect(given).not.toContain("acceptHostKeys");
  });

  it("names a delivery-platform component and a bastion the same way, with the fix on that component", () => {
    const inputs: HostKeyInputs = {
      kind: "swarm:cluster:HostKey",
      component: "ComposeHost",
      owner: "tools",
      host: "bastion:198.51.100.5",
      connection: { host: "198.51.100.5", port: 22, user: "ubuntu", privateKey: "PRIVATE-KEY" },
      given: "",
      accept: "",
    };
    const old = learned("old");
    const now = learned("new");
    const message = changedKeyMessage(inputs, old, now);
    expect(message).toMatch(
      /^ComposeHost "tools": the SSH host key of bastion "bastion:198\.51\.100\.5" \(ubuntu@198\.51\.100\.5:22\) is not the pinned one: pinned SHA256:\S+ \(ssh-ed25519\), the bastion now presents SHA256:\S+ \(ssh-ed25519\)\. Nothing was run through this bastion\./,
    );
    expect(message).toContain(
      `accept it with acceptHostKeys: { "bastion:198.51.100.5": "${fingerprintOf(now)}" } on the ComposeHost and run pulumi up`,
    );
    expect(changedKeyMessage({ ...inputs, given: old }, old, now)).toContain(
      "The pinned key is the one given in the bastion's hostKey (connection.proxy.hostKey)",
    );
    expect(message).not.toContain("PRIVATE-KEY");
  });

  it("tells an instance launched with the user data from one launched before it (every recorded form)", () => {
    const sent = "Content-Type: multipart/mixed\n...";
    expect(launchedWith(sent, sent)).toBe(true);
    expect(launchedWith(crypto.createHash("sha1").update(sent).digest("hex"), sent)).toBe(true);
    expect(launchedWith(Buffer.from(sent).toString("base64"), sent)).toBe(true);
    expect(launchedWith("#!/bin/bash\n# older user data", sent)).toBe(false);
    expect(launchedWith(crypto.createHash("sha1").update("older").digest("hex"), sent)).toBe(false);
    expect(launchedWith(undefined, sent)).toBe(false);
  });

  it("renders cloud-init user data that installs exactly the given Ed25519 host key", () => {
    const hostKey = {
      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
      publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey",
    };
    const text = renderCloudUserData({ user: "ubuntu", installDocker: true, hostKey });
    const parts = text.split("--==pulumi-swarm-user-data==");
    expect(parts).toHaveLength(4); // header, cloud-config, script, closing "--"
    const cloudConfig = parts[1].slice(parts[1].indexOf("#cloud-config"));
    expect(parts[1]).toContain("Content-Type: text/cloud-config");
    expect(YAML.parse(cloudConfig)).toEqual({
      ssh_deletekeys: true,
      ssh_genkeytypes: [],
      ssh_keys: { ed25519_private: hostKey.privateKey, ed25519_public: hostKey.publicKey },
    });
    expect(parts[2]).toContain("Content-Type: text/x-shellscript");
    expect(parts[2]).toContain("#!/bin/bash\n# pulumi-swarm: install Docker Engine");
    expect(parts[3]).toBe("--\n");
    expect(renderCloudUserData({ user: "root", installDocker: false, hostKey })).not.toContain(
      "x-shellscript",
    );
    expect(() =>
      renderCloudUserData({
        user: "root",
        installDocker: false,
        hostKey: { ...hostKey, publicKey: "ssh-rsa AAAAB3Nza" },
      }),
    ).toThrow('hostKey: received a "ssh-rsa" key. Give an Ed25519 key pair in OpenSSH format');
  });
});

describe("the pin's diff compares the key the program read, without a probe of its own", () => {
  // A loopback port nothing listens on: a probe the provider made itself would fail at once, and an
  // unreachable host is no finding, so only a comparison with `presented` can refuse below.
  const closedPort = async () => {
    const net = await import("net");
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  };
  /** A key in the form normalizeKey accepts, distinct per seed. */
  const key = (seed: string) =>
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(seed.padEnd(30, "x")).toString("base64").replace(/=+$/, "")}`;
  const pinned = key("pinned");
  const state = (port: number): HostKeyOutputs => ({
    kind: "swarm:cluster:HostKey",
    component: "SwarmCluster",
    owner: "prod",
    host: "node-2",
    connection: { host: "127.0.0.1", port, user: "root", privateKey: "PRIVATE-KEY" },
    given: "",
    accept: "",
    hostKey: pinned,
    fingerprint: fingerprintOf(pinned),
    source: "learned",
  });
  const diff = (olds: HostKeyOutputs, presented: string) =>
    hostKeyProvider.diff!("prod/node-2", olds, { ...olds, presented } as HostKeyInputs);

  it("the pinned key presented: no change", async () => {
    const olds = state(await closedPort());
    await expect(diff(olds, pinned)).resolves.toMatchObject({ changes: false });
  });

  it("another key of the same type presented: the refusal, with both fingerprints", async () => {
    const olds = state(await closedPort());
    const now = key("intruder");
    await expect(diff(olds, now)).rejects.toThrow(
      `pinned ${fingerprintOf(pinned)} (ssh-ed25519), the host now presents ${fingerprintOf(now)} (ssh-ed25519)`,
    );
  });

  it("a key the user accepted presented: no change; a key of another type: the provider probes itself", async () => {
    const olds = state(await closedPort());
    const now = key("rotated");
    await expect(
      hostKeyProvider.diff!("prod/node-2", olds, {
        ...olds,
        accept: fingerprintOf(now),
        presented: now,
      } as HostKeyInputs),
    ).resolves.toMatchObject({ changes: true });
    // An RSA key answers nothing about a pinned Ed25519 one: the provider's own probe (refused
    // here: nothing listens) decides, and an unreachable host is no finding.
    await expect(diff(olds, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")).resolves.toMatchObject({
      changes: false,
    });
  });

  it("a host that did not answer the program is not dialled again by diff; with nothing read, diff probes it (control)", async () => {
    const net = await import("net");
    let connections = 0;
    // Counts connections and hangs up at once: a probe fails fast and is no finding.
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const olds = state((server.address() as { port: number }).port);
      await expect(diff(olds, UNANSWERED)).resolves.toMatchObject({ changes: false });
      expect(connections).toBe(0);
      await expect(diff(olds, "")).resolves.toMatchObject({ changes: false });
      expect(connections).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("create keeps the key the program read (no probe): learned, or refused against acceptHostKeys", async () => {
    const olds = state(await closedPort());
    const inputs = { ...olds, presented: pinned } as HostKeyInputs;
    await expect(hostKeyProvider.create!(inputs)).resolves.toMatchObject({
      outs: { hostKey: pinned, source: "learned" },
    });
    await expect(hostKeyProvider.create!({ ...inputs, accept: fingerprintOf(key("other")) })).rejects.toThrow(
      `presents ${fingerprintOf(pinned)}, but acceptHostKeys expects`,
    );
  });
});

describe("SwarmCluster pins host keys (mocks)", () => {
  let run: MockRun;
  let SwarmCluster: typeof import("../../components/cluster/swarmCluster").SwarmCluster;
  let sshDir = "";

  const host = (n: number, hostKey?: string): SwarmHost => ({
    name: `node-${n}`,
    connection: {
      host: `10.0.0.${n}`,
      user: "root",
      privateKey: pulumi.secret("PRIVATE-KEY"),
      ...(hostKey ? { hostKey } : {}),
    },
    advertiseAddr: `10.0.0.${n}`,
  });

  beforeAll(async () => {
    sshDir = fs.mkdtempSync(path.join(os.tmpdir(), "hk-ssh-"));
    process.env.PULUMI_SWARM_SSH_DIR = sshDir;
    run = await installMocks({
      newResource: (args) => pinnedClusterAnswer(args, learned),
    });
    ({ SwarmCluster } = await import("../../components/cluster/swarmCluster"));
  });

  afterAll(() => {
    delete process.env.PULUMI_SWARM_SSH_DIR;
    fs.rmSync(sshDir, { recursive: true, force: true });
  });

  const connectionOf = (r: { inputs: Record<string, unknown> }, key = "connection") =>
    unwrapSecrets(r.inputs[key]) as { host: string; hostKey?: string };

  it("learns one key per host and connects every command, node resource and the Docker provider with it; a given key wins, verbatim", async () => {
    const cluster = new SwarmCluster("pin", {
      nodes: [
        { host: host(1), role: "manager" },
        { host: host(2), role: "worker" },
        { host: host(3, GIVEN), role: "worker" },
      ],
      acceptHostKeys: { "node-2": `SHA256:${"A".repeat(43)}` },
    });
    await valueOf(cluster.nodeIds);
    await valueOf(cluster.provider.urn);
    await settle();
    const pins = run.ofType(DYNAMIC).filter((r) => r.name.startsWith("pin-") && r.name.endsWith("-host-key"));
    expect(pins.map((p) => p.name).sort()).toEqual([
      "pin-node-1-host-key",
      "pin-node-2-host-key",
      "pin-node-3-host-key",
    ]);
    for (const p of pins) {
      expect(p.inputs.kind).toBe("swarm:cluster:HostKey");
      // The connection holds the private key: secret in the pin's inputs.
      expect(isSecretInput(p.inputs.connection)).toBe(true);
    }
    expect(run.named("pin-node-2-host-key").inputs.accept).toBe(`SHA256:${"A".repeat(43)}`);
    expect(run.named("pin-node-1-host-key").inputs.accept).toBe("");
    expect(run.named("pin-node-3-host-key").inputs.given).toBe(GIVEN);
    // No engine under mocks: the program reads no key (it would dial the invented addresses).
    for (const p of pins) expect(p.inputs.presented).toBe("");

    const expected: Record<string, string> = {
      "10.0.0.1": learned("node-1"),
      "10.0.0.2": learned("node-2"),
      "10.0.0.3": GIVEN,
    };
    const commands = run.ofType("command:remote:Command").filter((r) => r.name.startsWith("pin-"));
    expect(commands.length).toBeGreaterThanOrEqual(7);
    for (const c of commands) {
      const conn = connectionOf(c);
      expect([c.name, conn.hostKey]).toEqual([c.name, expected[conn.host]]);
    }
    const nodes = run.ofType(DYNAMIC).filter((r) => /^pin-node-\d-node$/.test(r.name));
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      for (const key of ["connection", "adminConnection"]) {
        const conn = connectionOf(n, key);
        expect([n.name, key, conn.hostKey]).toEqual([n.name, key, expected[conn.host]]);
      }
    }
    const swarm = run.named("pin-swarm");
    const managers = unwrapSecrets(swarm.inputs.managers) as { connection: { hostKey?: string } }[];
    expect(managers.map((m) => m.connection.hostKey)).toEqual([learned("node-1")]);

    // The Docker provider's ssh checks the learned key of the first manager strictly.
    const raw = run.named("pin-docker").inputs.sshOpts;
    // Provider inputs reach the mocks JSON-encoded.
    const opts = (typeof raw === "string" ? JSON.parse(raw) : raw) as string[];
    expect(opts).toContain("StrictHostKeyChecking=yes");
    expect(opts).not.toContain("StrictHostKeyChecking=accept-new");
    const knownHosts = opts.find((o) => o.startsWith("UserKnownHostsFile="))!.split("=")[1];
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(`10.0.0.1 ${learned("node-1")}\n`);
  });

  it('hostKeys: "off" creates no pins and leaves connections as given', async () => {
    const cluster = new SwarmCluster("off", {
      nodes: [{ host: host(1), role: "manager" }],
      hostKeys: "off",
    });
    await valueOf(cluster.nodeIds);
    await settle();
    expect(run.resources.filter((r) => r.name.startsWith("off-") && r.name.endsWith("-host-key"))).toEqual(
      [],
    );
    for (const c of run.ofType("command:remote:Command").filter((r) => r.name.startsWith("off-")))
      expect(connectionOf(c).hostKey).toBeUndefined();
  });

  it.each([
    [{ hostKeys: "maybe" }, 'hostKeys: received "maybe". Use "pin" (default) or "off".'],
    [
      { acceptHostKeys: { "node-9": `SHA256:${"A".repeat(43)}` } },
      `acceptHostKeys["node-9"]: received "node-9". Use the name of one of this cluster's hosts: node-1.`,
    ],
    [
      { acceptHostKeys: { "node-1": "MD5:aa:bb" } },
      'acceptHostKeys["node-1"]: received "MD5:aa:bb". Use the SHA-256 fingerprint the refusal printed',
    ],
    [
      { hostKeys: "off", acceptHostKeys: { "node-1": `SHA256:${"A".repeat(43)}` } },
      'Host keys are not pinned with hostKeys: "off"',
    ],
  ])("refuses %j before creating anything", async (extra, message) => {
    const before = run.resources.length;
    expect(
      () =>
        new SwarmCluster("bad", {
          nodes: [{ host: host(1), role: "manager" }],
          ...(extra as object),
        }),
    ).toThrow(message);
    await settle();
    expect(run.resources.length).toBe(before);
  });
});

describe("cloud hosts learn their host key from the instance (mocks)", () => {
  let run: MockRun;
  let AwsHosts: typeof import("../../components/hosts/aws/awsHosts").AwsHosts;
  let AlicloudHosts: typeof import("../../components/hosts/alicloud/alicloudHosts").AlicloudHosts;
  /** Instances that answer as if launched before host keys came with the user data. */
  const launchedBefore = new Set(["aws-old-2", "ali-old-1"]);
  /** Instances whose provider records the user data as its SHA-1 (the AWS provider's state). */
  const recordsSha1 = new Set(["aws-old-1"]);

  beforeAll(async () => {
    const cloud = cloudNewResource();
    run = await installMocks({
      call: cloudCall({}),
      newResource: (args) => {
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type === "tls:index/privateKey:PrivateKey" && args.name.endsWith("-host-key"))
          return {
            ...inputs,
            privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${args.name}\n-----END OPENSSH PRIVATE KEY-----\n`,
            publicKeyOpenssh: `ssh-ed25519 AAAAC3${Buffer.from(args.name).toString("base64")}\n`,
          };
        const state = cloud(args);
        if (state && (launchedBefore.has(args.name) || recordsSha1.has(args.name))) {
          const sent = String(unwrapSecrets(inputs.userData));
          return {
            ...state,
            userData: launchedBefore.has(args.name)
              ? "#!/bin/bash\n# the user data of an earlier release"
              : crypto.createHash("sha1").update(sent).digest("hex"),
          };
        }
        return state;
      },
    });
    ({ AwsHosts } = await import("../../components/hosts/aws/awsHosts"));
    ({ AlicloudHosts } = await import("../../components/hosts/alicloud/alicloudHosts"));
  });

  const publicKeyOf = (name: string) =>
    `ssh-ed25519 AAAAC3${Buffer.from(`${name}-host-key`).toString("base64")}`;

  it("AwsHosts: each instance's user data installs its own key, and its SwarmHost pins that key before first contact", async () => {
    const group = new AwsHosts("aws", { count: 2, adminCidrs: ["203.0.113.7/32"], region: "eu-central-1" });
    const keys = await Promise.all(group.hosts.map((h) => valueOf(pulumi.output(h.connection.hostKey))));
    expect(keys).toEqual([publicKeyOf("aws-1"), publicKeyOf("aws-2")]);
    for (const n of [1, 2]) {
      const inputs = run.named(`aws-${n}`).inputs;
      expect(isSecretInput(inputs.userData)).toBe(true);
      const userData = String(unwrapSecrets(inputs.userData));
      expect(userData).toContain(`ed25519_public: ${publicKeyOf(`aws-${n}`)}`);
      expect(userData).toContain(
        `ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    aws-${n}-host-key`,
      );
      expect(run.named(`aws-${n}-host-key`).inputs).toEqual({ algorithm: "ED25519" });
    }
  });

  it("an instance launched before (its recorded user data is older) gets no pinned key: the cluster learns it instead of locking itself out", async () => {
    const group = new AwsHosts("aws-old", {
      count: 2,
      adminCidrs: ["203.0.113.7/32"],
      region: "eu-central-1",
    });
    const keys = await Promise.all(group.hosts.map((h) => valueOf(pulumi.output(h.connection.hostKey))));
    // aws-old-1 records the SHA-1 of what it was launched with (still ours); aws-old-2 predates it.
    expect(keys).toEqual([publicKeyOf("aws-old-1"), undefined]);
  });

  it("AlicloudHosts: the same, with the user data base64-encoded as ECS takes it", async () => {
    const group = new AlicloudHosts("ali", {
      count: 1,
      adminCidrs: ["203.0.113.7/32"],
      region: "cn-hangzhou",
    });
    expect(await valueOf(pulumi.output(group.hosts[0].connection.hostKey))).toBe(publicKeyOf("ali-1"));
    const userData = Buffer.from(
      String(unwrapSecrets(run.named("ali-1").inputs.userData)),
      "base64",
    ).toString();
    expect(userData).toContain(`ed25519_public: ${publicKeyOf("ali-1")}`);
    const old = new AlicloudHosts("ali-old", {
      count: 1,
      adminCidrs: ["203.0.113.7/32"],
      region: "cn-hangzhou",
    });
    expect(await valueOf(pulumi.output(old.hosts[0].connection.hostKey))).toBeUndefined();
  });
});
