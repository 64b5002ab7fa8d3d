import { shq as shellQuote } from "../../shell";

/*
 * Shell for RedisCluster, run inside the Redis image's containers (POSIX sh). Pure renderers: unit
 * tested as text, executed for real by the lab's engine suite. The password never appears here: it
 * is read from the swarm secret file at run time.
 */

/** Port every node listens on. */
export const REDIS_PORT = 6379;

/**
 * Starts one cluster node: the password goes from the secret file into a private config file (not
 * the command line, which `ps` shows), then redis-server replaces the shell (PID 1 gets SIGTERM).
 */
export function renderRedisNodeCommand(serviceName: string, passwordFile: string): string {
  return [
    "set -eu",
    "umask 077",
    `p=$(cat ${shellQuote(passwordFile)})`,
    `printf 'requirepass "%s"\\nmasterauth "%s"\\n' "$p" "$p" > /data/auth.conf`,
    "unset p",
    `exec redis-server /data/auth.conf --port ${REDIS_PORT} --protected-mode no --cluster-enabled yes --dir /data --appendonly yes --cluster-node-timeout 5000 --cluster-announce-hostname ${shellQuote(serviceName)} --cluster-preferred-endpoint-type hostname`,
  ].join("\n");
}

/** The nodes of a cluster: masters by service name, and each replica with its master. */
export interface RedisTopology {
  masters: string[];
  replicas: { name: string; master: string }[];
}

/**
 * Converges the cluster to the topology, idempotently: creates it from the masters when no slot is
 * assigned yet (`redis-cli --cluster create ... --cluster-replicas 0`), adds masters that are not in
 * it and rebalances slots onto them (`--cluster-use-empty-masters`) until every master holds slots,
 * adds missing replicas to their own masters (`--cluster-slave --cluster-master-id`), then waits until
 * every node reports cluster_state:ok and the roles settle.
 *
 * Before every step it waits for gossip to settle: every member lists exactly the members, each
 * `connected` with no `handshake`/`fail`/`noaddr` flag, and all members see the same slot map.
 * `redis-cli --cluster check` is not enough: it silently skips a peer it sees in handshake or
 * disconnected (seen on the lab: a rebalance right after `add-node` saw only the 3 old masters and
 * said "No rebalancing needed", or refused with "Nodes don't agree about configuration!" when the
 * new node's own view still lagged).
 */
