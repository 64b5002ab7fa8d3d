import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { asRemoteCommand, renderEnvFile, shq } from "../../components/shell";
import { requireEnvNames } from "../../components/workloads/composeEnv";
import {
  composeStdin,
  renderStackDeployScript,
  renderStackRemoveScript,
} from "../../components/workloads/scripts/compose";

const host = os.hostname();

const deployOptions = { stackName: "shop", withRegistryAuth: true, prune: true, wait: true } as const;

describe("compose script text", () => {
  it("renders the deploy script: stdin only, private temp dir, flags, no secrets", () => {
    const script = renderStackDeployScript({ ...deployOptions, resolveImage: "changed" });
    expect(script).toContain("set -euo pipefail\n");
    expect(script).toContain("umask 077\n");
    expect(script).toContain("stack='shop'\n");
    expect(script).toContain(`trap 'rm -rf "$workdir"' EXIT\n`);
    expect(script).toContain(`set -- "$@" --with-registry-auth --prune --resolve-image changed\n`);
    expect(script).toContain(`set -- "$@" --detach=false\n`);
    expect(
      script.endsWith(
        `set -- "$PATH" "$workdir/stack.env" "$@" "$stack"\n` +
          "# User variables live only in this subshell, which runs nothing but docker with the arguments above.\n" +
          "status=0\n" +
          "# shellcheck source=/dev/null\n" +
          `( . "$2" && PATH=$1 && shift 2 && exec timeout 300 docker stack deploy "$@" ) || status=$?\nif [ "$status" = 124 ]; then\n` +
          `  fail "stack $stack did not converge within 300 s; see: docker stack ps --no-trunc $stack"\nfi\nexit "$status"\n`,
      ),
    ).toBe(true);
  });

  it.each([
    ["with every option", { ...deployOptions, resolveImage: "changed" as const }],
    ["with none", { stackName: "s", withRegistryAuth: false, prune: false, wait: false }],
  ])(
    "renders a deploy script that bash accepts, wrapped so dash accepts the command, %s",
    (_label, options) => {
      // shellcheck runs on every rendered script in shell-lint.test.ts.
      const script = renderStackDeployScript(options);
      for (const [tool, input] of [
        ["bash", script],
        ["dash", asRemoteCommand(script)],
      ] as const) {
        const result = spawnSync(tool, ["-n"], { input, encoding: "utf8" });
        expect({ tool, status: result.status, output: result.stdout + result.stderr }).toEqual({
          tool,
          status: 0,
          output: "",
        });
      }
    },
  );

  it("leaves out optional flags", () => {
    // Positive control: with the options on, the flags are there.
    const all = renderStackDeployScript({ ...deployOptions, resolveImage: "never" });
    for (const flag of ["--with-registry-auth", "--prune", "--resolve-image never", "--detach"]) {
      expect(all).toContain(flag);
    }
    const script = renderStackDeployScript({
      stackName: "s",
      withRegistryAuth: false,
      prune: false,
      wait: false,
    });
    expect(script).not.toContain("--with-registry-auth");
    expect(script).not.toContain("--prune");
    expect(script).not.toContain("--resolve-image");
    expect(script).not.toContain("--detach");
  });

  it("quotes env values so the shell takes them literally", () => {
    expect(renderEnvFile({ B: "it's $HOME `id`", A: "x" }, "shell")).toBe(
      `export A='x'\nexport B='it'\\''s $HOME \`id\`'\n`,
    );
    expect(shq("a'b")).toBe(`'a'\\''b'`);
    expect(() => requireEnvNames("environment", { "1X": "v" })).toThrow(
      "environment.1X: received \"1X\". Use variable names of letters, digits and '_', not starting with a digit.",
    );
  });

  it.each([
    ["PATH"],
    ["IFS"],
    ["HOME"],
    ["TMPDIR"],
    ["DOCKER_HOST"],
    ["DOCKER_CONFIG"],
    ["DOCKER_CONTEXT"],
    ["DOCKER_TLS_VERIFY"],
    ["LD_PRELOAD"],
    ["BASH_ENV"],
    ["ENV"],
    ["http_proxy"],
    ["HTTPS_PROXY"],
    ["UID"],
  ])("refuses %s, a name that steers the shell, the loader or the Docker CLI", (name) => {
    const message =
      `environment.${name}: received ${JSON.stringify(name)}. This name steers the shell, the loader or the Docker CLI ` +
      "that deploys the stack (PATH, HOME, IFS, DOCKER_*, LD_*, BASH*, proxies...); rename it in the compose file and here, e.g. with an APP_ prefix.";
    expect(() => requireEnvNames("environment", { [name]: "s3cret-value" })).toThrow(message);
    expect(() => renderEnvFile({ [name]: "s3cret-value" }, "shell")).toThrow(
      `env key ${name} steers the shell, the loader or the Docker CLI`,
    );
    expect(() => composeStdin("services: {}\n", { [name]: "s3cret-value" })).toThrow(message);
  });

  it("accepts names that only look close to reserved ones", () => {
    expect(renderEnvFile({ APP_PATH: "/srv", MY_DOCKER_HOST: "h", workdir: "/", Path: "p" }, "shell")).toBe(
      "export APP_PATH='/srv'\nexport MY_DOCKER_HOST='h'\nexport Path='p'\nexport workdir='/'\n",
    );
  });

  it("puts the environment then the compose file on stdin as a bundle of base64 lines", () => {
    const stdin = composeStdin("services: {}\n", { PW: "p" });
    const [env, compose, rest] = stdin.split("\n");
    expect(env.split(" ")[0]).toBe("stack.env");
    expect(Buffer.from(env.split(" ")[1], "base64").toString()).toBe("export PW='p'\n");
    expect(compose.split(" ")[0]).toBe("docker-compose.yml");
    expect(Buffer.from(compose.split(" ")[1], "base64").toString()).toBe("services: {}\n");
    expect(rest).toBe("");
  });

  it("refuses a stack name that is not a swarm name", () => {
    expect(() => renderStackRemoveScript("a;rm -rf /")).toThrow(
      /^stackName: received "a;rm -rf \/"\. Use 1-63/,
    );
    expect(() => renderStackDeployScript({ ...deployOptions, stackName: "$(id)" })).toThrow(
      /^stackName: received/,
    );
  });
});

