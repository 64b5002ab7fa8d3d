import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../hosts/types";
import { checkedLate, type CheckOwner } from "../validation";
import { dockerSshOptions, plainConnection, type PlainConnection } from "../ssh/sshOptions";

// The ssh options themselves live in sshOptions.ts (free of @pulumi/pulumi, so the dynamic
// providers that use them serialize small); re-exported here, where they always were.
export { dockerSshDir, dockerSshOptions, writeKeyFile, writeKnownHosts } from "../ssh/sshOptions";

function plain(conn: SshConnection): pulumi.Output<PlainConnection> {
  return pulumi
    .all([conn.host, conn.port, conn.user, conn.privateKey, conn.privateKeyPassword, conn.hostKey])
    .apply(([host, port, user, privateKey, privateKeyPassword, hostKey]) => ({
      host,
      port: port ?? 22,
      user: user ?? "root",
      ...(privateKey ? { privateKey } : {}),
      ...(privateKeyPassword ? { privateKeyPassword } : {}),
      ...(hostKey ? { hostKey } : {}),
    }));
}

/**
 * The `host` and `sshOpts` of a `@pulumi/docker` Provider that reaches the host of `connection`
 * exactly as the cluster's commands do: its key, port, user, pinned host key and bastion. Neither
 * value is secret: they hold paths and addresses, never key material.
 */
export function dockerProviderConnection(
  connection: SshConnection,
  userOptions: string[],
  owner: CheckOwner,
): { host: pulumi.Output<string>; sshOpts: pulumi.Output<string[]> } {
  const proxy = pulumi.output(connection.proxy);
  // Writing the key files can fail (an unusable PULUMI_SWARM_SSH_DIR): the cluster's error then.
  const resolved = pulumi.all([plain(connection), proxy]).apply(([conn, p]) =>
    checkedLate(owner, () => ({
      url: `ssh://${conn.user}@${conn.host}:${conn.port}`,
      opts: dockerSshOptions(conn, p ? plainConnection(p) : undefined, userOptions),
    })),
  );
  return {
    host: pulumi.unsecret(resolved.apply((r) => r.url)),
    sshOpts: pulumi.unsecret(resolved.apply((r) => r.opts)),
  };
}
