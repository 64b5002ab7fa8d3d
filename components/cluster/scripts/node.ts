import { PRELUDE } from "../../shell/prelude";
import { shq } from "../../shell/quote";
import { renderMembershipSteps } from "./join";

/** Prefix of the node labels the cluster keeps for itself (never reported as drift, never removed). */
export const LABEL_PREFIX = "pulumi-swarm.";
/** Node label that records which settings resource owns a node (see claims in the README). */
export const CLAIM_LABEL = "pulumi-swarm.claim";
/** Node label listing the label keys this cluster manages, so removed ones can be taken off. */
export const MANAGED_LABELS_LABEL = "pulumi-swarm.managed-labels";

/** Desired settings of one node, applied from a manager. */
export interface NodeSettingsOptions {
  /** Node id to act on (ids, not hostnames: hostnames collide and change). */
  nodeId: string;
  role: "manager" | "worker";
  labels: Record<string, string>;
  availability: "active" | "pause" | "drain";
  /** Identity of the settings resource. */
  claim: string;
  /**
   * The node's id before this run, when it differs from `nodeId` (the host left and joined again):
   * that entry is removed once the managers see it down, so no stale "down" node is left.
   */
  previousNodeId?: string;
}

/**
 * Renders the script that applies a node's role, labels and availability from a manager, changing
 * only what differs (a second run changes nothing). Promotions and demotions are refused when they
 * would cost Raft quorum. Prints what it changed.
 */
export function renderNodeSettingsScript(opts: NodeSettingsOptions): string {
  const keys = Object.keys(opts.labels).sort();
  const desired = keys.map((k) => shq(`${k}=${opts.labels[k]}`)).join(" ");
  return `${PRELUDE}
NODE=${shq(opts.nodeId)}
is_manager || fail "the host this runs on is not a swarm manager"
node_ready() { [ "$(dk node inspect --format '{{.Status.State}}' "$NODE" 2>/dev/null)" = ready ]; }
wait_for 120 "node $NODE to be ready" node_ready
changes=()

# A host that rejoined (after leaving by hand, or a failed join) leaves its old entry "down" at the
# same address; it would count as a missing replica of global services.
read -r addr role_now availability_now < <(dk node inspect --format '{{.Status.Addr}} {{.Spec.Role}} {{.Spec.Availability}}' "$NODE")
PREVIOUS=${shq(opts.previousNodeId ?? "")}
if [ -n "$PREVIOUS" ] && [ "$PREVIOUS" != "$NODE" ] && dk node inspect "$PREVIOUS" >/dev/null 2>&1; then
  previous_down() { [ "$(dk node inspect --format '{{.Status.State}}' "$PREVIOUS" 2>/dev/null || echo gone)" != ready ]; }
  wait_for 120 "the node's old entry $PREVIOUS to be down" previous_down
  if dk node inspect "$PREVIOUS" >/dev/null 2>&1; then dk node rm "$PREVIOUS" >/dev/null; changes+=("removed old entry $PREVIOUS"); fi
fi
# Every entry in one inspect (one docker call, not one per node: this runs for every node).
mapfile -t ids < <(dk node ls -q)
while read -r id other_addr other_state; do
  [ "$id" = "$NODE" ] && continue
  if [ "$other_addr" = "$addr" ] && [ "$other_state" = down ]; then
    dk node rm "$id" >/dev/null
    changes+=("removed stale entry $id")
  fi
done < <(dk node inspect --format '{{.ID}} {{.Status.Addr}} {{.Status.State}}' "\${ids[@]}")

ROLE=${shq(opts.role)}
if [ "$role_now" != "$ROLE" ]; then
  if [ "$ROLE" = worker ]; then
    quorum_allows_losing 1 || fail "demoting node $NODE would lose Raft quorum; bring the other managers back first"
    dk node demote "$NODE" >/dev/null
  else
    dk node promote "$NODE" >/dev/null
  fi
  changes+=("role=${opts.role}")
fi

declare -A current=()
# shellcheck disable=SC2016 # a Go template for docker, not shell: its $k and $v must stay literal
while IFS='=' read -r key value; do
  [ -n "$key" ] && current[$key]=$value
done < <(dk node inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}}{{"\\n"}}{{end}}' "$NODE")
DESIRED=(${desired})
args=()
declare -A wanted=()
for pair in "\${DESIRED[@]}"; do
  key=\${pair%%=*} value=\${pair#*=}
  wanted[$key]=1
  if [ "\${current[$key]-__unset__}" != "$value" ]; then args+=(--label-add "$key=$value"); changes+=("label $key"); fi
done
# The declared labels are the node's labels: any other one (added by hand) is taken off, except the
# cluster's own bookkeeping labels.
for key in "\${!current[@]}"; do
  case "$key" in ${LABEL_PREFIX}*) continue ;; esac
  if [ -z "\${wanted[$key]-}" ]; then args+=(--label-rm "$key"); changes+=("label -$key"); fi
done
MANAGED=${shq(keys.join(","))}
if [ "\${current[${MANAGED_LABELS_LABEL}]-}" != "$MANAGED" ]; then args+=(--label-add "${MANAGED_LABELS_LABEL}=$MANAGED"); fi
if [ "\${current[${CLAIM_LABEL}]-}" != ${shq(opts.claim)} ]; then args+=(--label-add ${shq(`${CLAIM_LABEL}=${opts.claim}`)}); fi
if [ "$availability_now" != ${opts.availability} ]; then args+=(--availability ${opts.availability}); changes+=("availability=${opts.availability}"); fi
if [ \${#args[@]} -gt 0 ]; then dk node update "\${args[@]}" "$NODE" >/dev/null; fi
if [ \${#changes[@]} -eq 0 ]; then echo "unchanged"; else echo "changed: \${changes[*]}"; fi
`;
}

