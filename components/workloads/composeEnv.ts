import { fail } from "../validation";

/*
 * The environment of a ComposeStack: the variables `docker stack deploy` interpolates into the
 * compose file. They reach only the docker process (see renderStackDeployScript), so a name equal to
 * one of the deploy script's own variables changes nothing; names that steer the shell that starts
 * docker, the dynamic loader or the Docker CLI itself are refused here.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names read by the shell that starts docker (POSIX sh, dash, bash), including bash's read-only ones. */
const SHELL_NAMES = [
  "IFS",
  "PATH",
  "ENV",
  "CDPATH",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "GLOBIGNORE",
  "POSIXLY_CORRECT",
  "OPTIND",
  "OPTARG",
  "PPID",
  "UID",
  "EUID",
  "PWD",
  "OLDPWD",
  "SHLVL",
  "LINENO",
  "RANDOM",
  "SECONDS",
  "_",
];

/** Names the Docker CLI (a Go program) reads for its config, daemon, TLS, temp files and proxies. */
const CLI_NAMES = [
  "HOME",
  "TMPDIR",
  "GODEBUG",
  "GOTRACEBACK",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
];

/** Prefixes: DOCKER_HOST/CONFIG/CONTEXT/TLS*..., the loader's LD_PRELOAD/LD_LIBRARY_PATH..., BASH_ENV/BASH_FUNC_*. */
const RESERVED_PREFIXES = ["DOCKER_", "LD_", "BASH"];

/** True when a variable of this name would change how the deploy script's docker command runs. */
export function isReservedEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return (
    SHELL_NAMES.includes(name) ||
    CLI_NAMES.includes(name) ||
    // Go's net/http reads the proxy variables in either case.
    (upper.endsWith("_PROXY") && CLI_NAMES.includes(upper)) ||
    RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
}

/**
 * Throws unless every key is a shell variable name (compose interpolates `${NAME}`) that does not
 * steer the shell, the loader or the Docker CLI. Names only: a value never appears in an error.
 */
export function requireEnvNames(argument: string, env: Record<string, unknown>): void {
  for (const key of Object.keys(env)) {
    if (!ENV_NAME.test(key)) {
      fail(
        `${argument}.${key}`,
        key,
        "Use variable names of letters, digits and '_', not starting with a digit.",
      );
    }
    if (isReservedEnvName(key)) {
      fail(
        `${argument}.${key}`,
        key,
        "This name steers the shell, the loader or the Docker CLI that deploys the stack (PATH, HOME, IFS, DOCKER_*, LD_*, BASH*, proxies...); rename it in the compose file and here, e.g. with an APP_ prefix.",
      );
    }
  }
}

/** Single-quotes a word for POSIX sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment file of a stack: one `export NAME='value'` line per variable, sorted. The deploy
 * script reads it only in the subshell that runs `docker stack deploy` (never in its own shell).
 */
export function renderEnvFile(env: Record<string, string>): string {
  requireEnvNames("environment", env);
  return Object.keys(env)
    .sort()
    .map((key) => `export ${key}=${shellQuote(env[key])}\n`)
    .join("");
}
