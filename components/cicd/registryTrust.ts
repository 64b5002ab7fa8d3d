import * as pulumi from "@pulumi/pulumi";
import * as remote from "@pulumi/command/remote";
import { SwarmHost } from "../hosts/types";
import {
  CheckOwner,
  checkedInput,
  fail,
  isKnown,
  requireDnsLabel,
  validateComponentArgs,
} from "../validation";
import { asRemoteCommand } from "../shell";
import { TOKENS, withTokenAliases } from "../tokens";
import { HostKeyOptions, pinHostKeys, validateHostKeyArgs } from "../ssh/hostKeys";
import {
  DOCKER_CERTS_DIR,
  renderTrustScript,
  renderUntrustScript,
  requireRegistryName,
} from "./scripts/registryTrust";

export {
  DOCKER_CERTS_DIR,
  isRegistryName,
  renderTrustScript,
  renderUntrustScript,
} from "./scripts/registryTrust";

/** Arguments of {@link RegistryTrust} (with `hostKeys` and `acceptHostKeys`, as on the SwarmCluster). */
export interface RegistryTrustArgs extends HostKeyOptions {
  /**
   * Hosts whose dockerd must trust the registry: every swarm node that pulls from it. Give
   * `SwarmCluster.hosts`: they come with the cluster's host key pins and are not pinned again;
   * other hosts are pinned here. Required, non-empty.
   */
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
      validateHostKeyArgs(args, args.hosts, "RegistryTrust");
    });
    super(TOKENS.RegistryTrust.type, name, {}, withTokenAliases("RegistryTrust", opts));
    owner.resource = this;

    // Outputs (a Harbor's registry name and CA) are held to the same rules when they resolve.
    const registry = pulumi.output(checkedInput("registry", args.registry, requireRegistryName, owner));
    const ca = checkedInput("caCertificate", args.caCertificate, requireCaCertificate, owner);
    const stdin = pulumi.secret(pulumi.output(ca).apply((pem) => `${(pem ?? "").trim()}\n`));
    this.hostNames = args.hosts.map((host) => host.name);
    const hosts = pinHostKeys({ component: "RegistryTrust", name, parent: this }, args.hosts, args);
    for (const host of hosts) {
      new remote.Command(
        `${name}-${host.name}`,
        {
          connection: host.connection,
          create: registry.apply((r) => asRemoteCommand(renderTrustScript(host.name, r), { root: true })),
          update: registry.apply((r) => asRemoteCommand(renderTrustScript(host.name, r), { root: true })),
          delete: registry.apply((r) => asRemoteCommand(renderUntrustScript(host.name, r), { root: true })),
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
