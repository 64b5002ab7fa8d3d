import { shq } from "./quote";

/*
 * The one env-file writer. Two readers exist on the hosts: Docker Compose's `env_file`/`--env-file`
 * (both `docker compose` v2 and Debian's `docker-compose` v1 read `KEY=value` literally, with no
 * quoting), and the subshell of the stack deploy script that sources the file and runs only
 * `docker stack deploy` (values of any content, quoted). One name rule for both; a value never
 * appears in an error (env files carry secrets).
 */

/** Which reader the file is for: `"docker"` (`KEY=value`) or `"shell"` (`export KEY='value'`). */
export type EnvFileFormat = "docker" | "shell";

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

/** True for a name an env file may hold: letters, digits and '_', not starting with a digit. */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/** True when a variable of this name would change how the shell, the loader or the Docker CLI runs. */
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
 * Characters allowed in values of `"docker"` env files (and in passwords the platform writes into
 * YAML and curl configs): none is special to any of these formats (no quotes, '$', '#', '\\', spaces).
 */
export const SAFE_SECRET_CHARS = "A-Z a-z 0-9 - _ . ~ ! @ % ^ * + = : , /";
const SAFE_SECRET = /^[A-Za-z0-9\-_.~!@%^*+=:,/]+$/;

/** True when a secret uses only {@link SAFE_SECRET_CHARS}. */
export function isSafeSecret(value: string): boolean {
  return SAFE_SECRET.test(value);
}

/**
 * Renders an env file for `format`'s reader. `"docker"`: `KEY=value` lines in the given order,
 * values limited to {@link SAFE_SECRET_CHARS}. `"shell"`: `export KEY='value'` lines sorted by
 * name, any value; names that steer the shell, the loader or the Docker CLI are refused.
 */
export function renderEnvFile(entries: Record<string, string>, format: EnvFileFormat = "docker"): string {
  for (const key of Object.keys(entries)) {
    if (!isEnvName(key)) throw new Error(`env key ${JSON.stringify(key)} is not a variable name`);
    if (format === "shell" && isReservedEnvName(key)) {
      throw new Error(`env key ${key} steers the shell, the loader or the Docker CLI`);
    }
  }
  if (format === "shell") {
    return Object.keys(entries)
      .sort()
      .map((key) => `export ${key}=${shq(entries[key])}\n`)
      .join("");
  }
  return Object.entries(entries)
    .map(([key, value]) => {
      // Never print the value: env files carry secrets.
      if (!isSafeSecret(value))
        throw new Error(`env value of ${key} uses characters outside ${SAFE_SECRET_CHARS}`);
      return `${key}=${value}\n`;
    })
    .join("");
}
