#!/usr/bin/env bash
# Serves the images build.sh made to a lab's hosts: Debian's docker-registry, read-only, on one lab
# host's address (inside its network namespace, so it goes away with `labhosts.sh down`).
#
#   serve.sh <lab-id> [host-number (default 1)] [port (default 5000)]   prints "<ip>:<port>"
#
# Idempotent: a registry already answering there is left alone. The lab hosts must trust the address
# as an insecure registry (SwarmCluster's `insecureRegistries`), then pull "<ip>:<port>/lab/<name>:<tag>".
set -euo pipefail

cache=${LAB_IMAGE_CACHE:-/var/cache/pulumi-swarm-lab-images}
LAB_ROOT=${LAB_ROOT:-/tmp/pulumi-swarm-lab}
die() { echo "serve-images: $*" >&2; exit 1; }

id=${1:?lab id}
n=${2:-1}
port=${3:-5000}
[[ $id =~ ^[0-9]+$ && $n =~ ^[0-9]+$ && $port =~ ^[0-9]+$ ]] || die "usage: serve.sh <lab-id> [host-number] [port]"
[[ -d $cache/registry/docker ]] || die "no images in $cache: run build.sh first"
ns=psw$id-$n
ip=10.213.$id.$((10 + n))
labdir=$LAB_ROOT/lab$id
ip netns pids "$ns" 2>/dev/null | grep -q . || die "lab host $ns is not running (labhosts.sh up $id <count>)"

answers() { curl -fsS --max-time 2 "http://$ip:$port/v2/" >/dev/null 2>&1; }
if answers; then echo "$ip:$port"; exit 0; fi

cat >"$labdir/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $cache/registry }
  maintenance:
    readonly: { enabled: true }
    uploadpurging: { enabled: false }
http: { addr: "$ip:$port" }
YML
ip netns exec "$ns" setsid nohup docker-registry serve "$labdir/registry.yml" >>"$labdir/registry.log" 2>&1 </dev/null &
for _ in $(seq 1 50); do
  if answers; then echo "$ip:$port"; exit 0; fi
  sleep 0.2
done
cat "$labdir/registry.log" >&2
die "the registry did not answer on $ip:$port"
