import { spawnSync } from "child_process";
import * as fs from "fs";
import {
  DeployTarget,
  renderAuthorizeGateScript,
  renderDeployGate,
  renderRevokeGateScript,
  requireDeployTargets,
} from "../../components/cicd/scripts/deployGate";
import { renderPipelineScript } from "../../components/cicd/scripts/pipeline";
import {
  composeHostStdin,
  renderComposeDownScript,
  renderComposeUpScript,
} from "../../components/cicd/scripts/composeHost";
import { Sandbox, sandbox } from "./cicd-helpers";

const TARGETS: DeployTarget[] = [
  { service: "web", repository: "10.0.1.5:5000/team/web" },
  { service: "api", repository: "harbor.example.com/team/api" },
];
const DIGEST = "a".repeat(64);
const ALLOWED =
  "allowed: docker service update [--with-registry-auth] [--no-resolve-image] [--detach=false] [--quiet] --image <repository>:<tag>|<repository>@sha256:<digest> <service>, for web <- 10.0.1.5:5000/team/web, api <- harbor.example.com/team/api\n";

/** bash -n and shellcheck (Debian's) on a rendered script; shellcheck missing fails under CI. */
function lint(script: string, shell: "bash" | "sh" = "bash"): void {
  const syntax = spawnSync(shell === "sh" ? "dash" : "bash", ["-n"], { input: script, encoding: "utf8" });
  expect(syntax.stderr).toBe("");
  const check = spawnSync("shellcheck", ["-s", shell, "-"], { input: script, encoding: "utf8" });
  if (check.error) {
    if (process.env.CI) throw new Error("shellcheck is not installed (apt-get install shellcheck)");
    console.warn("shellcheck is not installed; the script was NOT linted");
    return;
  }
  expect(check.stdout).toBe("");
  expect(check.status).toBe(0);
}

describe("deploy gate", () => {
  let sb: Sandbox;
  beforeEach(() => {
    // A docker that only prints what it was asked to run.
    sb = sandbox({ docker: 'printf "docker %s\\n" "$*"' });
    sb.write("gate", renderDeployGate("pulumi-swarm-deploy-ci", TARGETS), 0o755);
  });
  afterEach(() => sb.cleanup());
  const gate = (request: string | undefined) =>
    sb.run(`${sb.dir}/gate`, { env: request === undefined ? {} : { SSH_ORIGINAL_COMMAND: request } });

  it("is bash -n and shellcheck clean, as are the authorize and revoke scripts", () => {
    lint(renderDeployGate("pulumi-swarm-deploy-ci", TARGETS));
    lint(renderAuthorizeGateScript("mgr-1", "pulumi-swarm-deploy-ci", TARGETS));
    lint(renderRevokeGateScript("mgr-1", "pulumi-swarm-deploy-ci"));
  });

  it.each([
    [
      "docker service update --image 10.0.1.5:5000/team/web:1a2b3c web",
      "--image 10.0.1.5:5000/team/web:1a2b3c web",
    ],
    [
      `docker service update --with-registry-auth --detach=false --quiet --image 10.0.1.5:5000/team/web:v1@sha256:${DIGEST} web`,
      `--with-registry-auth --detach=false --quiet --image 10.0.1.5:5000/team/web:v1@sha256:${DIGEST} web`,
    ],
    [
      `docker service update --image=harbor.example.com/team/api@sha256:${DIGEST} api`,
      `--image harbor.example.com/team/api@sha256:${DIGEST} api`,
    ],
  ])("runs %s", (request, args) => {
    expect(gate(request)).toEqual({
      status: 0,
      stdout: `docker service update ${args}\n`,
      stderr: `pulumi-swarm deploy gate: docker service update ${args}\n`,
    });
  });

  it.each([
    [undefined, "no command given (this key cannot open a shell)"],
    ["bash", "only 'docker service update' is allowed"],
    ["docker service rm web", "only 'docker service update' is allowed"],
    ["docker run --privileged -v /:/h busybox", "only 'docker service update' is allowed"],
    ["docker service update web", "--image <repository>:<tag> is required"],
    ["docker service update --image 10.0.1.5:5000/team/web:1", "the service to update is required"],
    [
      "docker service update --image 10.0.1.5:5000/team/web:1 web; rm -rf /",
      "the command contains characters other than letters, digits, spaces and ._:/@=+-",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web:$(id) web",
      "the command contains characters other than letters, digits, spaces and ._:/@=+-",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web:1 --mount-add type=bind,src=/,dst=/h web",
      "the command contains characters other than letters, digits, spaces and ._:/@=+-",
    ],
    [
      "docker service update --entrypoint sh --image 10.0.1.5:5000/team/web:1 web",
      "option --entrypoint is not allowed (only --image and --with-registry-auth --no-resolve-image --detach --detach=true --detach=false -d --quiet -q)",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web:1 --image 10.0.1.5:5000/team/web:2 web",
      "--image given twice",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web:1 web api",
      "more than one service given (web, api)",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web:1 db",
      "service db is not one this key may update",
    ],
    [
      "docker service update --image harbor.example.com/team/api:1 web",
      "service web may only run images of 10.0.1.5:5000/team/web, not harbor.example.com/team/api:1",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web-evil:1 web",
      "service web may only run images of 10.0.1.5:5000/team/web, not 10.0.1.5:5000/team/web-evil:1",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web/x:1 web",
      "service web may only run images of 10.0.1.5:5000/team/web, not 10.0.1.5:5000/team/web/x:1",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web: web",
      "image 10.0.1.5:5000/team/web: is not 10.0.1.5:5000/team/web:<tag>, 10.0.1.5:5000/team/web@sha256:<digest> or 10.0.1.5:5000/team/web:<tag>@sha256:<digest>",
    ],
    [
      "docker service update --image 10.0.1.5:5000/team/web@sha256:abc web",
      "image 10.0.1.5:5000/team/web@sha256:abc is not 10.0.1.5:5000/team/web:<tag>, 10.0.1.5:5000/team/web@sha256:<digest> or 10.0.1.5:5000/team/web:<tag>@sha256:<digest>",
    ],
    ["docker service update " + "-q ".repeat(400) + "web", "the command is longer than 1024 characters"],
  ])("refuses %j", (request, why) => {
    expect(gate(request)).toEqual({
      status: 1,
      stdout: "",
      stderr: `pulumi-swarm deploy gate: refused: ${why}\n${ALLOWED}`,
    });
  });

  it("refuses bad targets before rendering", () => {
    expect(() => requireDeployTargets("deployTargets", [])).toThrow("deployTargets: received []");
    expect(() => requireDeployTargets("t", [{ service: "web", repository: "10.0.1.5/team/web:1" }])).toThrow(
      't[0].repository: received "10.0.1.5/team/web:1". Use an image repository without tag or digest',
    );
    expect(() => requireDeployTargets("t", [{ service: "web;id", repository: "team/web" }])).toThrow(
      't[0].service: received "web;id".',
    );
    expect(() =>
      requireDeployTargets("t", [
        { service: "web", repository: "team/web" },
        { service: "web", repository: "team/api" },
      ]),
    ).toThrow('t[1].service: received "web". List each service once (one repository per service).');
  });
});

