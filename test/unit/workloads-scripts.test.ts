import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  composeStdin,
  renderEnvFile,
  renderStackDeployScript,
  renderStackRemoveScript,
  shellQuote,
} from "../../components/workloads/composeScripts";

const deployOptions = { stackName: "shop", withRegistryAuth: true, prune: true, wait: true } as const;

describe("compose script text", () => {
  it("renders the deploy script: stdin only, private temp dir, flags, no secrets", () => {
    const script = renderStackDeployScript({ ...deployOptions, resolveImage: "changed" });
    expect(script).toContain("umask 077\n");
    expect(script).toContain("stack='shop'\n");
    expect(script).toContain(`trap 'rm -rf "$workdir"' EXIT\n`);
    expect(script).toContain(`set -- "$@" --with-registry-auth --prune --resolve-image changed\n`);
    expect(script).toContain(`set -- "$@" --detach=false\n`);
    expect(
      script.endsWith(
        `timeout 300 docker stack deploy "$@" "$stack" || status=$?\nif [ "$status" = 124 ]; then\n` +
          `  echo "swarm-stack: stack $stack did not converge within 300 s; see: docker stack ps --no-trunc $stack" >&2\nfi\nexit "$status"\n`,
      ),
    ).toBe(true);
  });

  it("leaves out optional flags", () => {
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
    expect(renderEnvFile({ B: "it's $HOME `id`", A: "x" })).toBe(
      `export A='x'\nexport B='it'\\''s $HOME \`id\`'\n`,
    );
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(() => renderEnvFile({ "1X": "v" })).toThrow(
      "environment.1X: received \"1X\". Use variable names of letters, digits and '_', not starting with a digit.",
    );
  });

  it("puts the environment then the compose file on stdin as base64 lines", () => {
    const stdin = composeStdin("services: {}\n", { PW: "p" });
    const [env, compose, rest] = stdin.split("\n");
    expect(Buffer.from(env, "base64").toString()).toBe("export PW='p'\n");
    expect(Buffer.from(compose, "base64").toString()).toBe("services: {}\n");
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
describe.each(["dash", "bash"])("compose scripts executed by %s against a stub docker", (shell) => {
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
    return spawnSync(shell, [...(shell === "bash" ? ["--norc"] : []), "-c", script], {
      input,
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin`, STUB_LOG: log, TMPDIR: path.join(dir, "tmp"), ...env },
    });
  }
  const logLines = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

  it("deploys with the compose file and environment from stdin, then removes the temp dir", () => {
    const compose = "services:\n  web:\n    image: nginx:1.27\n    environment:\n      PW: ${PW}\n";
    const result = run(renderStackDeployScript(deployOptions), composeStdin(compose, { PW: "it's $ecret" }), {
      STUB_DETACH: "1",
    });
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

  it("gives up on a deploy that never converges, saying where to look", () => {
    const script = renderStackDeployScript({ ...deployOptions, waitTimeoutSeconds: 1 });
    const result = run(script, composeStdin("services: {}\n", {}), { STUB_DETACH: "1", STUB_HANG: "1" });
    expect(result.status).toBe(124);
    expect(result.stderr).toBe(
      "swarm-stack: stack shop did not converge within 1 s; see: docker stack ps --no-trunc shop\n",
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
    expect(result.status).toBe(3);
    expect(result.stderr).toBe(
      "swarm-stack: this host is not a swarm manager (or docker is not reachable for this user)\n",
    );
    expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([]);
  });

  it("fails when nothing arrives on stdin", () => {
    const result = run(renderStackDeployScript(deployOptions), "");
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("swarm-stack: no compose file arrived on stdin\n");
    expect(logLines()).toEqual([]);
  });

  it("removes an existing stack and waits for it to go", () => {
    const result = run(renderStackRemoveScript("shop", 3), "", { STUB_STACKS: "other shop" });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("Removing service shop_web\nswarm-stack: removed shop\n");
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
    expect(missing.stdout).toBe("swarm-stack: stack shop does not exist; nothing to remove\n");
    expect(logLines()).not.toContain("docker stack rm shop");
    const noSwarm = run(renderStackRemoveScript("shop"), "", { STUB_STATE: "inactive" });
    expect(noSwarm.status).toBe(0);
    expect(noSwarm.stdout).toBe("swarm-stack: no active swarm on this host; nothing to remove\n");
  });
});
