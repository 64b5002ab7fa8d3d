#!/usr/bin/env bash
# Lab hosts on one Linux machine: each host is a network namespace with its own IP, sshd and dockerd,
# all joined by one bridge. Needs root and Debian's docker.io, openssh-server, iproute2, busybox-static.
#
#   labhosts.sh up   <lab-id 1-200> <count>   create hosts lab<id>-1..N (idempotent), print their JSON
#   labhosts.sh down <lab-id>                 stop every host of the lab and remove it (idempotent)
#   labhosts.sh json <lab-id>                 print the JSON description of a running lab
#
# Lab <id> uses bridge pswbr<id>, subnet 10.213.<id>.0/24, bridge IP .1, hosts .11, .12, ...
# Traffic stays on this machine: the bridge has no uplink and no route leaves it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=${LAB_ROOT:-/tmp/pulumi-swarm-lab}
# Every lab host also answers SSH on this port, and lets this user in with the lab key (sudo).
ALT_SSH_PORT=2222
LAB_USER=pswlab

die() { echo "labhosts: $*" >&2; exit 1; }

lab_vars() {
  id=$1
  [[ $id =~ ^[0-9]+$ ]] && ((id >= 1 && id <= 200)) || die "lab id must be 1-200, got '$id'"
  bridge=pswbr$id
  subnet_prefix=10.213.$id
  labdir=$LAB_ROOT/lab$id
}

host_ip() { echo "$subnet_prefix.$((10 + $1))"; }
host_ns() { echo "psw$id-$1"; }

require_tools() {
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces, mounts, dockerd)"
  local missing=()
  for tool in ip unshare dockerd sshd ssh-keygen busybox iptables; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (apt-get install docker.io openssh-server iproute2 busybox-static iptables)"
}

# A login user other than root, with password-less sudo, like a cloud image's "ubuntu" user.
ensure_lab_user() {
  id "$LAB_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$LAB_USER"
  # useradd leaves the account locked ("not allowed because account is locked"): no password, key only.
  [[ $(getent shadow "$LAB_USER" | cut -d: -f2) == "*" ]] || usermod -p '*' "$LAB_USER"
  if [[ -d /etc/sudoers.d ]]; then
    local rule="$LAB_USER ALL=(ALL) NOPASSWD:ALL"
    [[ $(cat /etc/sudoers.d/pulumi-swarm-lab 2>/dev/null) == "$rule" ]] ||
      { echo "$rule" >/etc/sudoers.d/pulumi-swarm-lab && chmod 0440 /etc/sudoers.d/pulumi-swarm-lab; }
  fi
}

