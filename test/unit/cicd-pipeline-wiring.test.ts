/**
 * The delivery pipeline wired as code (issue 15), under mocks: JenkinsHost's pipelines (JCasC
 * credentials from secret files, Job DSL jobs, rendered pipeline scripts), HarborHost's project and
 * robots, GitLabHost's webhooks. What the scripts do on a host is in the lab and contract tests.
 */
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { asRemoteCommand } from "../../components/shell";
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

const GENERATED = "GenPass0123456789abcdefghijklmnop";
const DEPLOY_PRIVATE =
  "-----BEGIN TEST-ONLY OPENSSH PRIVATE KEY-----\nDEPLOYKEYSECRET\n-----END OPENSSH PRIVATE KEY-----\n";
const ROBOT_SECRET = "RobotSecret0123456789";
const GIT_TOKEN = "gitTokenSecret0123";
const API_TOKEN = "glpat-ApiTokenSecret01";
const SECRETS = [GENERATED, "DEPLOYKEYSECRET", ROBOT_SECRET, GIT_TOKEN, API_TOKEN, "SSHKEYSECRET"];
const COMMAND = "command:remote:Command";
/** The key the mocked pins learn for a host. */
const learnedKey = (host: string) => `ssh-ed25519 AAAAC3${Buffer.from(host).toString("base64")}`;
const HARBOR_SHA = "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

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

