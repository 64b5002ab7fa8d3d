import * as YAML from "yaml";
import { renderGitLabCompose } from "../../components/cicd/gitlabCompose";
import { renderHarborYml, harborInstallerUrl } from "../../components/cicd/scripts/harbor";
import { renderJenkinsCompose } from "../../components/cicd/scripts/jenkins";
import { renderSonarQubeCompose } from "../../components/cicd/scripts/sonarqube";
import { renderYaml } from "../../components/cicd/yaml";

describe("rendered compose files and harbor.yml", () => {
  it("quotes every string so YAML 1.1 readers see no base-60 numbers or booleans", () => {
    expect(renderYaml({ ports: ["2222:22"], flag: "on", n: 3, multi: "a\nb\n" })).toBe(
      'ports:\n  - "2222:22"\nflag: "on"\nn: 3\nmulti: |\n  a\n  b\n',
    );
  });

  it("GitLab: one Omnibus container, ports, env file, Omnibus config and bind mounts", () => {
    const text = renderGitLabCompose({
      image: "gitlab/gitlab-ce:19.4.1-ce.0",
      address: "203.0.113.10",
      httpPort: 9999,
      sshPort: 2222,
      dataDir: "/srv/pulumi-swarm/gitlab",
      extraOmnibusConfig: "prometheus_monitoring['enable'] = false\n",
    });
    expect(YAML.parse(text)).toEqual({
      services: {
        gitlab: {
          image: "gitlab/gitlab-ce:19.4.1-ce.0",
          restart: "always",
          shm_size: "256m",
          ports: ["9999:9999", "2222:22"],
          env_file: ["gitlab.env"],
          environment: {
            GITLAB_OMNIBUS_CONFIG:
              "external_url 'http://203.0.113.10:9999'\n" +
              "gitlab_rails['gitlab_shell_ssh_port'] = 2222\n" +
              "prometheus_monitoring['enable'] = false\n",
          },
          volumes: [
            "/srv/pulumi-swarm/gitlab/config:/etc/gitlab",
            "/srv/pulumi-swarm/gitlab/logs:/var/log/gitlab",
            "/srv/pulumi-swarm/gitlab/data:/var/opt/gitlab",
          ],
        },
      },
    });
    expect(text).toContain('      - "2222:22"\n');
    // (The root password never reaches this renderer; cicd-components checks it stays out of compose.yaml.)
  });

  it("Jenkins: docker socket with the socket's group from .env, agent port the same inside and out", () => {
    const text = renderJenkinsCompose({
      image: "jenkins/jenkins:2.580.2-lts-jdk21",
      httpPort: 8081,
      agentPort: 50001,
      dataDir: "/data/jenkins",
    });
    expect(YAML.parse(text)).toEqual({
      services: {
        jenkins: {
          image: "jenkins/jenkins:2.580.2-lts-jdk21",
          restart: "unless-stopped",
          group_add: [
            "${DOCKER_GID:?DOCKER_GID must be the gid of /var/run/docker.sock (written to .env by the deploy script)}",
          ],
          ports: ["8081:8080", "50001:50001"],
          environment: { JENKINS_SLAVE_AGENT_PORT: "50001" },
          volumes: ["/data/jenkins/home:/var/jenkins_home", "/var/run/docker.sock:/var/run/docker.sock"],
        },
      },
    });
    // The toEqual above pins every key: no `privileged`, no `user`, nothing that makes the socket 666.
    expect(Object.keys(YAML.parse(text).services.jenkins).sort()).toEqual([
      "environment",
      "group_add",
      "image",
      "ports",
      "restart",
      "volumes",
    ]);
  });

  it("SonarQube: Postgres only on an internal network, passwords only in env files", () => {
    const text = renderSonarQubeCompose({
      image: "sonarqube:26.9.0.129388-community",
      postgresImage: "postgres:17.6",
      httpPort: 9000,
      dataDir: "/srv/sq",
    });
    expect(YAML.parse(text)).toEqual({
      services: {
        sonarqube: {
          image: "sonarqube:26.9.0.129388-community",
          restart: "unless-stopped",
          depends_on: { db: { condition: "service_healthy" } },
          environment: { SONAR_JDBC_URL: "jdbc:postgresql://db:5432/sonar", SONAR_JDBC_USERNAME: "sonar" },
          env_file: ["sonarqube.env"],
          ports: ["9000:9000"],
          networks: ["web", "internal"],
          ulimits: { nofile: { soft: 131072, hard: 131072 }, nproc: { soft: 8192, hard: 8192 } },
          volumes: [
            "/srv/sq/data:/opt/sonarqube/data",
            "/srv/sq/extensions:/opt/sonarqube/extensions",
            "/srv/sq/logs:/opt/sonarqube/logs",
          ],
        },
        db: {
          image: "postgres:17.6",
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
          volumes: ["/srv/sq/postgresql:/var/lib/postgresql/data"],
        },
      },
      networks: { web: {}, internal: { internal: true } },
    });
    expect(YAML.parse(text).services.db.ports).toBeUndefined();
  });

  it("harbor.yml: HTTPS with the given files, passwords, data and log dirs, _version of the release", () => {
    const parsed = YAML.parse(
      renderHarborYml({
        hostname: "10.0.1.5",
        httpPort: 80,
        https: { port: 8443, certificate: "/srv/h/deploy/tls.crt", privateKey: "/srv/h/deploy/tls.key" },
        adminPassword: "Adm1n-pass",
        databasePassword: "dbPass123",
        dataVolume: "/srv/h/data",
        logDir: "/srv/h/log",
        version: "v2.15.2",
      }),
    );
    expect(parsed.hostname).toBe("10.0.1.5");
    expect(parsed.http).toEqual({ port: 80 });
    expect(parsed.https).toEqual({
      port: 8443,
      certificate: "/srv/h/deploy/tls.crt",
      private_key: "/srv/h/deploy/tls.key",
    });
    expect(parsed.harbor_admin_password).toBe("Adm1n-pass");
    expect(parsed.database).toEqual({
      password: "dbPass123",
      max_idle_conns: 100,
      max_open_conns: 900,
      conn_max_lifetime: "5m",
      conn_max_idle_time: 0,
    });
    expect(parsed.data_volume).toBe("/srv/h/data");
    expect(parsed.log.local.location).toBe("/srv/h/log");
    expect(parsed._version).toBe("2.15.0");
    expect(Object.keys(parsed)).toEqual([
      "hostname",
      "http",
      "https",
      "harbor_admin_password",
      "database",
      "data_volume",
      "trivy",
      "jobservice",
      "notification",
      "log",
      "_version",
      "proxy",
      "upload_purging",
      "cache",
    ]);
  });

  it("harbor.yml without TLS has no https block", () => {
    const parsed = YAML.parse(
      renderHarborYml({
        hostname: "h.example",
        httpPort: 8080,
        adminPassword: "Adm1n-pass",
        databasePassword: "x",
        dataVolume: "/d",
        logDir: "/l",
        version: "v2.14.1",
      }),
    );
    expect(parsed.https).toBeUndefined();
    expect(parsed.http).toEqual({ port: 8080 });
    expect(parsed._version).toBe("2.14.0");
  });

  it("downloads the release's installer from GitHub by default", () => {
    expect(harborInstallerUrl("v2.15.2", "online")).toBe(
      "https://github.com/goharbor/harbor/releases/download/v2.15.2/harbor-online-installer-v2.15.2.tgz",
    );
  });
});
