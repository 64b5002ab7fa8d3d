import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecretInput, isSecretOutput, MockRun, settle, valueOf } from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";
import { divertUnhandledRejections } from "../helpers/unhandled";

// Every secret is made at run time, so a match can only come from the program under test.
const rand = (prefix: string, bytes = 18) => `${prefix}${crypto.randomBytes(bytes).toString("hex")}`;
const SECRETS = {
  sshPrivateKey: `-----BEGIN ${"OPENSSH"} PRIVATE KEY-----\n${crypto.randomBytes(120).toString("base64")}\n-----END ${"OPENSSH"} PRIVATE KEY-----\n`,
  workerToken: rand("SWMTKN-1-w"),
  managerToken: rand("SWMTKN-1-m"),
  unlockKey: rand(["SWMKEY", "1", ""].join("-")),
  gitlabPassword: rand("Gl-"),
  harborPassword: rand("Hb1-"),
  sonarPassword: rand("Sq-"),
  generatedPassword: rand("gen"),
  serviceSecret: rand("svc-secret-"),
  registryPassword: rand("reg-"),
  composeSecret: rand("compose-"),
  tlsPrivateKey: `-----BEGIN PRIVATE KEY-----\n${crypto.randomBytes(90).toString("base64")}\n-----END PRIVATE KEY-----\n`,
  jenkinsInitial: rand("jk"),
};
/** Every secret, plus each long line of the multi-line ones (a key may leak one line at a time). */
const NEEDLES: [string, string][] = Object.entries(SECRETS).flatMap(([name, value]) => [
  [name, value.trim()] as [string, string],
  ...(value.includes("\n") ? value.trim().split("\n") : [])
    .filter((l) => l.length >= 40 && !l.startsWith("-----"))
    .map((l, i) => [`${name} line ${i + 1}`, l] as [string, string]),
]);

/** Places where a needle was found, "where: which secret". */
function findLeaks(where: string, text: string | undefined): string[] {
  if (!text) return [];
  return NEEDLES.filter(([, needle]) => text.includes(needle)).map(([name]) => `${where}: ${name}`);
}

/** The inputs with every secret-wrapped value taken out: what is stored and shown in plain text. */
function plainPart(value: unknown): unknown {
  if (isSecretInput(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(plainPart);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainPart(v)]));
  return value;
}

