import type { SwarmClusterLike } from "../components/cluster/types";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker service create --name node-exporter --mode global \
 *     --publish mode=host,target=9100,published=9100 prom/node-exporter:v1.8.2
 */
export function globalService(cluster: SwarmClusterLike) {
  const exporter = new SwarmService("node-exporter", {
    cluster,
    image: "prom/node-exporter:v1.8.2",
    mode: "global",
    // One task per node, so a host-mode port never collides.
    ports: [{ target: 9100, published: 9100, mode: "host" }],
  });
  return { exporter };
}
