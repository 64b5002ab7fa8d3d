import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { SwarmHost } from "../hosts/types";
import {
  CheckOwner,
  checkedInput,
  fail,
  isHostAddress,
  isKnown,
  isPort,
  requireDnsLabel,
  validateComponentArgs,
} from "../validation";
import { asRoot, scriptHeader, shellQuote } from "./shell";
import { TOKENS, withTokenAliases } from "../tokens";

/** Where dockerd looks for per-registry CA certificates. */
export const DOCKER_CERTS_DIR = "/etc/docker/certs.d";

/** True for a registry name as image references spell it: "host" or "host:port". */
export function isRegistryName(value: string): boolean {
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  return !!match && isHostAddress(match[1]) && (match[2] === undefined || isPort(Number(match[2])));
}

function requireRegistryName(argument: string, value: string): void {
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
  return `${scriptHeader(hostName, `trusting the CA of registry ${registry}`)}
dir=${shellQuote(`${certsDir}/${registry}`)}
ca=$(cat)
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
  return `${scriptHeader(hostName, `removing the CA of registry ${registry}`)}
dir=${shellQuote(`${certsDir}/${registry}`)}
rm -f "$dir/ca.crt" "$dir/.ca.crt.new"
rmdir "$dir" 2>/dev/null || true
`;
}

/** Arguments of {@link RegistryTrust}. */
export interface RegistryTrustArgs {
  /** Hosts whose dockerd must trust the registry: every swarm node that pulls from it. Required, non-empty. */
  hosts: SwarmHost[];
  /** The registry as image references name it, "host" or "host:port" (e.g. `HarborHost.registry`). Required. */
  registry: pulumi.Input<string>;
  /**
   * PEM certificate of the CA that signed the registry's certificate, e.g. `HarborHost.caCertificate`
   * as it is (undefined when Harbor serves plain HTTP, which fails here: there is no CA to trust).
   * Checked now when known, or when it resolves. Required.
   */
  caCertificate: pulumi.Input<string | undefined>;
}

/**
 * Installs a registry's CA certificate at `/etc/docker/certs.d/<registry>/ca.crt` on a list of
 * hosts, idempotently, so their dockerd trusts a registry served with TLS from a private CA
 * (no `insecure-registries`). Deleting it removes the certificate again.
 */
/** A PEM CA certificate; undefined (a registry without TLS) has none to trust. */
function requireCaCertificate(argument: string, pem: string | undefined): void {
  if (pem === undefined) {
    fail(
      argument,
      undefined,
      "The registry has no CA (a Harbor with tls: false serves plain HTTP): trust a TLS registry, or list a plain-HTTP one in SwarmCluster's insecureRegistries.",
    );
  }
  if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
    fail(argument, "(not PEM)", "Give a PEM certificate starting with -----BEGIN CERTIFICATE-----.");
  }
}

export class RegistryTrust extends pulumi.ComponentResource {
  /** The directory the CA went to on each host, `/etc/docker/certs.d/<registry>`. */
  readonly certificateDir: pulumi.Output<string>;
  /** Names of the hosts that trust the registry. */
  readonly hostNames: string[];

  constructor(name: string, args: RegistryTrustArgs, opts?: pulumi.ComponentResourceOptions) {
    const owner: CheckOwner = { type: TOKENS.RegistryTrust.type, name };
    validateComponentArgs(TOKENS.RegistryTrust.type, name, () => {
      if (!Array.isArray(args.hosts) || args.hosts.length === 0) {
        fail("hosts", args.hosts, "Pass the SwarmHosts that pull from the registry (every swarm node).");
      }
      const seen = new Set<string>();
      args.hosts.forEach((host, index) => {
        requireDnsLabel(`hosts[${index}].name`, host.name);
        if (seen.has(host.name)) fail(`hosts[${index}].name`, host.name, "Host names must be unique.");
        seen.add(host.name);
      });
      if (args.registry === undefined) fail("registry", undefined, 'Give the registry, e.g. "10.0.1.5:443".');
      if (isKnown(args.registry)) requireRegistryName("registry", args.registry);
      if (args.caCertificate === undefined)
        fail("caCertificate", undefined, "Give the CA certificate (PEM).");
      if (isKnown(args.caCertificate)) requireCaCertificate("caCertificate", args.caCertificate);
    });
    super(TOKENS.RegistryTrust.type, name, {}, withTokenAliases("RegistryTrust", opts));
    owner.resource = this;

    // Outputs (a Harbor's registry name and CA) are held to the same rules when they resolve.
    const registry = pulumi.output(checkedInput("registry", args.registry, requireRegistryName, owner));
    const ca = checkedInput("caCertificate", args.caCertificate, requireCaCertificate, owner);
    const stdin = pulumi.secret(pulumi.output(ca).apply((pem) => `${(pem ?? "").trim()}\n`));
    this.hostNames = args.hosts.map((host) => host.name);
    for (const host of args.hosts) {
      new remote.Command(
        `${name}-${host.name}`,
        {
          connection: host.connection,
          create: registry.apply((r) => asRoot(renderTrustScript(host.name, r))),
          update: registry.apply((r) => asRoot(renderTrustScript(host.name, r))),
          delete: registry.apply((r) => asRoot(renderUntrustScript(host.name, r))),
          stdin,
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: host.dependsOn,
          // A new registry name is a new directory: remove the old one first (same path on a
          // CA change is an in-place update, which never deletes what it just wrote).
          replaceOnChanges: ["create"],
          deleteBeforeReplace: true,
        },
      );
    }
    this.certificateDir = registry.apply((r) => `${DOCKER_CERTS_DIR}/${r}`);
    this.registerOutputs({ certificateDir: this.certificateDir, hostNames: this.hostNames });
  }
}