// The scripts run for real under dash and bash, against a stub `docker` first on PATH: no daemon, no
// network. This is the same text the ComposeStack sends over SSH.
describe.each(["dash", "bash"])(
  "compose scripts executed from a %s login shell against a stub docker",
  (shell) => {
    let dir: string;
    let bin: string;
    let log: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-test-"));
      bin = path.join(dir, "bin");
      log = path.join(dir, "docker.log");
      fs.mkdirSync(bin);
      fs.mkdirSync(path.join(dir, "tmp"));
      fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/sh
echo "docker $*" >> "$STUB_LOG"
case "$1 $2" in
  "info --format")
    case "$3" in
      *ControlAvailable*) echo "\${STUB_CONTROL:-true}" ;;
      *LocalNodeState*) echo "\${STUB_STATE:-active}" ;;
    esac ;;
  "stack deploy")
    if [ "$3" = "--help" ]; then
      [ -n "\${STUB_DETACH:-}" ] && echo "  -d, --detach   Exits immediately instead of waiting"
      exit 0
    fi
    [ -n "\${STUB_HANG:-}" ] && sleep 30
    for a in "$@"; do case "$a" in */docker-compose.yml) f="$a" ;; esac; done
    echo "compose-mode $(stat -c %a "$f") dir-mode $(stat -c %a "$(dirname "$f")")" >> "$STUB_LOG"
    echo "compose-path $f" >> "$STUB_LOG"
    echo "compose-content $(cat "$f" | tr '\\n' '|')" >> "$STUB_LOG"
    echo "env-PW \${PW:-unset}" >> "$STUB_LOG"
    if [ -n "\${STUB_ENVLOG:-}" ]; then
      echo "env-workdir \${workdir:-unset} env-stack \${stack:-unset} env-status \${status:-unset}" >> "$STUB_LOG"
      echo "env-PATH $PATH" >> "$STUB_LOG"
    fi
    echo "Creating service shop_web" ;;
  "stack ls") printf '%s\\n' \${STUB_STACKS:-} ;;
  "stack rm") echo "Removing service $3_web" ;;
