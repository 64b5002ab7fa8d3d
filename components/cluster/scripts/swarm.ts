import { PRELUDE } from "../../shell/prelude";
import { shq } from "../../shell/quote";
import { renderMembershipSteps } from "./join";

/*
 * Swarm-wide day 2 scripts, run by the swarm resource (swarmProvider.ts): a manager's view of the
 * quorum, certificate expiry, CA and join-token rotations, and the recovery from lost quorum.
 * Tokens are printed on stdout only (captured by the provider, stored as secrets); none is ever in
 * a command line: join bodies and unlock keys arrive on fd 3.
 */

/** `docker node ls` answers only where the managers have a leader; bounded, it hangs without one. */
const HAS_LEADER = `# shellcheck disable=SC2086 # $SUDO is empty or the two words "sudo -n", split on purpose
has_leader() { timeout 30 $SUDO docker node ls -q >/dev/null 2>&1; }`;

/**
 * Sets `expiry`, `ca` (SHA-256 of the root CA certificate, PEM), `worker_token` and
 * `manager_token`: the swarm's summary, read the same way by the swarm resource's scripts and by
 * init, whose printout the swarm resource's create takes in its place (swarmProvider.ts).
 */
export const READ_SUMMARY = `expiry=$(dk info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}')
ca=$(dk info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}' | sha256sum | cut -c1-64)
worker_token=$(dk swarm join-token -q worker)
manager_token=$(dk swarm join-token -q manager)`;

/** Prints the swarm's certificate expiry, CA fingerprint and both join tokens as one JSON line. */
const SUMMARY = `${READ_SUMMARY}
printf '{"certExpiry":"%s","caFingerprint":"%s","workerToken":"%s","managerToken":"%s"}\\n' \\
  "$expiry" "$ca" "$worker_token" "$manager_token"`;

/**
 * Renders the read-only probe of one manager, always exit 0 when dockerd's host answers over SSH:
 * one JSON line with its swarm state, node id, whether it reaches a Raft leader (`docker node ls`
 * answers) and, when it does not, Docker's message ("The swarm does not have a leader", "context
 * deadline exceeded").
 */
export function renderManagerProbeScript(): string {
  return `${PRELUDE}
# State, node id and manager role in one \`docker info\` (the slowest docker call; this runs on every
# preview and up). A stopped dockerd prints nothing useful and fails: "unreachable".
# shellcheck disable=SC2086 # $SUDO is empty or the two words "sudo -n", split on purpose
info=$(timeout 30 $SUDO docker info --format '{{.Swarm.LocalNodeState}}|{{.Swarm.NodeID}}|{{.Swarm.ControlAvailable}}' 2>/dev/null) || info=""
info=\${info//[[:space:]]/}
IFS='|' read -r state node_id control <<<"$info" || true
state=\${state:-unreachable}
leader=no
message=""
# shellcheck disable=SC2086 # $SUDO is empty or the two words "sudo -n", split on purpose
if [ "$state" = unreachable ]; then
  message="dockerd does not answer"
  node_id=""
else
  if [ "$state" != active ]; then
    message="swarm state $state"
  elif [ "$control" != true ]; then
    message="not a manager"
  elif out=$(timeout 30 $SUDO docker node ls -q 2>&1); then
    leader=yes
  else
    message=\${out:-"docker node ls timed out"}
  fi
fi
# shellcheck disable=SC1003 # the set holds a backslash; nothing is escaped
message=$(printf '%s' "$message" | tr '\\n\\t"\\\\' '    ' | cut -c1-300)
printf '{"state":"%s","nodeId":"%s","leader":"%s","message":"%s"}\\n' "$state" "$node_id" "$leader" "$message"
`;
}

/** What the settings script changes besides what it reads. */
export interface SwarmSettingsOptions {
  /** Node certificate validity, as a Go duration ("2160h0m0s"). */
  certExpiry: string;
  /** Rotate the root CA (waits until every node holds a certificate of the new CA). */
  rotateCa: boolean;
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
}

/**
 * Renders the script, run on a manager that reaches the leader, that sets the certificate expiry
 * when it differs, runs the requested rotations, and prints the summary (secret: it holds the join
 * tokens). Idempotent apart from the rotations, which the provider requests once per generation.
 */
export function renderSwarmSettingsScript(opts: SwarmSettingsOptions): string {
  return `${PRELUDE}
${HAS_LEADER}
is_manager || fail "this host is not a working swarm manager (swarm state: $(swarm_state))"
has_leader || fail "the managers have no leader (lost quorum?); nothing was changed"
expiry_now=$(dk info --format '{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}')
if [ "$expiry_now" != ${shq(opts.certExpiry)} ]; then
  log "setting the node certificate expiry to ${opts.certExpiry} (was $expiry_now)"
  dk swarm update --cert-expiry ${shq(opts.certExpiry)} >/dev/null
fi
${
  opts.rotateCa
    ? `root_before=$(dk info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}' | sha256sum)
log "rotating the root CA; every node gets a certificate of the new CA"
dk swarm ca --rotate --detach >/dev/null
rotated() {
  [ "$(dk info --format '{{.Swarm.Cluster.RootRotationInProgress}}')" = false ] &&
    [ "$(dk info --format '{{.Swarm.Cluster.TLSInfo.TrustRoot}}' | sha256sum)" != "$root_before" ]
}
for _ in $(seq 1 1200); do rotated && break; sleep 0.5; done
if ! rotated; then
  down=$(dk node ls --filter role=worker --format '{{.Hostname}} {{.Status}}' | awk '$2 != "Ready" {print $1}' | tr '\\n' ' ')
  fail "the CA rotation did not finish in 600 s (it goes on in the background; nodes not Ready: \${down:-none}): bring every node up, then run pulumi up again"
fi
`
    : ""
}${
    opts.rotateWorkerToken
      ? `log "rotating the worker join token"
dk swarm join-token --rotate -q worker >/dev/null
`
      : ""
  }${
    opts.rotateManagerToken
      ? `log "rotating the manager join token"
dk swarm join-token --rotate -q manager >/dev/null
`
      : ""
  }${SUMMARY}
`;
}

