/**
 * The seeds' systems as Pulumi programs on a swarm: a Flask hit counter backed by Redis, a Redis
 * Cluster that grows, and rolling updates with the seeds' policies. Each function declares one
 * scenario on a cluster; `scripts/scenario.ts` runs them on the built-in lab with one command, and
 * test/lab/engine-scenarios.test.ts proves them through the real engine.
 *
 * Images come from the lab registry (test/lab/images): `<registry>/lab/<name>:<tag>`.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import type { SwarmClusterLike } from "../components/cluster/types";
import type { OverlayNetwork } from "../components/workloads/overlayNetwork";
import { MySqlReplication } from "../components/workloads/mysqlReplication";
import { RedisCluster } from "../components/workloads/redisCluster";
import { renderRedisNodeCommand } from "../components/workloads/scripts/redis";
import { SwarmService } from "../components/workloads/swarmService";

/** Image references by recipe name, e.g. { redis: "10.213.91.11:5000/lab/redis:7.0.15-1-deb12u7" }. */
export type LabImages = Record<string, string>;

function image(images: LabImages, name: string): string {
  const ref = images[name];
  if (!ref) throw new Error(`no "${name}" image: build it with test/lab/images/build.sh ${name}`);
  return ref;
}

/**
 * A password made on the manager from /dev/urandom, once (the command runs on create only), kept
 * secret in state and never logged. Stands in for @pulumi/random's RandomPassword on machines where
 * the `random` provider plugin cannot be had (this lab: "no resource plugin 'pulumi-resource-random'
 * found"); elsewhere pass a RandomPassword's `result` instead.
 */
export function managerPassword(cluster: SwarmClusterLike, name: string): pulumi.Output<string> {
  const cmd = new remote.Command(
    name,
    {
      connection: cluster.managerHost.connection,
      create: "head -c 24 /dev/urandom | base64 | tr -d '/+=\\n'",
      logging: "none",
      addPreviousOutputInEnv: false,
    },
    { additionalSecretOutputs: ["stdout"], dependsOn: cluster.ready ?? [cluster.provider] },
  );
  return pulumi.secret(cmd.stdout);
}

/**
 * The seeds' hit counter (`docker stack deploy` of web + redis, web on 8000): a Redis with a generated
 * password in a swarm secret, and the Flask app on 2 nodes (one task per node, port 8000 published on
 * the nodes that run it: host mode, since the lab has no IPVS for the routing mesh).
 */
export function hitCounter(cluster: SwarmClusterLike, network: OverlayNetwork, images: LabImages) {
  const password = managerPassword(cluster, "hits-redis-password");
  const passwordSecret = { name: "redis-password", data: password, fileName: "redis-password" };
  const redis = new SwarmService("hits-redis", {
    cluster,
    image: image(images, "redis"),
    command: [
      "sh",
      "-c",
      renderRedisNodeCommand("hits-redis", "/run/secrets/redis-password").replace(
        / --cluster-enabled.*$/,
        "",
      ),
    ],
    endpointMode: "dnsrr",
    networks: [network],
    mounts: [{ type: "volume", source: "hits-redis-data", target: "/data" }],
    secrets: [passwordSecret],
  });
  const web = new SwarmService(
    "hits-web",
    {
      cluster,
      image: image(images, "web"),
      replicas: 2,
      maxReplicasPerNode: 1,
      endpointMode: "dnsrr",
      networks: [network],
      ports: [{ target: 8000, published: 8000, mode: "host" }],
      env: { REDIS_HOST: "hits-redis", REDIS_PASSWORD_FILE: "/run/secrets/redis-password" },
      secrets: [{ ...passwordSecret, name: "web-redis-password" }],
      healthcheck: { test: "curl -fsS http://127.0.0.1:8000/health", interval: "2s", retries: 5 },
    },
    { dependsOn: [redis] },
  );
  return { redis, web, password };
}

/** The seeds' Redis Cluster: `masters` masters with `replicasPerMaster` replicas each (3+3, grown to 4+4). */
export function redisCluster(
  cluster: SwarmClusterLike,
  network: OverlayNetwork,
  images: LabImages,
  size: { masters: number; replicasPerMaster: number },
  nodes?: string[],
) {
  return new RedisCluster("rc", {
    cluster,
    network,
    image: image(images, "redis"),
    masters: size.masters,
    replicasPerMaster: size.replicasPerMaster,
    nodes,
    password: managerPassword(cluster, "rc-password"),
  });
}

/**
 * A lab image under another tag of the same repository, still pinned by digest: `lab/redis:7.0.15@sha256:x`
 * -> `lab/redis:latest@sha256:x`.
 */