esac
exit 0
`,
        { mode: 0o755 },
      );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(script: string, input: string, env: Record<string, string> = {}) {
      // Node's stdin pipe is a socket, which makes bash think sshd started it and read ~/.bashrc.
      return spawnSync(shell, [...(shell === "bash" ? ["--norc"] : []), "-c", asRemoteCommand(script)], {
        input,
        encoding: "utf8",
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          HOME: dir,
          STUB_LOG: log,
          TMPDIR: path.join(dir, "tmp"),
          ...env,
        },
      });
    }
    const logLines = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

    it("deploys with the compose file and environment from stdin, then removes the temp dir", () => {
      const compose = "services:\n  web:\n    image: nginx:1.27\n    environment:\n      PW: ${PW}\n";
      const result = run(
        renderStackDeployScript(deployOptions),
        composeStdin(compose, { PW: "it's $ecret" }),
        {
          STUB_DETACH: "1",
        },
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toBe("Creating service shop_web\n");
      const lines = logLines();
      const composePath = lines.find((l) => l.startsWith("compose-path "))!.slice("compose-path ".length);
      expect(lines).toEqual([
        "docker info --format {{.Swarm.ControlAvailable}}",
        "docker stack deploy --help",
        `docker stack deploy --compose-file ${composePath} --detach=false --with-registry-auth --prune shop`,
        "compose-mode 600 dir-mode 700",
        `compose-path ${composePath}`,
        `compose-content ${compose.replace(/\n/g, "|")}`,
        "env-PW it's $ecret",
      ]);
      expect(composePath.startsWith(path.join(dir, "tmp", "swarm-stack."))).toBe(true);
      expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([]);
    });

    it("hands a variable named like the script's own (workdir, stack, status) to docker and nothing else", () => {
      // The script's work dir variable pointed at a directory of the test: were the env file sourced
      // into the script's own shell, its EXIT trap would remove this directory and docker would deploy
      // (and --prune) the stack "other".
      const victim = path.join(dir, "victim");
      fs.mkdirSync(victim);
      fs.writeFileSync(path.join(victim, "keep"), "x");
      const hostile = { workdir: victim, stack: "other", status: "0", env_b64: "", compose_b64: "" };
      const result = run(renderStackDeployScript(deployOptions), composeStdin("services: {}\n", hostile), {
        STUB_DETACH: "1",
        STUB_ENVLOG: "1",
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const lines = logLines();
      const composePath = lines.find((l) => l.startsWith("compose-path "))!.slice("compose-path ".length);
      expect(composePath.startsWith(path.join(dir, "tmp", "swarm-stack."))).toBe(true);
      expect(lines).toEqual([
        "docker info --format {{.Swarm.ControlAvailable}}",
        "docker stack deploy --help",
        `docker stack deploy --compose-file ${composePath} --detach=false --with-registry-auth --prune shop`,
        "compose-mode 600 dir-mode 700",
        `compose-path ${composePath}`,
        "compose-content services: {}|",
        "env-PW unset",
        // Positive control: the values did reach docker, for compose to interpolate.
        `env-workdir ${victim} env-stack other env-status 0`,
        `env-PATH ${bin}:/usr/bin:/bin`,
      ]);
      expect(fs.readdirSync(victim)).toEqual(["keep"]);
      expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([]);
    });

    it("gives up on a deploy that never converges, saying where to look", () => {
      const script = renderStackDeployScript({ ...deployOptions, waitTimeoutSeconds: 1 });
      const result = run(script, composeStdin("services: {}\n", {}), { STUB_DETACH: "1", STUB_HANG: "1" });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `pulumi-swarm[${host}]: ERROR: deploying stack shop: stack shop did not converge within 1 s; see: docker stack ps --no-trunc shop\n`,
      );
    });

    it("does not pass --detach to a Docker CLI that lacks it", () => {
      const result = run(renderStackDeployScript(deployOptions), composeStdin("services: {}\n", {}));
      expect(result.status).toBe(0);
      expect(logLines()[2]).toMatch(
        /^docker stack deploy --compose-file \S+ --with-registry-auth --prune shop$/,
      );
    });

    it("fails clearly on a worker, and cleans up", () => {
      const result = run(renderStackDeployScript(deployOptions), composeStdin("services: {}\n", {}), {
        STUB_CONTROL: "false",
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `pulumi-swarm[${host}]: ERROR: deploying stack shop: this host is not a swarm manager (or docker is not reachable for this user)\n`,
      );
      expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([]);
    });

    it("fails when nothing arrives on stdin", () => {
      const result = run(renderStackDeployScript(deployOptions), "");
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `pulumi-swarm[${host}]: ERROR: deploying stack shop: standard input did not carry stack.env (expected: stack.env docker-compose.yml)\n`,
      );
      expect(logLines()).toEqual([]);
    });

    it("removes an existing stack and waits for it to go", () => {
      const result = run(renderStackRemoveScript("shop", 3), "", { STUB_STACKS: "other shop" });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe("Removing service shop_web\n");
      expect(result.stderr).toBe(`pulumi-swarm[${host}]: removed shop\n`);
      expect(logLines()).toEqual([
        "docker info --format {{.Swarm.LocalNodeState}}",
        "docker info --format {{.Swarm.ControlAvailable}}",
        "docker stack ls --format {{.Name}}",
        "docker stack rm shop",
        "docker service ls -q --filter label=com.docker.stack.namespace=shop",
        "docker network ls -q --filter label=com.docker.stack.namespace=shop",
      ]);
    });

    it("is idempotent: a missing stack or swarm is not an error", () => {
      const missing = run(renderStackRemoveScript("shop"), "", { STUB_STACKS: "other shopping" });
      expect(missing.status).toBe(0);
      expect(missing.stderr).toBe(`pulumi-swarm[${host}]: stack shop does not exist; nothing to remove\n`);
      expect(logLines()).toEqual([
        "docker info --format {{.Swarm.LocalNodeState}}",
        "docker info --format {{.Swarm.ControlAvailable}}",
        "docker stack ls --format {{.Name}}",
      ]);
      const noSwarm = run(renderStackRemoveScript("shop"), "", { STUB_STATE: "inactive" });
      expect(noSwarm.status).toBe(0);
      expect(noSwarm.stderr).toBe(`pulumi-swarm[${host}]: no active swarm on this host; nothing to remove\n`);
    });
  },
);
