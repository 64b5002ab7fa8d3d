#!/usr/bin/env bash
# Engine e2e: SwarmCluster through the real Pulumi CLI on lab hosts (lab 51), as root. Builds or
# reuses the CLI (scripts/setup-pulumi-tools.sh; pass --no-setup to skip), installs the project's
# LAB STAND-IN of pulumi-resource-command 1.2.1, then runs test/engine/e2e.ts with a fresh file
# backend. Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on any failure.
# E2E_KEEP_LAB=1 keeps the lab hosts up afterwards; E2E_KEEP_WORK=1 keeps the backend and logs.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fail() {
  echo "FAIL: $*"
  echo "0 passed, 1 failed"
  exit 1
}

[[ "$(id -u)" == 0 ]] || fail "the engine e2e needs root (lab hosts: network namespaces, dockerd)"
if [[ "${1:-}" != "--no-setup" ]]; then
  "$REPO/scripts/setup-pulumi-tools.sh" >&2 || fail "scripts/setup-pulumi-tools.sh failed"
fi
"$REPO/test/engine/command-provider/install.sh" >&2 || fail "installing the command provider stand-in failed"
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"
[[ "$(command -v pulumi || true)" == "$PULUMI_TOOLS_DIR/bin/pulumi" ]] ||
  fail "pulumi CLI not found in $PULUMI_TOOLS_DIR/bin: run scripts/setup-pulumi-tools.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-engine-e2e.XXXXXX")"
if [[ -z "${E2E_KEEP_WORK:-}" ]]; then trap 'rm -rf "$work"' EXIT; else echo "work dir: $work" >&2; fi
export PULUMI_BACKEND_URL="file://$work/state"
mkdir -p "$work/state"

cd "$REPO"
E2E_WORK_DIR="$work" node_modules/.bin/tsx test/engine/e2e.ts
