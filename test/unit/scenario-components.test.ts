import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as dockerTypes from "@pulumi/docker";
import { installMocks, isSecretInput, RecordedResource, settle, unwrapSecrets } from "../helpers/mocks";
import type { SwarmClusterLike } from "../../components/cluster/types";
import {
  renderInitSql,
  renderMariadbCommand,
  renderReplicationSetupScript,
} from "../../components/workloads/scripts/mysql";
import { renderRedisConvergeScript, renderRedisNodeCommand } from "../../components/workloads/scripts/redis";

let resources: RecordedResource[] = [];
let docker: typeof dockerTypes;
let redis: typeof import("../../components/workloads/redisCluster");
let mysql: typeof import("../../components/workloads/mysqlReplication");
let examples: typeof import("../../examples/scenarios");

beforeAll(async () => {
  ({ resources } = await installMocks());
  docker = await import("@pulumi/docker");
  redis = await import("../../components/workloads/redisCluster");
  mysql = await import("../../components/workloads/mysqlReplication");
  examples = await import("../../examples/scenarios");
});

beforeEach(() => {
  resources.length = 0;
});

let clusters = 0;
function fakeCluster(): SwarmClusterLike {
  clusters++;
  return {
    provider: new docker.Provider(`sc-${clusters}`, { host: "ssh://root@10.0.0.1:22" }),
    managerHost: {
      name: "manager-1",
      connection: { host: "10.0.0.1", user: "root", privateKey: pulumi.secret("PRIVATE-KEY") },
      advertiseAddr: "10.0.0.1",
    },
    managerAddress: pulumi.output("10.0.0.1:2377"),
    spansNetworks: false,
  };
}
const network = { networkId: pulumi.output("net-id"), networkName: pulumi.output("apps") };

function shellcheck(script: string): void {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "scen-sc-")), "s.sh");
  fs.writeFileSync(file, `#!/bin/sh\n${script}\n`);
  execFileSync("sh", ["-n", file]);
  execFileSync("shellcheck", ["-s", "sh", file]);
}

describe("Redis cluster scripts", () => {
  it("names masters and replicas from the sizes (3+3 grown to 4+4 keeps the old names)", () => {
    const small = redis.redisTopology("rc", 3, 1);
    const big = redis.redisTopology("rc", 4, 1);
    expect(small).toEqual({
      masters: ["rc-m1", "rc-m2", "rc-m3"],
      replicas: [
        { name: "rc-m1-r1", master: "rc-m1" },
        { name: "rc-m2-r1", master: "rc-m2" },
        { name: "rc-m3-r1", master: "rc-m3" },
      ],
    });
    expect(big.masters.slice(0, 3)).toEqual(small.masters);
    expect(big.replicas.slice(0, 3)).toEqual(small.replicas);
  });

  it("the converge script creates from the masters, adds, rebalances, and never holds the password", () => {
    const script = renderRedisConvergeScript(redis.redisTopology("rc", 4, 1), "/run/secrets/redis-password");
    expect(script).toContain(
      "rcli --cluster create 'rc-m1':6379 'rc-m2':6379 'rc-m3':6379 'rc-m4':6379 --cluster-replicas 0 --cluster-yes",
    );
    expect(script).toContain("--cluster-use-empty-masters");
    // Gossip settles before each step: --cluster check skips peers in handshake or disconnected.
    expect(script).toContain(`$3 ~ /fail|handshake|noaddr/ || $8 != "connected"`);
    expect(script).toContain("cluster info | grep -q '^cluster_state:ok' || return 1");
    // A failed rebalance's open slot is closed before the next round.
    expect(script).toContain('rcli --cluster fix "$first:6379" --cluster-yes');
    expect(script).toContain(`--cluster-slave --cluster-master-id "$(rcli -h 'rc-m4'`);
    expect(script).toContain("REDISCLI_AUTH=$(cat '/run/secrets/redis-password')");
    shellcheck(script);
    shellcheck(renderRedisNodeCommand("rc-m1", "/run/secrets/redis-password"));
  });
});

