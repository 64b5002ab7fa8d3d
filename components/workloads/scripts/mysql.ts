import { shq as shellQuote } from "../../shell";

/*
 * SQL and shell for MySqlReplication (MariaDB 10.11), run inside the MariaDB image's containers.
 * Pure renderers. Passwords reach the SQL only inside swarm secrets (the init file) or on the stdin
 * of the `mariadb` client; never on a command line.
 */

export const MYSQL_PORT = 3306;

/** The passwords the init files set; all generated and secret. */
export interface MySqlPasswords {
  admin: string;
  replication: string;
  app: string;
}

const sqlString = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

function user(name: string, password: string): string[] {
  return [
    `CREATE USER IF NOT EXISTS '${name}'@'%' IDENTIFIED BY ${sqlString(password)};`,
    `ALTER USER '${name}'@'%' IDENTIFIED BY ${sqlString(password)};`,
  ];
}

/**
 * The `--init-file` of a server, run at every start, idempotent and kept out of the binary log
 * (`sql_log_bin=0`: users and the database are per server, never replicated, so GTID sequences stay
 * the source's alone). On the source the app user may write its database; on a replica it may only
 * read: it gets SELECT, never READ ONLY ADMIN (which GRANT ALL includes in 10.11 and which would let a
 * client write on the read-only replica and break replication). The admin user is for the setup job.
 */
export function renderInitSql(role: "source" | "replica", database: string, p: MySqlPasswords): string {
  return [
    "SET sql_log_bin=0;",
    `CREATE DATABASE IF NOT EXISTS \`${database}\`;`,
    ...user("admin", p.admin),
    "GRANT ALL PRIVILEGES ON *.* TO 'admin'@'%' WITH GRANT OPTION;",
    ...(role === "source"
      ? [
          ...user("repl", p.replication),
          "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';",
          ...user("app", p.app),
          `GRANT ALL PRIVILEGES ON \`${database}\`.* TO 'app'@'%';`,
        ]
      : [...user("app", p.app), `GRANT SELECT ON \`${database}\`.* TO 'app'@'%';`]),
    "SET sql_log_bin=1;",
    "",
  ].join("\n");
}

/** Starts mariadbd as PID 1 with GTID binary logging; replicas are read-only. */
export function renderMariadbCommand(serverId: number, role: "source" | "replica", initFile: string): string {
  return [
    "set -eu",
    "mkdir -p /run/mysqld",
    "chown mysql:mysql /run/mysqld",
    `exec mariadbd --user=mysql --bind-address=0.0.0.0 --port=${MYSQL_PORT} --server-id=${serverId} --log-bin=mysql-bin --binlog-format=ROW --log-slave-updates=1 --gtid-strict-mode=1 --init-file=${shellQuote(initFile)}${role === "replica" ? " --read-only=1" : ""}`,
  ].join("\n");
}

/**
 * Points every replica at the source with GTID (`MASTER_USE_GTID=slave_pos`) unless it already
 * replicates, then waits until both replication threads run. Idempotent. Passwords are read from
 * secret files and sent to the client on stdin.
 */
export function renderReplicationSetupScript(
  source: string,
  replicas: string[],
  adminPasswordFile: string,
  replicationPasswordFile: string,
): string {
  return [
    "set -eu",
    `MYSQL_PWD=$(cat ${shellQuote(adminPasswordFile)})`,
    "export MYSQL_PWD",
    `repl_pw=$(sed "s/'/''/g" ${shellQuote(replicationPasswordFile)})`,
    `replicas=${shellQuote(replicas.join(" "))}`,
    'die() { echo "mysql-replication: $*"; echo "mysql-replication: $*" >&2; exit 1; }',
    `q() { mariadb -h "$1" -P ${MYSQL_PORT} -u admin --batch --skip-column-names; }`,
    "# Vertical output keeps its field names only without --skip-column-names (seen on 10.11: with it,",
    "# `Slave_IO_Running: Yes` reads `Yes` alone and a replicating server looked stopped).",
    `slave_status() { echo 'SHOW SLAVE STATUS\\G' | mariadb -h "$1" -P ${MYSQL_PORT} -u admin; }`,
    `for h in ${[source, ...replicas].map(shellQuote).join(" ")}; do`,
    "  i=0",
    `  until mariadb-admin -h "$h" -P ${MYSQL_PORT} -u admin ping >/dev/null 2>&1; do`,
    '    i=$((i + 1)); [ $i -lt 120 ] || die "$h does not answer"; sleep 1',
    "  done",
    "done",
    "for r in $replicas; do",
    '  status=$(slave_status "$r")',
    "  case $status in",
    '    *"Slave_IO_Running: Yes"*"Slave_SQL_Running: Yes"*) echo "mysql-replication: $r already replicates"; continue ;;',
    "  esac",
    '  echo "mysql-replication: pointing $r at ' + source + '"',
    "  # The client's error goes into the job's output (the password never does: it is on stdin).",
    `  if ! err=$(printf "STOP SLAVE;\\nCHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=${MYSQL_PORT}, MASTER_USER='repl', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos;\\nSTART SLAVE;\\n" ${shellQuote(source)} "$repl_pw" | q "$r" 2>&1); then`,
    '    die "$r refused CHANGE MASTER: $err"',
    "  fi",
    "  i=0",
    '  until status=$(slave_status "$r") && case $status in *"Slave_IO_Running: Yes"*"Slave_SQL_Running: Yes"*) true ;; *) false ;; esac; do',
    "    i=$((i + 1))",
    '    if [ $i -ge 60 ]; then die "$r does not replicate: $(slave_status "$r" | grep -E "Running:|Last_.*Err" | tr -s " " | tr "\\n" ";")"; fi',
    "    sleep 1",
    "  done",
    '  echo "mysql-replication: $r replicates"',
    "done",
    "",
  ].join("\n");
}
