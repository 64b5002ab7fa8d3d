import { isHostAddress, isPort, fail } from "../../validation";
import { prelude, shq } from "../../shell";

/** Where dockerd looks for per-registry CA certificates. */
export const DOCKER_CERTS_DIR = "/etc/docker/certs.d";

/** True for a registry name as image references spell it: "host" or "host:port". */
export function isRegistryName(value: string): boolean {
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  return !!match && isHostAddress(match[1]) && (match[2] === undefined || isPort(Number(match[2])));
}

export function requireRegistryName(argument: string, value: string): void {
  if (!isRegistryName(value)) {
    fail(
      argument,
      value,
      'Use the registry as image references name it: "host" or "host:port", e.g. "10.0.1.5:443".',
    );
  }
}

/**
 * Renders the script that installs a CA certificate (PEM, read from standard input) as
 * `<certsDir>/<registry>/ca.crt`, rewriting it only when it changed. dockerd reads this directory
 * on every pull and push: no restart and no `insecure-registries` entry are needed.
 */
export function renderTrustScript(
  hostName: string,
  registry: string,
  certsDir: string = DOCKER_CERTS_DIR,
): string {
  requireRegistryName("registry", registry);
  return `${prelude({ host: hostName, task: `trusting the CA of registry ${registry}` })}
dir=${shq(`${certsDir}/${registry}`)}
ca=$(cat <&3)
case "$ca" in
  -----BEGIN\\ CERTIFICATE-----*-----END\\ CERTIFICATE-----*) ;;
  *) fail "standard input is not a PEM certificate" ;;
esac
umask 022
install -d -m 0755 "$dir"
printf '%s\\n' "$ca" >"$dir/.ca.crt.new"
if cmp -s "$dir/.ca.crt.new" "$dir/ca.crt"; then
  rm -f "$dir/.ca.crt.new"
else
  mv -f "$dir/.ca.crt.new" "$dir/ca.crt"
  printf 'pulumi-swarm: installed %s/ca.crt on host %s\\n' "$dir" "$host_name"
fi
`;
}

/** Renders the script that removes what {@link renderTrustScript} installed. */
export function renderUntrustScript(
  hostName: string,
  registry: string,
  certsDir: string = DOCKER_CERTS_DIR,
): string {
  requireRegistryName("registry", registry);
  return `${prelude({ host: hostName, task: `removing the CA of registry ${registry}` })}
dir=${shq(`${certsDir}/${registry}`)}
rm -f "$dir/ca.crt" "$dir/.ca.crt.new"
rmdir "$dir" 2>/dev/null || true
`;
}
