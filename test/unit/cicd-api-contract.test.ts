/**
 * Contract tests of the Harbor project/robot script and the GitLab webhook script: the rendered
 * scripts run for real (bash, curl) against stand-ins on loopback that record every request and
 * answer as Harbor's v2.0 and GitLab's v4 APIs document (test/helpers/apiStandIns.ts). This proves
 * the scripts' side of the contract (paths, methods, bodies, auth, idempotency, failures, secrecy);
 * it does NOT prove Harbor or GitLab themselves, which cannot run on this machine.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { asRemoteCommand, renderBundle } from "../../components/shell";
import { HARBOR_ROBOTS } from "../../components/cicd/harborHost";
import {
  harborAuthConfig,
  harborRobotBody,
  parseHarborRobots,
  renderHarborProjectScript,
} from "../../components/cicd/scripts/harborApi";
import {
  gitlabAuthConfig,
  gitlabHookBody,
  renderGitLabHooksScript,
} from "../../components/cicd/scripts/gitlabApi";
import { GitLabStandIn, HarborStandIn } from "../helpers/apiStandIns";

jest.setTimeout(60_000);

const ADMIN_PASSWORD = "AdminSecret123";
const PUSH_SECRET = "PushRobotSecret0123456789abcdef";
const PULL_SECRET = "PullRobotSecret0123456789abcdef";
const API_TOKEN = "glpat-ApiTokenSecret0123";
const HOOK_TOKEN = "HookTokenSecret0123456789";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  command: string;
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), "api-contract-home-"));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** Runs a rendered script as the remote command would (login shell, stdin bundle), asynchronously. */
function runScript(script: string, stdin: string): Promise<Ran> {
  const command = asRemoteCommand(script);
  return new Promise((resolve, reject) => {
    // HOME without a .bashrc: bash reads it when its stdin is a socket, as under sshd.
    const child = spawn("sh", ["-c", command], { env: { PATH: "/usr/bin:/bin", LC_ALL: "C", HOME: home } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, command }));
    child.stdin.end(stdin);
  });
}

function expectNoSecrets(ran: Ran, secrets: string[]): void {
  for (const secret of secrets) {
    expect(ran.command).not.toContain(secret);
    expect(ran.stdout).not.toContain(secret);
    expect(ran.stderr).not.toContain(secret);
  }
}

