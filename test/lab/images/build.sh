#!/usr/bin/env bash
# Builds the lab's images from Debian packages and stores them in a registry storage directory that
# serve.sh serves to lab hosts. No dockerd and no Docker Hub: debootstrap makes the root file system,
# the image (one layer, a config with PATH and CMD, a schema 2 manifest) is pushed with curl to a
# temporary docker-registry on loopback that writes the storage directory.
#
#   build.sh [name...]   build the named images of recipes.txt (default: all), print images.json
#
# A recipe may also name a Go module (`<module>@<version> [toolchain]`, fifth field): its main package
# is built with `go install` from the Go module proxy (CGO off; with that Go toolchain, itself fetched
# from the proxy, when given) into the image's /usr/local/bin, and the module's version tags the
# image (cAdvisor is a Go program that Debian does not package).
#
# Cached by recipe: an image whose recipe line and files are unchanged and whose tag is still in the
# storage is not rebuilt, so a warm run takes about a second. Needs root, debootstrap, docker-registry,
# curl, python3.
#   LAB_IMAGE_CACHE  cache directory (default /var/cache/pulumi-swarm-lab-images)
#   DEBIAN_MIRROR    mirror for debootstrap (default: the first deb.debian.org-style URI apt uses)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LAB_IMAGE_CACHE:-/var/cache/pulumi-swarm-lab-images}
suite=bookworm
# Bump when the way an image is made changes (trim list, config, layer format): every image rebuilds.
format=2

die() { echo "build-images: $*" >&2; exit 1; }
log() { echo "build-images: $*" >&2; }

[[ $(id -u) == 0 ]] || die "needs root (debootstrap)"
for tool in debootstrap docker-registry curl python3 sha256sum gzip; do
  command -v "$tool" >/dev/null || die "missing $tool (apt-get install debootstrap docker-registry curl python3)"
done

# The main archive apt already uses (debootstrap takes only the main archive, not the security one).
apt_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
    grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${DEBIAN_MIRROR:-$(apt_mirror)}

