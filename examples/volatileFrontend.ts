import type { SwarmClusterLike } from "../components/cluster/types";
import { OverlayNetwork } from "../components/workloads/overlayNetwork";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker network create -d overlay --attachable volatile
 *   docker service create --name volatile_frontend_svc --replicas 3 --network volatile \
 *     -p 80:80 --update-parallelism 2 --update-delay 1s nginx:1.27-alpine
 */
export function volatileFrontend(cluster: SwarmClusterLike) {
  const network = new OverlayNetwork("volatile", { cluster });
  const frontend = new SwarmService("volatile_frontend_svc", {
    cluster,
    image: "nginx:1.27-alpine",
    replicas: 3,
    networks: [network],
    ports: [{ target: 80, published: 80 }],
    updatePolicy: { parallelism: 2, delay: "1s" },
  });
  return { network, frontend };
}
