import type { SwarmClusterLike } from "../components/cluster/types";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker service create --name uploads --replicas 2 \
 *     --mount 'type=volume,source=uploads,target=/data,volume-driver=local,volume-opt=type=nfs,volume-opt=device=:/exports/uploads,"volume-opt=o=addr=10.0.0.50,rw,nfsvers=4"' \
 *     busybox:1.36 sleep infinity
 */
export function nfsService(cluster: SwarmClusterLike) {
  const uploads = new SwarmService("uploads", {
    cluster,
    image: "busybox:1.36",
    replicas: 2,
    args: ["sleep", "infinity"],
    mounts: [
      { type: "nfs", source: "uploads", target: "/data", server: "10.0.0.50", path: "/exports/uploads" },
    ],
  });
  return { uploads };
}