export function retag(ref: string, tag: string): string {
  return ref.replace(/:[^:@/]+(@sha256:[0-9a-f]+)?$/, `:${tag}$1`);
}

/**
 * The seeds' rolling updates: nginx scaled to 3 and rolled 2 at a time with 1s between batches
 * (`--update-parallelism 2 --update-delay 1s`), and Redis (3 tasks) rolled with `--update-delay 10s`.
 * `tag` "latest" moves both to their `:latest` tag (the version tag otherwise): a rolling update.
 */
export function rollingServices(cluster: SwarmClusterLike, images: LabImages, tag: "version" | "latest") {
  const ref = (name: string) =>
    tag === "latest" ? retag(image(images, name), "latest") : image(images, name);
  const nginx = new SwarmService("roll-nginx", {
    cluster,
    image: ref("nginx"),
    replicas: 3,
    endpointMode: "dnsrr",
    updatePolicy: { parallelism: 2, delay: "1s" },
  });
  const redis = new SwarmService("roll-redis", {
    cluster,
    image: ref("redis"),
    replicas: 3,
    endpointMode: "dnsrr",
    updatePolicy: { parallelism: 1, delay: "10s" },
    waitForConvergence: { timeout: "5m" },
  });
  return { nginx, redis };
}

/** The seeds' MySQL source + replica, as MariaDB with GTID replication (passwords made on the manager). */
export function mysqlReplication(
  cluster: SwarmClusterLike,
  network: OverlayNetwork,
  images: LabImages,
  nodes?: string[],
) {
  return new MySqlReplication("db", {
    cluster,
    network,
    image: image(images, "mariadb"),
    replicas: 1,
    nodes,
    passwords: {
      admin: managerPassword(cluster, "db-admin-password"),
      replication: managerPassword(cluster, "db-repl-password"),
      app: managerPassword(cluster, "db-app-password"),
    },
  });
}

/** Prometheus's configuration: every node-exporter task, found by the swarm's DNS. */
export function prometheusConfig(exporterService: string): string {
  return [
    "global:",
    "  scrape_interval: 5s",
    "scrape_configs:",
    "  - job_name: node",
    "    dns_sd_configs:",
    `      - names: ["tasks.${exporterService}"]`,
    "        type: A",
    "        port: 9100",
    "        refresh_interval: 5s",
    "",
  ].join("\n");
}

/** Grafana's provisioned data source: the Prometheus service on the same overlay network. */
export function grafanaDatasource(prometheusService: string): string {
  return [
    "apiVersion: 1",
    "datasources:",
    "  - name: Prometheus",
    "    type: prometheus",
    "    access: proxy",
    `    url: http://${prometheusService}:9090`,
    "    isDefault: true",
    "",
  ].join("\n");
}

/**
 * The seeds' container monitoring, with what this machine can have: node-exporter as a global
 * service (one task per node), Prometheus scraping every task (on a manager, port 9090), and Grafana
 * declared with its data source provisioned. No Grafana image can be had here (it is neither in
 * Debian nor buildable offline), so the lab runs this without `grafanaImage` and Grafana is never run.
 */
export function monitoring(
  cluster: SwarmClusterLike,
  network: OverlayNetwork,
  images: LabImages,
  opts: { grafanaImage?: string } = {},
) {
  const exporter = new SwarmService("node-exporter", {
    cluster,
    image: image(images, "node-exporter"),
    mode: "global",
    endpointMode: "dnsrr",
    networks: [network],
    command: ["prometheus-node-exporter"],
  });
  const prometheus = new SwarmService(
    "prometheus",
    {
      cluster,
      image: image(images, "prometheus"),
      endpointMode: "dnsrr",
      networks: [network],
      constraints: ["node.role==manager"],
      ports: [{ target: 9090, published: 9090, mode: "host" }],
      command: [
        "prometheus",
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--web.listen-address=:9090",
      ],
      mounts: [{ type: "volume", source: "prometheus-data", target: "/prometheus" }],
      configs: [
        {
          name: "prometheus-yml",
          data: prometheusConfig("node-exporter"),
          fileName: "/etc/prometheus/prometheus.yml",
        },
      ],
    },
    { dependsOn: [exporter] },
  );
  const grafana = opts.grafanaImage
    ? new SwarmService("grafana", {
        cluster,
        image: opts.grafanaImage,
        endpointMode: "dnsrr",
        networks: [network],
        ports: [{ target: 3000, published: 3000, mode: "host" }],
        configs: [
          {
            name: "grafana-datasource",
            data: grafanaDatasource("prometheus"),
            fileName: "/etc/grafana/provisioning/datasources/prometheus.yml",
          },
        ],
      })
    : undefined;
  return { exporter, prometheus, grafana };
}
