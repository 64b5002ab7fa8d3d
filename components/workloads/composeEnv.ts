import { isEnvName, isReservedEnvName } from "../shell";
import { fail } from "../validation";

/*
 * The environment of a ComposeStack: the variables `docker stack deploy` interpolates into the
 * compose file. They reach only the docker process (see renderStackDeployScript), so a name equal to
 * one of the deploy script's own variables changes nothing; names that steer the shell that starts
 * docker, the dynamic loader or the Docker CLI itself are refused here.
 */

/**
 * Throws unless every key is a shell variable name (compose interpolates `${NAME}`) that does not
 * steer the shell, the loader or the Docker CLI. Names only: a value never appears in an error.
 */
export function requireEnvNames(argument: string, env: Record<string, unknown>): void {
  for (const key of Object.keys(env)) {
    if (!isEnvName(key)) {
      fail(
        `${argument}.${key}`,
        key,
        "Use variable names of letters, digits and '_', not starting with a digit.",
      );
    }
    if (isReservedEnvName(key)) {
      fail(
        `${argument}.${key}`,
        key,
        "This name steers the shell, the loader or the Docker CLI that deploys the stack (PATH, HOME, IFS, DOCKER_*, LD_*, BASH*, proxies...); rename it in the compose file and here, e.g. with an APP_ prefix.",
      );
    }
  }
}