/**
 * Renders the delete script of the settings resource, run on a manager before the node leaves:
 * drains the node and waits (bounded) for its tasks to stop, so they are rescheduled before it
 * goes. Does nothing when a newer resource has claimed the node (a replacement, not a removal).
 */
export function renderNodeDrainScript(
  opts: Pick<NodeSettingsOptions, "nodeId" | "claim"> & {
    /**
     * Take the claim label off once drained, so the registration resource's delete (which skips
     * entries claimed by someone else) removes the node's entry after it leaves.
     */
    releaseClaim?: boolean;
  },
): string {
  return `${PRELUDE}
NODE=${shq(opts.nodeId)}
if ! is_manager; then log "not a manager here; the node's own leave will take it out"; exit 0; fi
if ! dk node inspect "$NODE" >/dev/null 2>&1; then log "node $NODE is already gone"; exit 0; fi
claim_now=$(dk node inspect --format '{{index .Spec.Labels "${CLAIM_LABEL}"}}' "$NODE")
if [ "$claim_now" != ${shq(opts.claim)} ]; then log "node $NODE is owned by a newer resource; leaving it as it is"; exit 0; fi
dk node update --availability drain "$NODE" >/dev/null
no_tasks() { [ -z "$(dk node ps "$NODE" --filter desired-state=running -q 2>/dev/null)" ]; }
for _ in $(seq 1 120); do no_tasks && break; sleep 0.5; done
${
  opts.releaseClaim
    ? `dk node update --label-rm ${shq(CLAIM_LABEL)} "$NODE" >/dev/null
`
    : ""
}echo drained
`;
}

/**
 * Renders the delete script of the registration resource, run on a manager after the node left:
 * removes the node's leftover "down" entries (found by its advertise address) from the node list.
 */
export function renderDeregisterScript(opts: { advertiseAddr: string; claim: string }): string {
  return `${PRELUDE}
ADDR=${shq(opts.advertiseAddr)}
if ! is_manager; then log "not a manager here (the swarm is being taken down); nothing to deregister"; exit 0; fi
entries() {
  dk node ls -q | while read -r id; do
    dk node inspect --format '{{.ID}} {{.Status.Addr}} {{.Status.State}} {{index .Spec.Labels "${CLAIM_LABEL}"}}' "$id"
  done
}
removed=0
# A node that left shows "down" only once the managers notice its session ended (seconds, but up
# to a heartbeat timeout on a loaded host): wait for it rather than leave a stale entry behind.
for _ in $(seq 1 240); do
  pending=0
  while read -r id addr state claim; do
    [ "$addr" = "$ADDR" ] || continue
    if [ -n "$claim" ] && [ "$claim" != ${shq(opts.claim)} ]; then continue; fi
    if [ "$state" = down ]; then dk node rm "$id" >/dev/null && removed=$((removed + 1)); else pending=1; fi
  done < <(entries)
  [ "$pending" = 0 ] && break
  sleep 0.5
done
if [ "$pending" = 1 ]; then log "the node at $ADDR is still not down after 120 s; remove its entry with 'docker node rm' once it is"; fi
echo "deregistered $removed"
`;
}

/**
 * Renders the read-only script that reports the swarm state of the host it runs on, as one line
 * `state|nodeId` (state: active, locked, inactive, pending or error). Fails when dockerd does not
 * answer, so an unreachable node is never mistaken for one that left.
 */
export function renderNodeStatusScript(): string {
  return `${PRELUDE}
state=$(swarm_state)
if [ "$state" = unreachable ]; then fail "dockerd does not answer on this host"; fi
printf '%s|%s\\n' "$state" "$(dk info --format '{{.Swarm.NodeID}}' 2>/dev/null | tr -d '[:space:]')"
`;
}

/**
 * Renders the read-only script, run on a manager, that prints node `nodeId` as Docker's JSON
 * (`docker node inspect`), or `{"missing":true}` when the swarm no longer lists it. Fails when the
 * host is not a working manager (locked, stopped, left), so a manager that cannot answer is never
 * taken for proof that the node is gone.
 */
export function renderNodeInspectScript(opts: { nodeId: string }): string {
  return `${PRELUDE}
NODE=${shq(opts.nodeId)}
if ! is_manager; then fail "this host is not a working swarm manager (swarm state: $(swarm_state)); a locked manager is unlocked by 'pulumi up'"; fi
if [ -z "$NODE" ]; then echo '{"missing":true}'; exit 0; fi
if ! out=$(dk node inspect --format '{{json .}}' "$NODE" 2>&1); then
  case "$out" in *"not found"* | *"No such node"*) echo '{"missing":true}'; exit 0 ;; esac
  fail "docker node inspect $NODE: $out"
fi
printf '%s\\n' "$out"
`;
}

/**
 * Renders the script that puts the host it runs on back into the swarm, run by the node resource
 * on every create and update: a locked node is unlocked, a node that left (by hand, or a failed
 * join) joins again, a node in the swarm is left alone (a node in another swarm is refused). Reads
 * the join body (`POST /swarm/join` JSON with the token), the unlock key and the cluster id as
 * three lines on fd 3, never from a command line. Prints the node id last.
 */
export function renderNodeMembershipScript(): string {
  return `${PRELUDE}
${renderMembershipSteps({
  unlocking: "unlocking (the manager came back locked after a restart)",
  joining: "joining the swarm again (the node had left it)",
})}dk info --format '{{.Swarm.NodeID}}'
`;
}
