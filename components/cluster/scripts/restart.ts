/**
 * Where a host records that its dockerd must restart to take a new configuration. In /run (a
 * tmpfs): a reboot starts dockerd with the new configuration and drops the record with it.
 */
export const RESTART_PENDING = "/run/pulumi-swarm-restart-dockerd";

/** `restart_docker`: restarts dockerd and waits until it answers again. */
export const RESTART_DOCKER = `restart_docker() {
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl restart docker; else $SUDO service docker restart; fi
  wait_for 120 "dockerd to answer after its restart" dk version --format '{{.Server.Version}}'
}`;

/**
 * \`restart_or_defer REASON\`: restarts dockerd now on a host in no swarm; on a swarm member it only
 * records the restart (RESTART_PENDING) for the node's membership step. Those steps run one
 * manager at a time, each after the previous manager is back and unlocked, so two managers never
 * restart at once, while the prepare steps that write the configuration run in parallel.
 */
export const RESTART_OR_DEFER = `${RESTART_DOCKER}
restart_or_defer() {
  if [ "$(swarm_state)" = inactive ]; then
    log "$1; restarting dockerd"
    restart_docker
  else
    log "$1; dockerd restarts in this node's membership step"
    $SUDO touch ${RESTART_PENDING}
  fi
}`;

/**
 * The membership step's part: a restart recorded by the prepare step happens here, and its record
 * goes only once dockerd answers again (a failed restart is retried by the next run).
 */
export const PENDING_RESTART = `if [ -e ${RESTART_PENDING} ]; then
  log "restarting dockerd for its new configuration"
  restart_docker </dev/null
  $SUDO rm -f ${RESTART_PENDING}
fi`;
