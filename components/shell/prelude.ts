import { shq } from "./quote";

/** What a script's messages name. */
export interface PreludeOptions {
  /**
   * Host name shown in every message. Default: the host's own `hostname` (read on the host).
   */
  host?: string;
  /** What the script does, e.g. "deploying GitLab": every failure starts with it. Default: none. */
  task?: string;
}

/**
 * Opening lines of every host script: strict mode, sudo when not root, the one message format
 * (`pulumi-swarm[<host>]: <message>` and `pulumi-swarm[<host>]: ERROR: <task>: <message>`), `dk` for
 * docker, the node's swarm state, the Docker Engine API over the local socket (so secrets go in
 * request bodies read from stdin, never in argv), bounded waits and the Raft quorum check. Only
 * definitions: nothing runs but the strict mode and the variables `SUDO`, `host_name`, `task`.
 */
export function prelude(options: PreludeOptions = {}): string {
  const host = options.host === undefined ? "$(hostname)" : shq(options.host);
  return `set -euo pipefail
export LC_ALL=C
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
host_name=${host}
script_task=${shq(options.task ?? "")}
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
log() { printf 'pulumi-swarm[%s]: %s\\n' "$host_name" "$*" >&2; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
fail() { printf 'pulumi-swarm[%s]: ERROR: %s%s\\n' "$host_name" "\${script_task:+$script_task: }" "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
dk() { $SUDO docker "$@"; }
# A stopped dockerd makes \`docker info\` print an empty line before failing: report "unreachable".
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
swarm_state() {
  local state
  state=$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) || state=""
  state=\${state//[[:space:]]/}
  echo "\${state:-unreachable}"
}
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
not_pending() { [ "$(swarm_state)" != pending ]; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
is_active() { [ "$(swarm_state)" = active ]; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
is_manager() { [ "$(dk info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
not_manager() { ! is_manager; }
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
docker_socket() {
  local sock
  sock=$(dk context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)
  sock=\${sock#unix://}
  [ -S "$sock" ] || sock=/var/run/docker.sock
  echo "$sock"
}
# api METHOD PATH: request body on stdin, response body on stdout; fails with Docker's message.
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
api() {
  local out code
  out=$(mktemp)
  code=$($SUDO curl -sS --unix-socket "$(docker_socket)" -H 'Content-Type: application/json' \\
    -X "$1" "http://localhost$2" --data-binary @- -o "$out" -w '%{http_code}') || { rm -f "$out"; return 1; }
  if [ "\${code:0:1}" != 2 ]; then
    echo "Docker API $1 $2 answered $code: $(head -c 500 "$out")" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds, fails after SECONDS.
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
wait_for() {
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  fail "timed out after \${seconds}s waiting for $what"
}
# quorum_allows_losing N: would N fewer reachable managers keep a Raft majority?
# shellcheck disable=SC2317 # a library function: a script calls it by name, through wait_for, or not at all
quorum_allows_losing() {
  local managers total reachable remaining
  managers=$(dk node ls --filter role=manager --format '{{.ManagerStatus}}')
  total=$(printf '%s\\n' "$managers" | grep -c .)
  reachable=$(printf '%s\\n' "$managers" | grep -cE '^(Leader|Reachable)$')
  remaining=$((total - $1))
  [ "$remaining" -ge 1 ] && [ $((reachable - $1)) -ge $((remaining / 2 + 1)) ]
}
`;
}

/** {@link prelude} with the host's own name and no task: the cluster layer's scripts. */
export const PRELUDE = prelude();

/**
 * Shell that defines \`compose\` as \`docker compose\` (the v2 plugin) or \`docker-compose\` (v1, e.g.
 * Debian's package), failing with a clear message when neither exists.
 */
export const DETECT_COMPOSE = `if docker compose version >/dev/null 2>&1; then
  compose() { docker compose "$@"; }
elif command -v docker-compose >/dev/null 2>&1; then
  compose() { docker-compose "$@"; }
else
  fail "neither 'docker compose' (the compose plugin) nor 'docker-compose' is installed; install Docker Engine with docker-compose-plugin, or Debian's docker-compose package"
fi`;
