import { fail } from "../../validation";
import { prelude, receiveBundleSnippet, renderBundle, renderEnvFile, shq } from "../../shell";
import { requireEnvNames } from "../composeEnv";
import { requireSwarmName } from "../parse";

/*
 * Shell run on a swarm manager for ComposeStack. Pure renderers on the shell toolkit: unit-tested as
 * text and executed byte for byte on lab hosts (wrapped by asRemoteCommand). Nothing secret is ever
 * part of these strings: the compose file and its environment arrive on stdin (see composeStdin).
 * `docker` runs as the SSH user, never through sudo: `--with-registry-auth` sends that user's
 * registry credentials.
 */

/** Options of `docker stack deploy`. */
export interface StackDeployOptions {
  /** Stack name (a swarm name: letters, digits, '-', '_'). */
  stackName: string;
  /** Send registry credentials of the SSH user's Docker config to the nodes (`--with-registry-auth`). */
  withRegistryAuth: boolean;
  /** Remove services no longer in the compose file (`--prune`). */
  prune: boolean;
  /** `--resolve-image` ("always", "changed" or "never"); undefined keeps Docker's default. */
  resolveImage?: "always" | "changed" | "never";
  /** Wait for the services to converge (`--detach=false`) where the Docker CLI supports it. */
  wait: boolean;
  /**
   * With `wait`, give up after this many seconds: a service that keeps crashing would otherwise
   * keep `docker stack deploy --detach=false` (and `pulumi up`) waiting forever. Default: 300.
   */
  waitTimeoutSeconds?: number;
}

/**
 * The stdin of the deploy script: a bundle (see the shell toolkit's renderBundle) of the stack's
 * environment file and its compose file. Base64 keeps any byte of either out of the shell's reach.
 */
export function composeStdin(compose: string, env: Record<string, string>): string {
  requireEnvNames("environment", env);
  return renderBundle([
    { name: "stack.env", content: renderEnvFile(env, "shell") },
    { name: "docker-compose.yml", content: compose },
  ]);
}

/**
 * Deploys (or re-deploys) a stack from stdin. Idempotent: `docker stack deploy` converges the stack to
 * the file. The files live in a private temp dir (umask 077) removed on exit, whatever happens.
 *
 * The user's environment never enters this script's own variables: everything docker is run with
 * (compose path, flags, stack name, the script's PATH) is fixed in the positional parameters first,
 * then a subshell reads the env file and runs only `docker stack deploy "$@"`. Assignments cannot
 * change positional parameters, and the subshell's variables die with it, so a variable named
 * `workdir`, `stack` or `status` reaches docker (for compose to interpolate) and nothing else.
 */
export function renderStackDeployScript(options: StackDeployOptions): string {
  requireSwarmName("stackName", options.stackName);
  const flags = [
    ...(options.withRegistryAuth ? ["--with-registry-auth"] : []),
    ...(options.prune ? ["--prune"] : []),
    ...(options.resolveImage ? [`--resolve-image ${options.resolveImage}`] : []),
  ];
  const timeout = options.wait ? waitTimeout(options) : 0;
  return [
    prelude({ task: `deploying stack ${options.stackName}` }).trimEnd(),
    `stack=${shq(options.stackName)}`,
    'workdir=$(mktemp -d "${TMPDIR:-/tmp}/swarm-stack.XXXXXXXX")',
    "trap 'rm -rf \"$workdir\"' EXIT",
    "trap 'exit 1' HUP INT TERM",
    receiveBundleSnippet("workdir", ["stack.env", "docker-compose.yml"]),
    `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" != "true" ]; then`,
    '  fail "this host is not a swarm manager (or docker is not reachable for this user)"',
    "fi",
    'set -- --compose-file "$workdir/docker-compose.yml"',
    ...(options.wait
      ? [
          "# --detach exists from Docker 26 on; older CLIs always return before the services converge.",
          "if docker stack deploy --help 2>&1 | grep -q -- '--detach'; then",
          '  set -- "$@" --detach=false',
          "fi",
        ]
      : []),
    ...(flags.length ? [`set -- "$@" ${flags.join(" ")}`] : []),
    'set -- "$PATH" "$workdir/stack.env" "$@" "$stack"',
    "# User variables live only in this subshell, which runs nothing but docker with the arguments above.",
    ...(options.wait
      ? [
          "status=0",
          "# shellcheck source=/dev/null",
          `( . "$2" && PATH=$1 && shift 2 && exec timeout ${timeout} docker stack deploy "$@" ) || status=$?`,
          'if [ "$status" = 124 ]; then',
          `  fail "stack $stack did not converge within ${timeout} s; see: docker stack ps --no-trunc $stack"`,
          "fi",
          'exit "$status"',
        ]
      : [
          "# shellcheck source=/dev/null",
          '( . "$2" && PATH=$1 && shift 2 && exec docker stack deploy "$@" )',
        ]),
    "",
  ].join("\n");
}

function waitTimeout(options: StackDeployOptions): number {
  const seconds = options.waitTimeoutSeconds ?? 300;
  if (!Number.isInteger(seconds) || seconds < 1) {
    fail("waitTimeoutSeconds", seconds, "Use a whole number of seconds, 1 or more (default 300).");
  }
  return seconds;
}

/**
 * Removes a stack. Idempotent: a stack (or a swarm) that is already gone is not an error. Waits for
 * the services and networks to disappear (`docker stack rm` returns before they do), so a re-deploy
 * under the same name right after does not collide with leftovers.
 */
export function renderStackRemoveScript(stackName: string, waitSeconds = 60): string {
  requireSwarmName("stackName", stackName);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0) {
    fail("removeTimeoutSeconds", waitSeconds, "Use a whole number of seconds, 0 or more.");
  }
  return [
    prelude({ task: `removing stack ${stackName}` }).trimEnd(),
    `stack=${shq(stackName)}`,
    `if [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != "active" ]; then`,
    '  log "no active swarm on this host; nothing to remove"',
    "  exit 0",
    "fi",
    `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != "true" ]; then`,
    '  fail "this host is not a swarm manager; cannot remove stack $stack"',
    "fi",
    `if ! docker stack ls --format '{{.Name}}' | grep -qx -- "$stack"; then`,
    '  log "stack $stack does not exist; nothing to remove"',
    "  exit 0",
    "fi",
    'docker stack rm "$stack"',
    "waited=0",
    'while [ -n "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ] ||',
    '  [ -n "$(docker network ls -q --filter "label=com.docker.stack.namespace=$stack")" ]; do',
    `  if [ "$waited" -ge ${waitSeconds} ]; then`,
    '    log "stack $stack still being removed after ${waited}s; leaving it to swarm"',
    "    exit 0",
    "  fi",
    "  sleep 1",
    "  waited=$((waited + 1))",
    "done",
    'log "removed $stack"',
    "",
  ].join("\n");
}