mkdir -p "$cache/debs" "$cache/stamps" "$cache/registry"
# One build at a time per cache (two would debootstrap the same image twice and race on stamps).
exec 9>"$cache/lock"
flock 9
work=$(mktemp -d "${TMPDIR:-/tmp}/lab-images.XXXXXXXX")
registry_pid=
cleanup() {
  [[ -z $registry_pid ]] || kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Recipes: name|packages|version package|CMD json[|go module@version]
declare -A packages version_pkg cmd gomod
names=()
while IFS='|' read -r name pkgs vpkg command module; do
  [[ -z $name || $name == \#* ]] && continue
  names+=("$name"); packages[$name]=$pkgs; version_pkg[$name]=$vpkg; cmd[$name]=$command; gomod[$name]=$module
done <"$here/recipes.txt"
wanted=("$@")
((${#wanted[@]})) || wanted=("${names[@]}")
for name in "${wanted[@]}"; do [[ -n ${packages[$name]:-} ]] || die "no recipe named '$name' in recipes.txt"; done

recipe_key() {
  local name=$1
  {
    echo "format=$format suite=$suite mirror=$mirror"
    grep -E "^$name\|" "$here/recipes.txt"
    if [[ -d $here/$name ]]; then (cd "$here/$name" && find . -type f | LC_ALL=C sort | xargs sha256sum); fi
  } | sha256sum | cut -c1-16
}

# Docker tags allow [A-Za-z0-9_.-]: drop the epoch, turn ~ and + into -.
tag_of() { sed -E 's/^[0-9]+://; s/[~+:]/-/g' <<<"$1"; }

tag_present() { [[ -f $cache/registry/docker/registry/v2/repositories/lab/$1/_manifests/tags/$2/current/link ]]; }

start_registry() {
  [[ -n $registry_pid ]] && return 0
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$work/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $cache/registry }
http: { addr: "127.0.0.1:$port" }
YML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  registry=http://127.0.0.1:$port
  for _ in $(seq 1 50); do curl -fsS "$registry/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$work/registry.log" >&2
  die "the build registry did not start"
}

push_blob() { # repo file digest
  local location
  location=$(curl -fsS -X POST -D - -o /dev/null "$registry/v2/$1/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [[ $location == http* ]] || location=$registry$location
  case $location in *\?*) location="$location&" ;; *) location="$location?" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "${location}digest=$3" -o /dev/null
}

build() {
  local name=$1 key root version tag started
  key=$(recipe_key "$name")
  if [[ -f $cache/stamps/$name-$key ]] && tag_present "$name" "$(cat "$cache/stamps/$name-$key")"; then
    log "$name: cached (recipe $key, tag $(cat "$cache/stamps/$name-$key"))"
    return 0
  fi
  started=$SECONDS
  root=$work/$name
  log "$name: debootstrap $suite with ${packages[$name]} from $mirror"
  debootstrap --variant=minbase --include="${packages[$name]}" --cache-dir="$cache/debs" \
    "$suite" "$root" "$mirror" >"$work/$name.debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/$name.debootstrap.log" >&2; die "$name: debootstrap failed"; }
  if [[ -n ${gomod[$name]} ]]; then
    command -v go >/dev/null || die "$name: needs go to build ${gomod[$name]}"
    local module toolchain
    read -r module toolchain <<<"${gomod[$name]}"
    log "$name: go install $module ${toolchain:+with $toolchain }(from the Go module proxy)"
    GOTOOLCHAIN=${toolchain:-${GOTOOLCHAIN:-auto}} GOBIN=$root/usr/local/bin CGO_ENABLED=0 \
      go install "$module" >"$work/$name.go.log" 2>&1 ||
      { tail -n 30 "$work/$name.go.log" >&2; die "$name: go install $module failed"; }
    version=${module##*@v}
  else
    # shellcheck disable=SC2016 # dpkg-query expands ${Version} itself
    version=$(chroot "$root" dpkg-query -W -f='${Version}' "${version_pkg[$name]}")
  fi
  tag=$(tag_of "$version")
  [[ ! -d $here/$name ]] || { mkdir -p "$root/app"; cp -a "$here/$name/." "$root/app/"; }
  # Trim what a container never reads. The machine's resolver must not travel in the image.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale \
    "$root"/usr/share/lintian "$root"/etc/hostname "$root"/etc/resolv.conf
  # Log files go, their directories stay (nginx and mariadbd refuse to start without them).
  find "$root/var/log" -type f -delete
  mkdir -p "$root/usr/share/doc"
  # One layer: the root file system. diff_id is the tar's digest, the blob is the gzip.
  tar --numeric-owner -C "$root" -cf "$work/$name.tar" .
  local diff_id layer layer_size
  diff_id=sha256:$(sha256sum "$work/$name.tar" | cut -d' ' -f1)
  gzip -1 -n -c "$work/$name.tar" >"$work/$name.tar.gz"
  layer=sha256:$(sha256sum "$work/$name.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$work/$name.tar.gz")
  NAME=$name VERSION=$version KEY=$key DIFF_ID=$diff_id CMD_JSON=${cmd[$name]} PACKAGES=${packages[$name]} python3 - >"$work/$name.config.json" <<'PY'
import json, os
print(json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": json.loads(os.environ["CMD_JSON"]),
        "Labels": {
            "org.opencontainers.image.version": os.environ["VERSION"],
            "pulumi-swarm.lab.recipe": os.environ["KEY"],
            "pulumi-swarm.lab.packages": os.environ["PACKAGES"],
        },
    },
    "rootfs": {"type": "layers", "diff_ids": [os.environ["DIFF_ID"]]},
    "history": [{"created_by": "debootstrap --variant=minbase --include=" + os.environ["PACKAGES"]}],
}, separators=(",", ":")), end="")
PY
  local config config_size
  config=sha256:$(sha256sum "$work/$name.config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$work/$name.config.json")
  start_registry
  push_blob "lab/$name" "$work/$name.tar.gz" "$layer"
  push_blob "lab/$name" "$work/$name.config.json" "$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%s,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%s,"digest":"%s"}]}' \
    "$config_size" "$config" "$layer_size" "$layer" >"$work/$name.manifest.json"
  for t in "$tag" latest; do
    curl -fsS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
      --data-binary "@$work/$name.manifest.json" "$registry/v2/lab/$name/manifests/$t" -o /dev/null
  done
  rm -f "$cache/stamps/$name-"*
  echo "$tag" >"$cache/stamps/$name-$key"
  rm -rf "$root" "$work/$name.tar" "$work/$name.tar.gz"
  log "$name: built lab/$name:$tag ($((layer_size / 1048576)) MB compressed) in $((SECONDS - started)) s"
}

for name in "${wanted[@]}"; do build "$name"; done

# What was built: name -> "lab/<name>:<tag>@<manifest digest>" (the registry address is prepended by
# whoever serves it). Pinned by digest: Docker pins a registry image's digest into a service's spec,
# and a reference without it would differ from the spec read back on every preview.
{
  printf '{'
  first=1
  for name in "${names[@]}"; do
    stamp=$(ls "$cache/stamps/$name-$(recipe_key "$name")" 2>/dev/null || true)
    [[ -n $stamp ]] || continue
    ((first)) || printf ','
    first=0
    tag=$(cat "$stamp")
    digest=$(cat "$cache/registry/docker/registry/v2/repositories/lab/$name/_manifests/tags/$tag/current/link")
    printf '"%s":"lab/%s:%s@%s"' "$name" "$name" "$tag" "$digest"
  done
  printf '}\n'
} | tee "$cache/images.json"
