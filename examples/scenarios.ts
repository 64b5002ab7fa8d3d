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
import { SwarmCluster } from "../components/cluster/swarmCluster";
import type { SwarmClusterLike } from "../components/cluster/types";
import type { SwarmHost } from "../components/hosts/types";
import { OverlayNetwork } from "../components/workloads/overlayNetwork";
import { MySqlReplication } from "../components/workloads/mysqlReplication";
import { RedisCluster } from "../components/workloads/redisCluster";
import { renderRedisNodeCommand } from "../components/workloads/scripts/redis";
import { SwarmJob } from "../components/workloads/swarmJob";
import { SwarmService } from "../components/workloads/swarmService";

/**
 * The scenarios' swarm: the first of `hosts` a manager, the next two workers, every node trusting
 * the image `registry`; and the overlay network `networkName` the scenario's services share.
 */
export function scenarioSwarm(
  name: string,
  hosts: SwarmHost[],
  registry: string,
  networkName: string,
): { cluster: SwarmCluster; network: OverlayNetwork } {
  const cluster = new SwarmCluster(name, {
    nodes: [
      { host: hosts[0], role: "manager" },
      { host: hosts[1], role: "worker" },
      { host: hosts[2], role: "worker" },
    ],
    insecureRegistries: [registry],
  });
  return { cluster, network: new OverlayNetwork(networkName, { cluster, networkName }) };
}

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

/**
 * Prometheus's configuration: every node-exporter task (job "node") and, when given, every cAdvisor
 * task (job "cadvisor"), found by the swarm's DNS (`tasks.<service>`).
 */
export function prometheusConfig(exporterService: string, cadvisorService?: string): string {
  const job = (name: string, service: string, port: number) => [
    `  - job_name: ${name}`,
    "    dns_sd_configs:",
    `      - names: ["tasks.${service}"]`,
    "        type: A",
    `        port: ${port}`,
    "        refresh_interval: 5s",
  ];
  return [
    "global:",
    "  scrape_interval: 5s",
    "scrape_configs:",
    ...job("node", exporterService, 9100),
    ...(cadvisorService ? job("cadvisor", cadvisorService, 8080) : []),
    "",
  ].join("\n");
}

/** The InfluxDB database cAdvisor writes its container statistics to. */
export const CADVISOR_DATABASE = "cadvisor";

/**
 * cAdvisor's command: container statistics of the node's Docker engine (its socket and cgroups are
 * bound in), served on :8080/metrics for Prometheus and written to InfluxDB as the seeds did.
 */
export function cadvisorCommand(influxdbService: string): string[] {
  return [
    "/usr/local/bin/cadvisor",
    "-logtostderr",
    "-docker_only",
    "-housekeeping_interval=10s",
    "-storage_driver=influxdb",
    `-storage_driver_host=${influxdbService}:8086`,
    `-storage_driver_db=${CADVISOR_DATABASE}`,
  ];
}

/** Creates cAdvisor's database once InfluxDB answers (idempotent: CREATE DATABASE of an existing one is a no-op). */
export function influxdbInitScript(influxdbService: string): string {
  return [
    "set -eu",
    "i=0",
    `until influx -host ${influxdbService} -execute 'CREATE DATABASE ${CADVISOR_DATABASE}'; do`,
    '  i=$((i + 1)); [ $i -lt 90 ] || { echo "influxdb-init: InfluxDB does not answer" >&2; exit 1; }; sleep 1',
    "done",
    `influx -host ${influxdbService} -execute 'SHOW DATABASES'`,
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
 * service (one task per node), Prometheus scraping every task (on a manager, port 9090), and
 * Grafana declared with its data source provisioned. With a `cadvisor` image (built from its Go
 * module) cAdvisor runs on every node too, scraped by Prometheus; with an `influxdb` image (Debian's
 * influxdb 1.6) it also writes to InfluxDB as in the seeds, whose database a SwarmJob creates. No
 * Grafana image can be had here (it is neither in Debian nor buildable offline), so the lab runs
 * this without `grafanaImage` and Grafana is never run.
 */
export function monitoring(
  cluster: SwarmClusterLike,
  network: OverlayNetwork,
  images: LabImages,
  opts: { grafanaImage?: string } = {},
) {
  const influxdb = images.influxdb
    ? new SwarmService("influxdb", {
        cluster,
        image: images.influxdb,
        endpointMode: "dnsrr",
        networks: [network],
        constraints: ["node.role==manager"],
        command: ["influxd", "-config", "/etc/influxdb/influxdb.conf"],
        mounts: [{ type: "volume", source: "influxdb-data", target: "/var/lib/influxdb" }],
      })
    : undefined;
  const influxdbInit = influxdb
    ? new SwarmJob(
        "influxdb-init",
        {
          cluster,
          image: image(images, "influxdb"),
          command: ["sh", "-c"],
          args: [influxdbInitScript("influxdb")],
          networks: [network],
          timeoutSeconds: 180,
          triggers: [influxdb.serviceId],
        },
        { dependsOn: [influxdb] },
      )
    : undefined;
  const cadvisor = images.cadvisor
    ? new SwarmService(
        "cadvisor",
        {
          cluster,
          image: images.cadvisor,
          mode: "global",
          endpointMode: "dnsrr",
          networks: [network],
          command: influxdb
            ? cadvisorCommand("influxdb")
            : ["/usr/local/bin/cadvisor", "-logtostderr", "-docker_only", "-housekeeping_interval=10s"],
          mounts: [
            { type: "bind", source: "/", target: "/rootfs", readOnly: true },
            { type: "bind", source: "/run", target: "/var/run", readOnly: true },
            { type: "bind", source: "/sys", target: "/sys", readOnly: true },
          ],
        },
        { dependsOn: influxdbInit ? [influxdbInit] : [] },
      )
    : undefined;
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
          data: prometheusConfig("node-exporter", cadvisor ? "cadvisor" : undefined),
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
  return { exporter, prometheus, grafana, cadvisor, influxdb, influxdbInit };
}
