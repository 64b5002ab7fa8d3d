import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { SwarmClusterLike } from "../cluster/types";
import { fail, validateComponentArgs } from "../validation";
import { renderInitSql, renderMariadbCommand, renderReplicationSetupScript } from "./scripts/mysql";
import { requireSwarmName } from "./parse";
import { secretBase64 } from "./secrets";
import { SwarmJob } from "./swarmJob";
import { SwarmService } from "./swarmService";
import { TOKENS, withTokenAliases } from "../tokens";

/** The generated (or given) passwords of a {@link MySqlReplication}. */
export interface MySqlReplicationPasswords {
  /** The `admin` user (all privileges, for operators and the setup job). */
  admin: pulumi.Input<string>;
  /** The `repl` user the replicas connect to the source with. */
  replication: pulumi.Input<string>;
  /** The `app` user: writes its database on the source, reads it on the replicas. */
  app: pulumi.Input<string>;
}

/** Arguments of a {@link MySqlReplication}. */
export interface MySqlReplicationArgs {
  /** The swarm to run on. */
  cluster: SwarmClusterLike;
  /** The overlay network the servers (and their clients) share, e.g. an OverlayNetwork. */
  network: { readonly networkId: pulumi.Input<string>; readonly networkName: pulumi.Input<string> };
  /** A MariaDB 10.5+ image with mariadbd, mariadb, mariadb-admin and sh (e.g. the lab's `lab/mariadb`). */
  image: pulumi.Input<string>;
  /** Read-only replicas of the source (1 or more). Default: 1. */
  replicas?: number;
  /** Prefix of the services' names (`<prefix>-source`, `<prefix>-replica-1`...). Default: the component name. */
  prefix?: string;
  /** The application's database. Default: "app". */
  database?: string;
  /** Pin the source to `nodes[0]` and replica i to `nodes[i % nodes.length]` (hostnames) so volumes stay. Default: none. */
  nodes?: string[];
  /**
   * Passwords. Default: 32 letters and digits each from @pulumi/random's RandomPassword (the
   * `random` provider plugin must be installed, as Pulumi does on first use).
   */
  passwords?: MySqlReplicationPasswords;
  /** Seconds the replication setup job may take. Default: 300. */
  jobTimeoutSeconds?: number;
}

function validate(name: string, args: MySqlReplicationArgs) {
  if (!args?.cluster) fail("cluster", args?.cluster, "Pass the SwarmCluster to run MariaDB on.");
  if (!args.network) fail("network", args.network, "Pass the OverlayNetwork the servers share.");
  const replicas = args.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    fail("replicas", replicas, "Give a whole number of 1 or more (a source alone is a SwarmService).");
  const prefix = args.prefix ?? name;
  requireSwarmName("prefix", prefix);
  const database = args.database ?? "app";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database))
    fail("database", database, "Use letters, digits and '_' (64 at most), not starting with a digit.");
  return { replicas, prefix, database };
}

/**
 * MariaDB with one source and read-only replicas on the swarm, replicating with GTID: one
 * single-task service per server (dnsrr, a volume at /var/lib/mysql), users created at every start
 * by an init file kept in a swarm secret (outside the binary log), generated secret passwords, and a
 * SwarmJob that points each replica at the source (`MASTER_USE_GTID=slave_pos`) and waits until it
 * replicates. Replica clients get SELECT only (no READ ONLY ADMIN), so they cannot write there.
 */
export class MySqlReplication extends pulumi.ComponentResource {
  /** Service name of the source (clients write here). */
  readonly sourceName: string;
  /** Service names of the replicas (clients read here). */
  readonly replicaNames: string[];
  /** The passwords (secret). */
  readonly passwords: pulumi.Output<{ admin: string; replication: string; app: string }>;
  /** The job that sets up replication. */
  readonly job: SwarmJob;

  constructor(name: string, args: MySqlReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    const type = TOKENS.MySqlReplication.type;
    const v = validateComponentArgs(type, name, () => validate(name, args));
    super(type, name, {}, withTokenAliases("MySqlReplication", opts));

    const generated = (which: string) =>
      new random.RandomPassword(`${name}-${which}-password`, { length: 32, special: false }, { parent: this })
        .result;
    const passwords = pulumi.secret(
      pulumi.output(
        args.passwords ?? {
          admin: generated("admin"),
          replication: generated("repl"),
          app: generated("app"),
        },
      ),
    );
    const provider = args.cluster.provider;
    const secret = (key: string, data: pulumi.Input<string>) =>
      new docker.Secret(`${name}-${key}`, { data: secretBase64(data) }, { parent: this, provider });
    const initSource = secret(
      "init-source",
      passwords.apply((p) => renderInitSql("source", v.database, p)),
    );
    const initReplica = secret(
      "init-replica",
      passwords.apply((p) => renderInitSql("replica", v.database, p)),
    );
    const adminPassword = secret(
      "admin-password",
      passwords.apply((p) => p.admin),
    );
    const replPassword = secret(
      "repl-password",
      passwords.apply((p) => p.replication),
    );

    this.sourceName = `${v.prefix}-source`;
    this.replicaNames = Array.from({ length: v.replicas }, (_, i) => `${v.prefix}-replica-${i + 1}`);
    const server = (service: string, index: number, role: "source" | "replica") =>
      new SwarmService(
        service,
        {
          cluster: args.cluster,
          serviceName: service,
          image: args.image,
          command: ["sh", "-c", renderMariadbCommand(index + 1, role, "/run/secrets/init.sql")],
          replicas: 1,
          endpointMode: "dnsrr",
          networks: [args.network],
          mounts: [{ type: "volume", source: `${service}-data`, target: "/var/lib/mysql" }],
          secrets: [
            { name: "init-sql", secret: role === "source" ? initSource : initReplica, fileName: "init.sql" },
          ],
          ...(args.nodes?.length
            ? { constraints: [`node.hostname==${args.nodes[index % args.nodes.length]}`] }
            : {}),
        },
        { parent: this },
      );
    const services = [
      server(this.sourceName, 0, "source"),
      ...this.replicaNames.map((r, i) => server(r, i + 1, "replica")),
    ];
    this.job = new SwarmJob(
      `${name}-setup`,
      {
        cluster: args.cluster,
        jobName: `${v.prefix}-setup`,
        image: args.image,
        command: ["sh", "-c"],
        args: [
          renderReplicationSetupScript(
            this.sourceName,
            this.replicaNames,
            "/run/secrets/admin-password",
            "/run/secrets/repl-password",
          ),
        ],
        networks: [args.network],
        secrets: [
          { secret: adminPassword, target: "admin-password" },
          { secret: replPassword, target: "repl-password" },
        ],
        timeoutSeconds: args.jobTimeoutSeconds ?? 300,
        triggers: services.map((s) => s.serviceId),
      },
      { parent: this, dependsOn: services },
    );
    this.passwords = passwords;
    this.registerOutputs({
      sourceName: this.sourceName,
      replicaNames: this.replicaNames,
      passwords,
      jobOutput: this.job.output,
    });
  }
}
