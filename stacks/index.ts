/**
 * The Pulumi entry point (`main: stacks/` in Pulumi.yaml): reads the stack's `pulumi-swarm:*`
 * config, validates it (every error names the key, the value and the fix), builds the stack with
 * `buildStack` and exports its outputs. Secrets are read with `getSecret` only and stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, PROJECT, SECRET_KEYS } from "./config";
import { buildStack, parseStackConfig, StackConfigError, StackSecrets } from "./program";

const PLAIN_KEYS = new Set<string>(Object.values(CONFIG_KEYS));
const SECRET_KEY_SET = new Set<string>(Object.values(SECRET_KEYS));

/** The plain `pulumi-swarm:*` values; unknown keys are passed on (value hidden) so they are reported. */
function plainConfig(all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(all)) {
    if (!key.startsWith(`${PROJECT}:`) || SECRET_KEY_SET.has(key)) continue;
    if (!PLAIN_KEYS.has(key)) {
      // Possibly a mistyped secret key: never echo its value.
      raw[key] = "(not shown)";
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return raw;
}

/** The secret values, as secret Outputs; presence is read from the key list, never the value. */
function secretConfig(config: pulumi.Config, all: Record<string, string>): StackSecrets {
  const present = (key: string) => all[key] !== undefined && all[key] !== "";
  const name = (key: string) => key.slice(PROJECT.length + 1);
  const secret = (key: string) => (present(key) ? config.requireSecret(name(key)) : undefined);
  const secrets: StackSecrets = {
    sshPrivateKey: secret(SECRET_KEYS.sshPrivateKey),
    gitlabRootPassword: secret(SECRET_KEYS.gitlabRootPassword),
    harborAdminPassword: secret(SECRET_KEYS.harborAdminPassword),
    sonarqubeAdminPassword: secret(SECRET_KEYS.sonarqubeAdminPassword),
    gitlabApiToken: secret(SECRET_KEYS.gitlabApiToken),
  };
  if (present(SECRET_KEYS.composeSecrets)) {
    let names: string[] = [];
    try {
      names = Object.keys(JSON.parse(all[SECRET_KEYS.composeSecrets]) as Record<string, unknown>);
    } catch {
      throw new pulumi.RunError(
        `${SECRET_KEYS.composeSecrets}: received a value that is not a map (not shown). Set each variable with \`pulumi config set --secret --path '${SECRET_KEYS.composeSecrets}.NAME' <value>\`.`,
      );
    }
    const values = config.requireSecretObject<Record<string, string>>(name(SECRET_KEYS.composeSecrets));
    secrets.composeSecrets = Object.fromEntries(
      names.map((n) => [n, pulumi.secret(values.apply((v) => v[n]))]),
    );
  }
  return secrets;
}

function main() {
  const all = pulumi.runtime.allConfig();
  try {
    const config = parseStackConfig(plainConfig(all), `stack ${pulumi.getStack()}`);
    return buildStack(config, secretConfig(new pulumi.Config(PROJECT), all)).outputs;
  } catch (err) {
    if (err instanceof StackConfigError) {
      // RunError: the engine shows the message without a stack trace.
      throw new pulumi.RunError(
        `The config of stack "${pulumi.getStack()}" (stacks/Pulumi.${pulumi.getStack()}.yaml) is not valid:\n${err.message}`,
      );
    }
    throw err;
  }
}

const outputs = main();

export const clusterName = outputs.clusterName;
export const managerAddress = outputs.managerAddress;
export const clusterId = outputs.clusterId;
export const nodeIds = outputs.nodeIds;
export const managers = outputs.managers;
export const workers = outputs.workers;
export const sshAddresses = outputs.sshAddresses;
export const managerJoinToken = outputs.managerJoinToken;
export const workerJoinToken = outputs.workerJoinToken;
export const unlockKey = outputs.unlockKey;
export const sshPrivateKeys = outputs.sshPrivateKeys;
export const networks = outputs.networks;
export const services = outputs.services;
export const composeStacks = outputs.composeStacks;
export const urls = outputs.urls;
export const harborRegistry = outputs.harborRegistry;
export const adminCredentials = outputs.adminCredentials;
export const jenkinsDeployPublicKey = outputs.jenkinsDeployPublicKey;