describe("delivery pipeline wiring (mocks)", () => {
  let run: MockRun;
  let jenkins: typeof import("../../components/cicd/jenkinsHost");
  let harbor: typeof import("../../components/cicd/harborHost");
  let gitlab: typeof import("../../components/cicd/gitlabHost");
  let casc: typeof import("../../components/cicd/scripts/jenkinsCasc");
  let pipeline: typeof import("../../components/cicd/scripts/pipeline");
  let harborApi: typeof import("../../components/cicd/scripts/harborApi");
  let gitlabApi: typeof import("../../components/cicd/scripts/gitlabApi");
  let gate: typeof import("../../components/cicd/scripts/deployGate");
  let existingHosts: typeof import("../../components/hosts/existing").existingHosts;

  beforeAll(async () => {
    run = await installMocks({
      newResource: ({ type, name, inputs }) => {
        if (type === "random:index/randomPassword:RandomPassword") return { ...inputs, result: GENERATED };
        if (type === "tls:index/privateKey:PrivateKey") {
          return {
            ...inputs,
            privateKeyPem: "-----BEGIN TEST-ONLY EC PRIVATE KEY-----\nK\n-----END EC PRIVATE KEY-----\n",
            privateKeyOpenssh: DEPLOY_PRIVATE,
            publicKeyOpenssh: "ssh-ed25519 AAAAPUBLIC\n",
          };
        }
        if (type === "tls:index/selfSignedCert:SelfSignedCert") return { ...inputs, certPem: "CA" };
        if (type === "tls:index/certRequest:CertRequest") return { ...inputs, certRequestPem: "CSR" };
        if (type === "tls:index/locallySignedCert:LocallySignedCert") return { ...inputs, certPem: "CERT" };
        if (type === COMMAND && name.endsWith("-project")) {
          return { ...inputs, stdout: "robot jenkins robot$team+jenkins\nrobot nodes robot$team+nodes\n" };
        }
        if (type === COMMAND && name.endsWith("-admin-password"))
          return { ...inputs, stdout: "x", stderr: "" };
        // A host key pin "learns" a key made from the host's name.
        if (type === "pulumi-nodejs:dynamic:Resource" && inputs.kind === "swarm:cluster:HostKey")
          return { ...inputs, hostKey: learnedKey(String(inputs.host)) };
        return undefined;
      },
    });
    jenkins = await import("../../components/cicd/jenkinsHost");
    harbor = await import("../../components/cicd/harborHost");
    gitlab = await import("../../components/cicd/gitlabHost");
    casc = await import("../../components/cicd/scripts/jenkinsCasc");
    pipeline = await import("../../components/cicd/scripts/pipeline");
    harborApi = await import("../../components/cicd/scripts/harborApi");
    gitlabApi = await import("../../components/cicd/scripts/gitlabApi");
    gate = await import("../../components/cicd/scripts/deployGate");
    ({ existingHosts } = await import("../../components/hosts/existing"));
  });

  const host = (name: string, address = "203.0.113.10", user = "root"): SwarmHost =>
    existingHosts([{ name, host: address, user, privateKey: "SSHKEYSECRET" }])[0];
  const children = (prefix: string) => run.resources.filter((r) => r.name.startsWith(prefix));

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

  it("JenkinsHost: pipelines become JCasC credentials (secret files only), Job DSL jobs and pipeline scripts", async () => {
    const manager = host("mgr-1", "10.0.0.11", "deploy");
    const jk = new jenkins.JenkinsHost("pj", {
      host: host("jenkins-vm", "203.0.113.11"),
      authorizeOn: [manager],
      pipelines: [
        {
          name: "web",
          gitUrl: pulumi.output("http://10.0.0.20:9999/team/web.git"),
          repository: pulumi.output("10.0.0.13/team/web"),
          service: "web",
          registryCredentials: { username: "robot$team+jenkins", password: pulumi.secret(ROBOT_SECRET) },
          gitCredentials: { username: "deploy-token", password: pulumi.secret(GIT_TOKEN) },
        },
        {
          name: "api",
          gitUrl: "http://10.0.0.20:9999/team/api.git",
          branch: "release",
          repository: "10.0.0.13/team/api",
          service: "api",
        },
      ],
    });
    await settle();
    expect(
      children("pj-")
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "pj-admin-password",
      "pj-authorize-mgr-1",
      "pj-config",
      "pj-deploy",
      "pj-deploy-key",
      "pj-jenkins-vm-host-key",
      "pj-mgr-1-host-key",
      "pj-preflight",
      "pj-webhook-api",
      "pj-webhook-web",
    ]);
    const config = run.named("pj-config");
    const files = bundleOf(config);
    const secretNames = [
      "pulumi_swarm_deploy_key",
      "pulumi_swarm_webhook_token_web",
      "pulumi_swarm_registry_user_web",
      "pulumi_swarm_registry_password_web",
      "pulumi_swarm_git_user_web",
      "pulumi_swarm_git_password_web",
      "pulumi_swarm_webhook_token_api",
    ];
    expect(Object.keys(files)).toEqual([
      "jenkins.yaml",
      ...secretNames.map((n) => `secret.${n}`),
      "pipeline.web.sh",
      "pipeline.api.sh",
    ]);
    expect(config.inputs.create).toBe(
      asRemoteCommand(
        casc.renderJenkinsConfigScript({
          hostName: "jenkins-vm",
          dataDir: "/srv/pulumi-swarm/jenkins",
          secrets: secretNames,
          jobs: ["web", "api"],
        }),
        { root: true },
      ),
    );
    expect(files["secret.pulumi_swarm_deploy_key"]).toBe(DEPLOY_PRIVATE);
    expect(files["secret.pulumi_swarm_registry_password_web"]).toBe(ROBOT_SECRET);
    expect(files["secret.pulumi_swarm_git_password_web"]).toBe(GIT_TOKEN);
    expect(files["secret.pulumi_swarm_webhook_token_web"]).toBe(GENERATED);

    // The YAML holds references only; each reference names a secret file the bundle carries.
    const yamlText = files["jenkins.yaml"];
    for (const secret of SECRETS) expect(yamlText).not.toContain(secret);
    const refs = [...yamlText.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
    expect([...new Set(refs)].sort()).toEqual([...secretNames].sort());
    const parsed = YAML.parse(yamlText);
    const creds = parsed.credentials.system.domainCredentials[0].credentials;
    expect(creds.map((c: Record<string, { id: string }>) => Object.values(c)[0].id)).toEqual([
      "pulumi-swarm-deploy-key",
      "pulumi-swarm-registry-web",
      "pulumi-swarm-git-web",
    ]);
    expect(creds[0].basicSSHUserPrivateKey.username).toBe("deploy");
    expect(
      parsed.jobs.map((j: { script: string }) => /^pipelineJob\('([^']+)'\)/.exec(j.script)?.[1]),
    ).toEqual(["web", "api"]);

    // The job runs the library's own pipeline script, deploying through the manager of authorizeOn[0],
    // whose host key it checks: the one JenkinsHost pinned for that manager.
    expect(files["pipeline.web.sh"]).toBe(
      pipeline.renderPipelineScript({
        repository: "10.0.0.13/team/web",
        service: "web",
        manager: { host: "10.0.0.11", port: 22, user: "deploy", hostKey: learnedKey("mgr-1") },
      }),
    );
    expect(files["pipeline.web.sh"]).toContain("StrictHostKeyChecking=yes");
    // The deploy key may roll exactly the pipelines' services to their repositories.
    expect(run.named("pj-authorize-mgr-1").inputs.create).toBe(
      asRemoteCommand(
        gate.renderAuthorizeGateScript("mgr-1", "pulumi-swarm-jenkins-pj", [
          { service: "web", repository: "10.0.0.13/team/web" },
          { service: "api", repository: "10.0.0.13/team/api" },
        ]),
      ),
    );
    // The controller runs the built image with the configuration's digest (a change recreates it).
    const deployFiles = bundleOf(run.named("pj-deploy"));
    const service = YAML.parse(deployFiles["compose.yaml"]).services.jenkins;
    expect(service.build).toEqual({ context: "image" });
    expect(service.image).toBe(jk.builtImage);
    expect(service.environment.PULUMI_SWARM_CONFIG_DIGEST).toMatch(/^[0-9a-f]{16}$/);
    expect(service.volumes).toContain("/srv/pulumi-swarm/jenkins/secrets:/run/secrets:ro");
    expect(deployFiles.Dockerfile).toBe(
      casc.renderJenkinsDockerfile("jenkins/jenkins:2.580.2-lts-jdk21", casc.JENKINS_PLUGINS),
    );

    const hook = jk.webhook("web");
    expect(await valueOf(hook.url)).toBe("http://203.0.113.11:8080/project/web");
    expect(await valueOf(hook.token)).toBe(GENERATED);
    expect(await isSecretOutput(hook.token)).toBe(true);
    expect(() => jk.webhook("nope")).toThrow('JenkinsHost has no pipeline "nope" (pipelines: web, api)');
    expectNoSecretsInCommandsOrNames("pj-");
  });

  it.each([
    [
      "pipelines without authorizeOn",
      {
        pipelines: [
          { name: "web", gitUrl: "http://g/team/web.git", repository: "r.example/team/web", service: "web" },
        ],
      },
      'swarm:cicd:JenkinsHost "bad": authorizeOn: received []. pipelines deploy through the gated deploy key: list the swarm manager(s) to authorize it on (the first one is the one jobs deploy through).',
    ],
    [
      "a job name that is not a name",
      {
        authorize: true,
        pipelines: [
          {
            name: "web app",
            gitUrl: "http://g/team/web.git",
            repository: "r.example/team/web",
            service: "web",
          },
        ],
      },
      'swarm:cicd:JenkinsHost "bad": pipelines[0].name: received "web app". Use 1-63 letters, digits, "-" or "_", starting with a letter or digit, e.g. "web".',
    ],
    [
      "two jobs whose secret names collide",
      {
        authorize: true,
        pipelines: [
          {
            name: "web-a",
            gitUrl: "http://g/team/web.git",
            repository: "r.example/team/web",
            service: "web",
          },
          {
            name: "web_a",
            gitUrl: "http://g/team/web.git",
            repository: "r.example/team/api",
            service: "api",
          },
        ],
      },
      `swarm:cicd:JenkinsHost "bad": pipelines[1].name: received "web_a". Give each pipeline its own name (names equal up to '-'/'_' and case collide).`,
    ],
    [
      "credentials in the git URL",
      {
        authorize: true,
        pipelines: [
          {
            name: "web",
            gitUrl: "http://user:pw@g/team/web.git",
            repository: "r.example/team/web",
            service: "web",
          },
        ],
      },
      'swarm:cicd:JenkinsHost "bad": pipelines[0].gitUrl: received "http://user:pw@g/team/web.git". Do not put credentials in the URL (they would be in the job definition): use gitCredentials.',
    ],
    [
      "a plugin spec with a space",
      { plugins: ["job-dsl latest"] },
      'swarm:cicd:JenkinsHost "bad": plugins[0]: received "job-dsl latest". Use "name" or "name:version", e.g. "job-dsl:1.93".',
    ],
  ])("JenkinsHost refuses %s before creating anything", (_title, extra, message) => {
    const { authorize, ...rest } = extra as { authorize?: boolean };
    const before = run.resources.length;
    expect(
      () =>
        new jenkins.JenkinsHost("bad", {
          host: host("j"),
          ...(authorize ? { authorizeOn: [host("m1")] } : {}),
          ...(rest as object),
        }),
    ).toThrow(message);
    expect(run.resources.length).toBe(before);
  });

  it("HarborHost: the project and two robots through the API after the deploy; robot secrets are secret outputs", async () => {
    const hb = new harbor.HarborHost("hbp", {
      host: host("harbor-vm", "10.0.1.5"),
      installerSha256: HARBOR_SHA,
      project: { name: "team" },
    });
    await settle();
    const project = run.named("hbp-project");
    expect(project.inputs.create).toBe(
      asRemoteCommand(
        harborApi.renderHarborProjectScript({
          hostName: "harbor-vm",
          apiBase: "https://127.0.0.1:443",
          insecure: true,
          project: "team",
          public: false,
          robots: [...harbor.HARBOR_ROBOTS],
        }),
        { root: true },
      ),
    );
    const files = bundleOf(project);
    expect(Object.keys(files)).toEqual([
      "admin.conf",
      "robot.jenkins.json",
      "secret.jenkins.json",
      "robot.nodes.json",
      "secret.nodes.json",
    ]);
    expect(JSON.parse(files["robot.jenkins.json"])).toEqual({
      name: "jenkins",
      description: "pulumi-swarm: the pipeline pushes images",
      level: "project",
      duration: -1,
      disable: false,
      secret: GENERATED,
      permissions: [
        {
          kind: "project",
          namespace: "team",
          access: [
            { resource: "repository", action: "push" },
            { resource: "repository", action: "pull" },
          ],
        },
      ],
    });
    expect(JSON.parse(files["robot.nodes.json"]).permissions[0].access).toEqual([
      { resource: "repository", action: "pull" },
    ]);
    expect(files["admin.conf"]).toBe(`user = "admin:${GENERATED}"\n`);
    expect(await valueOf(hb.pushCredentials!.username)).toBe("robot$team+jenkins");
    expect(await valueOf(hb.pullCredentials!.username)).toBe("robot$team+nodes");
    expect(await valueOf(hb.pushCredentials!.password)).toBe(GENERATED);
    expect(await isSecretOutput(hb.pushCredentials!.password)).toBe(true);
    expect(await isSecretOutput(hb.pullCredentials!.password)).toBe(true);
    expectNoSecretsInCommandsOrNames("hbp-");
  });

  it("HarborHost refuses a project name Harbor would refuse", () => {
    expect(
      () =>
        new harbor.HarborHost("hbx", {
          host: host("harbor-x"),
          installerSha256: HARBOR_SHA,
          project: { name: "Team A" },
        }),
    ).toThrow(
      'swarm:cicd:HarborHost "hbx": project.name: received "Team A". Use a Harbor project name: lower-case letters, digits, ".", "_", "-", e.g. "team".',
    );
  });

  it("GitLabHost: webhooks through the API after the deploy, token and API token on stdin only", async () => {
    new gitlab.GitLabHost("glw", {
      host: host("gitlab-vm"),
      apiToken: pulumi.secret(API_TOKEN),
      webhooks: [
        {
          project: "team/web",
          url: pulumi.output("http://203.0.113.11:8080/project/web"),
          token: pulumi.secret(GENERATED),
          branch: "main",
        },
      ],
    });
    await settle();
    const hooks = run.named("glw-webhooks");
    expect(hooks.inputs.create).toBe(
      asRemoteCommand(
        gitlabApi.renderGitLabHooksScript({
          hostName: "gitlab-vm",
          apiBase: "http://127.0.0.1:9999",
          hooks: [{ project: "team/web", url: "http://203.0.113.11:8080/project/web", branch: "main" }],
        }),
        { root: true },
      ),
    );
    const files = bundleOf(hooks);
    expect(files["auth.conf"]).toBe(`header = "PRIVATE-TOKEN: ${API_TOKEN}"\n`);
    expect(JSON.parse(files["hook.0.json"])).toEqual({
      url: "http://203.0.113.11:8080/project/web",
      push_events: true,
      push_events_branch_filter: "main",
      merge_requests_events: false,
      tag_push_events: false,
      enable_ssl_verification: false,
      token: GENERATED,
    });
    expectNoSecretsInCommandsOrNames("glw-");
  });

  it("GitLabHost refuses webhooks without an API token, and a bad project", () => {
    expect(
      () =>
        new gitlab.GitLabHost("glx", {
          host: host("gitlab-x"),
          webhooks: [{ project: "team/web", url: "http://j:8080/project/web", token: "t" }],
        }),
    ).toThrow(
      `swarm:cicd:GitLabHost "glx": apiToken: received undefined. webhooks are made through GitLab's API: give an access token with the api scope (e.g. config.requireSecret("gitlabToken")).`,
    );
    expect(
      () =>
        new gitlab.GitLabHost("gly", {
          host: host("gitlab-y"),
          apiToken: "x",
          webhooks: [{ project: "web", url: "http://j:8080/project/web", token: "t" }],
        }),
    ).toThrow(
      `swarm:cicd:GitLabHost "gly": webhooks[0].project: received "web". Use the project's path ("group/name") or its numeric id.`,
    );
  });
});
