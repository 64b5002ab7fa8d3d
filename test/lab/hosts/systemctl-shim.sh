#!/usr/bin/env bash
# A stand-in for systemctl on lab hosts (there is no systemd inside a network namespace): it manages
# the docker service through dockerd-ctl and accepts the other calls host scripts make as no-ops.
set -euo pipefail
action=${1:-}
shift || true
units=()
for arg in "$@"; do [[ $arg == --* ]] || units+=("${arg%.service}"); done
for unit in "${units[@]}"; do
  [[ $unit == docker ]] || continue
  case $action in
    start | restart | stop) exec /usr/local/sbin/dockerd-ctl "$action" ;;
    enable) [[ " $* " == *" --now "* ]] && exec /usr/local/sbin/dockerd-ctl start ;;
    is-active) exec /usr/local/sbin/dockerd-ctl status ;;
  esac
done
exit 0