describe("secret-leak check over the whole program under mocks", () => {
  let run: MockRun;
  const captured: { source: string; text: string }[] = [];
  const restore: (() => void)[] = [];
  let lib: typeof import("../../index");
  let docker: typeof import("@pulumi/docker");

  beforeAll(async () => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      const original = console[level];
      console[level] = (...args: unknown[]) => {
        captured.push({ source: `console.${level}`, text: args.map(String).join(" ") });
      };
      restore.push(() => (console[level] = original));
    }
    const log = pulumi.log as unknown as Record<string, (msg: string, ...rest: unknown[]) => Promise<void>>;
    for (const level of ["debug", "info", "warn", "error"]) {
      const original = log[level];
      log[level] = (msg: string, ...rest: unknown[]) => {
        captured.push({ source: `pulumi.log.${level}`, text: String(msg) });
        return original(msg, ...rest);
      };
      restore.push(() => (log[level] = original));
    }
    run = await installMocks({
      newResource: ({ type, name, inputs }) => {
        if (type === "random:index/randomPassword:RandomPassword")
          return { ...inputs, result: SECRETS.generatedPassword };
        if (type === "tls:index/privateKey:PrivateKey")
          return {
            ...inputs,
            privateKeyPem: SECRETS.tlsPrivateKey,
            privateKeyOpenssh: SECRETS.sshPrivateKey,
            publicKeyOpenssh: "ssh-ed25519 AAAAPUBLIC\n",
          };
        if (type === "tls:index/selfSignedCert:SelfSignedCert")
          return { ...inputs, certPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n" };
        if (type === "tls:index/certRequest:CertRequest") return { ...inputs, certRequestPem: "CSR" };
        if (type === "tls:index/locallySignedCert:LocallySignedCert")
          return { ...inputs, certPem: "-----BEGIN CERTIFICATE-----\nSRV\n-----END CERTIFICATE-----\n" };
        if (type !== "command:remote:Command") return undefined;
        if (name.endsWith("-init")) {
          const summary = {
            clusterId: "cluster-1",
            nodeId: "node-id-1",
            workerToken: SECRETS.workerToken,
            managerToken: SECRETS.managerToken,
            unlockKey: SECRETS.unlockKey,
          };
          return { ...inputs, stdout: `${JSON.stringify(summary)}\n` };
        }
        if (name.endsWith("-join")) return { ...inputs, stdout: `id-${name}\n` };
        if (name.endsWith("-admin-password")) return { ...inputs, stdout: SECRETS.jenkinsInitial };
        return { ...inputs, stdout: "ok\n", stderr: "" };
      },
    });
    lib = await import("../../index");
    docker = await import("@pulumi/docker");
  });

  afterAll(() => restore.forEach((r) => r()));

  const results: Record<string, unknown> = {};

  it("builds a cluster, workloads and the delivery platform with every kind of secret, and none leaks", async () => {
    const hosts: SwarmHost[] = lib.existingHosts(
      Array.from({ length: 5 }, (_, i) => ({ name: `node-${i + 1}`, host: `10.0.0.${i + 1}` })),
      { privateKey: SECRETS.sshPrivateKey },
    );
    const cluster = new lib.SwarmCluster("leak", {
      nodes: hosts.map((host, i) => ({ host, role: i < 3 ? ("manager" as const) : ("worker" as const) })),
      autolock: true,
    });
    const network = new lib.OverlayNetwork("leak-net", { cluster });
    new lib.SwarmService("leak-svc", {
      cluster,
      image: "registry.example.com/app:1.0",
      networks: [network],
      secrets: [{ name: "db", data: pulumi.secret(SECRETS.serviceSecret) }],
      registryAuth: {
        server: "registry.example.com",
        username: "ci",
        password: pulumi.secret(SECRETS.registryPassword),
      },
    });
    new lib.ComposeStack("leak-stack", {
      cluster,
      composeContent: "services:\n  web:\n    image: nginx:1.27\n    environment:\n      TOKEN: ${TOKEN}\n",
      environment: { TOKEN: pulumi.secret(SECRETS.composeSecret) },
    });
    const ci = lib.existingHosts(
      ["gitlab", "jenkins", "harbor", "sonar"].map((name, i) => ({ name, host: `10.0.1.${i + 1}` })),
      { privateKey: SECRETS.sshPrivateKey },
    );
    const gitlab = new lib.GitLabHost("leak-gl", {
      host: ci[0],
      rootPassword: pulumi.secret(SECRETS.gitlabPassword),
    });
    const jenkins = new lib.JenkinsHost("leak-jk", {
      host: ci[1],
      authorizeOn: [hosts[0]],
      deployTargets: [{ service: "web", repository: "10.0.0.13/team/web" }],
    });
    const harbor = new lib.HarborHost("leak-hb", {
      host: ci[2],
      installerSha256: "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
      adminPassword: pulumi.secret(SECRETS.harborPassword),
    });
    const sonar = new lib.SonarQubeHost("leak-sq", { host: ci[3] });
    new lib.RegistryTrust("leak-trust", {
      hosts,
      registry: "10.0.1.3:443",
      caCertificate: harbor.caCertificate.apply((c) => c ?? ""),
    });

    await valueOf(cluster.nodeIds);
    await valueOf(cluster.provider.urn);
    await settle();

    // Secret outputs stay secret.
    const secretOutputs: [string, pulumi.Output<unknown>][] = [
      ["cluster.managerJoinToken", cluster.managerJoinToken],
      ["cluster.workerJoinToken", cluster.workerJoinToken],
      ["cluster.unlockKey", cluster.unlockKey],
      ["gitlab.adminPassword", gitlab.adminPassword],
      ["jenkins.adminPassword", jenkins.adminPassword],
      ["harbor.adminPassword", harbor.adminPassword],
      ["sonar.adminPassword", sonar.adminPassword],
      ["jenkins.deployPrivateKey", jenkins.deployPrivateKey],
    ];
    for (const [label, output] of secretOutputs)
      expect([label, await isSecretOutput(output)]).toEqual([label, true]);
    expect(await valueOf(cluster.unlockKey)).toBe(SECRETS.unlockKey);

    const leaks: string[] = [];
    let inputsScanned = 0;
    let commandStrings = 0;
    for (const r of run.resources) {
      leaks.push(...findLeaks(`resource name ${r.name}`, r.name));
      // Everything outside a secret wrapper is stored and diffed in plain text.
      leaks.push(...findLeaks(`plain inputs of ${r.type} ${r.name}`, JSON.stringify(plainPart(r.inputs))));
      inputsScanned++;
      if (r.type === "command:remote:Command") {
        for (const field of ["create", "update", "delete"]) {
          const text = r.inputs[field];
          if (text === undefined) continue;
          commandStrings++;
          // A command string must be plain (never secret-wrapped, so a diff shows it) and secret-free.
          expect([r.name, field, isSecretInput(text)]).toEqual([r.name, field, false]);
        }
        if (r.inputs.stdin !== undefined)
          expect([r.name, isSecretInput(r.inputs.stdin)]).toEqual([r.name, true]);
      }
    }
    // The SDK's own debug lines print resource state (secrets included); the engine shows them only
    // with --debug / -v: counted apart, everything else must be clean.
    const sdkDebug = (c: { source: string; text: string }) =>
      c.source === "pulumi.log.debug" && /^RegisterResource RPC finished: /.test(c.text);
    for (const c of captured) if (!sdkDebug(c)) leaks.push(...findLeaks(c.source, c.text));
    Object.assign(results, {
      resources: run.resources.length,
      inputsScanned,
      commandStrings,
      secretKinds: Object.keys(SECRETS).length,
      needles: NEEDLES.length,
      logLinesCaptured: captured.length,
      sdkDebugLinesWithSecrets: captured.filter(
        (c) => sdkDebug(c) && NEEDLES.some(([, n]) => c.text.includes(n)),
      ).length,
      leaks,
    });
    // The scan can fail: it finds a planted secret, and the secrets do travel (wrapped) in the inputs.
    expect(findLeaks("probe", `x${SECRETS.unlockKey}y`)).toEqual(["probe: unlockKey"]);
    const wrappedHits = run.resources.filter(
      (r) => findLeaks("raw", JSON.stringify(r.inputs)).length > 0,
    ).length;
    expect(wrappedHits).toBeGreaterThan(10);
    results.resourcesCarryingWrappedSecrets = wrappedHits;
    expect(leaks).toEqual([]);
    expect(commandStrings).toBeGreaterThan(40);
    expect(docker).toBeDefined();
  }, 60_000); // builds the whole program under mocks: seconds on a busy 2-core machine

  it("an init step whose output is malformed fails without echoing it", async () => {
    // The summary parser is private: drive it through a cluster whose init prints the tokens in a broken line.
    const broken = `{"workerToken":"${SECRETS.workerToken}","managerToken":"${SECRETS.managerToken}"`;
    const errors: string[] = [];
    const unhandled: string[] = [];
    const restoreRejections = divertUnhandledRejections((reason) => unhandled.push(String(reason)));
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({
          id: `${args.name}-id`,
          state: { ...args.inputs, stdout: args.name.endsWith("-init") ? broken : "id\n" },
        }),
        call: () => ({}),
      },
      "pulumi-swarm",
      "test",
      false,
    );
    const hosts = lib.existingHosts([{ name: "solo", host: "10.0.9.1" }], {
      privateKey: SECRETS.sshPrivateKey,
    });
    const cluster = new lib.SwarmCluster("broken", { nodes: [{ host: hosts[0], role: "manager" }] });
    // (The unlock key comes straight from init; the join tokens pass through the swarm resource.)
    const token = pulumi.unsecret(cluster.unlockKey);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      (token as unknown as { promise(): Promise<unknown> }).promise().catch((err: Error) => {
        errors.push(err.message);
        clearTimeout(timer);
        resolve();
      });
    });
    await settle();
    restoreRejections();
    for (const e of unhandled) expect(findLeaks("unhandled rejection", e)).toEqual([]);
    expect(errors).toEqual([
      expect.stringContaining(
        'SwarmCluster "broken": the first manager\'s init step printed no valid swarm summary',
      ),
    ]);
    for (const e of errors) expect(findLeaks("error", e)).toEqual([]);
    results.malformedInitError = errors[0];
    const dir = process.env.PROOF_RESULTS_DIR;
    if (dir) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "leak-check.json"), `${JSON.stringify(results, null, 2)}\n`);
    }
  });
});