describe("pipeline script", () => {
  let sb: Sandbox;
  const options = {
    repository: "10.0.1.5:5000/team/web",
    service: "web",
    manager: { host: "10.0.0.11", port: 2022, user: "deploy", hostKey: "ssh-ed25519 AAAAHOSTKEY" },
  };
  beforeEach(() => {
    sb = sandbox({
      // docker logs its arguments and what came on stdin (the password), and reports a digest.
      docker: `printf 'docker %s\\n' "$*" >>"$FAKE_LOG"
case "$1" in
  login) printf 'stdin=%s config=%s\\n' "$(cat)" "$DOCKER_CONFIG" >>"$FAKE_LOG" ;;
  image) printf '10.0.1.5:5000/team/web@sha256:${DIGEST}\\n' ;;
esac`,
      ssh: `printf 'ssh %s\\n' "$*" >>"$FAKE_LOG"; for a in "$@"; do case "$a" in UserKnownHostsFile=*) cat "\${a#UserKnownHostsFile=}" >>"$FAKE_LOG" ;; esac; done`,
      git: "printf '0123456789abcdef0123456789abcdef01234567\\n'",
      mktemp: 'mkdir -p "$FAKE_TMP" && printf "%s\\n" "$FAKE_TMP"',
    });
    sb.write("key", "PRIVATE", 0o600);
  });
  afterEach(() => sb.cleanup());

  it("is bash -n and shellcheck clean", () => {
    lint(renderPipelineScript(options));
    lint(renderPipelineScript({ ...options, manager: { host: "m1.example.com", user: "root" } }));
  });

  it("builds, tags with the commit, pushes, and deploys by digest through the pinned manager", () => {
    const log = `${sb.dir}/log`;
    const result = sb.run(renderPipelineScript(options), {
      env: {
        FAKE_LOG: log,
        FAKE_TMP: `${sb.dir}/work`,
        DEPLOY_KEY_FILE: `${sb.dir}/key`,
        REGISTRY_USER: "robot$ci",
        REGISTRY_PASSWORD: "s3cret-Token",
      },
    });
    const image = "10.0.1.5:5000/team/web:0123456789ab";
    const deployed = `${image}@sha256:${DIGEST}`;
    expect(result).toEqual({
      status: 0,
      stdout: `${deployed}\n`,
      stderr: [
        "pipeline: logging in to 10.0.1.5:5000 as robot$ci",
        `pipeline: building ${image} from commit 0123456789abcdef0123456789abcdef01234567`,
        `pipeline: pushing ${image}`,
        `pipeline: deploying ${deployed} to service web through deploy@10.0.0.11:2022`,
        `pipeline: service web now runs ${deployed}`,
        "",
      ].join("\n"),
    });
    expect(fs.readFileSync(log, "utf8")).toBe(
      [
        "docker login --username robot$ci --password-stdin 10.0.1.5:5000",
        `stdin=s3cret-Token config=${sb.dir}/work/docker`,
        `docker build --label org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567 -t ${image} -f Dockerfile .`,
        `docker push ${image}`,
        `docker image inspect --format {{range .RepoDigests}}{{println .}}{{end}} ${image}`,
        `ssh -i ${sb.dir}/key -p 2022 -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${sb.dir}/work/known_hosts deploy@10.0.0.11 docker service update --with-registry-auth --no-resolve-image --detach=false --quiet --image ${deployed} web`,
        "[10.0.0.11]:2022 ssh-ed25519 AAAAHOSTKEY",
        "",
      ].join("\n"),
    );
    // The private docker config with the login is gone after the run.
    expect(fs.existsSync(`${sb.dir}/work`)).toBe(false);
  });

  it("fails clearly without the deploy key", () => {
    const result = sb.run(renderPipelineScript(options), {
      env: { FAKE_LOG: `${sb.dir}/log`, FAKE_TMP: `${sb.dir}/w` },
    });
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr:
        "pipeline failed: DEPLOY_KEY_FILE must name the deploy key's private key file (bind it from the Jenkins credential)\n",
    });
  });

  it("refuses bad options", () => {
    expect(() => renderPipelineScript({ ...options, repository: "Team/Web" })).toThrow("pipeline.repository");
    expect(() => renderPipelineScript({ ...options, context: "../x" })).toThrow(
      'pipeline.context: received "../x". Use a path inside the checkout',
    );
    expect(() =>
      renderPipelineScript({
        ...options,
        manager: { ...options.manager, hostKey: "ssh-ed25519 AAAA x; rm" },
      }),
    ).toThrow("pipeline.manager.hostKey");
    expect(() =>
      renderPipelineScript({ ...options, manager: { ...options.manager, user: "$(id)" } }),
    ).toThrow('pipeline.manager.user: received "$(id)"');
  });
});

