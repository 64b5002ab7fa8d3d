#!/usr/bin/env bash
# Runs inside a lab host's network namespace and fresh mount/UTS namespaces (see labhosts.sh).
# `ip netns exec` mounts a fresh /sys without cgroups; dockerd needs the v1 hierarchies back.
set -euo pipefail
: "${LAB_HOSTDIR:?}" "${LAB_DIR:?}" "${LAB_NAME:?}" "${LAB_GATEWAY:?}"

mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
for controller in cpu cpuacct cpuset blkio memory devices freezer pids; do
  mkdir -p "/sys/fs/cgroup/$controller"
  mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller"
done
mkdir -p /sys/fs/cgroup/systemd
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd

# Each host gets its own /run (docker.sock, pid files, containerd) and /etc/docker.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd /run/lock
mount --bind "$LAB_HOSTDIR/etc-docker" /etc/docker
# ufw keeps its rules under /etc/ufw: give each host its own copy, so a host firewall enabled on
# one lab host stays on that host (its iptables live in the host's own network namespace).
if [ -d /etc/ufw ]; then
  [ -d "$LAB_HOSTDIR/etc-ufw" ] || cp -a /etc/ufw "$LAB_HOSTDIR/etc-ufw"
  mount --bind "$LAB_HOSTDIR/etc-ufw" /etc/ufw
fi
# `systemctl` on a lab host restarts this host's dockerd (the scripts under test call it).
mount --bind "$LAB_DIR/sbin" /usr/local/sbin
hostname "$LAB_NAME"
# A resolver that resolves nothing: the lab bridge's own address, where nothing answers. Neither
# sshd nor dockerd (nor its embedded DNS for containers) may ask the machine's resolver anything.
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$LAB_GATEWAY" >"$LAB_HOSTDIR/resolv.conf"
mount --bind "$LAB_HOSTDIR/resolv.conf" /etc/resolv.conf
# The host's own name resolves locally (sudo looks it up), nothing else is added.
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$LAB_NAME" >"$LAB_HOSTDIR/hosts"
mount --bind "$LAB_HOSTDIR/hosts" /etc/hosts

/usr/sbin/sshd -f "$LAB_HOSTDIR/sshd_config" -E "$LAB_HOSTDIR/sshd.log"
/usr/local/sbin/dockerd-ctl start
