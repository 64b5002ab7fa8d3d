#!/usr/bin/env bash
# Provides the real Pulumi toolchain offline, exactly what a user's `pulumi up` runs:
#   - the pulumi CLI v3.248.0, built from its Go module through the Go module proxy;
#   - pulumi-language-nodejs v3.248.0 (next to the CLI, where the CLI looks first), and the real
#     pulumi-resource-command 1.2.1 and pulumi-resource-docker 5.2.0, built by
#     ../shared/pulumi-plugins/build.sh from public source snapshots and installed into PULUMI_HOME
#     with `pulumi plugin install --file`;
#   - pulumi-resource-pulumi-nodejs (dynamic providers), byte for byte from the same sdk/v3 module.
# Anything missing fails loudly: there is no fallback and no stand-in.
#
#   scripts/setup-pulumi-tools.sh        build or reuse the tools, then print how to use them
#   . scripts/pulumi-env.sh              put them on PATH with the offline engine settings
#
# Cached: a second run only checks versions and stamps (about 2 s). A cold run on 2 cores takes
# about 20 minutes (CLI ~12, plugins ~7) and prints a heartbeat every 30 s while Go compiles.
# PULUMI_TOOLS_DIR moves the cache (default .pulumi-tools/ in the repo); PULUMI_TOOLS_BUILD_JOBS
# sets Go build parallelism (default: the number of cores); PULUMI_PLUGINS_SRC points at the plugin
# sources (default: ../shared/pulumi-plugins beside the repository).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"

TOOLS="$PULUMI_TOOLS_DIR"
WRAPPER="$REPO/scripts/pulumi-tools"
PLUGINS_SRC="${PULUMI_PLUGINS_SRC:-$REPO/../shared/pulumi-plugins}"
PLUGINS_OUT="$TOOLS/plugins"
PULUMI_VERSION="v3.248.0"
COMMAND_VERSION="1.2.1"
DOCKER_VERSION="5.2.0"
JOBS="${PULUMI_TOOLS_BUILD_JOBS:-$(nproc 2>/dev/null || echo 1)}"
LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

log() { printf 'setup-pulumi-tools: %s\n' "$*"; }
die() {
  printf 'setup-pulumi-tools: ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# Runs a long build with a line every 30 s, so a cold setup never looks hung.
with_heartbeat() {
  local what=$1 start
  shift
  start="$(now_ms)"
  ("$@") &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 30); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || break
    done
    if kill -0 "$pid" 2>/dev/null; then log "  still building $what ($(secs_since "$start") s)"; fi
  done
  wait "$pid"
}

# The tools must speak the same protocol as the npm SDKs the programs load: refuse a drifted pin.
npm_version() { (cd "$REPO" && node -p "require('$1/package.json')$2") 2>/dev/null || true; }
[[ "v$(npm_version @pulumi/pulumi .version)" == "$PULUMI_VERSION" ]] ||
  die "@pulumi/pulumi in node_modules is '$(npm_version @pulumi/pulumi .version)', expected ${PULUMI_VERSION#v}: run npm ci first, or update PULUMI_VERSION here and the wrapper in scripts/pulumi-tools/go.mod together"
[[ "$(npm_version @pulumi/command .pulumi.version)" == "$COMMAND_VERSION" ]] ||
  die "@pulumi/command in node_modules asks for plugin '$(npm_version @pulumi/command .pulumi.version)', expected $COMMAND_VERSION"
[[ "$(npm_version @pulumi/docker .version)" == "$DOCKER_VERSION" ]] ||
  die "@pulumi/docker in node_modules is '$(npm_version @pulumi/docker .version)', expected $DOCKER_VERSION"
[[ -x "$REPO/node_modules/.bin/ts-node" ]] ||
  die "ts-node is missing from node_modules: run npm ci (the language host compiles the TypeScript program with it)"
command -v go >/dev/null || die "go is not installed (apt-get install golang-go, or a Go toolchain >= 1.25)"
[[ -x "$PLUGINS_SRC/build.sh" ]] ||
  die "no plugin sources at $PLUGINS_SRC (expected build.sh there): set PULUMI_PLUGINS_SRC to the pulumi-plugins folder"

mkdir -p "$TOOLS/bin" "$PULUMI_HOME" "$PLUGINS_OUT"
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then mkdir -p "${PULUMI_BACKEND_URL#file://}"; fi

# Engineers and CI share machines: one setup at a time per cache directory.
exec 9>"$TOOLS/.setup.lock"
flock 9

total_start="$(now_ms)"

# --- 1. Pulumi CLI ------------------------------------------------------------------------------
# A stamp of everything that decides the binary: a change to the wrapper's pins, the flags or the Go
# toolchain rebuilds it.
stamp="$(cat "$WRAPPER/go.mod" "$WRAPPER/go.sum" <(printf '%s\n' "$LDFLAGS" "$(go env GOVERSION)") | sha256sum | cut -d' ' -f1)"
cli="$TOOLS/bin/pulumi"
if [[ -x "$cli" && "$(cat "$TOOLS/bin/.pulumi.stamp" 2>/dev/null)" == "$stamp" &&
  "$("$cli" version 2>/dev/null)" == "$PULUMI_VERSION" ]]; then
  cli_how="cached"
