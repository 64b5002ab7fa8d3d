import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderCloudUserData } from "./scripts/cloudinit";

/*
 * Host keys of cloud instances, known before first contact: each instance gets its own Ed25519 SSH
 * host key, generated with @pulumi/tls and installed by cloud-init from the user data, so its
 * SwarmHost's `connection.hostKey` is set before the instance ever answers.
 *
 * Existing stacks: the instances keep `ignoreChanges: ["userData"]` (user data only runs on first
 * boot; changing it would stop/start or replace a running node). So an instance created before
 * this feature never receives the key generated now, and pinning that key would lock the cluster
 * out of it. The key is therefore handed out only when the instance's recorded user data is the
 * one holding it (the instance was created with it); otherwise the host gets no `hostKey` and the
 * cluster learns the instance's own key on first contact (SwarmCluster `hostKeys: "pin"`).
 */

/** One instance's generated host key and the user data that installs it. */
export interface CloudHostKey {
  /** The key pair resource (private key secret). */
  key: tls.PrivateKey;
  /** The public key line ("ssh-ed25519 AAAA..."). */
  publicKey: pulumi.Output<string>;
  /** The user data to launch the instance with (secret: it holds the private host key). */
  userData: pulumi.Output<string>;
}

/** Generates the host key of instance `resourceName` and renders its user data. */
export function cloudHostKey(
  resourceName: string,
  user: string,
  installDocker: boolean,
  parent: pulumi.Resource,
  encode: (userData: string) => string = (u) => u,
): CloudHostKey {
  const key = new tls.PrivateKey(
    `${resourceName}-host-key`,
    { algorithm: "ED25519" },
    { parent, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] },
  );
  const publicKey = key.publicKeyOpenssh.apply((k) => k.trim());
  const userData = pulumi.secret(
    pulumi
      .all([key.privateKeyOpenssh, publicKey])
      .apply(([privateKey, pub]) =>
        encode(renderCloudUserData({ user, installDocker, hostKey: { privateKey, publicKey: pub } })),
      ),
  );
  return { key, publicKey, userData };
}

/**
 * Whether an instance's recorded `userData` is `sent`: providers record it as given, base64 or as
 * its SHA-1 (the AWS provider's state), so each form counts.
 */
export function launchedWith(recorded: string | undefined, sent: string): boolean {
  if (!recorded) return false;
  const sha1 = crypto.createHash("sha1").update(sent).digest("hex");
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(recorded) ? Buffer.from(recorded, "base64").toString() : "";
  return (
    recorded === sent ||
    recorded === sha1 ||
    recorded === Buffer.from(sent).toString("base64") ||
    decoded === sent
  );
}

/** The host key to pin for an instance: the generated one when the instance was launched with it, else undefined. */
export function pinnableHostKey(
  hostKey: CloudHostKey,
  recordedUserData: pulumi.Output<string | undefined>,
): pulumi.Output<string | undefined> {
  return pulumi
    .all([recordedUserData, hostKey.userData, hostKey.publicKey])
    .apply(([recorded, sent, pub]) => (launchedWith(recorded, sent) ? pub : undefined));
}
