import { fail } from "../validation";

/*
 * Ports a service must never publish. A published port opens on every node through the routing
 * mesh (ingress mode) or on each node a task runs on (host mode), and these belong to the node
 * itself: SSH, the Docker Engine API, and the swarm's own management, gossip and data path ports.
 */

/** The swarm's default VXLAN data path port (UDP). */
const DEFAULT_DATA_PATH_PORT = 4789;

/** What each reserved port is, by number, for the given data path port. */
export function reservedPorts(dataPathPort = DEFAULT_DATA_PATH_PORT): Map<number, string> {
  return new Map<number, string>([
    [22, "SSH"],
    [2375, "the Docker Engine API"],
    [2376, "the Docker Engine API (TLS)"],
    [2377, "swarm management"],
    [7946, "swarm gossip"],
    [dataPathPort, "the swarm's VXLAN data path"],
  ]);
}

/** Throws when `published` is a reserved port of a cluster whose data path port is `dataPathPort`. */
export function requireUnreservedPort(argument: string, published: number, dataPathPort?: number): void {
  const what = reservedPorts(dataPathPort).get(published);
  if (what !== undefined) {
    fail(
      argument,
      published,
      `Port ${published} is ${what} on every node; publishing it through the routing mesh would open it on all of them. Pick another port (e.g. above 1024).`,
    );
  }
}
