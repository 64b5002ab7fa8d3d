#!/usr/bin/env bash
# `npm run lab:engine [-- down]`: the lab stack through the real Pulumi engine. Builds (or reuses)
# the Pulumi CLI offline (scripts/setup-pulumi-tools.sh: ~12 min the first time on 2 cores, seconds
# after), installs the lab stand-in of the command provider (the real one cannot be fetched here,
# docs/engine.md), then runs scripts/lab-engine.ts with a local file backend under .lab/.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ "$(id -u)" == 0 ]] || { echo "lab:engine needs root (lab hosts are network namespaces with their own dockerd)" >&2; exit 1; }
echo "==> Pulumi CLI (built offline from the Go module proxy; the first build takes ~12 min)"
"$REPO/scripts/setup-pulumi-tools.sh" >&2
"$REPO/test/engine/command-provider/install.sh" >&2
# shellcheck source=scripts/pulumi-env.sh
. "$REPO/scripts/pulumi-env.sh"
mkdir -p "$REPO/.lab/state"
export PULUMI_BACKEND_URL="file://$REPO/.lab/state"
cd "$REPO"
exec node_modules/.bin/tsx scripts/lab-engine.ts "$@"
