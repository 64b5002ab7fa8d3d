import { PRELUDE } from "../../shell/prelude";
import { shq } from "../../shell/quote";
import { PENDING_RESTART, RESTART_DOCKER } from "./restart";

/** Where a node keeps the claim of the membership resource that owns it (see claims in the README). */
export function claimFile(cluster: string): string {
  return `/etc/docker/pulumi-swarm-${cluster}.claim`;
}

/** What the membership script needs besides the secrets it reads on stdin. */
export interface JoinOptions {
  /** Cluster name (names the claim file). */
  cluster: string;
  /** Identity of this membership resource; its delete acts only while the node still carries it. */
  claim: string;
}

/**
 * The guarded membership steps shared by the join script and the node resource: reads the join
 * body (`POST /swarm/join` JSON with the token), the unlock key and the cluster id as three lines
 * on fd 3; unlocks a locked node, finishes a pending join, refuses a node of another swarm, and
 * joins an inactive one. `logs` (constants, double-quoted in the script) are what it says when it
 * unlocks and when it joins.
 */
export function renderMembershipSteps(logs: { unlocking: string; joining: string }): string {
  return `IFS= read -r join_body <&3 || true
IFS= read -r unlock_key <&3 || true
IFS= read -r CLUSTER_ID <&3 || true
state=$(swarm_state)
if [ "$state" = unreachable ]; then fail "dockerd does not answer on this host"; fi
if [ "$state" = locked ]; then
  [ -n "$unlock_key" ] || fail "this node is locked but the cluster has no unlock key (autolock is off in the config); unlock it by hand with 'docker swarm unlock'"
  log ${JSON.stringify(logs.unlocking)}
  printf '{"UnlockKey":"%s"}' "$unlock_key" | api POST /swarm/unlock >/dev/null
  wait_for 60 "the node to be active after unlocking" is_active
  state=active
fi
if [ "$state" = pending ]; then
  wait_for 60 "the pending join to finish" not_pending
  state=$(swarm_state)
fi
case "$state" in
  active)
    current=$(dk info --format '{{.Swarm.Cluster.ID}}' 2>/dev/null || true)
    if [ -n "$current" ] && [ -n "$CLUSTER_ID" ] && [ "$current" != "$CLUSTER_ID" ]; then
      fail "this host is in another swarm (cluster $current); run 'docker swarm leave' on it first if it should join this one"
    fi
    ;;
  inactive | error)
    if [ "$state" = error ]; then dk swarm leave --force >/dev/null 2>&1 || true; fi
    log ${JSON.stringify(logs.joining)}
    printf '%s' "$join_body" | api POST /swarm/join >/dev/null
    wait_for 120 "the node to be active after joining" is_active
    ;;
  *) fail "unexpected swarm state '$state'" ;;
esac
`;
}

/**
 * Renders the script that makes a host a member of the swarm, run on the host itself. It reads two
 * lines on stdin (fd 3): the JSON body of `POST /swarm/join` (with the join token) and the unlock
 * key, so neither ever appears in a command line. First it restarts dockerd when the prepare step
 * recorded a restart (a swarm member's new daemon.json): managers' membership steps run one at a
 * time, so managers restart one at a time. Guarded: a locked node is unlocked, a node already
 * in the swarm is left alone (a node in another swarm is refused), an inactive one joins. Prints
 * the node id.
 */
export function renderJoinScript(opts: JoinOptions): string {
  return `${PRELUDE}
${RESTART_DOCKER}
${PENDING_RESTART}
${renderMembershipSteps({ unlocking: "unlocking", joining: "joining the swarm" })}printf '%s\\n' ${shq(opts.claim)} | $SUDO tee ${shq(claimFile(opts.cluster))} >/dev/null
dk info --format '{{.Swarm.NodeID}}'
`;
}

/**
 * Renders the delete script of the membership resource, run on the host: leaves the swarm, a
 * manager demoting itself first (refused when that would cost Raft quorum), the last manager with
 * --force. Does nothing when the node carries another claim (its resource was replaced, not removed).
 */
export function renderLeaveScript(opts: JoinOptions): string {
  return `${PRELUDE}
claim_now=$($SUDO cat ${shq(claimFile(opts.cluster))} 2>/dev/null || true)
if [ "$claim_now" != ${shq(opts.claim)} ]; then
  log "membership now owned by a newer resource; leaving the node in the swarm"
  exit 0
fi
state=$(swarm_state)
case "$state" in
  inactive) ;;
  locked | error) dk swarm leave --force >/dev/null ;;
  pending | active)
    if is_manager; then
      self=$(dk info --format '{{.Swarm.NodeID}}')
      managers=$(dk node ls --filter role=manager --format '{{.ManagerStatus}}')
      total=$(printf '%s\\n' "$managers" | grep -c .)
      if [ "$total" -gt 1 ]; then
        reachable=$(printf '%s\\n' "$managers" | grep -cE '^(Leader|Reachable)$')
        remaining=$((total - 1))
        if [ $((reachable - 1)) -lt $((remaining / 2 + 1)) ]; then
          fail "removing this manager would lose Raft quorum: $reachable of $total managers reachable; bring the others back before removing it"
        fi
        log "demoting this manager before it leaves"
        dk node demote "$self" >/dev/null
        wait_for 120 "this node to stop being a manager" not_manager
        dk swarm leave >/dev/null
      else
        log "last manager: the swarm ends here"
        dk swarm leave --force >/dev/null
      fi
    else
      dk swarm leave >/dev/null 2>&1 || dk swarm leave --force >/dev/null
    fi
    ;;
  *) fail "unexpected swarm state '$state'" ;;
esac
$SUDO rm -f ${shq(claimFile(opts.cluster))}
echo left
`;
}
