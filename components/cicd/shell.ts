/**
 * Shell building blocks shared by the delivery platform's host scripts. Everything here is pure:
 * scripts are rendered as text, unit-tested as text, and run byte for byte over SSH.
 */

/** Quotes a string as one shell word (single quotes; embedded quotes closed and escaped). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Wraps a bash script so it runs as root: directly when the SSH user is root, through
 * password-less `sudo -n` otherwise. Standard input passes through to the script, which is how
 * files and secrets reach the host (never in the command string).
 */
export function asRoot(script: string): string {
  return [
    `PULUMI_SWARM_SCRIPT=${shellQuote(script)}`,
    'if [ "$(id -u)" = 0 ]; then exec bash -c "$PULUMI_SWARM_SCRIPT"; else exec sudo -n bash -c "$PULUMI_SWARM_SCRIPT"; fi',
  ].join("\n");
}

/**
 * Wraps a bash script to run as the SSH user itself (whose login shell may be sh), standard
 * input passing through.
 */
export function asUser(script: string): string {
  return `exec bash -c ${shellQuote(script)}`;
}

/** One file carried to a host on a command's standard input. */
export interface BundleFile {
  /** File name inside the receiving directory (letters, digits, '.', '_', '-'). */
  name: string;
  /** Content, written byte for byte. */
  content: string;
}

const FILE_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Encodes files for {@link receiveBundleSnippet}: one line per file, `<name> <base64 content>`.
 * Base64 keeps any content (newlines, quotes, secrets) out of the shell's parsing.
 */
export function renderBundle(files: BundleFile[]): string {
  const seen = new Set<string>();
  return files
    .map((file) => {
      if (!FILE_NAME.test(file.name) || file.name.startsWith(".")) {
        throw new Error(`bundle file name ${JSON.stringify(file.name)} is not a plain file name`);
      }
      if (seen.has(file.name)) throw new Error(`bundle file ${file.name} appears twice`);
      seen.add(file.name);
      return `${file.name} ${Buffer.from(file.content, "utf8").toString("base64")}\n`;
    })
    .join("");
}

/**
 * Shell that reads a {@link renderBundle} from standard input into `dir` (mode 0600 files in a
 * 0700 directory), rewriting a file only when its content changed, and failing when a file is
 * missing or unexpected. Needs a `fail` function in the script.
 */
export function receiveBundleSnippet(dirVariable: string, expected: string[]): string {
  for (const name of expected) {
    if (!FILE_NAME.test(name)) throw new Error(`bundle file name ${JSON.stringify(name)} is invalid`);
  }
  const list = expected.join(" ");
  return `umask 077
install -d -m 0700 "$${dirVariable}"
received=" "
while IFS=' ' read -r file_name file_data || [ -n "$file_name" ]; do
  [ -n "$file_name" ] || continue
  case " ${list} " in
    *" $file_name "*) ;;
    *) fail "standard input carried an unexpected file '$file_name' (expected: ${list})" ;;
  esac
  tmp="$${dirVariable}/.$file_name.new"
  printf '%s' "$file_data" | base64 -d >"$tmp" || fail "could not decode $file_name from standard input"
  chmod 0600 "$tmp"
  if cmp -s "$tmp" "$${dirVariable}/$file_name"; then rm -f "$tmp"; else mv -f "$tmp" "$${dirVariable}/$file_name"; fi
  received="$received$file_name "
done
for file_name in ${list}; do
  case "$received" in
    *" $file_name "*) ;;
    *) fail "standard input did not carry $file_name (expected: ${list})" ;;
  esac
done`;
}

/**
 * Characters allowed in passwords the platform writes into env files, YAML and curl configs:
 * none of them is special to any of these formats (no quotes, '$', '#', '\\', spaces).
 */
export const SAFE_SECRET_CHARS = "A-Z a-z 0-9 - _ . ~ ! @ % ^ * + = : , /";
const SAFE_SECRET = /^[A-Za-z0-9\-_.~!@%^*+=:,/]+$/;

/** True when a secret uses only {@link SAFE_SECRET_CHARS}. */
export function isSafeSecret(value: string): boolean {
  return SAFE_SECRET.test(value);
}

/**
 * Renders a Docker env file (`KEY=value` lines). Values must be single-line and free of quotes,
 * '$' and '#', which both `docker compose` v2 and Debian's `docker-compose` v1 read literally.
 */
export function renderEnvFile(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([key, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`env key ${key} is invalid`);
      if (!isSafeSecret(value)) {
        // Never print the value: env files carry secrets.
        throw new Error(`env value of ${key} uses characters outside ${SAFE_SECRET_CHARS}`);
      }
      return `${key}=${value}\n`;
    })
    .join("");
}

/** Opening lines of every host script: strict mode and a `fail` that names the host. */
export function scriptHeader(hostName: string, what: string): string {
  return `set -euo pipefail
host_name=${shellQuote(hostName)}
fail() { printf 'pulumi-swarm: %s on host %s failed: %s\\n' ${shellQuote(what)} "$host_name" "$*" >&2; exit 1; }`;
}

/**
 * Shell that defines `compose` as `docker compose` (the v2 plugin) or `docker-compose` (v1, e.g.
 * Debian's package), failing with a clear message when neither exists.
 */
export const DETECT_COMPOSE = `if docker compose version >/dev/null 2>&1; then
  compose() { docker compose "$@"; }
elif command -v docker-compose >/dev/null 2>&1; then
  compose() { docker-compose "$@"; }
else
  fail "neither 'docker compose' (the compose plugin) nor 'docker-compose' is installed; install Docker Engine with docker-compose-plugin, or Debian's docker-compose package"
fi`;
