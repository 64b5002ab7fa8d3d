import { DETECT_COMPOSE, prelude, receiveBundleSnippet, shq } from "../../shell";

/** How `pulumi up` decides a tool is up. */
export interface HealthCheck {
  /** URL probed from the host itself (loopback), e.g. "http://127.0.0.1:9000/api/system/status". */
  url: string;
  /** Extended regular expression the response body must match, besides a 2xx status. Default: none. */
  expect?: string;
  /** Seconds to wait before failing. */
  timeoutSeconds: number;
}

/** A directory the tool keeps data in, created before the first start and never removed. */
export interface DataDir {
  /** Absolute path on the host. */
  path: string;
  /** Numeric owner (user and group) for tools that run as a fixed non-root user. Default: root. */
  owner?: number;
}

/** Inputs of {@link renderDeployScript}. */
export interface ComposeDeployOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Tool name, shown in every message. */
  tool: string;
  /** Compose project name. */
  project: string;
  /** Directory that receives compose.yaml and the env files (mode 0700). */
  configDir: string;
  /** Names of the files expected on standard input; must include "compose.yaml". */
  files: string[];
  /** Persistent data directories. */
  dataDirs: DataDir[];
  /** Tool-specific shell run after the files arrive and before `up` (cwd: the config directory). */
  preUp?: string;
  /** Health endpoint to wait for. */
  health: HealthCheck;
}

/**
 * Shell that waits until `url` answers 2xx (and its body matches `expect`), or fails after the
 * timeout naming the tool, the URL, the last status and where to look. Needs `fail` and `curl`.
 */
export function waitHealthSnippet(tool: string, health: HealthCheck, diagnostics: string): string {
  return `health_tool=${shq(tool)}
health_url=${shq(health.url)}
health_expect=${shq(health.expect ?? "")}
health_body=$(mktemp)
trap 'rm -f "$health_body"' EXIT
deadline=$((SECONDS + ${health.timeoutSeconds}))
while :; do
  code=$(curl -ksS -o "$health_body" -w '%{http_code}' --max-time 10 "$health_url" 2>/dev/null) || true
  if [ "\${code:0:1}" = 2 ] && { [ -z "$health_expect" ] || grep -Eq -- "$health_expect" "$health_body"; }; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    ${diagnostics} >&2 || true
    fail "$health_tool did not answer on $health_url within ${health.timeoutSeconds} s (last HTTP status \${code:-none}); look at its containers' state above and their logs"
  fi
  sleep 5
done
printf 'pulumi-swarm: %s answers on %s on host %s\\n' ${shq(tool)} "$health_url" "$host_name"`;
}

/**
 * Renders the deploy script: receives compose.yaml and env files on standard input, creates the
 * data directories, runs `up -d --remove-orphans` (a no-op when nothing changed) with
 * `docker compose` or `docker-compose`, and waits for the health endpoint.
 */
export function renderDeployScript(options: ComposeDeployOptions): string {
  if (!options.files.includes("compose.yaml")) throw new Error("files must include compose.yaml");
  const dataDirs = options.dataDirs
    .map((dir) =>
      dir.owner === undefined
        ? `install -d -m 0755 ${shq(dir.path)}`
        : `install -d -m 0755 -o ${dir.owner} -g ${dir.owner} ${shq(dir.path)}`,
    )
    .join("\n");
  return `${prelude({ host: options.hostName, task: `deploying ${options.tool}` })}
config_dir=${shq(options.configDir)}
project=${shq(options.project)}
${DETECT_COMPOSE}
umask 022
${dataDirs}
${receiveBundleSnippet("config_dir", options.files)}
cd "$config_dir"
${options.preUp ?? ":"}
compose -p "$project" -f compose.yaml up -d --remove-orphans >&2 || fail "'compose up' of project $project in $config_dir failed (its output is above)"
${waitHealthSnippet(options.tool, options.health, 'compose -p "$project" -f compose.yaml ps')}
`;
}

/** Inputs of {@link renderRemoveScript}. */
export interface ComposeRemoveOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Tool name, shown in every message. */
  tool: string;
  /** Compose project name. */
  project: string;
  /** Directory holding compose.yaml and the env files; removed (with the secrets in it). */
  configDir: string;
}

/**
 * Renders the delete script: `down --remove-orphans` (no volumes: data lives in bind-mounted
 * directories, which stay), then removes the config directory and the secrets in it. Does nothing
 * when the tool was never deployed.
 */
export function renderRemoveScript(options: ComposeRemoveOptions): string {
  return `${prelude({ host: options.hostName, task: `removing ${options.tool}` })}
config_dir=${shq(options.configDir)}
project=${shq(options.project)}
if [ ! -f "$config_dir/compose.yaml" ]; then
  printf 'pulumi-swarm: %s is not deployed in %s on host %s; nothing to remove\\n' ${shq(options.tool)} "$config_dir" "$host_name"
  exit 0
fi
${DETECT_COMPOSE}
cd "$config_dir"
compose -p "$project" -f compose.yaml down --remove-orphans >&2 || fail "'compose down' of project $project failed (its output is above)"
cd /
rm -rf -- "$config_dir"
printf 'pulumi-swarm: %s removed from host %s; its data directories were kept\\n' ${shq(options.tool)} "$host_name"
`;
}
