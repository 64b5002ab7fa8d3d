#!/usr/bin/env bash
# Starts, stops and restarts the dockerd of the lab host it runs on (per-host /run and /etc/docker).
set -euo pipefail
# shellcheck disable=SC1091
source /etc/docker/lab-host.env
pidfile=/run/docker.pid

running() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  running && return 0
  setsid nohup /usr/sbin/dockerd --data-root "$LAB_DATA_ROOT" --pidfile "$pidfile" \
    --host unix:///run/docker.sock >>"$LAB_HOST_DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "dockerd did not start on $LAB_HOST_NAME; see $LAB_HOST_DIR/dockerd.log" >&2
  return 1
}

stop() {
  running || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running ;;
  *) echo "usage: dockerd-ctl start|stop|restart|status" >&2; exit 2 ;;
esac
