# shellcheck shell=bash
# Source this file (`. scripts/pulumi-env.sh`) to run the Pulumi engine built by
# scripts/setup-pulumi-tools.sh: offline, with a local file backend and a passphrase secrets provider.
#
# Every variable already set by the caller wins, so CI or a developer can point the state or the
# passphrase elsewhere without editing this file.

_pulumi_env_repo="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"

export PULUMI_TOOLS_DIR="${PULUMI_TOOLS_DIR:-$_pulumi_env_repo/.pulumi-tools}"
case ":$PATH:" in
  *":$PULUMI_TOOLS_DIR/bin:"*) ;;
  # First on PATH: the CLI and the plugins it looks up there must be the ones built here.
  *) export PATH="$PULUMI_TOOLS_DIR/bin:$PATH" ;;
esac
# Plugins installed with `pulumi plugin install --file` land here, never in ~/.pulumi.
export PULUMI_HOME="${PULUMI_HOME:-$PULUMI_TOOLS_DIR/home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PULUMI_TOOLS_DIR/state}"
# A lab-only default: stacks under this backend hold throwaway lab secrets. Set your own for anything else.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-pulumi-swarm-lab-only}"
export PULUMI_SKIP_UPDATE_CHECK=true
# No network here: a plugin that is not installed must fail at once instead of trying to download.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The dynamic-provider plugin script resolves @pulumi/pulumi with `require.resolve` from its working
# directory, which for Automation API programs is a temporary directory outside the repo.
case ":${NODE_PATH:-}:" in
  *":$_pulumi_env_repo/node_modules:"*) ;;
  *) export NODE_PATH="$_pulumi_env_repo/node_modules${NODE_PATH:+:$NODE_PATH}" ;;
esac
unset _pulumi_env_repo
