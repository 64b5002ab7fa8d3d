import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { SshConnection } from "../hosts/types";

/**
 * The identity of a resource that acts on a node: a hash of the cluster, the node and the SSH
 * connection the resource runs over. Pulumi replaces a command when its connection changes
 * (create the new one, then delete the old one); the new one writes its claim on the node, so the
 * old one's delete sees it no longer owns the node and leaves it alone instead of removing it.
 * Only a hash leaves this function, never the connection's secrets.
 */
export function claimFor(cluster: string, node: string, connection: SshConnection): pulumi.Output<string> {
  return pulumi.unsecret(
    pulumi.output(connection).apply((conn) =>
      crypto
        .createHash("sha256")
        .update(JSON.stringify([cluster, node, conn]))
        .digest("hex")
        .slice(0, 20),
    ),
  );
}
