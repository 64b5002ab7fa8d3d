import { type LabImages, monitoring, mysqlReplication, scenarioSwarm } from "../../examples/scenarios";
import { EngineResult, EngineStack, cliVersion, recordOp } from "../engine/engine";
import { shq } from "../../components/shell";
import { labWithImages } from "./labImages";
import { describeLab, eventually, Lab, useTempSshDir } from "./lab";

jest.setTimeout(30 * 60_000);

/**
 * MariaDB source + replica and the monitoring stack through the REAL engine on lab 92 (1 manager +
 * 2 workers), with images built from Debian packages and served by a lab registry. Read back from
 * the software: a row written on the source is read on the replica (and a replica client cannot
 * write); Prometheus's HTTP API (queried from the manager) returns node-exporter and cAdvisor
 * metrics from the task on every node; cAdvisor's container statistics land in InfluxDB.
 */
describeLab(
  "Scenarios through the real engine (lab 92: MariaDB GTID replication, Prometheus + node-exporter + cAdvisor + InfluxDB)",
  () => {
    const LAB_ID = 92;
    const MANAGER = `lab${LAB_ID}-1`;
    let lab: Lab;
    let stack: EngineStack | undefined;
    let images: LabImages = {};
    let registry = "";
    let releaseSshDir = () => {};
    let destroyed = false;
    const timings: string[] = [];
    const WANTED = ["mariadb", "prometheus", "node-exporter", "cadvisor", "influxdb"];

    const program = () => async () => {
      const hosts = lab.swarmHosts();
      const { cluster, network } = scenarioSwarm("sd", hosts, registry, "data");
      const db = mysqlReplication(cluster, network, images, [hosts[1].name, hosts[2].name]);
      monitoring(cluster, network, images);
      return { dbPasswords: db.passwords, dbJob: db.job.output };
    };

    const op = (title: string, fn: () => Promise<EngineResult>, mustSucceed = true) =>
      recordOp(timings, title, fn, mustSucceed);
    const engine = () => {
      if (!stack) throw new Error("the stack was not created");
      return stack;
    };
    const mgr = (command: string) => lab.sh(MANAGER, command);
    let nodeNames: Record<string, string> = {};

    /** The running tasks of a service: node name, container id there, overlay address. */
    async function runningTasks(service: string) {
      if (!Object.keys(nodeNames).length)
        nodeNames = Object.fromEntries((await lab.nodes(MANAGER)).map((n) => [n.id, n.hostname]));
      const out = await mgr(
        `docker service ps -q --filter desired-state=running ${service} | xargs docker inspect --format '{{.ID}}|{{.NodeID}}|{{.Status.State}}|{{range .NetworksAttachments}}{{range .Addresses}}{{.}} {{end}}{{end}}'`,
      );
      return out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [id, node, state, addrs] = l.split("|");
          return { id, node: nodeNames[node] ?? node, state, addrs: addrs.trim().split(" ") };
        })
        .filter((t) => t.state === "running");
    }
    /** Runs a script (on stdin, so passwords never reach a command line) in a service's task. */
    async function inService(service: string, script: string): Promise<string> {
      const [task] = await runningTasks(service);
      if (!task) throw new Error(`${service} has no running task`);
      const container = (
        await lab.sh(task.node, `docker ps -q --filter label=com.docker.swarm.task.id=${task.id}`)
      ).trim();
      return lab.sh(task.node, `docker exec -i ${container} sh -s`, script);
    }
    const sql = (service: string, password: string, statements: string) =>
      inService(
        service,
        `export MYSQL_PWD='${password}'\nmariadb -u app --batch --skip-column-names app <<'SQL'\n${statements}\nSQL\n`,
      );

    beforeAll(async () => {
      ({ lab, registry, images } = await labWithImages(LAB_ID, 3, WANTED));
      console.log(`pulumi ${cliVersion()}`);
      releaseSshDir = useTempSshDir();
      stack = await EngineStack.create("swarm-engine-scenarios-data", program(), `lab${LAB_ID}`);
    });

    afterAll(async () => {
      console.log(`engine timings (lab ${LAB_ID}):\n  ${timings.join("\n  ")}`);
      if (stack && !destroyed) await stack.cleanUp();
      else await stack?.remove();
      releaseSshDir();
      await lab?.release();
    });

    let passwords: { admin: string; replication: string; app: string };

    it("up: MariaDB source + replica (GTID, setup by a SwarmJob); Prometheus, node-exporter, cAdvisor, InfluxDB", async () => {
      const up = await op(
        "up (cluster, MariaDB source + replica, Prometheus, global node-exporter + cAdvisor, InfluxDB)",
        () => engine().up(program()),
      );
      expect(Object.keys(up.changes)).toEqual(["create"]);
      passwords = up.outputs.dbPasswords.value;
      expect(up.outputs.dbPasswords.secret).toBe(true);
      console.log(`setup job output:\n${String(up.outputs.dbJob?.value).slice(-800)}`);
      const exported = await engine().exportState();
      for (const pw of Object.values(passwords)) expect(exported).not.toContain(pw);
      expect(engine().log.join("")).not.toContain(passwords.app);
    });

    it("a row written on the source is read on the replica; the replica's client cannot write", async () => {
      const marker = `row-${Date.now()}`;
      await sql(
        "db-source",
        passwords.app,
        `CREATE TABLE IF NOT EXISTS hits (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64));\nINSERT INTO hits (note) VALUES ('${marker}');`,
      );
      let read = "";
      expect(
        await eventually(30, async () => {
          read = await sql("db-replica-1", passwords.app, `SELECT note FROM hits WHERE note = '${marker}';`);
          return read.trim() === marker;
        }),
      ).toBe(true);
      console.log(`read on the replica: ${read.trim()}`);
      const write = await (async () => {
        const [task] = await runningTasks("db-replica-1");
        const container = (
          await lab.sh(task.node, `docker ps -q --filter label=com.docker.swarm.task.id=${task.id}`)
        ).trim();
        return lab.ssh(
          task.node,
          `docker exec -i ${container} sh -s`,
          `export MYSQL_PWD='${passwords.app}'\necho "INSERT INTO hits (note) VALUES ('replica-write');" | mariadb -u app app\n`,
        );
      })();
      console.log(`write on the replica: exit ${write.code}: ${write.stderr.trim()}`);
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/INSERT command denied|read-only/);
      const status = await inService(
        "db-replica-1",
        `export MYSQL_PWD='${passwords.admin}'\necho 'SHOW SLAVE STATUS\\G' | mariadb -u admin | grep -E 'Slave_(IO|SQL)_Running:|Using_Gtid'\n`,
      );
      console.log(`replica status:\n${status}`);
      expect(status).toMatch(/Slave_IO_Running: Yes/);
      expect(status).toMatch(/Slave_SQL_Running: Yes/);
      expect(status).toMatch(/Using_Gtid: Slave_Pos/);
    });

    /** A Prometheus HTTP API query, sent from the manager (a lab host) to the node running Prometheus. */
    async function promQuery(
      query: string,
    ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
      const [prom] = await runningTasks("prometheus");
      if (!prom) throw new Error("prometheus has no running task");
      const url = `http://${lab.host(prom.node).ip}:9090/api/v1/query`;
      const out = await mgr(`curl -fsS --max-time 5 -G --data-urlencode ${shq(`query=${query}`)} ${url}`);
      const body = JSON.parse(out) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== "success") throw new Error(`query ${query}: ${out}`);
      return body.data.result;
    }

    it('Prometheus\'s API: up{job="node"} is 1 for the node-exporter task on every node', async () => {
      const exporters = await runningTasks("node-exporter");
      expect(exporters.map((t) => t.node).sort()).toEqual(lab.hosts.map((h) => h.name).sort());
      const nodeOf = Object.fromEntries(exporters.map((t) => [t.addrs[0].split("/")[0], t.node]));
      let up: { metric: Record<string, string>; value: [number, string] }[] = [];
      const all = await eventually(120, async () => {
        up = await promQuery('up{job="node"}').catch(() => []);
        return (
          up.length === exporters.length &&
          up.every((r) => r.value[1] === "1" && nodeOf[r.metric.instance.split(":")[0]] !== undefined)
        );
      });
      console.log(
        `up{job="node"}:\n  ${up.map((r) => `${r.metric.instance} (${nodeOf[r.metric.instance.split(":")[0]] ?? "?"}) = ${r.value[1]}`).join("\n  ")}`,
      );
      expect(all).toBe(true);
      expect(new Set(up.map((r) => nodeOf[r.metric.instance.split(":")[0]]))).toEqual(
        new Set(lab.hosts.map((h) => h.name)),
      );
      // Real node metrics from every exporter, not just a scrape that answered.
      const load = await promQuery('count by (instance) (node_load1{job="node"})');
      expect(load).toHaveLength(exporters.length);
      const uname = await promQuery('node_uname_info{job="node"}');
      console.log(
        `node_uname_info: ${uname.map((r) => `${r.metric.instance} ${r.metric.nodename} ${r.metric.release}`).join("; ")}`,
      );
      expect(uname).toHaveLength(exporters.length);
    });

    it("cAdvisor on every node: Prometheus scrapes each task and has the swarm's containers by service", async () => {
      const tasks = await runningTasks("cadvisor");
      expect(tasks.map((t) => t.node).sort()).toEqual(lab.hosts.map((h) => h.name).sort());
      const nodeOf = Object.fromEntries(tasks.map((t) => [t.addrs[0].split("/")[0], t.node]));
      let up: { metric: Record<string, string>; value: [number, string] }[] = [];
      const all = await eventually(120, async () => {
        up = await promQuery('up{job="cadvisor"}').catch(() => []);
        return up.length === tasks.length && up.every((r) => r.value[1] === "1");
      });
      console.log(
        `up{job="cadvisor"}: ${up.map((r) => `${r.metric.instance} (${nodeOf[r.metric.instance.split(":")[0]] ?? "?"}) = ${r.value[1]}`).join(", ")}`,
      );
      expect(all).toBe(true);
      // Containers of the swarm's services, as cAdvisor reads them from each node's Docker engine.
      let services: string[] = [];
      const seen = await eventually(90, async () => {
        const r = await promQuery(
          'count by (container_label_com_docker_swarm_service_name) (container_last_seen{job="cadvisor", container_label_com_docker_swarm_service_name!=""})',
        ).catch(() => []);
        services = r.map((x) => x.metric.container_label_com_docker_swarm_service_name).sort();
        return ["db-source", "db-replica-1", "node-exporter", "prometheus"].every((s) =>
          services.includes(s),
        );
      });
      console.log(`services cAdvisor reports containers of: ${services.join(", ")}`);
      expect(seen).toBe(true);
    });

    it("cAdvisor writes container statistics to InfluxDB (the seeds' store), from every node", async () => {
      let out = "";
      const ok = await eventually(90, async () => {
        out = await inService(
          "influxdb",
          `influx -database cadvisor -format csv -execute 'SHOW TAG VALUES FROM "cpu_usage_total" WITH KEY = "machine"'\n`,
        ).catch((e: Error) => e.message);
        return (
          out
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("cpu_usage_total,")).length === lab.hosts.length
        );
      });
      console.log(`InfluxDB cadvisor.cpu_usage_total machines:\n${out.trim()}`);
      expect(ok).toBe(true);
      const measurements = await inService(
        "influxdb",
        "influx -database cadvisor -format csv -execute 'SHOW MEASUREMENTS'\n",
      );
      expect(measurements).toMatch(/memory_usage/);
    });

    it("destroy removes everything", async () => {
      const down = await op("destroy", () => engine().destroy());
      destroyed = true;
      expect(Object.keys(down.changes)).toEqual(["delete"]);
    });
  },
  { engine: true },
);
