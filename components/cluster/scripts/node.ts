import { PRELUDE, shq } from "./shell";

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
}

const QUORUM_CHECK = `# quorum_allows_losing N: would N fewer reachable managers keep a Raft majority?
quorum_allows_losing() {
  local managers total reachable remaining
  managers=$(dk node ls --filter role=manager --format '{{.ManagerStatus}}')
  total=$(printf '%s\\n' "$managers" | grep -c .)
  reachable=$(printf '%s\\n' "$managers" | grep -cE '^(Leader|Reachable)$')
  remaining=$((total - $1))
  [ "$remaining" -ge 1 ] && [ $((reachable - $1)) -ge $((remaining / 2 + 1)) ]
}`;

/**
 * Renders the script that applies a node's role, labels and availability from a manager, changing
 * only what differs (a second run changes nothing). Promotions and demotions are refused when they
 * would cost Raft quorum. Prints what it changed.
 */
export function renderNodeSettingsScript(opts: NodeSettingsOptions): string {
  const keys = Object.keys(opts.labels).sort();
  const desired = keys.map((k) => shq(`${k}=${opts.labels[k]}`)).join(" ");
  return `${PRELUDE}
${QUORUM_CHECK}
NODE=${shq(opts.nodeId)}
is_manager || fail "the host this runs on is not a swarm manager"
node_ready() { [ "$(dk node inspect --format '{{.Status.State}}' "$NODE" 2>/dev/null)" = ready ]; }
wait_for 120 "node $NODE to be ready" node_ready
changes=()

# A host that rejoined (after leaving by hand, or a failed join) leaves its old entry "down" at the
# same address; it would count as a missing replica of global services.
addr=$(dk node inspect --format '{{.Status.Addr}}' "$NODE")
for id in $(dk node ls -q); do
  [ "$id" = "$NODE" ] && continue
  read -r other_addr other_state < <(dk node inspect --format '{{.Status.Addr}} {{.Status.State}}' "$id")
  if [ "$other_addr" = "$addr" ] && [ "$other_state" = down ]; then
    dk node rm "$id" >/dev/null
    changes+=("removed stale entry $id")
  fi
done

role_now=$(dk node inspect --format '{{.Spec.Role}}' "$NODE")
if [ "$role_now" != ${opts.role} ]; then
  if [ ${opts.role} = worker ]; then
    quorum_allows_losing 1 || fail "demoting node $NODE would lose Raft quorum; bring the other managers back first"
    dk node demote "$NODE" >/dev/null
  else
    dk node promote "$NODE" >/dev/null
  fi
  changes+=("role=${opts.role}")
fi

declare -A current=()
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
IFS=',' read -r -a managed <<<"\${current[${MANAGED_LABELS_LABEL}]-}"
for key in "\${managed[@]}"; do
  if [ -n "$key" ] && [ -z "\${wanted[$key]-}" ] && [ -n "\${current[$key]+x}" ]; then args+=(--label-rm "$key"); changes+=("label -$key"); fi
done
MANAGED=${shq(keys.join(","))}
if [ "\${current[${MANAGED_LABELS_LABEL}]-}" != "$MANAGED" ]; then args+=(--label-add "${MANAGED_LABELS_LABEL}=$MANAGED"); fi
if [ "\${current[${CLAIM_LABEL}]-}" != ${shq(opts.claim)} ]; then args+=(--label-add ${shq(`${CLAIM_LABEL}=${opts.claim}`)}); fi
availability_now=$(dk node inspect --format '{{.Spec.Availability}}' "$NODE")
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
export function renderNodeDrainScript(opts: Pick<NodeSettingsOptions, "nodeId" | "claim">): string {
  return `${PRELUDE}
NODE=${shq(opts.nodeId)}
if ! is_manager; then log "not a manager here; the node's own leave will take it out"; exit 0; fi
if ! dk node inspect "$NODE" >/dev/null 2>&1; then log "node $NODE is already gone"; exit 0; fi
claim_now=$(dk node inspect --format '{{index .Spec.Labels "${CLAIM_LABEL}"}}' "$NODE")
if [ "$claim_now" != ${shq(opts.claim)} ]; then log "node $NODE is owned by a newer resource; leaving it as it is"; exit 0; fi
dk node update --availability drain "$NODE" >/dev/null
no_tasks() { [ -z "$(dk node ps "$NODE" --filter desired-state=running -q 2>/dev/null)" ]; }
for _ in $(seq 1 120); do no_tasks && break; sleep 0.5; done
echo drained
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
