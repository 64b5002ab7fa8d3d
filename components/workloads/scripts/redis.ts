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
 * it and rebalances slots onto them (`--cluster-use-empty-masters`), adds missing replicas to their
 * own masters (`--cluster-slave --cluster-master-id`), then waits until `--cluster check` passes and
 * every node reports cluster_state:ok.
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
    'log() { echo "redis-cluster: $*"; }',
    'die() { echo "redis-cluster: $*" >&2; exit 1; }',
    'rcli() { redis-cli --no-auth-warning "$@"; }',
    "for n in $all; do",
    "  i=0",
    `  until [ "$(rcli -h "$n" -p ${p} ping 2>/dev/null)" = PONG ]; do`,
    '    i=$((i + 1)); [ $i -lt 120 ] || die "node $n does not answer"; sleep 1',
    "  done",
    "done",
    "# A node is in the cluster when the first master lists its id.",
    `in_cluster() { id=$(rcli -h "$1" -p ${p} cluster myid); rcli -h "$first" -p ${p} cluster nodes | grep -q "^$id "; }`,
    "# --cluster check can exit 0 while nodes still disagree: wait for its OK lines and no ERR.",
    `check_ok() { out=$(rcli --cluster check "$first:${p}" 2>&1) || return 1; case $out in *"[ERR]"*) return 1 ;; esac; case $out in *"All nodes agree"*"All 16384 slots covered"*) return 0 ;; esac; return 1; }`,
    `wait_check() { i=0; until check_ok; do i=$((i + 1)); [ $i -lt 90 ] || { rcli --cluster check "$first:${p}" >&2 || true; die "the cluster did not settle"; }; sleep 1; done; }`,
    `assigned=$(rcli -h "$first" -p ${p} cluster info | tr -d '\\r' | sed -n 's/^cluster_slots_assigned://p')`,
    'if [ "$assigned" = 0 ]; then',
    `  log "creating the cluster from ${topology.masters.length} masters"`,
    `  rcli --cluster create ${topology.masters.map((m) => `${shellQuote(m)}:${p}`).join(" ")} --cluster-replicas 0 --cluster-yes`,
    "fi",
    "wait_check",
    ...topology.masters.flatMap((m) => [
      `if ! in_cluster ${shellQuote(m)}; then log "adding master ${m}"; rcli --cluster add-node ${shellQuote(m)}:${p} "$first:${p}"; wait_check; fi`,
    ]),
    "# Right after add-node the new master's view can still lag (rebalance then refuses with",
    '# "Nodes don\'t agree about configuration"): retry while gossip settles.',
    `rebalance() { i=0; until rcli --cluster rebalance "$first:${p}" --cluster-use-empty-masters > /tmp/rebalance.log 2>&1; do i=$((i + 1)); if [ $i -ge 30 ]; then cat /tmp/rebalance.log >&2; die "rebalance failed"; fi; sleep 2; done; grep -v "^#*$" /tmp/rebalance.log; }`,
    "# A master without slots (just added, or an earlier rebalance failed) gets its share.",
    "empty=0",
    ...topology.masters.map(
      (m) =>
        `[ -n "$(rcli -h ${shellQuote(m)} -p ${p} cluster nodes | awk '$3 ~ /myself/ { print $9 }')" ] || empty=1`,
    ),
    'if [ "$empty" = 1 ]; then log "rebalancing slots onto the new masters"; rebalance; wait_check; fi',
    ...topology.replicas.map(
      (r) =>
        `if ! in_cluster ${shellQuote(r.name)}; then log "adding replica ${r.name} of ${r.master}"; rcli --cluster add-node ${shellQuote(r.name)}:${p} "$first:${p}" --cluster-slave --cluster-master-id "$(rcli -h ${shellQuote(r.master)} -p ${p} cluster myid)"; wait_check; fi`,
    ),
    "for n in $all; do",
    "  i=0",
    `  until rcli -h "$n" -p ${p} cluster info | grep -q '^cluster_state:ok'; do`,
    '    i=$((i + 1)); [ $i -lt 60 ] || die "node $n does not report cluster_state:ok"; sleep 1',
    "  done",
    "done",
    "# Roles settle by gossip: wait until the first master sees every replica as one and every master with slots.",
    "i=0",
    `until [ "$(rcli -h "$first" -p ${p} cluster nodes | grep -c slave)" -eq ${topology.replicas.length} ] && [ "$(rcli -h "$first" -p ${p} cluster nodes | awk '$3 ~ /master/ && $9 != "" { n++ } END { print n + 0 }')" -eq ${topology.masters.length} ]; do`,
    '  i=$((i + 1)); [ $i -lt 60 ] || die "the nodes did not settle into their roles"; sleep 1',
    "done",
    `rcli -h "$first" -p ${p} cluster nodes | awk '{ print $2, $3, $9 }'`,
    `log "cluster ok: ${all.length} nodes"`,
    "",
  ];
  return lines.join("\n");
}
