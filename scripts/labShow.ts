import { eventually, Lab } from "../test/lab/lab";

/** True when every `Replicas` cell reads "n/n" (all tasks running). */
const allRunning = (replicas: string) =>
  replicas
    .trim()
    .split("\n")
    .filter(Boolean)
    .every((r) => /^(\d+)\/\1\b/.test(r));

/**
 * Waits (up to 120 s) for every service of the given compose stacks and every named service to run
 * all its replicas, then prints `docker node ls`, `docker service ls` and the tasks of each named
 * service from the first lab host. Throws, naming the command to look with, when they do not converge.
 */
export async function showConvergedLab(lab: Lab, stacks: string[], services: string[] = []): Promise<void> {
  const manager = lab.hosts[0].name;
  console.log("\n==> waiting for the services to converge");
  const converged = await eventually(120, async () => {
    for (const stack of stacks) {
      if (!allRunning(await lab.sh(manager, `docker stack services ${stack} --format '{{.Replicas}}'`)))
        return false;
    }
    for (const service of services) {
      if (
        !allRunning(
          await lab.sh(manager, `docker service ls --filter name=${service} --format '{{.Replicas}}'`),
        )
      )
        return false;
    }
    return true;
  });
  if (!converged) {
    throw new Error(
      `the services did not converge in 120 s; see: docker service ps --no-trunc ${[...services].join(" ")} and docker stack ps ${stacks.join(" ")}`,
    );
  }
  console.log(`\n==> nodes (docker node ls on ${manager})\n${await lab.sh(manager, "docker node ls")}`);
  console.log(`\n==> services (docker service ls)\n${await lab.sh(manager, "docker service ls")}`);
  for (const service of services) {
    console.log(
      `\n==> tasks of ${service} (docker service ps)\n${await lab.sh(manager, `docker service ps ${service} --format '{{.Name}} {{.Node}} {{.CurrentState}}'`)}`,
    );
  }
}
