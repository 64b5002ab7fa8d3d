import type { SwarmClusterLike } from "../components/cluster/types";
import { OverlayNetwork } from "../components/workloads/overlayNetwork";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker network create -d overlay --attachable backend
 *   docker service create --name api --replicas 2 --endpoint-mode dnsrr \
 *     --network name=backend,alias=api.internal traefik/whoami:v1.10
 * Other tasks on "backend" resolve "api" to the tasks' own IPs (no virtual IP, no IPVS).
 */
export function dnsrrService(cluster: SwarmClusterLike) {
  const backend = new OverlayNetwork("backend", { cluster });
  const api = new SwarmService("api", {
    cluster,
    image: "traefik/whoami:v1.10",
    replicas: 2,
    endpointMode: "dnsrr",
    networks: [{ network: backend, aliases: ["api.internal"] }],
  });
  return { backend, api };
}