/** Renders the read-only script behind refresh: the summary, from a manager that reaches the leader. */
export function renderSwarmReadScript(): string {
  return `${PRELUDE}
${HAS_LEADER}
is_manager || fail "this host is not a working swarm manager (swarm state: $(swarm_state))"
has_leader || fail "the managers have no leader (lost quorum?)"
${SUMMARY}
`;
}

/**
 * Renders the first recovery step, on the surviving manager: unlocks it when locked (key on fd 3),
 * then, when the managers really have no leader, `docker swarm init --force-new-cluster` (a
 * single-manager swarm from this manager's Raft state: services, networks, secrets and workers are
 * kept), and waits until it leads. When a leader answers already (the quorum came back, or a
 * previous run got this far) it changes nothing. Prints the node id.
 */
export function renderForceNewClusterScript(opts: { advertiseAddr: string }): string {
  return `${PRELUDE}
${HAS_LEADER}
IFS= read -r unlock_key <&3 || true
state=$(swarm_state)
if [ "$state" = unreachable ]; then fail "dockerd does not answer on the survivor; choose a manager that answers as recoverQuorum.survivor"; fi
if [ "$state" = locked ]; then
  [ -n "$unlock_key" ] || fail "the survivor is locked and the cluster has no unlock key"
  log "unlocking the survivor"
  printf '{"UnlockKey":"%s"}' "$unlock_key" | api POST /swarm/unlock >/dev/null
  wait_for 60 "the survivor to be active after unlocking" is_active
  state=active
fi
[ "$state" = active ] || fail "the survivor is in no swarm (state $state): choose a manager that still holds the swarm's state as recoverQuorum.survivor"
is_manager || fail "the survivor is not a manager: choose a manager as recoverQuorum.survivor"
if has_leader; then
  log "the managers have a leader: no force-new-cluster needed"
else
  log "the managers have no leader: forcing a new cluster from this manager's state"
  dk swarm init --force-new-cluster --advertise-addr ${shq(opts.advertiseAddr)} --listen-addr 0.0.0.0:2377 >/dev/null
  wait_for 180 "this manager to lead the new cluster" has_leader
fi
dk info --format '{{.Swarm.NodeID}}'
`;
}

/**
 * Renders the step for a manager left behind by a recovery (it still holds the old cluster's
 * state, or none): leaves whatever swarm it is in (`leave --force`: its Raft data is stale), then
 * joins the recovered swarm through the survivor. Reads the join body (with the manager token),
 * the unlock key and the cluster id as three lines on fd 3. Prints the new node id.
 */
export function renderManagerRejoinScript(): string {
  return `${PRELUDE}
state=$(swarm_state)
if [ "$state" = unreachable ]; then fail "dockerd does not answer on this host"; fi
if [ "$state" != inactive ]; then
  log "leaving the stale cluster state behind (docker swarm leave --force)"
  dk swarm leave --force >/dev/null
  is_inactive() { [ "$(swarm_state)" = inactive ]; }
  wait_for 60 "this node to leave" is_inactive
fi
${renderMembershipSteps({ unlocking: "unlocking", joining: "joining the recovered swarm as a manager" })}dk info --format '{{.Swarm.NodeID}}'
`;
}

/**
 * Renders the listing, run on a manager that leads, of every node entry as one JSON line per node:
 * id, hostname, address, state, role and manager reachability.
 */
export function renderNodeListScript(): string {
  return `${PRELUDE}
dk node ls -q | while read -r id; do
  dk node inspect --format '{"id":"{{.ID}}","hostname":"{{.Description.Hostname}}","addr":"{{.Status.Addr}}","state":"{{.Status.State}}","role":"{{.Spec.Role}}","reachability":"{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}"}' "$id"
done
`;
}

/**
 * Renders the removal of the given stale node entries (ids), run on a manager that leads: a
 * manager entry is demoted first, then the entry is removed. Entries already gone are skipped.
 */
export function renderRemoveEntriesScript(opts: { nodeIds: string[] }): string {
  return `${PRELUDE}
for id in ${opts.nodeIds.map(shq).join(" ")}; do
  dk node inspect "$id" >/dev/null 2>&1 || continue
  if [ "$(dk node inspect --format '{{.Spec.Role}}' "$id")" = manager ]; then dk node demote "$id" >/dev/null 2>&1 || true; fi
  dk node rm --force "$id" >/dev/null
  log "removed the stale entry $id"
done
echo removed
`;
}