describe("ComposeHost scripts", () => {
  it("are dash -n and shellcheck (sh) clean, and refuse bad names and directories", () => {
    lint(renderComposeUpScript({ project: "tools", directory: "/srv/pulumi-swarm/compose/tools" }), "sh");
    lint(renderComposeDownScript({ project: "tools", directory: "/srv/x", removeVolumes: true }), "sh");
    expect(() => renderComposeUpScript({ project: "Tools;id", directory: "/srv/x" })).toThrow(
      'projectName: received "Tools;id".',
    );
    expect(() => renderComposeUpScript({ project: "tools", directory: "/etc" })).toThrow(
      'directory: received "/etc". Use an absolute directory of its own',
    );
    expect(() => renderComposeUpScript({ project: "tools", directory: "/srv/../etc" })).toThrow("directory");
  });

  it("up reads the stdin the component sends: files written, compose run with the env only in its own process", () => {
    // `docker compose` is missing (exit 1), so the script falls back to docker-compose, which records
    // its arguments and the variable it was given.
    const sb = sandbox({
      docker: "exit 1",
      "docker-compose":
        'printf "%s\\n" "$*" >"$HOME/args"; printf "%s" "${DB_PASSWORD:-unset}" >"$HOME/seen"',
    });
    try {
      sb.write("home/.keep", "");
      const dir = `${sb.dir}/srv/tools`;
      const compose = "services:\n  app:\n    image: lab/busybox\n";
      const stdin = composeHostStdin(compose, { DB_PASSWORD: "s3cret 'x' $(id)" });
      const result = sb.run(renderComposeUpScript({ project: "tools", directory: dir }), { input: stdin });
      expect(result).toMatchObject({ status: 0 });
      expect(sb.read("srv/tools/compose.yaml")).toBe(compose);
      expect(sb.read("home/seen")).toBe("s3cret 'x' $(id)");
      expect(sb.read("home/args")).toBe(
        `--project-name tools --project-directory ${dir} --file ${dir}/compose.yaml up -d --remove-orphans\n`,
      );
      // A second run with the same stdin rewrites nothing and runs compose again (it is idempotent).
      const mtime = fs.statSync(`${dir}/compose.yaml`).mtimeMs;
      expect(
        sb.run(renderComposeUpScript({ project: "tools", directory: dir }), { input: stdin }).status,
      ).toBe(0);
      expect(fs.statSync(`${dir}/compose.yaml`).mtimeMs).toBe(mtime);
    } finally {
      sb.cleanup();
    }
  });
});
