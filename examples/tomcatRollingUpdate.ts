import type { SwarmClusterLike } from "../components/cluster/types";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * By hand:
 *   docker service create --name tomcat --replicas 10 -p 8080:8080 \
 *     --update-parallelism 2 --update-delay 3s --update-max-failure-ratio 0.2 --update-failure-action rollback \
 *     --rollback-parallelism 2 --rollback-delay 3s --rollback-max-failure-ratio 0.2 --rollback-failure-action continue \
 *     tomcat:9.0
 */
export function tomcatRollingUpdate(cluster: SwarmClusterLike) {
  const tomcat = new SwarmService("tomcat", {
    cluster,
    image: "tomcat:9.0",
    replicas: 10,
    ports: [{ target: 8080, published: 8080 }],
    updatePolicy: { parallelism: 2, delay: "3s", maxFailureRatio: 0.2, failureAction: "rollback" },
    rollbackPolicy: { parallelism: 2, delay: "3s", maxFailureRatio: 0.2, failureAction: "continue" },
  });
  return { tomcat };
}
