import { PRELUDE } from "../../shell/prelude";
import { shq } from "../../shell/quote";
import { READ_SUMMARY } from "./swarm";

/** Swarm-wide settings fixed by `docker swarm init` (and kept in line by `docker swarm update`). */
export interface InitOptions {
  /** Address this first manager advertises. */
  advertiseAddr: string;
  /** Advertise addresses of the other managers: a fresh first manager refuses to start a second swarm beside them. */
  otherManagers: string[];
  /** UDP port of the overlay data path. */
  dataPathPort: number;
  /** Address pools for overlay subnets; empty for Docker's default. */
  defaultAddrPool: string[];
  /** Prefix length of each overlay subnet carved from the pools. */
  defaultAddrPoolMaskLength?: number;
  /**
   * Validity of the first node certificates, as a Go duration ("2160h0m0s"), given to `swarm init`
   * only; a running swarm's expiry is kept in line by the swarm resource (swarmState.ts).
   * Default: Docker's (2160h).
   */
  certExpiry?: string;
  /** Lock managers' Raft keys at rest (needs the unlock key after each dockerd restart). */
  autolock: boolean;
}

/**
 * Renders the script run on the first manager: `swarm init` when the host is in no swarm yet
 * (unless another declared manager already runs one: then it stops rather than split the swarm),
 * aligns autolock (the certificate expiry is the swarm resource's: swarmState.ts), and prints one
 * JSON line: the cluster id, its node id, both join tokens, the unlock key, the certificate expiry,
 * the CA fingerprint and the host's time. The last three let the swarm resource's create take the
 * swarm's state from this run's init instead of dialling the manager again (swarmProvider.ts).
 * That stdout is secret; the command runs with logging off.
 */
export function renderInitScript(opts: InitOptions): string {
  const initArgs = [
    "--advertise-addr",
    opts.advertiseAddr,
    "--listen-addr",
    "0.0.0.0:2377",
    "--data-path-port",
    String(opts.dataPathPort),
    ...(opts.certExpiry !== undefined ? ["--cert-expiry", opts.certExpiry] : []),
    ...opts.defaultAddrPool.flatMap((cidr) => ["--default-addr-pool", cidr]),
    ...(opts.defaultAddrPoolMaskLength !== undefined && opts.defaultAddrPool.length > 0
      ? ["--default-addr-pool-mask-length", String(opts.defaultAddrPoolMaskLength)]
      : []),
    ...(opts.autolock ? ["--autolock"] : []),
  ];
  return `${PRELUDE}
OTHER_MANAGERS=(${opts.otherManagers.map(shq).join(" ")})
state=$(swarm_state)
if [ "$state" = pending ]; then
  wait_for 60 "the pending swarm join to finish" not_pending
  state=$(swarm_state)
fi
case "$state" in
  inactive)
    for peer in "\${OTHER_MANAGERS[@]}"; do
      if timeout 3 bash -c "exec 9<>/dev/tcp/$peer/2377" 2>/dev/null; then
        fail "this host is in no swarm, but manager $peer already answers on 2377: a swarm exists. List an existing manager first in nodes (this host then joins it) instead of starting a second swarm"
      fi
    done
    log "initialising the swarm"
    dk swarm init ${initArgs.map(shq).join(" ")} >/dev/null
    ;;
  active) ;;
  locked) fail "this manager is locked (autolock): unlock it with 'docker swarm unlock' and the cluster's unlockKey output, then run pulumi up again" ;;
  unreachable) fail "dockerd does not answer on this host" ;;
  *) fail "unexpected swarm state '$state'" ;;
esac
is_manager || fail "this host is in a swarm but is not a manager; make it a manager or list a manager first in nodes"

autolock_now=$(dk info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')
if [ "$autolock_now" != ${opts.autolock ? "true" : "false"} ]; then
  log "setting autolock=${opts.autolock}"
  dk swarm update --autolock=${opts.autolock} >/dev/null
fi

ids=$(dk info --format '{{.Swarm.Cluster.ID}} {{.Swarm.NodeID}}')
read -r cluster_id node_id <<<"$ids"
${READ_SUMMARY}
unlock_key=""
${opts.autolock ? "unlock_key=$(dk swarm unlock-key -q)" : ""}
printf '{"clusterId":"%s","nodeId":"%s","workerToken":"%s","managerToken":"%s","unlockKey":"%s","certExpiry":"%s","caFingerprint":"%s","printedAt":%s}\\n' \\
  "$cluster_id" "$node_id" "$worker_token" "$manager_token" "$unlock_key" "$expiry" "$ca" "$(date +%s)"
`;
}
