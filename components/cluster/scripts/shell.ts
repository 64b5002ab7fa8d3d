import * as crypto from "crypto";

/** Quotes a value as one shell word, safe for any content. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The line that ends a host script's here-document; a script must never contain it. */
export const SCRIPT_END = "__PULUMI_SWARM_SCRIPT_END__";

/**
 * Wraps a bash script into the command string a remote Command runs. The script travels as a
 * here-document so it reads in diffs as written, and the command's own stdin (where secrets travel)
 * stays readable by the script on file descriptor 3. Works from any POSIX login shell.
 */
export function asRemoteCommand(script: string): string {
  if (script.split("\n").includes(SCRIPT_END))
    throw new Error(`a host script may not contain the line ${SCRIPT_END}`);
  return `bash -s 3<&0 <<'${SCRIPT_END}'\n${script.trimEnd()}\n${SCRIPT_END}\n`;
}

/**
 * Appends a comment carrying a hash of `values` to a script, so that a change to any of them
 * changes the command text. @pulumi/command replaces a Command whose `triggers` change (its SDK
 * sets replaceOnChanges on triggers, pulumi-command#855), and a replacement runs the old
 * resource's delete (leave, drain): a changed text is an in-place update that only re-runs the
 * guarded script.
 */
export function withRerunMarker(script: string, values: string[]): string {
  const hash = crypto.createHash("sha256").update(values.join("\0")).digest("hex").slice(0, 16);
  return `${script.trimEnd()}\n# pulumi-swarm: runs again when this changes: ${hash}\n`;
}

/**
 * Functions every host script starts with: strict mode, sudo when not root, `dk` for docker, the
 * node's swarm state, the Docker Engine API over the local socket (so secrets go in request bodies
 * read from stdin, never in argv), and a `fail` that names the host.
 */
export const PRELUDE = `set -euo pipefail
export LC_ALL=C
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
log() { echo "pulumi-swarm[$(hostname)]: $*" >&2; }
fail() { echo "pulumi-swarm[$(hostname)]: ERROR: $*" >&2; exit 1; }
dk() { $SUDO docker "$@"; }
# A stopped dockerd makes \`docker info\` print an empty line before failing: report "unreachable".
swarm_state() {
  local state
  state=$(dk info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null) || state=""
  state=\${state//[[:space:]]/}
  echo "\${state:-unreachable}"
}
not_pending() { [ "$(swarm_state)" != pending ]; }
is_active() { [ "$(swarm_state)" = active ]; }
is_manager() { [ "$(dk info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; }
not_manager() { ! is_manager; }
docker_socket() {
  local sock
  sock=$(dk context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)
  sock=\${sock#unix://}
  [ -S "$sock" ] || sock=/var/run/docker.sock
  echo "$sock"
}
# api METHOD PATH: request body on stdin, response body on stdout; fails with Docker's message.
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
# wait_for SECONDS DESCRIPTION COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  fail "timed out after \${seconds}s waiting for $what"
}
`;
