// The public API of pulumi-swarm: re-exports only.
export type { SwarmHost, SshConnection } from "./components/hosts/types";
export { existingHosts } from "./components/hosts/existing";
export type { ExistingServerArgs, ExistingHostsDefaults, BastionArgs } from "./components/hosts/existing";
export { ValidationError } from "./components/validation";
