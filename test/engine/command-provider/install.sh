#!/usr/bin/env bash
# Installs the LAB STAND-IN of pulumi-resource-command 1.2.1 (test/engine/command-provider, see
# provider.ts) into PULUMI_HOME, because the real provider cannot be built here (docs/engine.md).
# Compiles it with the repo's tsc, writes a small wrapper that runs it with node, and installs the
# wrapper with `pulumi plugin install resource command 1.2.1 --file`. Idempotent; reinstalls when
# the sources changed. Needs scripts/setup-pulumi-tools.sh to have built the CLI.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"
VERSION=1.2.1
SRC="$REPO/test/engine/command-provider"
OUT="$PULUMI_TOOLS_DIR/command-provider"
log() { printf 'command-provider stand-in: %s\n' "$*"; }

command -v pulumi >/dev/null || { log "ERROR: pulumi CLI not found: run scripts/setup-pulumi-tools.sh"; exit 1; }
stamp="$(cat "$SRC"/*.ts "$0" <(node --version) | sha256sum | cut -d' ' -f1)"
installed="$PULUMI_HOME/plugins/resource-command-v$VERSION/pulumi-resource-command"
if [[ -f "$installed" && "$(cat "$OUT/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  log "$VERSION: cached ($installed)"
  exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT"
(cd "$REPO" && npx tsc --outDir "$OUT/js" --rootDir "$SRC" --module commonjs --target ES2022 \
  --moduleResolution node --strict --esModuleInterop --skipLibCheck --types node "$SRC/main.ts")
cat >"$OUT/pulumi-resource-command" <<EOF
#!/bin/sh
# LAB STAND-IN for pulumi-resource-command $VERSION: $SRC (not the real provider).
NODE_PATH="$REPO/node_modules\${NODE_PATH:+:\$NODE_PATH}" exec "$(command -v node)" "$OUT/js/main.js" "\$@"
EOF
chmod 0755 "$OUT/pulumi-resource-command"
pulumi plugin rm resource command "$VERSION" --yes >/dev/null 2>&1 || true
pulumi plugin install resource command "$VERSION" --file "$OUT/pulumi-resource-command" >/dev/null
printf '%s\n' "$stamp" >"$OUT/.stamp"
log "$VERSION: installed into $PULUMI_HOME/plugins (lab stand-in, see test/engine/command-provider/provider.ts)"
