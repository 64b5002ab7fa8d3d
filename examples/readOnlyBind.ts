import type { SwarmClusterLike } from "../components/cluster/types";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker service create --name static-site --replicas 2 -p 8081:80 --constraint node.labels.web==true \
 *     --mount type=bind,source=/srv/www,target=/usr/share/nginx/html,readonly nginx:1.27-alpine
 * /srv/www must exist on every node the constraint allows.
 */
export function readOnlyBind(cluster: SwarmClusterLike) {
  const site = new SwarmService("static-site", {
    cluster,
    image: "nginx:1.27-alpine",
    replicas: 2,
    ports: [{ target: 80, published: 8081 }],
    constraints: ["node.labels.web==true"],
    mounts: [{ type: "bind", source: "/srv/www", target: "/usr/share/nginx/html", readOnly: true }],
  });
  return { site };
}