export function renderRedisConvergeScript(topology: RedisTopology, passwordFile: string): string {
  const all = [...topology.masters, ...topology.replicas.map((r) => r.name)];
  const first = topology.masters[0];
  const p = REDIS_PORT;
  const lines = [
    "set -eu",
    `REDISCLI_AUTH=$(cat ${shellQuote(passwordFile)})`,
    "export REDISCLI_AUTH",
    `first=${shellQuote(first)}`,
    `all=${shellQuote(all.join(" "))}`,
    `masters=${shellQuote(topology.masters.join(" "))}`,
    'log() { echo "redis-cluster: $*"; }',
    'die() { echo "redis-cluster: $*"; echo "redis-cluster: $*" >&2; exit 1; }',
    'rcli() { redis-cli --no-auth-warning "$@"; }',
    `nodes_of() { rcli -h "$1" -p ${p} cluster nodes | tr -d '\\r'; }`,
    "for n in $all; do",
    "  i=0",
    `  until [ "$(rcli -h "$n" -p ${p} ping 2>/dev/null)" = PONG ]; do`,
    '    i=$((i + 1)); [ $i -lt 120 ] || die "node $n does not answer"; sleep 1',
    "  done",
    "done",
    "# A node is in the cluster when the first master lists its id.",
    `in_cluster() { id=$(rcli -h "$1" -p ${p} cluster myid); nodes_of "$first" | grep -q "^$id "; }`,
    "# The slot map one node sees: each owner's id and ranges (open slots [..] left out), sorted.",
    `slot_map() { nodes_of "$1" | awk '{ s = ""; for (i = 9; i <= NF; i++) if ($i !~ /^\\[/) s = s " " $i; if (s != "") print $1 s }' | sort; }`,
    "# Gossip has settled over $members: each lists them all, connected, none in handshake/fail/noaddr,",
    "# all see the same slot map, and each reports cluster_state:ok (a master just added answers",
    "# CLUSTERDOWN for a moment: a rebalance then failed with 'Target instance replied with error:",
    "# CLUSTERDOWN The cluster is down' and left a slot open).",
    "settled() {",
    '  want=$(echo "$members" | wc -w)',
    "  map0=''",
    "  for n in $members; do",
    `    rcli -h "$n" -p ${p} cluster info | grep -q '^cluster_state:ok' || return 1`,
    '    view=$(nodes_of "$n") || return 1',
    `    [ "$(printf '%s\\n' "$view" | grep -c .)" -eq "$want" ] || return 1`,
    `    printf '%s\\n' "$view" | awk '$3 ~ /fail|handshake|noaddr/ || $8 != "connected" { bad = 1 } END { exit bad }' || return 1`,
    '    map=$(slot_map "$n")',
    '    if [ -z "$map0" ]; then map0=$map; elif [ "$map" != "$map0" ]; then return 1; fi',
    "  done",
    "}",
    "wait_settled() {",
    "  i=0",
    "  until settled; do",
    "    i=$((i + 1))",
    `    if [ $i -ge 120 ]; then for n in $members; do echo "--- $n:"; nodes_of "$n" | awk '{ print $2, $3, $8, $9, $10 }'; done; die "gossip did not settle over: $members"; fi`,
    "    sleep 1",
    "  done",
    "}",
    "# --cluster check can exit 0 while nodes still disagree: wait for its OK lines and no ERR.",
    `check_ok() { out=$(rcli --cluster check "$first:${p}" 2>&1) || return 1; case $out in *"[ERR]"*) return 1 ;; esac; case $out in *"All nodes agree"*"All 16384 slots covered"*) return 0 ;; esac; return 1; }`,
    `wait_check() { i=0; until check_ok; do i=$((i + 1)); [ $i -lt 90 ] || { rcli --cluster check "$first:${p}" >&2 || true; die "the cluster did not settle"; }; sleep 1; done; }`,
    `assigned=$(rcli -h "$first" -p ${p} cluster info | tr -d '\\r' | sed -n 's/^cluster_slots_assigned://p')`,
    'if [ "$assigned" = 0 ]; then',
    `  log "creating the cluster from ${topology.masters.length} masters"`,
    `  rcli --cluster create ${topology.masters.map((m) => `${shellQuote(m)}:${p}`).join(" ")} --cluster-replicas 0 --cluster-yes`,
    "fi",
    "members=''",
    'for n in $all; do if in_cluster "$n"; then members="$members $n"; fi; done',
    "wait_settled",
    "wait_check",
    "# add_node <node> [add-node options]: joins it, then waits until every member sees it settled.",
    `add_node() { n=$1; shift; rcli --cluster add-node "$n:${p}" "$first:${p}" "$@"; members="$members $n"; wait_settled; wait_check; }`,
    "for m in $masters; do",
    '  if ! in_cluster "$m"; then log "adding master $m"; add_node "$m"; fi',
    "done",
    "# Masters without slots (just added, or an earlier rebalance failed) get their share.",
    `empty_masters() { for m in $masters; do [ -n "$(nodes_of "$m" | awk '$3 ~ /myself/ { print $9 }')" ] || echo "$m"; done; }`,
    "# Until a rebalance has run through with every master holding slots (a failed one leaves the",
    "# slots it did not move where they were).",
    "round=0",
    "need=0",
    'if [ -n "$(empty_masters)" ]; then need=1; fi',
    'while [ "$need" = 1 ]; do',
    "  round=$((round + 1))",
    `  [ $round -le 5 ] || die "no complete rebalance in 5 rounds; masters without slots: $(empty_masters | tr '\\n' ' ')"`,
    `  log "rebalancing slots onto the new masters: $(empty_masters | tr '\\n' ' ')(round $round)"`,
    `  if rcli --cluster rebalance "$first:${p}" --cluster-use-empty-masters > /tmp/rebalance.log 2>&1; then`,
    "    grep -v '^#*$' /tmp/rebalance.log | grep -v '^Moving slot' | tail -n 5",
    '    if [ -z "$(empty_masters)" ]; then need=0; fi',
    "  else",
    "    log \"rebalance failed: $(grep -v '^#*$' /tmp/rebalance.log | grep -v '^Moving slot' | tail -n 3)\"",
    "    # A failed move leaves its slot open (migrating/importing): close it before the next round.",
    "    wait_settled",
    `    rcli --cluster fix "$first:${p}" --cluster-yes 2>&1 | grep -E '^(>>>|\\[)' || true`,
    "  fi",
    "  wait_settled",
    "  wait_check",
    "done",
    ...topology.replicas.map(
      (r) =>
        `if ! in_cluster ${shellQuote(r.name)}; then log "adding replica ${r.name} of ${r.master}"; add_node ${shellQuote(r.name)} --cluster-slave --cluster-master-id "$(rcli -h ${shellQuote(r.master)} -p ${p} cluster myid)"; fi`,
    ),
    "for n in $all; do",
    "  i=0",
    `  until rcli -h "$n" -p ${p} cluster info | grep -q '^cluster_state:ok'; do`,
    '    i=$((i + 1)); [ $i -lt 60 ] || die "node $n does not report cluster_state:ok"; sleep 1',
    "  done",
    "done",
    "# Roles settle by gossip: wait until the first master sees every replica as one and every master with slots.",
    "i=0",
    `until [ "$(nodes_of "$first" | grep -c slave)" -eq ${topology.replicas.length} ] && [ "$(nodes_of "$first" | awk '$3 ~ /master/ && $9 != "" { n++ } END { print n + 0 }')" -eq ${topology.masters.length} ]; do`,
    '  i=$((i + 1)); [ $i -lt 60 ] || die "the nodes did not settle into their roles"; sleep 1',
    "done",
    `nodes_of "$first" | awk '{ print $2, $3, $9 }'`,
    `log "cluster ok: ${all.length} nodes"`,
    "",
  ];
  return lines.join("\n");
}
