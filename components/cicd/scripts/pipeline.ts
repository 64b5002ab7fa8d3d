import { fail, isHostAddress, isPort } from "../../validation";
import { requireSwarmName } from "../../workloads/parse";
import { requireRepository } from "./deployGate";
import { shq } from "../../shell";

/** What one pipeline builds and where it deploys it. */
export interface PipelineScriptOptions {
  /** Image repository to push to, without tag, e.g. "harbor.example.com/team/web". */
  repository: string;
  /** Swarm service the deploy rolls. */
  service: string;
  /** The manager the restricted deploy key is authorized on. */
  manager: {
    /** Address the pipeline reaches the manager's sshd on. */
    host: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** SSH user the deploy key is authorized for. */
    user: string;
    /**
     * The manager's SSH host public key ("ssh-ed25519 AAAA..."): pinned, a different key fails
     * the deploy. Default: none (the first key seen is trusted and kept, StrictHostKeyChecking=accept-new).
     */
    hostKey?: string;
  };
  /** Build context inside the checkout. Default: ".". */
  context?: string;
  /** Dockerfile inside the checkout. Default: "Dockerfile". */
  dockerfile?: string;
}

const RELATIVE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;

/** Throws (a ValidationError naming the argument) unless the options are usable. */
export function requirePipelineOptions(argument: string, options: PipelineScriptOptions): void {
  requireRepository(`${argument}.repository`, options.repository);
  requireSwarmName(`${argument}.service`, options.service);
  if (!options.manager || !isHostAddress(options.manager.host)) {
    fail(`${argument}.manager.host`, options.manager?.host, "Use the manager's IPv4 address or DNS name.");
  }
  if (options.manager.port !== undefined && !isPort(options.manager.port)) {
    fail(`${argument}.manager.port`, options.manager.port, "Use an integer port between 1 and 65535.");
  }
  if (typeof options.manager.user !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(options.manager.user)) {
    fail(
      `${argument}.manager.user`,
      options.manager.user,
      'Use the manager\'s SSH user name, e.g. "ubuntu".',
    );
  }
  const hostKey = options.manager.hostKey;
  if (
    hostKey !== undefined &&
    !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$/.test(hostKey)
  ) {
    fail(
      `${argument}.manager.hostKey`,
      hostKey,
      'Use "<type> <base64>", e.g. the manager\'s /etc/ssh/ssh_host_ed25519_key.pub without its comment.',
    );
  }
  for (const [key, value] of [
    ["context", options.context],
    ["dockerfile", options.dockerfile],
  ] as const) {
    if (value !== undefined && (value === "" || !RELATIVE_PATH.test(value) || value === "..")) {
      fail(`${argument}.${key}`, value, "Use a path inside the checkout, without '..' or a leading '/'.");
    }
  }
}

/**
 * Renders the script a pipeline job runs in a git checkout (its working directory): build the
 * image from the checkout, tag it with the commit, push it, and deploy it by digest through the
 * restricted deploy key (`docker service update --image <repository>:<tag>@sha256:<digest>`).
 *
 * It reads from its environment only what a CI system binds from credentials:
 * `DEPLOY_KEY_FILE` (the deploy key's private key file, required), `REGISTRY_USER` and
 * `REGISTRY_PASSWORD` (optional: logged in with --password-stdin into a private DOCKER_CONFIG
 * removed on exit, never written to the agent's home), and `GIT_COMMIT` (Jenkins sets it; default
 * `git rev-parse HEAD`). The deploy names the digest itself (`--no-resolve-image`: the manager does not
 * ask the registry again, and records no platform list in the service). Running it twice on the same commit pushes the same tag again and the
 * deploy is a no-op for swarm (same image).
 */
export function renderPipelineScript(options: PipelineScriptOptions): string {
  requirePipelineOptions("pipeline", options);
  const registry = options.repository.includes("/") ? options.repository.split("/")[0] : "";
  const loginRegistry = /[.:]/.test(registry) || registry === "localhost" ? registry : "";
  const port = options.manager.port ?? 22;
  const pin = options.manager.hostKey;
  const knownHost = port === 22 ? options.manager.host : `[${options.manager.host}]:${port}`;
  return `#!/bin/bash
# Rendered by pulumi-swarm: build, push and deploy ${options.repository} to service ${options.service}.
set -euo pipefail
step() { printf 'pipeline: %s\\n' "$*" >&2; }
fail() { printf 'pipeline failed: %s\\n' "$*" >&2; exit 1; }
repository=${shq(options.repository)}
service=${shq(options.service)}
login_registry=${shq(loginRegistry)}
manager=${shq(options.manager.host)}
manager_port=${port}
manager_user=${shq(options.manager.user)}
context=${shq(options.context ?? ".")}
dockerfile=${shq(options.dockerfile ?? "Dockerfile")}
if [ -z "\${DEPLOY_KEY_FILE:-}" ] || [ ! -r "$DEPLOY_KEY_FILE" ]; then
  fail "DEPLOY_KEY_FILE must name the deploy key's private key file (bind it from the Jenkins credential)"
fi
command -v docker >/dev/null 2>&1 || fail "the docker CLI is not on PATH of this agent"
commit=\${GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
[[ $commit =~ ^[0-9a-f]{7,64}$ ]] || fail "no commit id (GIT_COMMIT unset and 'git rev-parse HEAD' failed in $PWD)"
tag=\${commit:0:12}
image="$repository:$tag"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Registry credentials live in this private config for this run only.
export DOCKER_CONFIG="$work/docker"
mkdir -m 0700 "$DOCKER_CONFIG"
if [ -n "\${REGISTRY_USER:-}" ]; then
  [ -n "$login_registry" ] || fail "REGISTRY_USER is set but $repository names no registry to log in to"
  step "logging in to $login_registry as $REGISTRY_USER"
  printf '%s' "\${REGISTRY_PASSWORD:-}" | docker login --username "$REGISTRY_USER" --password-stdin "$login_registry" >/dev/null ||
    fail "docker login to $login_registry failed"
fi
step "building $image from commit $commit"
docker build --label "org.opencontainers.image.revision=$commit" -t "$image" -f "$dockerfile" "$context" >&2 ||
  fail "docker build of $image failed (its output is above)"
step "pushing $image"
docker push "$image" >&2 || fail "docker push of $image failed (its output is above)"
digest=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | grep -F "$repository@sha256:" | head -n 1 || true)
[[ $digest =~ @(sha256:[0-9a-f]{64})$ ]] || fail "the registry reported no digest for $image"
deploy="$image@\${BASH_REMATCH[1]}"
printf '%s\\n' ${shq(pin ? `${knownHost} ${pin}` : "")} >"$work/known_hosts"
step "deploying $deploy to service $service through $manager_user@$manager:$manager_port"
ssh -i "$DEPLOY_KEY_FILE" -p "$manager_port" -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=15 \\
  ${pin ? '-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$work/known_hosts"' : "-o StrictHostKeyChecking=accept-new"} \\
  "$manager_user@$manager" docker service update --with-registry-auth --no-resolve-image --detach=false --quiet --image "$deploy" "$service" >&2 ||
  fail "the deploy of $deploy to service $service was refused or failed (the manager's answer is above)"
step "service $service now runs $deploy"
printf '%s\\n' "$deploy"
`;
}
