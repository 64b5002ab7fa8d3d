import { asRemoteCommand } from "../../components/shell";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import {
  MockRun,
  RecordedResource,
  installMocks,
  isSecretInput,
  isSecretOutput,
  settle,
  unwrapSecrets,
  valueOf,
} from "../helpers/mocks";
import type { SwarmHost } from "../../components/hosts/types";

// Each host key pin serializes its dynamic provider's code once: seconds on a loaded machine.
jest.setTimeout(60_000);

const GENERATED = "Gen-Pass_12.abcdefghijklm";
const DB_GENERATED = "DbPass0123456789abcdefghijklmnop";
const JENKINS_INITIAL = "0123456789abcdef0123456789abcdef";
const HARBOR_SHA = "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const DEPLOY_PRIVATE =
  "-----BEGIN TEST-ONLY OPENSSH PRIVATE KEY-----\nDEPLOYKEYSECRET\n-----END OPENSSH PRIVATE KEY-----\n";
const SERVER_KEY =
  "-----BEGIN TEST-ONLY EC PRIVATE KEY-----\nSERVERKEYSECRET\n-----END EC PRIVATE KEY-----\n";
const CA_KEY = "-----BEGIN TEST-ONLY EC PRIVATE KEY-----\nCAKEYSECRET\n-----END EC PRIVATE KEY-----\n";
const CA_CERT = "-----BEGIN CERTIFICATE-----\nCACERT\n-----END CERTIFICATE-----\n";
const SERVER_CERT = "-----BEGIN CERTIFICATE-----\nSERVERCERT\n-----END CERTIFICATE-----\n";
const SECRETS = [
  GENERATED,
  DB_GENERATED,
  JENKINS_INITIAL,
  "DEPLOYKEYSECRET",
  "SERVERKEYSECRET",
  "CAKEYSECRET",
  "SSHKEYSECRET",
];

const COMMAND = "command:remote:Command";
const RANDOM = "random:index/randomPassword:RandomPassword";
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

/** Decodes a recorded stdin bundle into file name -> content. */
function bundleOf(resource: RecordedResource): Record<string, string> {
  expect(isSecretInput(resource.inputs.stdin)).toBe(true);
  const text = unwrapSecrets(resource.inputs.stdin) as string;
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => {
        const [name, data] = line.split(" ");
        return [name, Buffer.from(data, "base64").toString("utf8")];
      }),
  );
}

