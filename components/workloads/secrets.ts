import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { fail } from "../validation";

/** Base64 (standard alphabet, as the provider decodes it) of plain text, kept secret. */
export function secretBase64(data: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(data).apply((text) => Buffer.from(text, "utf8").toString("base64")));
}

/** Throws unless a secret/config entry gives exactly one of its two sources. */
export function requireOneSource(
  argument: string,
  given: { data?: unknown; existing?: unknown },
  names: string,
): void {
  const count = (given.data !== undefined ? 1 : 0) + (given.existing !== undefined ? 1 : 0);
  if (count !== 1) {
    // Never print the data itself: say only which fields were given.
    fail(argument, count === 0 ? "neither" : "both", `Give exactly one of ${names}.`);
  }
}

/**
 * A swarm secret holding `data` (plain text). The Docker name is left to Pulumi's auto-naming: secrets
 * are immutable, so new data replaces the secret under a new name (create-before-delete) while the
 * services using it move over, instead of failing on a name still in use.
 */
export function swarmSecret(
  name: string,
  data: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
  labels?: Record<string, string>,
): docker.Secret {
  return new docker.Secret(name, swarmFileArgs(data, labels), opts);
}

/** A swarm config holding `data` (plain text), stored secret in state; auto-named like {@link swarmSecret}. */
export function swarmConfig(
  name: string,
  data: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
  labels?: Record<string, string>,
): docker.ServiceConfig {
  return new docker.ServiceConfig(name, swarmFileArgs(data, labels), opts);
}

/** The arguments a swarm secret and a swarm config share: base64 data kept secret, optional labels. */
function swarmFileArgs(
  data: pulumi.Input<string>,
  labels: Record<string, string> | undefined,
): { data: pulumi.Output<string>; labels?: { label: string; value: string }[] } {
  return {
    data: secretBase64(data),
    ...(labels ? { labels: Object.entries(labels).map(([label, value]) => ({ label, value })) } : {}),
  };
}
