import * as pulumi from "@pulumi/pulumi";
import { fail, isKnown } from "../../validation";
import { parseImageReference, requireSwarmName } from "../../workloads/parse";
import { prelude, shq } from "../../shell";

/**
 * The restricted deploy key: a pipeline's SSH key is authorized on a swarm manager with
 * `restrict,command="<gate>"`, so whatever the key holder asks for, sshd runs only the gate. The
 * gate reads the requested command from SSH_ORIGINAL_COMMAND, splits it into words without any
 * shell evaluation, accepts only `docker service update [flags] --image <repository>:<tag>|@<digest>
 * <service>` for the (service, repository) pairs it was rendered with, and runs docker with an
 * argument vector it built itself. Everything else is refused with one clear message.
 */

/** A service a deploy key may roll, and the only image repository it may roll it to. */
export interface DeployTarget {
  /** Swarm service name, e.g. "web". */
  service: string;
  /** Image repository without tag or digest, e.g. "harbor.example.com/team/web". */
  repository: string;
}

/** A {@link DeployTarget} as components take it: the repository may be an Output (e.g. from `HarborHost.registry`). */
export interface DeployTargetArgs {
  /** Swarm service name, e.g. "web". */
  service: string;
  /** Image repository without tag or digest, e.g. "harbor.example.com/team/web"; checked when it resolves if an Output. */
  repository: pulumi.Input<string>;
}

/** Flags the gate passes on to `docker service update`; nothing else is accepted. */
export const GATE_FLAGS = [
  "--with-registry-auth",
  "--no-resolve-image",
  "--detach",
  "--detach=true",
  "--detach=false",
  "-d",
  "--quiet",
  "-q",
] as const;

/**
 * Throws (a ValidationError naming `argument`) unless every target is a valid, distinct
 * service/repository pair; a repository still unknown (an Output) is checked when it resolves.
 */
export function requireDeployTargets(argument: string, targets: DeployTargetArgs[]): void {
  if (!Array.isArray(targets) || targets.length === 0) {
    fail(
      argument,
      targets,
      'List the services the key may roll and their image repository, e.g. [{ service: "web", repository: "harbor.example.com/team/web" }].',
    );
  }
  const services = new Set<string>();
  targets.forEach((target, index) => {
    requireSwarmName(`${argument}[${index}].service`, target?.service);
    if (services.has(target.service)) {
      fail(
        `${argument}[${index}].service`,
        target.service,
        "List each service once (one repository per service).",
      );
    }
    services.add(target.service);
    if (isKnown(target.repository)) requireRepository(`${argument}[${index}].repository`, target.repository);
    else if (target.repository === undefined) requireRepository(`${argument}[${index}].repository`, "");
  });
}

/** Resolves the targets' repositories, checking each (same rule and message as at construction). */
export function resolvedTargets(
  argument: string,
  targets: DeployTargetArgs[],
): pulumi.Output<DeployTarget[]> {
  return pulumi.all(targets.map((t) => pulumi.output(t.repository))).apply((repositories) =>
    targets.map((t, index) => {
      requireRepository(`${argument}[${index}].repository`, repositories[index]);
      return { service: t.service, repository: repositories[index] };
    }),
  );
}

/** Throws unless `value` is an image repository (registry and path) without a tag or digest. */
export function requireRepository(argument: string, value: string): void {
  const fix =
    'Use an image repository without tag or digest, e.g. "harbor.example.com/team/web" or "10.0.1.5:5000/app/web".';
  if (typeof value !== "string" || value === "") fail(argument, value, fix);
  const parsed = parseImageReference(argument, value);
  if (parsed.tag !== undefined || parsed.digest !== undefined) fail(argument, value, fix);
}

/**
 * Renders the gate: a bash script run by sshd as the key's forced command. It needs nothing but
 * bash and docker. Its only output besides docker's is one line saying what it runs (stderr), or
 * the refusal: `pulumi-swarm deploy gate: refused: <why>` and the allowed form, exit 1.
 */
