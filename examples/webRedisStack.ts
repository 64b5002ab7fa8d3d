import * as pulumi from "@pulumi/pulumi";
import type { SwarmClusterLike } from "../components/cluster/types";
import { ComposeStack } from "../components/workloads/composeStack";

/** A web front end and a Redis with a password, as teams write it in a compose file. */
export const webRedisCompose = `services:
  web:
    image: traefik/whoami:v1.10
    ports:
      - "8000:80"
    environment:
      REDIS_URL: "redis://:\${REDIS_PASSWORD}@redis:6379/0"
    deploy:
      replicas: 2
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "\${REDIS_PASSWORD}"]
    deploy:
      replicas: 1
`;

/**
 * By hand: REDIS_PASSWORD=... docker stack deploy -c docker-compose.yml shop
 * Here the password is a Pulumi secret and travels on stdin, never in a command line.
 */
export function webRedisStack(cluster: SwarmClusterLike, redisPassword: pulumi.Input<string>) {
  const shop = new ComposeStack("shop", {
    cluster,
    composeContent: webRedisCompose,
    environment: { REDIS_PASSWORD: pulumi.secret(redisPassword) },
  });
  return { shop };
}
