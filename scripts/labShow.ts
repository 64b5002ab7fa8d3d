import { eventually, Lab } from "../test/lab/lab";

/**
 * Waits (up to 120 s) for every service of the given compose stacks to run all its replicas, then
 * prints `docker node ls` and `docker stack services` from the first lab host. Throws, naming the
 * command to look with, when the stacks do not converge.
 */
export async function showConvergedLab(lab: Lab, stacks: string[]): Promise<void> {
  const manager = lab.hosts[0].name;
  console.log("\n==> waiting for the services to converge");
  const converged = await eventually(120, async () => {
    for (const stack of stacks) {
      const replicas = await lab.sh(manager, `docker stack services ${stack} --format '{{.Replicas}}'`);
      if (
        !replicas
          .trim()
          .split("\n")
          .every((r) => /^(\d+)\/\1\b/.test(r))
      )
        return false;
    }
    return true;
  });
  if (!converged) {
    throw new Error(
      `the stacks did not converge in 120 s; see: docker stack ps --no-trunc ${stacks.join(" ")}`,
    );
  }
  console.log(`\n==> nodes (docker node ls on ${manager})\n${await lab.sh(manager, "docker node ls")}`);
  for (const stack of stacks) {
    console.log(
      `\n==> services (docker stack services ${stack})\n${await lab.sh(manager, `docker stack services ${stack}`)}`,
    );
  }
}
