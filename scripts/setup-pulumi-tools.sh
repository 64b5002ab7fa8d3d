#!/usr/bin/env bash
# Provides the Pulumi engine offline: builds the CLI from its Go module through the Go module proxy,
# installs the plugins that can be had, and reports loudly the ones that cannot.
#
#   scripts/setup-pulumi-tools.sh        build or reuse the tools, then print how to use them
#   . scripts/pulumi-env.sh              put them on PATH with the offline engine settings
#
# Cached: a second run only checks versions and stamps. PULUMI_TOOLS_DIR moves the cache
# (default .pulumi-tools/ in the repo); PULUMI_TOOLS_BUILD_JOBS sets Go build parallelism (default 1,
# the machines are small and shared); PULUMI_COMMAND_PROVIDER_BIN names a pulumi-resource-command
# 1.2.1 binary obtained some other way, to be installed into PULUMI_HOME.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"

TOOLS="$PULUMI_TOOLS_DIR"
WRAPPER="$REPO/scripts/pulumi-tools"
PULUMI_VERSION="v3.248.0"
COMMAND_VERSION="1.2.1"
JOBS="${PULUMI_TOOLS_BUILD_JOBS:-1}"
LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

log() { printf 'setup-pulumi-tools: %s\n' "$*"; }
die() {
  printf 'setup-pulumi-tools: ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# The CLI must speak the same protocol as the npm SDKs the programs load: refuse a drifted pin.
npm_version() { (cd "$REPO" && node -p "require('$1/package.json')$2") 2>/dev/null || true; }
[[ "v$(npm_version @pulumi/pulumi .version)" == "$PULUMI_VERSION" ]] ||
  die "@pulumi/pulumi in node_modules is '$(npm_version @pulumi/pulumi .version)', expected ${PULUMI_VERSION#v}: run npm ci first, or update PULUMI_VERSION here and the wrapper in scripts/pulumi-tools/go.mod together"
[[ "$(npm_version @pulumi/command .pulumi.version)" == "$COMMAND_VERSION" ]] ||
  die "@pulumi/command in node_modules asks for plugin '$(npm_version @pulumi/command .pulumi.version)', expected $COMMAND_VERSION"
command -v go >/dev/null || die "go is not installed (apt-get install golang-go, or a Go toolchain >= 1.25)"

mkdir -p "$TOOLS/bin" "$PULUMI_HOME"
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
  log "pulumi CLI $PULUMI_VERSION: cached ($cli)"
  cli_how="cached"
else
  log "pulumi CLI $PULUMI_VERSION: building from github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION (cmd/pulumi), -p $JOBS; a cold build takes tens of minutes on 2 cores"
  build_start="$(now_ms)"
  (cd "$WRAPPER" && CGO_ENABLED=0 nice -n 10 go build -p "$JOBS" -trimpath -ldflags "$LDFLAGS" \
    -o "$cli.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || die "go build of the pulumi CLI failed"
  built="$("$cli.tmp" version)"
  [[ "$built" == "$PULUMI_VERSION" ]] || die "built CLI reports version '$built', expected $PULUMI_VERSION"
  mv -f "$cli.tmp" "$cli"
  printf '%s\n' "$stamp" >"$TOOLS/bin/.pulumi.stamp"
  cli_how="built in $(secs_since "$build_start")s"
  log "pulumi CLI $PULUMI_VERSION: $cli_how"
fi

# --- 2. Dynamic-provider plugin (pulumi-resource-pulumi-nodejs) ------------------------------------
# The engine looks this plugin up on PATH; the released CLI ships it as a shell script that lives in
# the sdk/v3 module, so take it byte for byte from the same version's module.
sdk_dir="$(cd "$WRAPPER" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
dyn_src="$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs"
[[ -f "$dyn_src" ]] || die "missing $dyn_src in the sdk/v3 module"
if ! cmp -s "$dyn_src" "$TOOLS/bin/pulumi-resource-pulumi-nodejs"; then
  install -m 0755 "$dyn_src" "$TOOLS/bin/pulumi-resource-pulumi-nodejs"
fi
log "pulumi-resource-pulumi-nodejs: from github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"

# --- 3. Node.js language host (pulumi-language-nodejs) --------------------------------------------
# Its module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is refused by the
# module proxy reachable here (403), so it cannot be built. Automation API programs with an inline
# `program` do not need it: @pulumi/pulumi serves the language runtime in-process (CLI flag --client).
if command -v pulumi-language-nodejs >/dev/null; then
  langhost="present ($(command -v pulumi-language-nodejs))"
else
  langhost="UNAVAILABLE (module refused by the Go module proxy); run programs through the Automation API with an inline program"
fi
log "pulumi-language-nodejs: $langhost"

# --- 4. Command provider (pulumi-resource-command) -----------------------------------------------
# Its module (github.com/pulumi/pulumi-command/provider, untagged) is refused by the module proxy
# reachable here (403). A binary obtained otherwise can be handed in through PULUMI_COMMAND_PROVIDER_BIN.
has_command_plugin() {
  pulumi plugin ls --json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const l=JSON.parse(s||"[]");process.exit(l.some(p=>p.name==="command"&&p.kind==="resource"&&p.version===process.argv[1])?0:1)})' "$COMMAND_VERSION"
}
if [[ -n "${PULUMI_COMMAND_PROVIDER_BIN:-}" ]] && ! has_command_plugin; then
  [[ -x "$PULUMI_COMMAND_PROVIDER_BIN" ]] || die "PULUMI_COMMAND_PROVIDER_BIN=$PULUMI_COMMAND_PROVIDER_BIN is not an executable file"
  pulumi plugin install resource command "$COMMAND_VERSION" --file "$PULUMI_COMMAND_PROVIDER_BIN" >/dev/null
fi
if has_command_plugin; then
  command_plugin="installed in $PULUMI_HOME/plugins"
else
  command_plugin="UNAVAILABLE (module refused by the Go module proxy); programs using @pulumi/command fail fast with 'no resource plugin'"
fi
log "pulumi-resource-command $COMMAND_VERSION: $command_plugin"

total="$(secs_since "$total_start")"
log "done in ${total}s (CLI: $cli_how)"
printf '%s\tcli=%s\ttotal=%ss\n' "$(date -u +%FT%TZ)" "$cli_how" "$total" >>"$TOOLS/setup-times.log"
cat <<EOF

Use the engine in this shell with:
  . $REPO/scripts/pulumi-env.sh
It sets PATH (+$TOOLS/bin), PULUMI_HOME=$PULUMI_HOME,
PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (lab default unless set),
PULUMI_SKIP_UPDATE_CHECK=true, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true, NODE_PATH.
EOF