describe("Harbor project script against a Harbor v2.0 stand-in (contract test, not Harbor itself)", () => {
  let harbor: HarborStandIn;
  const secrets = [ADMIN_PASSWORD, PUSH_SECRET, PULL_SECRET];
  const script = () =>
    renderHarborProjectScript({
      hostName: "harbor-vm",
      apiBase: harbor.base,
      insecure: false,
      project: "team",
      public: false,
      robots: [...HARBOR_ROBOTS],
    });
  const stdin = (password = ADMIN_PASSWORD) =>
    renderBundle([
      { name: "admin.conf", content: harborAuthConfig("admin", password) },
      ...HARBOR_ROBOTS.flatMap((robot, i) => {
        const secret = i === 0 ? PUSH_SECRET : PULL_SECRET;
        return [
          { name: `robot.${robot.name}.json`, content: harborRobotBody("team", robot, secret) },
          { name: `secret.${robot.name}.json`, content: JSON.stringify({ secret }) },
        ];
      }),
    ]);

  beforeEach(async () => {
    harbor = new HarborStandIn({ user: "admin", password: ADMIN_PASSWORD });
    await harbor.start();
  });
  afterEach(() => harbor.stop());

  it("creates the project and both robots on the first run, and nothing on the second", async () => {
    const first = await runScript(script(), stdin());
    expect(first.stderr).toContain("project team created");
    expect(first.code).toBe(0);
    expect(harbor.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "HEAD /api/v2.0/projects?project_name=team",
      "POST /api/v2.0/projects",
      "GET /api/v2.0/robots?q=name%3Dteam%2Bjenkins&page_size=100",
      "POST /api/v2.0/robots",
      "GET /api/v2.0/robots?q=name%3Dteam%2Bnodes&page_size=100",
      "POST /api/v2.0/robots",
    ]);
    expect(JSON.parse(harbor.requests[1].body)).toEqual({
      project_name: "team",
      metadata: { public: "false" },
    });
    expect(harbor.projects.get("team")).toEqual({ id: 1, public: "false" });
    expect(harbor.robots.map((r) => [r.name, r.secret])).toEqual([
      ["robot$team+jenkins", PUSH_SECRET],
      ["robot$team+nodes", PULL_SECRET],
    ]);
    expect(parseHarborRobots(first.stdout)).toEqual({
      jenkins: "robot$team+jenkins",
      nodes: "robot$team+nodes",
    });
    expectNoSecrets(first, secrets);

    harbor.requests.length = 0;
    const second = await runScript(script(), stdin());
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("project team exists");
    expect(harbor.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "HEAD /api/v2.0/projects?project_name=team",
      "GET /api/v2.0/robots?q=name%3Dteam%2Bjenkins&page_size=100",
      "PATCH /api/v2.0/robots/10",
      "GET /api/v2.0/robots?q=name%3Dteam%2Bnodes&page_size=100",
      "PATCH /api/v2.0/robots/11",
    ]);
    // Nothing created: still one project, two robots, same secrets (the PATCH sets the same value).
    expect(harbor.projects.size).toBe(1);
    expect(harbor.robots.map((r) => [r.name, r.secret])).toEqual([
      ["robot$team+jenkins", PUSH_SECRET],
      ["robot$team+nodes", PULL_SECRET],
    ]);
    expect(second.stdout).toBe(first.stdout);
    expectNoSecrets(second, secrets);
  });

  it("sends the admin credentials as basic auth from the curl config, never on the command line", async () => {
    await runScript(script(), stdin());
    const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;
    expect(harbor.requests.every((r) => r.headers.authorization === auth)).toBe(true);
  });

  it("fails clearly on 401 (wrong admin password), creating nothing", async () => {
    const ran = await runScript(script(), stdin("WrongPassword1"));
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `pulumi-swarm[harbor-vm]: ERROR: setting up Harbor project team: checking project team: ${harbor.base} answered 401 Unauthorized: the credentials were refused\n`,
    );
    expect(harbor.projects.size).toBe(0);
    expectNoSecrets(ran, [...secrets, "WrongPassword1"]);
  });

  it.each([500, 503])("fails clearly on HTTP %i, naming the status", async (status) => {
    harbor.failWith = status;
    const ran = await runScript(script(), stdin());
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      `pulumi-swarm[harbor-vm]: ERROR: setting up Harbor project team: checking project team: ${harbor.base} answered HTTP ${status} (a server error; the tool's own logs say why)\n`,
    );
    expectNoSecrets(ran, secrets);
  });

  it("fails clearly when a robot cannot be created (server error mid-way), without printing its secret", async () => {
    const first = await runScript(script(), stdin());
    expect(first.code).toBe(0);
    harbor.robots.splice(1, 1);
    const original = harbor.robots.length;
    harbor.failRoute = { method: "POST", path: "/api/v2.0/robots", status: 500 };
    const ran = await runScript(script(), stdin());
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      `ERROR: setting up Harbor project team: creating robot nodes: ${harbor.base} answered HTTP 500 (a server error; the tool's own logs say why)`,
    );
    expect(harbor.robots.length).toBe(original);
    expectNoSecrets(ran, secrets);
  });

  it("fails clearly when Harbor cannot be reached", async () => {
    await harbor.stop();
    const ran = await runScript(script(), stdin());
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(
      /ERROR: setting up Harbor project team: checking project team: could not reach http:\/\/127\.0\.0\.1:\d+ \(curl: \(7\) Failed to connect/,
    );
    expectNoSecrets(ran, secrets);
    await harbor.start();
  });
});