else
  log "pulumi CLI $PULUMI_VERSION: building from github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION (cmd/pulumi), -p $JOBS; cold: ~12 min on 2 cores"
  build_start="$(now_ms)"
  build_cli() {
    cd "$WRAPPER" && CGO_ENABLED=0 nice -n 10 go build -p "$JOBS" -trimpath -ldflags "$LDFLAGS" \
      -o "$cli.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  }
  with_heartbeat "the pulumi CLI" build_cli || die "go build of the pulumi CLI failed"
  built="$("$cli.tmp" version)"
  [[ "$built" == "$PULUMI_VERSION" ]] || die "built CLI reports version '$built', expected $PULUMI_VERSION"
  mv -f "$cli.tmp" "$cli"
  printf '%s\n' "$stamp" >"$TOOLS/bin/.pulumi.stamp"
  cli_how="built in $(secs_since "$build_start") s"
fi
log "pulumi CLI $PULUMI_VERSION: $cli_how ($cli)"

# --- 2. The real plugins, from ../shared/pulumi-plugins ---------------------------------------------
# build.sh keeps a binary whose source is unchanged (a .stamp beside it), so this is cheap when cached.
plugins_start="$(now_ms)"
with_heartbeat "the plugins" env PAR="$JOBS" "$PLUGINS_SRC/build.sh" "$PLUGINS_OUT" language-nodejs command docker |
  sed 's/^/setup-pulumi-tools:   /' || die "building the plugins with $PLUGINS_SRC/build.sh failed"
log "plugins: ready in $(secs_since "$plugins_start") s ($PLUGINS_OUT)"

# The language host next to the CLI: the CLI looks there first, so it runs without a PATH warning.
langhost="$TOOLS/bin/pulumi-language-nodejs"
cmp -s "$PLUGINS_OUT/pulumi-language-nodejs" "$langhost" ||
  install -m 0755 "$PLUGINS_OUT/pulumi-language-nodejs" "$langhost"

# Providers: installed into PULUMI_HOME under the exact versions the npm SDKs ask for. Re-installed
# when the built binary differs from the installed one.
install_provider() {
  local name=$1 version=$2 bin="$PLUGINS_OUT/pulumi-resource-$1"
  local installed="$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"
  [[ -x "$bin" ]] || die "$bin was not built"
  if ! cmp -s "$bin" "$installed"; then
    "$cli" plugin install resource "$name" "$version" --file "$bin" --reinstall >/dev/null ||
      die "pulumi plugin install resource $name $version --file $bin failed"
  fi
  cmp -s "$bin" "$installed" || die "resource plugin $name $version is not where the CLI looks ($installed)"
}
install_provider command "$COMMAND_VERSION"
install_provider docker "$DOCKER_VERSION"

# --- 3. Dynamic-provider plugin (pulumi-resource-pulumi-nodejs) ------------------------------------
# The engine looks this plugin up on PATH; the released CLI ships it as a shell script that lives in
# the sdk/v3 module, so take it byte for byte from the same version's module.
sdk_dir="$(cd "$WRAPPER" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
dyn_src="$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs"
[[ -f "$dyn_src" ]] || die "missing $dyn_src in the sdk/v3 module"
cmp -s "$dyn_src" "$TOOLS/bin/pulumi-resource-pulumi-nodejs" ||
  install -m 0755 "$dyn_src" "$TOOLS/bin/pulumi-resource-pulumi-nodejs"

# --- 4. Check what the CLI will really use --------------------------------------------------------
"$langhost" -version 2>/dev/null | grep -q "${PULUMI_VERSION}" ||
  die "pulumi-language-nodejs does not report $PULUMI_VERSION"
plugins_json="$("$cli" plugin ls --json)"
for want in "command $COMMAND_VERSION" "docker $DOCKER_VERSION"; do
  node -e '
    const [name, version] = process.argv[1].split(" ");
    const list = JSON.parse(process.argv[2] || "[]");
    process.exit(list.some((p) => p.name === name && p.kind === "resource" && p.version === version) ? 0 : 1);
  ' "$want" "$plugins_json" || die "pulumi plugin ls does not list resource plugin $want"
done
log "installed: pulumi $PULUMI_VERSION, pulumi-language-nodejs $PULUMI_VERSION ($langhost), resource plugins command $COMMAND_VERSION and docker $DOCKER_VERSION ($PULUMI_HOME/plugins)"

total="$(secs_since "$total_start")"
log "done in ${total} s (CLI: $cli_how)"
printf '%s\tcli=%s\ttotal=%ss\n' "$(date -u +%FT%TZ)" "$cli_how" "$total" >>"$TOOLS/setup-times.log"
cat <<EOT

Use the engine in this shell with:
  . $REPO/scripts/pulumi-env.sh
It sets PATH (+$TOOLS/bin), PULUMI_HOME=$PULUMI_HOME,
PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (lab default unless set),
PULUMI_SKIP_UPDATE_CHECK=true, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true, NODE_PATH.
EOT
