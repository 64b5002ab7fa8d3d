import { prelude, receiveBundleSnippet, shq } from "../../shell";
import { renderYaml } from "../yaml";

/** The uid the sonarqube image runs as (owner of its data directories). */
export const SONARQUBE_UID = 1000;

/** Inputs of {@link renderSonarQubeCompose}. */
export interface SonarQubeComposeOptions {
  /** Full SonarQube image reference, e.g. "sonarqube:26.9.0.129388-community". */
  image: string;
  /** Full Postgres image reference, e.g. "postgres:17.6". */
  postgresImage: string;
  /** Host port of the web UI (container port 9000). */
  httpPort: number;
  /** Base data directory: data/, extensions/, logs/ and postgresql/ live under it. */
  dataDir: string;
}

/**
 * The compose file of SonarQube and its Postgres. Postgres sits only on an internal network (no
 * published port, no route out); SonarQube joins it and a second network for its published port.
 * Passwords come from sonarqube.env and postgres.env (mode 0600).
 */
export function renderSonarQubeCompose(options: SonarQubeComposeOptions): string {
  return renderYaml({
    services: {
      sonarqube: {
        image: options.image,
        restart: "unless-stopped",
        depends_on: { db: { condition: "service_healthy" } },
        environment: {
          SONAR_JDBC_URL: "jdbc:postgresql://db:5432/sonar",
          SONAR_JDBC_USERNAME: "sonar",
        },
        env_file: ["sonarqube.env"],
        ports: [`${options.httpPort}:9000`],
        networks: ["web", "internal"],
        ulimits: { nofile: { soft: 131072, hard: 131072 }, nproc: { soft: 8192, hard: 8192 } },
        volumes: [
          `${options.dataDir}/data:/opt/sonarqube/data`,
          `${options.dataDir}/extensions:/opt/sonarqube/extensions`,
          `${options.dataDir}/logs:/opt/sonarqube/logs`,
        ],
      },
      db: {
        image: options.postgresImage,
        restart: "unless-stopped",
        environment: { POSTGRES_USER: "sonar", POSTGRES_DB: "sonar" },
        env_file: ["postgres.env"],
        healthcheck: {
          test: ["CMD-SHELL", "pg_isready -U sonar -d sonar"],
          interval: "10s",
          timeout: "5s",
          retries: 12,
        },
        networks: ["internal"],
        volumes: [`${options.dataDir}/postgresql:/var/lib/postgresql/data`],
      },
    },
    networks: { web: {}, internal: { internal: true } },
  });
}

/**
 * The curl config (read by `curl -K -` from standard input) that changes SonarQube's admin
 * password from the default; the password never reaches a command line. Values are quoted for
 * curl's config syntax; passwords are checked to contain no quotes or backslashes.
 */
export function renderSonarQubePasswordCurlConfig(password: string): string {
  if (/["\\\n]/.test(password))
    throw new Error("the SonarQube admin password contains a quote, backslash or newline");
  return [
    `user = "admin:admin"`,
    `data-urlencode = "login=admin"`,
    `data-urlencode = "previousPassword=admin"`,
    `data-urlencode = "password=${password}"`,
    "",
  ].join("\n");
}

/** The curl config that checks whether `password` is already the admin password. */
export function renderSonarQubeValidateCurlConfig(password: string): string {
  if (/["\\\n]/.test(password))
    throw new Error("the SonarQube admin password contains a quote, backslash or newline");
  return `user = "admin:${password}"\n`;
}

/**
 * Renders the script that sets SonarQube's admin password. Standard input carries a bundle of
 * two curl configs (validate.conf, change.conf). It checks whether the wanted password already
 * works (nothing to do), else changes it from the default "admin" through
 * POST /api/users/change_password. Fails clearly when neither password works.
 */
export function renderSonarQubePasswordScript(hostName: string, httpPort: number): string {
  return `${prelude({ host: hostName, task: "setting the SonarQube admin password" })}
base=${shq(`http://127.0.0.1:${httpPort}`)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${receiveBundleSnippet("work", ["validate.conf", "change.conf"])}
valid=$(curl -sS --max-time 20 -K "$work/validate.conf" "$base/api/authentication/validate" 2>/dev/null) || true
case "$valid" in
  *'"valid":true'*) echo "pulumi-swarm: the SonarQube admin password is already set"; exit 0 ;;
esac
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -K "$work/change.conf" -X POST "$base/api/users/change_password" 2>/dev/null) || true
case "$code" in
  2*) echo "pulumi-swarm: the SonarQube admin password was changed from the default" ;;
  401) fail "the admin password is neither the default nor the configured one (was it changed by hand?); set adminPassword to the current one" ;;
  *) fail "POST $base/api/users/change_password answered HTTP \${code:-none}" ;;
esac
`;
}