describe("GitLab webhook script against a GitLab v4 stand-in (contract test, not GitLab itself)", () => {
  let gitlab: GitLabStandIn;
  const hookUrl = "http://203.0.113.11:8080/project/web";
  const script = () =>
    renderGitLabHooksScript({
      hostName: "gitlab-vm",
      apiBase: gitlab.base,
      hooks: [{ project: "team/web", url: hookUrl, branch: "main" }],
    });
  const stdin = (token = API_TOKEN) =>
    renderBundle([
      { name: "auth.conf", content: gitlabAuthConfig(token) },
      {
        name: "hook.0.json",
        content: gitlabHookBody({ project: "team/web", url: hookUrl, branch: "main" }, HOOK_TOKEN),
      },
    ]);

  beforeEach(async () => {
    gitlab = new GitLabStandIn(API_TOKEN);
    gitlab.projects.add("team/web");
    await gitlab.start();
  });
  afterEach(() => gitlab.stop());

  it("creates the push hook with its secret token once; the second run finds it by URL and creates nothing", async () => {
    // Another hook of the project (another URL) must be left alone.
    gitlab.hooks.push({ id: 1, projectPath: "team/web", url: "http://other:8080/x", body: {} });
    const first = await runScript(script(), stdin());
    expect(first.stderr).toContain(`webhook to ${hookUrl} created in project team%2Fweb`);
    expect(first.code).toBe(0);
    expect(gitlab.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /api/v4/projects/team%2Fweb/hooks?per_page=100",
      "POST /api/v4/projects/team%2Fweb/hooks",
    ]);
    expect(gitlab.hooks.map((h) => [h.id, h.url, h.token])).toEqual([
      [1, "http://other:8080/x", undefined],
      [2, hookUrl, HOOK_TOKEN],
    ]);
    expect(gitlab.hooks[1].body).toMatchObject({ push_events: true, push_events_branch_filter: "main" });
    expect(first.stdout).toBe("hook team%2Fweb 2\n");
    expectNoSecrets(first, [API_TOKEN, HOOK_TOKEN]);

    gitlab.requests.length = 0;
    const second = await runScript(script(), stdin());
    expect(second.code).toBe(0);
    expect(gitlab.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /api/v4/projects/team%2Fweb/hooks?per_page=100",
      "PUT /api/v4/projects/team%2Fweb/hooks/2",
    ]);
    expect(gitlab.hooks.length).toBe(2);
    expect(gitlab.hooks[1].token).toBe(HOOK_TOKEN);
    expect(second.stdout).toBe("hook team%2Fweb 2\n");
    expect(gitlab.requests.every((r) => r.headers["private-token"] === API_TOKEN)).toBe(true);
    expectNoSecrets(second, [API_TOKEN, HOOK_TOKEN]);
  });

  it("fails clearly on 401 (token refused), on an unknown project, and on 5xx", async () => {
    const refused = await runScript(script(), stdin("glpat-Wrong0123"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `pulumi-swarm[gitlab-vm]: ERROR: setting up GitLab webhooks: listing the hooks of project team%2Fweb: ${gitlab.base} answered 401 Unauthorized: the credentials were refused\n`,
    );
    gitlab.projects.clear();
    const missing = await runScript(script(), stdin());
    expect(missing.stderr).toBe(
      "pulumi-swarm[gitlab-vm]: ERROR: setting up GitLab webhooks: project team%2Fweb was not found (or the API token cannot see it)\n",
    );
    gitlab.failWith = 502;
    const down = await runScript(script(), stdin());
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      `pulumi-swarm[gitlab-vm]: ERROR: setting up GitLab webhooks: listing the hooks of project team%2Fweb: ${gitlab.base} answered HTTP 502 (a server error; the tool's own logs say why)\n`,
    );
    expect(gitlab.hooks).toEqual([]);
    for (const ran of [refused, missing, down])
      expectNoSecrets(ran, [API_TOKEN, HOOK_TOKEN, "glpat-Wrong0123"]);
  });

  it("explains GitLab's refusal of a webhook URL in a private network (HTTP 422)", async () => {
    gitlab.blockLocalUrls = true;
    const local = renderGitLabHooksScript({
      hostName: "gitlab-vm",
      apiBase: gitlab.base,
      hooks: [{ project: "team/web", url: "http://10.0.1.11:8080/project/web" }],
    });
    const ran = await runScript(
      local,
      renderBundle([
        { name: "auth.conf", content: gitlabAuthConfig(API_TOKEN) },
        {
          name: "hook.0.json",
          content: gitlabHookBody(
            { project: "team/web", url: "http://10.0.1.11:8080/project/web" },
            HOOK_TOKEN,
          ),
        },
      ]),
    );
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe(
      'pulumi-swarm[gitlab-vm]: ERROR: setting up GitLab webhooks: GitLab refused the webhook URL http://10.0.1.11:8080/project/web for project team%2Fweb (HTTP 422: {"error":"Invalid url given"}); a URL in a private network needs GitLab\'s admin setting allow_local_requests_from_web_hooks_and_services\n',
    );
    expectNoSecrets(ran, [API_TOKEN, HOOK_TOKEN]);
  });
});