describe("MariaDB scripts", () => {
  const p = { admin: "a'dm", replication: "r\\pl", app: "ap" };
  it("init files: replica clients get SELECT only, users outside the binary log, quotes escaped", () => {
    const source = renderInitSql("source", "app", p);
    const replica = renderInitSql("replica", "app", p);
    expect(source.split("\n")[0]).toBe("SET sql_log_bin=0;");
    expect(source).toContain("IDENTIFIED BY 'a''dm'");
    expect(source).toContain("IDENTIFIED BY 'r\\\\pl'");
    expect(source).toContain("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';");
    expect(source).toContain("GRANT ALL PRIVILEGES ON `app`.* TO 'app'@'%';");
    expect(replica).toContain("GRANT SELECT ON `app`.* TO 'app'@'%';");
    expect(replica).not.toMatch(/GRANT ALL PRIVILEGES ON `app`/);
    expect(replica).not.toContain("repl");
  });

  it("servers log GTID binlogs; replicas are read-only; the setup script is shellcheck-clean", () => {
    expect(renderMariadbCommand(2, "replica", "/run/secrets/init.sql")).toMatch(
      /--server-id=2 .*--gtid-strict-mode=1 --init-file='\/run\/secrets\/init.sql' --read-only=1$/,
    );
    expect(renderMariadbCommand(1, "source", "/x")).not.toContain("read-only");
    const setup = renderReplicationSetupScript(
      "db-source",
      ["db-replica-1"],
      "/run/secrets/a",
      "/run/secrets/r",
    );
    expect(setup).toContain("MASTER_USE_GTID=slave_pos");
    // SHOW SLAVE STATUS\G read with --skip-column-names loses "Slave_IO_Running:" (seen on 10.11):
    // the status is read with the names kept, and matched on them.
    const statusLines = setup.split("\n").filter((l) => l.includes("SHOW SLAVE STATUS"));
    expect(statusLines).toHaveLength(1);
    expect(statusLines[0]).not.toContain("--skip-column-names");
    expect(setup).toContain('*"Slave_IO_Running: Yes"*"Slave_SQL_Running: Yes"*');
    shellcheck(setup);
  });
});