ensure_lab_files() {
  mkdir -p "$labdir/sbin"
  # Traversable (not listable) by the lab user, whose sshd reads authorized_keys here as that user;
  # the private key inside stays 0600.
  chmod 711 "$labdir"
  [[ -f $labdir/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N "" -C "pulumi-swarm-lab$id" -f "$labdir/id_ed25519"
  cp "$labdir/id_ed25519.pub" "$labdir/authorized_keys"
  [[ -f $labdir/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N "" -f "$labdir/ssh_host_ed25519_key"
  install -m 0755 "$here/dockerd-ctl.sh" "$labdir/sbin/dockerd-ctl"
  install -m 0755 "$here/systemctl-shim.sh" "$labdir/sbin/systemctl"
  if [[ ! -f $labdir/busybox.tar ]]; then
    local rootfs
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
      [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
    done
    chmod 755 "$rootfs"
    tar -C "$rootfs" -cf "$labdir/busybox.tar" .
    rm -rf "$rootfs"
  fi
}

ensure_bridge() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$subnet_prefix.1/24" dev "$bridge"
  fi
  ip link set "$bridge" up
  # A host dockerd may set FORWARD to DROP; bridged lab traffic must still pass.
  iptables -C FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$bridge" -o "$bridge" -j ACCEPT
}

host_running() {
  local ns=$1
  ip netns pids "$ns" 2>/dev/null | grep -q .
}

start_host() {
  local n=$1 ns ip name hostdir
  ns=$(host_ns "$n"); ip=$(host_ip "$n"); name=lab$id-$n; hostdir=$labdir/$name
  mkdir -p "$hostdir/etc-docker" "$hostdir/docker"
  if ! ip netns list | grep -qw "$ns"; then
    ip netns add "$ns"
  fi
  local veth=pswv$id-$n
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$bridge" up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  fi
  cat >"$hostdir/etc-docker/lab-host.env" <<ENV
LAB_HOST_NAME=$name
LAB_HOST_DIR=$hostdir
LAB_DATA_ROOT=$hostdir/docker
ENV
  cat >"$hostdir/sshd_config" <<SSHD
ListenAddress $ip
Port 22
Port $ALT_SSH_PORT
HostKey $labdir/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile $labdir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
SSHD
  if host_running "$ns"; then return 0; fi
  ip netns exec "$ns" unshare --mount --uts --propagation private -- \
    env LAB_HOSTDIR="$hostdir" LAB_DIR="$labdir" LAB_NAME="$name" LAB_GATEWAY="$subnet_prefix.1" bash "$here/host-boot.sh"
}

wait_host() {
  local n=$1 ip
  ip=$(host_ip "$n")
  for _ in $(seq 1 100); do
    if ssh_to "$ip" 'docker info --format "{{.ServerVersion}}"' >/dev/null 2>&1; then return 0; fi
    sleep 0.3
  done
  die "host lab$id-$n ($ip) did not answer over SSH with a running dockerd; see $labdir/lab$id-$n/dockerd.log"
}

ssh_to() {
  local ip=$1
  shift
  ssh -i "$labdir/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=5 "root@$ip" "$@"
}

load_image() {
  local n=$1 ip
  ip=$(host_ip "$n")
  if ! ssh_to "$ip" 'docker image inspect lab/busybox:latest >/dev/null 2>&1'; then
    ssh_to "$ip" 'docker import --change "ENV PATH=/bin" --change "CMD [\"/bin/sh\"]" - lab/busybox:latest >/dev/null' <"$labdir/busybox.tar"
  fi
}

print_json() {
  local count=$1 first=1
  printf '{"id":%s,"bridge":"%s","gateway":"%s.1","privateKeyPath":"%s","hostKeyPath":"%s","user":"%s","altSshPort":%s,"hosts":[' \
    "$id" "$bridge" "$subnet_prefix" "$labdir/id_ed25519" "$labdir/ssh_host_ed25519_key.pub" "$LAB_USER" "$ALT_SSH_PORT"
  for n in $(seq 1 "$count"); do
    ((first)) || printf ','
    first=0
    printf '{"name":"lab%s-%s","ip":"%s","netns":"%s","dir":"%s"}' "$id" "$n" "$(host_ip "$n")" "$(host_ns "$n")" "$labdir/lab$id-$n"
  done
  printf ']}\n'
}

cmd_up() {
  lab_vars "$1"
  local count=${2:?count of hosts}
  require_tools
  ensure_lab_user
  ensure_lab_files
  ensure_bridge
  echo "$count" >"$labdir/count"
  for n in $(seq 1 "$count"); do start_host "$n"; done
  for n in $(seq 1 "$count"); do wait_host "$n"; load_image "$n"; done
  print_json "$count"
}

stop_host_processes() {
  local ns=$1
  local pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  # dockerd first so it can stop its containers and containerd cleanly.
  for pid in $pids; do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] && kill "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    grep -q dockerd < <(for p in $pids; do cat "/proc/$p/comm" 2>/dev/null; done) || break
    sleep 0.2
  done
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -z $pids ]] || kill $pids 2>/dev/null || true
  sleep 0.3
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -z $pids ]] || kill -9 $pids 2>/dev/null || true
}

cmd_down() {
  lab_vars "$1"
  [[ $(id -u) == 0 ]] || die "needs root"
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^psw$id-[0-9]+$" || true); do
    stop_host_processes "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^pswv$id-[0-9]+$" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  iptables -D FORWARD -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  # Overlay and container mounts live in the hosts' private mount namespaces, gone with them.
  rm -rf "$labdir"
}

cmd_json() {
  lab_vars "$1"
  [[ -f $labdir/count ]] || die "lab $1 is not up"
  print_json "$(cat "$labdir/count")"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  json) shift; cmd_json "$@" ;;
  *) die "usage: labhosts.sh up <id> <count> | down <id> | json <id>" ;;
esac
