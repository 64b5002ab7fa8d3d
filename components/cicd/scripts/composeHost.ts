import { fail } from "../../validation";
import { renderEnvFile, shq } from "../../shell";
import { requireEnvNames } from "../../workloads/composeEnv";

/*
 * Shell run on a single host (outside the swarm) for ComposeHost: `up -d` of a compose project
 * with `docker compose` (v2 plugin) or Debian's `docker-compose` (v1). Pure renderers, POSIX sh.
 * Nothing secret is part of these strings: the compose file and its environment arrive on stdin
 * (two base64 lines, see composeStdin in workloads/composeScripts), and the environment is read only
 * in a subshell that runs nothing but compose, so a variable named like one of the script's own
 * (dir, project, PATH...) cannot change what the script does.
 */

/** Compose project names: what both compose versions accept (lowercase, digits, '-', '_'). */
export function requireProjectName(argument: string, value: string): void {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(value)) {
    fail(
      argument,
      value,
      "Use 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit (a compose project name).",
    );
  }
}

/** Throws unless `value` is an absolute directory path of plain characters, not "/" itself. */
export function requireProjectDirectory(argument: string, value: string): void {
  if (
    typeof value !== "string" ||
    !/^\/[A-Za-z0-9._/-]+$/.test(value) ||
    value.split("/").some((part) => part === "..") ||
    /^\/(bin|boot|dev|etc|lib|lib64|proc|root|run|sbin|sys|usr|var)?\/?$/.test(value)
  ) {
    fail(
      argument,
      value,
      'Use an absolute directory of its own for the project files, e.g. "/srv/pulumi-swarm/compose/monitoring".',
    );
  }
}

/** Sets the positional parameters to the compose command found on the host, or exits 3 saying what to install. */
const FIND_COMPOSE = [
  "if docker compose version >/dev/null 2>&1; then",
  "  set -- docker compose",
  "elif command -v docker-compose >/dev/null 2>&1; then",
  "  set -- docker-compose",
  "else",
  `  echo "compose-host: neither 'docker compose' (the compose plugin) nor 'docker-compose' is installed; install docker-compose-plugin, or Debian's docker-compose" >&2`,
  "  exit 3",
  "fi",
];

/** Runs the command in "$@" (after PATH and the env file, which are $1 and $2) with the user's environment, in a subshell. */
const RUN_WITH_ENV = [
  "# User variables live only in this subshell, which runs nothing but compose with the arguments above.",
  "# shellcheck source=/dev/null",
  '( . "$2" && PATH=$1 && shift 2 && exec "$@" )',
];

/** Options of {@link renderComposeUpScript}. */
export interface ComposeUpOptions {
  /** Compose project name. */
  project: string;
  /** Directory that keeps compose.yaml and the environment file (mode 0700). */
  directory: string;
}

/**
 * Deploys (or re-deploys) the project from stdin: the files are written only when they changed, then
 * `up -d --remove-orphans`, which leaves running containers alone when nothing changed. Idempotent.
 */
export function renderComposeUpScript(options: ComposeUpOptions): string {
  requireProjectName("projectName", options.project);
  requireProjectDirectory("directory", options.directory);
  return [
    "set -eu",
    "umask 077",
    `dir=${shq(options.directory)}`,
    `project=${shq(options.project)}`,
    "env_b64=''",
    "compose_b64=''",
    "IFS= read -r env_b64 || true",
    "IFS= read -r compose_b64 || true",
    'if [ -z "$compose_b64" ]; then',
    '  echo "compose-host: no compose file arrived on stdin" >&2',
    "  exit 2",
    "fi",
    'mkdir -p "$dir"',
    'chmod 0700 "$dir"',
    `printf '%s' "$env_b64" | base64 -d >"$dir/.env.pulumi.new"`,
    `printf '%s' "$compose_b64" | base64 -d >"$dir/compose.yaml.new"`,
    "for file in compose.yaml .env.pulumi; do",
    '  if cmp -s "$dir/$file.new" "$dir/$file"; then rm -f "$dir/$file.new"; else mv -f "$dir/$file.new" "$dir/$file"; fi',
    "done",
    ...FIND_COMPOSE,
    'set -- "$PATH" "$dir/.env.pulumi" "$@" --project-name "$project" --project-directory "$dir" --file "$dir/compose.yaml" up -d --remove-orphans',
    ...RUN_WITH_ENV,
    "",
  ].join("\n");
}

/** Options of {@link renderComposeDownScript}. */
export interface ComposeDownOptions extends ComposeUpOptions {
  /** Also remove the project's named volumes (`down --volumes`). */
  removeVolumes: boolean;
}

/**
 * Brings the project down (`down --remove-orphans`, with `--volumes` when asked) and removes its
 * directory with the environment file in it. A project that is not there is not an error.
 */
export function renderComposeDownScript(options: ComposeDownOptions): string {
  requireProjectName("projectName", options.project);
  requireProjectDirectory("directory", options.directory);
  return [
    "set -eu",
    `dir=${shq(options.directory)}`,
    `project=${shq(options.project)}`,
    'if [ ! -f "$dir/compose.yaml" ]; then',
    '  echo "compose-host: project $project is not deployed in $dir; nothing to remove"',
    "  exit 0",
    "fi",
    ...FIND_COMPOSE,
    `set -- "$PATH" "$dir/.env.pulumi" "$@" --project-name "$project" --project-directory "$dir" --file "$dir/compose.yaml" down --remove-orphans${options.removeVolumes ? " --volumes" : ""}`,
    ...RUN_WITH_ENV,
    'rm -rf -- "$dir"',
    'echo "compose-host: removed project $project and $dir"',
    "",
  ].join("\n");
}

/**
 * The stdin of {@link renderComposeUpScript}: the environment file (shell format, sourced only in the
 * subshell that runs compose) and the compose file, one base64 line each, so no byte of either
 * reaches the shell's parsing.
 */
export function composeHostStdin(compose: string, env: Record<string, string>): string {
  requireEnvNames("environment", env);
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  return `${b64(renderEnvFile(env, "shell"))}\n${b64(compose)}\n`;
}