export function renderDeployGate(marker: string, targets: DeployTarget[]): string {
  requireDeployTargets("targets", targets);
  const pairs = targets.map((t) => shq(`${t.service} ${t.repository}`)).join(" ");
  const allowedText = targets.map((t) => `${t.service} <- ${t.repository}`).join(", ");
  return `#!/bin/bash
# pulumi-swarm deploy gate for key ${marker}: the only command this key can run (written by Pulumi).
set -uo pipefail
allowed=(${pairs})
refuse() {
  printf 'pulumi-swarm deploy gate: refused: %s\\n' "$*" >&2
  printf '%s\\n' ${shq(`allowed: docker service update [--with-registry-auth] [--no-resolve-image] [--detach=false] [--quiet] --image <repository>:<tag>|<repository>@sha256:<digest> <service>, for ${allowedText}`)} >&2
  exit 1
}
request=\${SSH_ORIGINAL_COMMAND-}
[ -n "$request" ] || refuse "no command given (this key cannot open a shell)"
[ \${#request} -le 1024 ] || refuse "the command is longer than 1024 characters"
case "$request" in
  *[!A-Za-z0-9\\ ._:/@=+-]*) refuse "the command contains characters other than letters, digits, spaces and ._:/@=+-" ;;
esac
# Split on spaces only: read -a neither expands nor globs anything.
read -r -a words <<<"$request"
if [ \${#words[@]} -lt 3 ] || [ "\${words[0]}" != docker ] || [ "\${words[1]}" != service ] || [ "\${words[2]}" != update ]; then
  refuse "only 'docker service update' is allowed"
fi
flags=()
image=
service=
i=3
while [ "$i" -lt \${#words[@]} ]; do
  word=\${words[$i]}
  case "$word" in
    ${GATE_FLAGS.join("|")})
      flags+=("$word") ;;
    --image)
      [ -z "$image" ] || refuse "--image given twice"
      i=$((i + 1))
      [ "$i" -lt \${#words[@]} ] || refuse "--image needs a value"
      image=\${words[$i]} ;;
    --image=*)
      [ -z "$image" ] || refuse "--image given twice"
      image=\${word#--image=} ;;
    -*)
      refuse "option $word is not allowed (only --image and ${GATE_FLAGS.join(" ")})" ;;
    *)
      [ -z "$service" ] || refuse "more than one service given ($service, $word)"
      service=$word ;;
  esac
  i=$((i + 1))
done
[ -n "$image" ] || refuse "--image <repository>:<tag> is required"
[ -n "$service" ] || refuse "the service to update is required"
tag_re='^:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$'
digest_re='^@sha256:[0-9a-f]{64}$'
known_service=0
for pair in "\${allowed[@]}"; do
  [ "\${pair%% *}" = "$service" ] || continue
  known_service=1
  repository=\${pair#* }
  case "$image" in
    "$repository":* | "$repository"@*) ;;
    *) refuse "service $service may only run images of $repository, not $image" ;;
  esac
  rest=\${image#"$repository"}
  [[ $rest =~ $tag_re ]] || [[ $rest =~ $digest_re ]] ||
    refuse "image $image is not $repository:<tag>, $repository@sha256:<digest> or $repository:<tag>@sha256:<digest>"
done
[ "$known_service" = 1 ] || refuse "service $service is not one this key may update"
shown=
for flag in "\${flags[@]}"; do shown+="$flag "; done
printf 'pulumi-swarm deploy gate: docker service update %s--image %s %s\\n' "$shown" "$image" "$service" >&2
exec docker service update "\${flags[@]}" --image "$image" "$service"
`;
}

/** Where the gate of a key lives, relative to the SSH user's home. */
export function gatePath(marker: string): string {
  return `.pulumi-swarm/deploy-gate-${marker}`;
}

/**
 * Renders the script that installs the gate for `marker` in the SSH user's home (mode 0700) and
 * authorizes the public key read from standard input with `restrict,command="<gate>"`,
 * idempotently (nothing is rewritten when both are current). Runs as the SSH user.
 */
export function renderAuthorizeGateScript(hostName: string, marker: string, targets: DeployTarget[]): string {
  requireMarker(marker);
  const gate = renderDeployGate(marker, targets);
  return `${prelude({ host: hostName, task: "authorizing the restricted deploy key" }).trimEnd()}
marker=${shq(marker)}
IFS= read -r key || [ -n "$key" ] || fail "no public key on standard input"
case "$key" in
  ssh-ed25519\\ *|ssh-rsa\\ *|ecdsa-sha2-*) ;;
  *) fail "standard input is not an OpenSSH public key" ;;
esac
case "$HOME" in
  *[!A-Za-z0-9._/-]*|"") fail "the home directory '$HOME' has characters that cannot go into authorized_keys" ;;
esac
umask 077
gate="$HOME/"${shq(gatePath(marker))}
mkdir -p "$HOME/.ssh" "$(dirname "$gate")"
# The gate's text is written literally: nothing in it expands here.
# shellcheck disable=SC2016
printf '%s' ${shq(gate)} >"$gate.new"
chmod 0700 "$gate.new"
if cmp -s "$gate.new" "$gate"; then rm -f "$gate.new"; else mv -f "$gate.new" "$gate"; fi
line="restrict,command=\\"$gate\\" $(printf '%s' "$key" | awk '{print $1, $2}') $marker"
touch "$HOME/.ssh/authorized_keys"
if grep -qxF -- "$line" "$HOME/.ssh/authorized_keys"; then exit 0; fi
awk -v marker="$marker" '$NF != marker' "$HOME/.ssh/authorized_keys" >"$HOME/.ssh/authorized_keys.new"
printf '%s\\n' "$line" >>"$HOME/.ssh/authorized_keys.new"
chmod 0600 "$HOME/.ssh/authorized_keys.new"
mv -f "$HOME/.ssh/authorized_keys.new" "$HOME/.ssh/authorized_keys"
printf 'pulumi-swarm: deploy key %s authorized on host %s, restricted to %s\\n' "$marker" "$host_name" "$gate"
`;
}

/** Renders the script that removes the marked key line and its gate. */
export function renderRevokeGateScript(hostName: string, marker: string): string {
  requireMarker(marker);
  return `${prelude({ host: hostName, task: "revoking the restricted deploy key" }).trimEnd()}
marker=${shq(marker)}
rm -f "$HOME/"${shq(gatePath(marker))}
file="$HOME/.ssh/authorized_keys"
[ -f "$file" ] || exit 0
awk -v marker="$marker" '$NF == marker {found = 1} END {exit !found}' "$file" || exit 0
umask 077
awk -v marker="$marker" '$NF != marker' "$file" >"$file.new"
mv -f "$file.new" "$file"
`;
}

function requireMarker(marker: string): void {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(marker))
    throw new Error(`key marker ${JSON.stringify(marker)} is invalid`);
}