describe("delivery platform components (mocks)", () => {
  let run: MockRun;
  let cicd: {
    gitlab: typeof import("../../components/cicd/gitlabHost");
    jenkins: typeof import("../../components/cicd/jenkinsHost");
    sonar: typeof import("../../components/cicd/sonarqubeHost");
    harbor: typeof import("../../components/cicd/harborHost");
    trust: typeof import("../../components/cicd/registryTrust");
    preflight: typeof import("../../components/cicd/scripts/preflight");
    deploy: typeof import("../../components/cicd/scripts/deploy");
    jenkinsCompose: typeof import("../../components/cicd/scripts/jenkins");
    gate: typeof import("../../components/cicd/scripts/deployGate");
  };
  let existingHosts: typeof import("../../components/hosts/existing").existingHosts;

  beforeAll(async () => {
    run = await installMocks({
      newResource: ({ type, name, inputs }) => {
        if (type === RANDOM)
          return { ...inputs, result: name.endsWith("-db-password") ? DB_GENERATED : GENERATED };
        if (type === "tls:index/privateKey:PrivateKey") {
          const pem = name.endsWith("-ca-key") ? CA_KEY : SERVER_KEY;
          return {
            ...inputs,
            privateKeyPem: pem,
            privateKeyOpenssh: DEPLOY_PRIVATE,
            publicKeyOpenssh: "ssh-ed25519 AAAAPUBLIC\n",
          };
        }
        if (type === "tls:index/selfSignedCert:SelfSignedCert") return { ...inputs, certPem: CA_CERT };
        if (type === "tls:index/certRequest:CertRequest") return { ...inputs, certRequestPem: "CSR" };
        if (type === "tls:index/locallySignedCert:LocallySignedCert")
          return { ...inputs, certPem: SERVER_CERT };
        if (type === COMMAND && name.endsWith("-admin-password"))
          return { ...inputs, stdout: `${JENKINS_INITIAL}`, stderr: "" };
        return undefined;
      },
    });
    cicd = {
      gitlab: await import("../../components/cicd/gitlabHost"),
      jenkins: await import("../../components/cicd/jenkinsHost"),
      sonar: await import("../../components/cicd/sonarqubeHost"),
      harbor: await import("../../components/cicd/harborHost"),
      trust: await import("../../components/cicd/registryTrust"),
      preflight: await import("../../components/cicd/scripts/preflight"),
      deploy: await import("../../components/cicd/scripts/deploy"),
      jenkinsCompose: await import("../../components/cicd/scripts/jenkins"),
      gate: await import("../../components/cicd/scripts/deployGate"),
    };
    ({ existingHosts } = await import("../../components/hosts/existing"));
  });

  const host = (name: string, address = "203.0.113.10"): SwarmHost =>
    existingHosts([{ name, host: address, privateKey: "SSHKEYSECRET" }])[0];
  const children = (prefix: string) => run.resources.filter((r) => r.name.startsWith(prefix));
  /** [type, name] of a component's children, sorted: the mocks see registrations in no fixed order. */
  const childList = (prefix: string) =>
    children(prefix)
      .map((r) => [r.type, r.name])
      .sort((a, b) => (a[1] + a[0]).localeCompare(b[1] + b[0]));
  const sorted = (list: string[][]) => [...list].sort((a, b) => (a[1] + a[0]).localeCompare(b[1] + b[0]));

  /** No secret value in any command string, and none in any resource name. */
  function expectNoSecretsInCommandsOrNames(prefix: string): void {
    for (const resource of children(prefix)) {
      for (const secret of SECRETS) expect(resource.name).not.toContain(secret);
      if (resource.type !== COMMAND) continue;
      for (const field of ["create", "update", "delete"]) {
        const text = JSON.stringify(unwrapSecrets(resource.inputs[field]) ?? "");
        for (const secret of SECRETS) expect(text).not.toContain(secret);
      }
      if (resource.inputs.stdin !== undefined) expect(isSecretInput(resource.inputs.stdin)).toBe(true);
    }
  }

  describe("GitLabHost", () => {
    it("creates password, preflight and deploy in order, with secret stdin and outputs", async () => {
      const gl = new cicd.gitlab.GitLabHost("gl", { host: host("gitlab-vm") });
      await settle();
      expect(childList("gl-")).toEqual(
        sorted([
          [RANDOM, "gl-admin-password"],
          [DYNAMIC, "gl-gitlab-vm-host-key"],
          [COMMAND, "gl-preflight"],
          [COMMAND, "gl-deploy"],
        ]),
      );
      const preflight = run.named("gl-preflight");
      expect(preflight.inputs.create).toBe(
        asRemoteCommand(
          cicd.preflight.renderPreflightScript({
            hostName: "gitlab-vm",
            tool: "GitLab",
            dataDir: "/srv/pulumi-swarm/gitlab",
            requirements: cicd.preflight.TOOL_MINIMUMS.GitLab,
          }),
          { root: true },
        ),
      );
      const deploy = run.named("gl-deploy");
      const files = bundleOf(deploy);
      expect(Object.keys(files)).toEqual(["compose.yaml", "gitlab.env"]);
      expect(files["gitlab.env"]).toBe(`GITLAB_ROOT_PASSWORD=${GENERATED}\n`);
      const compose = YAML.parse(files["compose.yaml"]);
      expect(compose.services.gitlab.image).toBe("gitlab/gitlab-ce:19.4.1-ce.0");
      expect(compose.services.gitlab.ports).toEqual(["9999:9999", "2222:22"]);
      expect(compose.services.gitlab.environment.GITLAB_OMNIBUS_CONFIG).toBe(
        "external_url 'http://203.0.113.10:9999'\ngitlab_rails['gitlab_shell_ssh_port'] = 2222\n",
      );
      expect(deploy.inputs.create).toBe(deploy.inputs.update);
      expect(deploy.inputs.delete).toBe(
        asRemoteCommand(
          cicd.deploy.renderRemoveScript({
            hostName: "gitlab-vm",
            tool: "GitLab",
            project: "gitlab",
            configDir: "/srv/pulumi-swarm/gitlab/deploy",
          }),
          { root: true },
        ),
      );
      expect(deploy.inputs.addPreviousOutputInEnv).toBe(false);
      expect(run.named("gl-admin-password").inputs).toMatchObject({
        length: 24,
        overrideSpecial: "-_.",
        special: true,
      });
      expect(await valueOf(gl.url)).toBe("http://203.0.113.10:9999");
      expect(await valueOf(gl.sshUrl)).toBe("ssh://git@203.0.113.10:2222");
      expect(await valueOf(gl.adminUsername)).toBe("root");
      expect(await valueOf(gl.adminPassword)).toBe(GENERATED);
      expect(await isSecretOutput(gl.adminPassword)).toBe(true);
      expect(gl.ports).toEqual([
        { port: 9999, protocol: "tcp", description: "GitLab HTTP" },
        { port: 2222, protocol: "tcp", description: "GitLab SSH" },
      ]);
      expectNoSecretsInCommandsOrNames("gl-");
    });

    it("uses a given root password (made secret), address, ports, version and data dir", async () => {
      const gl = new cicd.gitlab.GitLabHost("gl2", {
        host: host("gitlab-2"),
        address: "git.example.com",
        httpPort: 8929,
        sshPort: 2224,
        version: "19.3.2-ce.0",
        dataDir: "/data/gitlab",
        rootPassword: "given-Pass-1",
      });
      await settle();
      expect(
        children("gl2-")
          .map((r) => r.name)
          .sort(),
      ).toEqual(["gl2-deploy", "gl2-gitlab-2-host-key", "gl2-preflight"]);
      const files = bundleOf(run.named("gl2-deploy"));
      expect(files["gitlab.env"]).toBe("GITLAB_ROOT_PASSWORD=given-Pass-1\n");
      // The password goes to the 0600 env file only, never into compose.yaml (positive control above).
      expect(files["compose.yaml"]).not.toContain("given-Pass-1");
      expect(files["compose.yaml"]).not.toContain("GITLAB_ROOT_PASSWORD");
      const compose = YAML.parse(files["compose.yaml"]);
      expect(compose.services.gitlab.image).toBe("gitlab/gitlab-ce:19.3.2-ce.0");
      expect(compose.services.gitlab.ports).toEqual(["8929:8929", "2224:22"]);
      expect(compose.services.gitlab.volumes[0]).toBe("/data/gitlab/config:/etc/gitlab");
      expect(await valueOf(gl.url)).toBe("http://git.example.com:8929");
      expect(await isSecretOutput(gl.adminPassword)).toBe(true);
      expect(String(run.named("gl2-deploy").inputs.create)).not.toContain("given-Pass-1");
    });
  });

  describe("JenkinsHost", () => {
    it("deploys with the deploy key, reads the initial password secretly, authorizes the key on managers", async () => {
      const manager = host("mgr-1", "10.0.0.11");
      const jk = new cicd.jenkins.JenkinsHost("jk", {
        host: host("jenkins-vm", "203.0.113.11"),
        authorizeOn: [manager],
        deployTargets: [{ service: "web", repository: "10.0.0.13/team/web" }],
      });
      await settle();
      expect(childList("jk-")).toEqual(
        sorted([
          ["tls:index/privateKey:PrivateKey", "jk-deploy-key"],
          [DYNAMIC, "jk-jenkins-vm-host-key"],
          [DYNAMIC, "jk-mgr-1-host-key"],
          [COMMAND, "jk-preflight"],
          [COMMAND, "jk-config"],
          [COMMAND, "jk-deploy"],
          [COMMAND, "jk-admin-password"],
          [COMMAND, "jk-authorize-mgr-1"],
        ]),
      );
      expect(run.named("jk-deploy-key").inputs).toEqual({ algorithm: "ED25519" });
      const files = bundleOf(run.named("jk-deploy"));
      expect(Object.keys(files)).toEqual(["compose.yaml", "Dockerfile", "id_ed25519", "id_ed25519.pub"]);
      // Without pipelines the configuration is only the JCasC base: no credentials, no jobs, no secrets.
      const config = bundleOf(run.named("jk-config"));
      expect(Object.keys(config)).toEqual(["jenkins.yaml"]);
      expect(YAML.parse(config["jenkins.yaml"])).toEqual({
        jenkins: { numExecutors: 2, systemMessage: expect.any(String) },
        unclassified: { gitLabConnectionConfig: { useAuthenticatedEndpoint: false } },
      });
      expect(files.Dockerfile).toMatch(/^FROM jenkins\/jenkins:2\.580\.2-lts-jdk21\n/);
      expect(YAML.parse(files["compose.yaml"]).services.jenkins.image).toBe(jk.builtImage);
      expect(files.id_ed25519).toBe(DEPLOY_PRIVATE);
      expect(files["id_ed25519.pub"]).toBe("ssh-ed25519 AAAAPUBLIC pulumi-swarm-jenkins-jk\n");
      expect(YAML.parse(files["compose.yaml"]).services.jenkins.ports).toEqual(["8080:8080", "50000:50000"]);
      const password = run.named("jk-admin-password");
      expect(password.inputs.logging).toBe("none");
      expect(password.inputs.update).toBeUndefined();
      expect(password.inputs.stdin).toBeUndefined();
      const authorize = run.named("jk-authorize-mgr-1");
      expect((unwrapSecrets(authorize.inputs.connection) as { host: string }).host).toBe("10.0.0.11");
      // Behind the deploy gate: the key may only roll "web" to images of 10.0.0.13/team/web.
      expect(authorize.inputs.create).toBe(
        asRemoteCommand(
          cicd.gate.renderAuthorizeGateScript("mgr-1", "pulumi-swarm-jenkins-jk", [
            { service: "web", repository: "10.0.0.13/team/web" },
          ]),
        ),
      );
      expect(authorize.inputs.delete).toBe(
        asRemoteCommand(cicd.gate.renderRevokeGateScript("mgr-1", "pulumi-swarm-jenkins-jk")),
      );
      expect(unwrapSecrets(authorize.inputs.stdin)).toBe("ssh-ed25519 AAAAPUBLIC\n");
      expect(await valueOf(jk.url)).toBe("http://203.0.113.11:8080");
      expect(await valueOf(jk.adminUsername)).toBe("admin");
      expect(await valueOf(jk.adminPassword)).toBe(JENKINS_INITIAL);
      expect(await isSecretOutput(jk.adminPassword)).toBe(true);
      expect(await valueOf(jk.deployPrivateKey)).toBe(DEPLOY_PRIVATE);
      expect(await isSecretOutput(jk.deployPrivateKey)).toBe(true);
      expect(await valueOf(jk.deployPublicKey)).toBe("ssh-ed25519 AAAAPUBLIC");
      expect(jk.ports.map((p) => p.port)).toEqual([8080, 50000]);
      expectNoSecretsInCommandsOrNames("jk-");
    });
  });

  describe("SonarQubeHost", () => {
    it("deploys SonarQube with a generated DB password and changes the admin password over stdin", async () => {
      const sq = new cicd.sonar.SonarQubeHost("sq", { host: host("sonar-vm", "203.0.113.12") });
      await settle();
      expect(childList("sq-")).toEqual(
        sorted([
          [RANDOM, "sq-admin-password"],
          [RANDOM, "sq-db-password"],
          [DYNAMIC, "sq-sonar-vm-host-key"],
          [COMMAND, "sq-preflight"],
          [COMMAND, "sq-deploy"],
          [COMMAND, "sq-admin-password"],
        ]),
      );
      expect(run.named("sq-db-password").inputs).toMatchObject({ length: 32, special: false });
      const files = bundleOf(run.named("sq-deploy"));
      expect(files["sonarqube.env"]).toBe(`SONAR_JDBC_PASSWORD=${DB_GENERATED}\n`);
      expect(files["postgres.env"]).toBe(`POSTGRES_PASSWORD=${DB_GENERATED}\n`);
      expect(String(run.named("sq-preflight").inputs.create)).toContain("need_map_count=262144");
      const set = run.resources.filter((r) => r.type === COMMAND && r.name === "sq-admin-password")[0];
      const conf = bundleOf(set);
      expect(conf["change.conf"]).toContain(`data-urlencode = "password=${GENERATED}"`);
      expect(conf["validate.conf"]).toBe(`user = "admin:${GENERATED}"\n`);
      expect(await valueOf(sq.url)).toBe("http://203.0.113.12:9000");
      expect(await valueOf(sq.adminPassword)).toBe(GENERATED);
      expect(await isSecretOutput(sq.adminPassword)).toBe(true);
      expect(sq.ports).toEqual([{ port: 9000, protocol: "tcp", description: "SonarQube HTTP" }]);
      expectNoSecretsInCommandsOrNames("sq-");
    });
  });

  describe("HarborHost and RegistryTrust", () => {
    it("makes a CA and a server certificate, installs with harbor.yml over stdin, and trusts the CA on nodes", async () => {
      const hb = new cicd.harbor.HarborHost("hb", {
        installerSha256: HARBOR_SHA,
        host: host("harbor-vm", "10.0.1.5"),
        httpsPort: 8443,
        extraNames: ["harbor.internal"],
      });
      await settle();
      expect(childList("hb-")).toEqual(
        sorted([
          [RANDOM, "hb-admin-password"],
          [RANDOM, "hb-db-password"],
          ["tls:index/privateKey:PrivateKey", "hb-ca-key"],
          ["tls:index/selfSignedCert:SelfSignedCert", "hb-ca"],
          ["tls:index/privateKey:PrivateKey", "hb-tls-key"],
          ["tls:index/certRequest:CertRequest", "hb-tls-csr"],
          ["tls:index/locallySignedCert:LocallySignedCert", "hb-tls-cert"],
          [DYNAMIC, "hb-harbor-vm-host-key"],
          [COMMAND, "hb-preflight"],
          [COMMAND, "hb-deploy"],
        ]),
      );
      expect(run.named("hb-ca").inputs).toMatchObject({
        isCaCertificate: true,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        validityPeriodHours: 87600,
      });
      expect(isSecretInput(run.named("hb-ca").inputs.privateKeyPem)).toBe(true);
      expect(run.named("hb-tls-csr").inputs).toMatchObject({
        ipAddresses: ["10.0.1.5"],
        dnsNames: ["harbor.internal"],
      });
      expect(isSecretInput(run.named("hb-tls-cert").inputs.caPrivateKeyPem)).toBe(true);
      const files = bundleOf(run.named("hb-deploy"));
      expect(Object.keys(files)).toEqual(["harbor.yml", "tls.crt", "tls.key"]);
      expect(files["tls.crt"]).toBe(SERVER_CERT);
      expect(files["tls.key"]).toBe(SERVER_KEY);
      const yml = YAML.parse(files["harbor.yml"]);
      expect(yml.hostname).toBe("10.0.1.5");
      expect(yml.https).toEqual({
        port: 8443,
        certificate: "/srv/pulumi-swarm/harbor/deploy/tls.crt",
        private_key: "/srv/pulumi-swarm/harbor/deploy/tls.key",
      });
      expect(yml.harbor_admin_password).toBe(GENERATED);
      expect(yml.database.password).toBe(DB_GENERATED);
      expect(String(run.named("hb-deploy").inputs.create)).toContain(
        "https://github.com/goharbor/harbor/releases/download/v2.15.2/harbor-online-installer-v2.15.2.tgz",
      );
      expect(await valueOf(hb.registry)).toBe("10.0.1.5:8443");
      expect(await valueOf(hb.url)).toBe("https://10.0.1.5:8443");
      expect(await valueOf(hb.caCertificate)).toBe(CA_CERT);
      expect(await isSecretOutput(hb.caCertificate as pulumi.Output<unknown>)).toBe(false);
      expect(await isSecretOutput(hb.adminPassword)).toBe(true);
      expect(hb.ports).toEqual([{ port: 8443, protocol: "tcp", description: "Harbor HTTPS" }]);
      expectNoSecretsInCommandsOrNames("hb-");

      const nodes = [host("node-1", "10.0.0.11"), host("node-2", "10.0.0.12")];
      const trust = new cicd.trust.RegistryTrust("trust", {
        hosts: nodes,
        registry: hb.registry,
        caCertificate: hb.caCertificate as pulumi.Output<string>,
      });
      await settle();
      expect(
        children("trust-")
          .map((r) => r.name)
          .sort(),
      ).toEqual(["trust-node-1", "trust-node-1-host-key", "trust-node-2", "trust-node-2-host-key"]);
      const node1 = run.named("trust-node-1");
      expect(node1.inputs.create).toBe(
        asRemoteCommand(cicd.trust.renderTrustScript("node-1", "10.0.1.5:8443"), { root: true }),
      );
      expect(node1.inputs.delete).toBe(
        asRemoteCommand(cicd.trust.renderUntrustScript("node-1", "10.0.1.5:8443"), { root: true }),
      );
      expect(isSecretInput(node1.inputs.stdin)).toBe(true);
      expect(unwrapSecrets(node1.inputs.stdin)).toBe(CA_CERT);
      expect(await valueOf(trust.certificateDir)).toBe("/etc/docker/certs.d/10.0.1.5:8443");
      expect(trust.hostNames).toEqual(["node-1", "node-2"]);
    });

    it("serves plain HTTP only when asked, with no certificates and port 80", async () => {
      const hb = new cicd.harbor.HarborHost("hbp", {
        installerSha256: HARBOR_SHA,
        host: host("harbor-p", "10.0.1.6"),
        tls: false,
        adminPassword: "Harbor-Pass1",
      });
      await settle();
      expect(
        children("hbp-")
          .map((r) => r.name)
          .sort(),
      ).toEqual(["hbp-db-password", "hbp-deploy", "hbp-harbor-p-host-key", "hbp-preflight"]);
      expect(Object.keys(bundleOf(run.named("hbp-deploy")))).toEqual(["harbor.yml"]);
      expect(await valueOf(hb.registry)).toBe("10.0.1.6");
      expect(await valueOf(hb.url)).toBe("http://10.0.1.6");
      expect(hb.ports).toEqual([{ port: 80, protocol: "tcp", description: "Harbor HTTP" }]);
    });
  });

  describe("validation before anything is created", () => {
    const cases: [string, () => unknown, string][] = [
      [
        "GitLab ports clash",
        () => new cicd.gitlab.GitLabHost("v1", { host: host("v1"), httpPort: 2222 }),
        'swarm:cicd:GitLabHost "v1": sshPort: received 2222. It is already used by httpPort; give each port its own number.',
      ],
      [
        "GitLab port out of range",
        () => new cicd.gitlab.GitLabHost("v2", { host: host("v2"), httpPort: 70000 }),
        'swarm:cicd:GitLabHost "v2": httpPort: received 70000. Use an integer port between 1 and 65535.',
      ],
      [
        "bad image tag",
        () => new cicd.jenkins.JenkinsHost("v3", { host: host("v3"), version: "latest; rm -rf /" }),
        'swarm:cicd:JenkinsHost "v3": version: received "latest; rm -rf /". Use an image tag: letters, digits, "_", "." or "-", at most 128 characters, e.g. "19.4.1-ce.0".',
      ],
      [
        "host too small",
        () =>
          new cicd.harbor.HarborHost("v4", {
            host: host("v4"),
            installerSha256: HARBOR_SHA,
            hostSize: { cpus: 2, memoryGiB: 2 },
          }),
        'swarm:cicd:HarborHost "v4": hostSize.memoryGiB: received 2. Harbor needs at least 4 GiB of memory; choose a larger host (instance type or disk).',
      ],
      [
        "requirements below the floor",
        () => new cicd.sonar.SonarQubeHost("v5", { host: host("v5"), requirements: { diskGiB: 5 } }),
        'swarm:cicd:SonarQubeHost "v5": requirements.diskGiB: received 5. SonarQube needs at least 10 GiB of free disk; requirements can raise the minimums, not lower them.',
      ],
      [
        "weak SonarQube password, never echoed",
        () => new cicd.sonar.SonarQubeHost("v6", { host: host("v6"), adminPassword: "short-Pw1" }),
        'swarm:cicd:SonarQubeHost "v6": adminPassword: received "(secret, not shown)". Use 12 to 128 characters.',
      ],
      [
        "password with a dollar",
        () => new cicd.gitlab.GitLabHost("v7", { host: host("v7"), rootPassword: "pa$$word-long" }),
        'swarm:cicd:GitLabHost "v7": rootPassword: received "(secret, not shown)". Use only the characters A-Z a-z 0-9 - _ . ~ ! @ % ^ * + = : , /.',
      ],
      [
        "Harbor version",
        () =>
          new cicd.harbor.HarborHost("v8", {
            host: host("v8"),
            installerSha256: HARBOR_SHA,
            version: "2.15.2",
          }),
        'swarm:cicd:HarborHost "v8": version: received "2.15.2". Use a Harbor release name such as "v2.15.2".',
      ],
      [
        "relative data dir",
        () => new cicd.gitlab.GitLabHost("v9", { host: host("v9"), dataDir: "srv/../gitlab" }),
        'swarm:cicd:GitLabHost "v9": dataDir: received "srv/../gitlab". Use an absolute path of letters, digits, ".", "_", "-" and "/", not "/" itself and without "..", e.g. "/srv/gitlab".',
      ],
      [
        "loopback address",
        () =>
          new cicd.harbor.HarborHost("v10", {
            host: host("v10"),
            installerSha256: HARBOR_SHA,
            address: "127.0.0.1",
          }),
        'swarm:cicd:HarborHost "v10": address: received "127.0.0.1". Use an address other hosts can reach; loopback only works on the host itself.',
      ],
      [
        "health timeout",
        () => new cicd.jenkins.JenkinsHost("v11", { host: host("v11"), healthTimeoutSeconds: 1 }),
        'swarm:cicd:JenkinsHost "v11": healthTimeoutSeconds: received 1. Use a whole number of seconds between 10 and 7200.',
      ],
      [
        "bad checksum",
        () => new cicd.harbor.HarborHost("v12", { host: host("v12"), installerSha256: "abc" }),
        'swarm:cicd:HarborHost "v12": installerSha256: received "abc". Use the 64 lower-case hex digits of the tarball\'s SHA-256 (required: the installer runs as root), e.g. the output of `sha256sum harbor-online-installer-v2.15.2.tgz` on a copy you trust.',
      ],
      [
        "no trust hosts",
        () => new cicd.trust.RegistryTrust("v13", { hosts: [], registry: "r:443", caCertificate: CA_CERT }),
        'swarm:cicd:RegistryTrust "v13": hosts: received []. Pass the SwarmHosts that pull from the registry (every swarm node).',
      ],
      [
        "bad registry",
        () =>
          new cicd.trust.RegistryTrust("v14", {
            hosts: [host("n")],
            registry: "https://r",
            caCertificate: CA_CERT,
          }),
        'swarm:cicd:RegistryTrust "v14": registry: received "https://r". Use the registry as image references name it: "host" or "host:port", e.g. "10.0.1.5:443".',
      ],
      [
        "duplicate manager",
        () => new cicd.jenkins.JenkinsHost("v15", { host: host("v15"), authorizeOn: [host("m"), host("m")] }),
        'swarm:cicd:JenkinsHost "v15": authorizeOn[1].name: received "m". List each manager once.',
      ],
    ];

    it.each(cases)("%s", async (_label, build, message) => {
      await settle();
      const before = run.resources.length;
      expect(build).toThrow(message);
      expect(() => build()).toThrow(pulumi.ResourceError);
      await settle();
      expect(run.resources.length).toBe(before);
    });

    it("explains what is wrong with a password without showing it (also used when an Output resolves)", async () => {
      const { passwordProblem, checkedPassword } = await import("../../components/cicd/validate");
      const rule = { minLength: 12, mixed: true, special: true };
      expect(passwordProblem("Short-1", rule)).toBe("Use 12 to 128 characters");
      expect(passwordProblem("with space-Pass1", rule)).toBe(
        "Use only the characters A-Z a-z 0-9 - _ . ~ ! @ % ^ * + = : , /",
      );
      expect(passwordProblem("alllowercase-123", rule)).toBe(
        "Include an upper-case letter, a lower-case letter and a digit",
      );
      expect(passwordProblem("NoSpecialChar123", rule)).toBe(
        "Include a character that is not a letter or digit",
      );
      expect(passwordProblem("Good-Passw0rd", rule)).toBeUndefined();
      const good = checkedPassword("p", pulumi.secret("fine-Pass1"), {
        minLength: 8,
        mixed: true,
        special: false,
      });
      expect(await valueOf(good)).toBe("fine-Pass1");
      expect(await isSecretOutput(good)).toBe(true);
    });
  });

  it("exports the pure port helpers for firewalls made before the host exists", () => {
    expect(cicd.gitlab.gitlabPorts()).toEqual([
      { port: 9999, protocol: "tcp", description: "GitLab HTTP" },
      { port: 2222, protocol: "tcp", description: "GitLab SSH" },
    ]);
    expect(cicd.jenkins.jenkinsPorts({ agentPort: 50001 }).map((p) => p.port)).toEqual([8080, 50001]);
    expect(cicd.sonar.sonarqubePorts().map((p) => p.port)).toEqual([9000]);
    expect(cicd.harbor.harborPorts().map((p) => p.port)).toEqual([443]);
    expect(cicd.harbor.harborPorts({ tls: false, httpPort: 8080 }).map((p) => p.port)).toEqual([8080]);
  });
});
