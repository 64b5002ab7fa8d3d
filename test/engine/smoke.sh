#!/usr/bin/env bash
# Engine smoke test: the real Pulumi CLI runs test/engine/smoke/ programs with a local file backend
# and a passphrase secrets provider. Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero
# on any failure. Needs scripts/setup-pulumi-tools.sh to have run (it is run here when the CLI is missing,
# pass --no-setup to refuse that). No network: nothing here leaves this machine.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fail() {
  echo "FAIL: $*"
  echo "0 passed, 1 failed"
  exit 1
}

if [[ "${1:-}" != "--no-setup" ]]; then
  "$REPO/scripts/setup-pulumi-tools.sh" >&2 || fail "scripts/setup-pulumi-tools.sh failed"
fi
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"
[[ "$(command -v pulumi || true)" == "$PULUMI_TOOLS_DIR/bin/pulumi" ]] ||
  fail "pulumi CLI not found in $PULUMI_TOOLS_DIR/bin: run scripts/setup-pulumi-tools.sh"

# The state of every smoke run goes to a fresh backend directory unless the caller chose one.
work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-engine-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [[ -z "${SMOKE_KEEP_BACKEND:-}" ]]; then
  export PULUMI_BACKEND_URL="file://$work/state"
  mkdir -p "$work/state"
fi

# Compiled next to the repo's node_modules so that @pulumi/* resolve from there.
build="$REPO/.pulumi-tools/smoke-build"
rm -rf "$build"
(cd "$REPO" && npx tsc --outDir "$build" --rootDir test/engine --module commonjs --target ES2022 \
  --moduleResolution node --strict --esModuleInterop --skipLibCheck --types node \
  test/engine/smoke/run.ts) || fail "test/engine/smoke/run.ts does not compile"

SMOKE_WORK_DIR="$work" node "$build/smoke/run.js"