describe("RedisCluster and MySqlReplication components", () => {
  it("RedisCluster: one service per node, a secret password, a converge job after the services", async () => {
    const rc = new redis.RedisCluster("rc", {
      cluster: fakeCluster(),
      network,
      image: "reg/lab/redis:7",
      password: "given-password",
      nodes: ["n1", "n2", "n3"],
    });
    await settle();
    const services = resources.filter((r) => r.type === "docker:index/service:Service").map((r) => r.name);
    expect(services.sort()).toEqual(["rc-m1", "rc-m1-r1", "rc-m2", "rc-m2-r1", "rc-m3", "rc-m3-r1"]);
    const secret = resources.find((r) => r.type === "docker:index/secret:Secret" && r.name === "rc-password");
    expect(isSecretInput(secret?.inputs.data)).toBe(true);
    const job = resources.find((r) => r.type === "swarm:workloads:SwarmJob");
    expect(job?.name).toBe("rc-converge");
    const cmd = resources.find((r) => r.name === "rc-converge-job");
    expect(JSON.stringify(unwrapSecrets(cmd?.inputs))).not.toContain("given-password");
    expect(rc.nodeNames).toHaveLength(6);
  });

  it("RedisCluster refuses fewer than 3 masters and negative replicas", () => {
    expect(
      () => new redis.RedisCluster("bad", { cluster: fakeCluster(), network, image: "i", masters: 2 }),
    ).toThrow(
      'swarm:workloads:RedisCluster "bad": masters: received 2. Redis Cluster needs 3 or more masters',
    );
    expect(
      () =>
        new redis.RedisCluster("bad", { cluster: fakeCluster(), network, image: "i", replicasPerMaster: -1 }),
    ).toThrow("replicasPerMaster: received -1");
  });

  it("MySqlReplication: source + replicas, init files and passwords in secrets, a setup job", async () => {
    new mysql.MySqlReplication("db", {
      cluster: fakeCluster(),
      network,
      image: "reg/lab/mariadb:10.11",
      replicas: 2,
      passwords: { admin: "adm-pw", replication: "repl-pw", app: "app-pw" },
    });
    await settle();
    const services = resources.filter((r) => r.type === "docker:index/service:Service").map((r) => r.name);
    expect(services.sort()).toEqual(["db-replica-1", "db-replica-2", "db-source"]);
    const secrets = resources.filter((r) => r.type === "docker:index/secret:Secret");
    expect(secrets.map((s) => s.name).sort()).toEqual([
      "db-admin-password",
      "db-init-replica",
      "db-init-source",
      "db-repl-password",
    ]);
    for (const s of secrets) expect(isSecretInput(s.inputs.data)).toBe(true);
    const job = resources.find((r) => r.name === "db-setup-job");
    const text = JSON.stringify(unwrapSecrets(job?.inputs));
    for (const pw of ["adm-pw", "repl-pw", "app-pw"]) expect(text).not.toContain(pw);
    expect(
      () => new mysql.MySqlReplication("bad", { cluster: fakeCluster(), network, image: "i", replicas: 0 }),
    ).toThrow('swarm:workloads:MySqlReplication "bad": replicas: received 0');
  });

  it("monitoring renders Prometheus's DNS discovery of every exporter task, and Grafana's data source", () => {
    expect(examples.prometheusConfig("node-exporter")).toContain('names: ["tasks.node-exporter"]');
    expect(examples.prometheusConfig("node-exporter")).not.toContain("cadvisor");
    const both = examples.prometheusConfig("node-exporter", "cadvisor");
    expect(both).toContain('  - job_name: cadvisor\n    dns_sd_configs:\n      - names: ["tasks.cadvisor"]');
    expect(both).toContain("port: 8080");
    expect(examples.grafanaDatasource("prometheus")).toContain("url: http://prometheus:9090");
  });

  it("monitoring with cAdvisor and InfluxDB: global cAdvisor writing to InfluxDB, whose database a job creates", async () => {
    const cluster = fakeCluster();
    examples.monitoring(cluster, network as never, {
      "node-exporter": "r/lab/node-exporter:1",
      prometheus: "r/lab/prometheus:1",
      cadvisor: "r/lab/cadvisor:0.36.0",
      influxdb: "r/lab/influxdb:1.6.7",
    });
    await settle();
    const service = (name: string) =>
      resources.find((r) => r.type === "docker:index/service:Service" && r.name === name);
    const cadvisor = service("cadvisor");
    expect(cadvisor?.inputs.mode).toEqual({ global: true });
    const spec = cadvisor?.inputs.taskSpec as { containerSpec: { commands: string[]; mounts: object[] } };
    expect(spec.containerSpec.commands).toEqual(examples.cadvisorCommand("influxdb"));
    expect(spec.containerSpec.commands).toContain("-storage_driver_host=influxdb:8086");
    expect(spec.containerSpec.mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: "/run", target: "/var/run", readOnly: true, type: "bind" }),
        expect.objectContaining({ source: "/sys", target: "/sys", readOnly: true, type: "bind" }),
      ]),
    );
    expect(service("influxdb")).toBeDefined();
    expect(resources.some((r) => r.name === "influxdb-init-job")).toBe(true);
    expect(resources.some((r) => r.name === "grafana")).toBe(false);
    shellcheck(examples.influxdbInitScript("influxdb"));
    expect(examples.influxdbInitScript("influxdb")).toContain("CREATE DATABASE cadvisor");
  });
});

describe("lab image references", () => {
  it("retag keeps the registry, the repository and the digest", async () => {
    const { retag } = await import("../../examples/scenarios");
    expect(retag("10.213.91.11:5000/lab/redis:7.0.15-1-deb12u7@sha256:9c9e34", "latest")).toBe(
      "10.213.91.11:5000/lab/redis:latest@sha256:9c9e34",
    );
    expect(retag("10.213.91.11:5000/lab/nginx:1.22.1", "latest")).toBe("10.213.91.11:5000/lab/nginx:latest");
  });
});

describe("Redis placement", () => {
  it("pins replicas away from their masters, and growing moves no existing node", async () => {
    const { redisPlacement, redisTopology } = await import("../../components/workloads/redisCluster");
    const nodes = ["n1", "n2", "n3"];
    const small = redisPlacement(redisTopology("rc", 3, 1), nodes);
    const big = redisPlacement(redisTopology("rc", 4, 1), nodes);
    expect(small).toEqual({
      "rc-m1": "n1",
      "rc-m2": "n2",
      "rc-m3": "n3",
      "rc-m1-r1": "n2",
      "rc-m2-r1": "n3",
      "rc-m3-r1": "n1",
    });
    for (const [name, node] of Object.entries(small)) expect(big[name]).toBe(node);
    expect(big["rc-m4"]).toBe("n1");
    expect(big["rc-m4-r1"]).toBe("n2");
  });
});
