import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { asRemoteCommand } from "../../components/shell";
import {
  pipelineConfig,
  pipelineSecretNames,
  JenkinsPipelineArgs,
} from "../../components/cicd/jenkinsPipelines";
import { renderJenkinsConfigScript } from "../../components/cicd/scripts/jenkinsCasc";
import { renderJenkinsCompose, JENKINS_BUILD_CONTEXT } from "../../components/cicd/scripts/jenkins";
import type { SwarmHost } from "../../components/hosts/types";
import { describeLab, Lab } from "./lab";

jest.setTimeout(10 * 60_000);

/**
 * JenkinsHost's configuration step on a real lab host (lab 35), with the exact script and stdin the
 * component sends (renderJenkinsConfigScript + pipelineConfig): the JCasC YAML, the secret files
 * JCasC resolves and the rendered pipeline scripts land with the right owners and modes, only
 * Jenkins' uid can read the secrets, a second run changes nothing, and dropping a pipeline removes
 * its files. Jenkins itself is NOT run (no image can be pulled here): whether Jenkins reads this
 * configuration is not proven by this test.
 */
describeLab("Jenkins configuration as code written on a lab host (lab 35)", () => {
  const LAB_ID = 35;
  const HOST = `lab${LAB_ID}-1`;
  const secret = (label: string) => `${label}${crypto.randomBytes(12).toString("hex")}`;
  const ROBOT = secret("Robot");
  const ROBOT_2 = secret("Rotated");
  const GIT = secret("Git");
  const TOKEN_WEB = secret("TokWeb");
  const TOKEN_API = secret("TokApi");
  const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret("Key")}\n-----END OPENSSH PRIVATE KEY-----\n`;
  let lab: Lab;
  let dataDir: string;
  const manager: SwarmHost = {
    name: "mgr",
    connection: { host: "10.213.35.99", user: "deploy" },
    advertiseAddr: "10.213.35.99",
  };

  const pipelines = (robotPassword: string): JenkinsPipelineArgs[] => [
    {
      name: "web",
      gitUrl: "http://10.213.35.98:9999/team/web.git",
      repository: "10.213.35.97:5000/team/web",
      service: "web",
      registryCredentials: { username: "robot$team+jenkins", password: pulumi.secret(robotPassword) },
      gitCredentials: { username: "deploy-token", password: pulumi.secret(GIT) },
    },
    {
      name: "api",
      gitUrl: "http://10.213.35.98:9999/team/api.git",
      repository: "10.213.35.97:5000/team/api",
      service: "api",
    },
  ];

  /** Resolves what JenkinsHost sends: the script and its stdin bundle. */
  async function rendered(list: JenkinsPipelineArgs[], tokens: string[]) {
    const config = await new Promise<{ bundle: string; digest: string }>((resolve) =>
      pipelineConfig(
        "pipelines",
        list,
        manager,
        pulumi.secret(KEY),
        tokens.map((t) => pulumi.secret(t)),
        2,
      ).apply((c) => resolve(c)),
    );
    const script = renderJenkinsConfigScript({
      hostName: HOST,
      dataDir,
      secrets: pipelineSecretNames(list),
      jobs: list.map((p) => p.name),
    });
    return { command: asRemoteCommand(script, { root: true }), stdin: config.bundle };
  }

  const statAll = (paths: string[]) =>
    lab.sh(HOST, `stat -c '%n %a %u:%g %Y %i' ${paths.map((p) => `'${p}'`).join(" ")}`);
  const secretFiles = (names: string[]) => names.map((n) => `${dataDir}/secrets/${n}`);

  beforeAll(async () => {
    lab = await Lab.fresh(LAB_ID, 1);
    // The host's / is this machine's: keep everything under the lab host's own directory.
    dataDir = `${lab.host(HOST).dir}/srv/pulumi-swarm/jenkins`;
  });
  afterAll(async () => {
    await lab?.release();
  });

  it("writes the YAML, the secrets (0400, jenkins only) and the pipeline scripts; a second run changes nothing", async () => {
    const list = pipelines(ROBOT);
    const names = pipelineSecretNames(list);
    const { command, stdin } = await rendered(list, [TOKEN_WEB, TOKEN_API]);
    const first = await lab.ssh(HOST, command, stdin);
    expect(first.stderr).not.toContain("ERROR");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`pulumi-swarm: 10 Jenkins configuration file(s) changed on host ${HOST}\n`);
    for (const value of [ROBOT, GIT, TOKEN_WEB, TOKEN_API, KEY.split("\n")[1]]) {
      expect(command).not.toContain(value);
      expect(first.stdout + first.stderr).not.toContain(value);
    }

    const paths = [
      `${dataDir}/casc`,
      `${dataDir}/casc/jenkins.yaml`,
      `${dataDir}/secrets`,
      ...secretFiles(names),
      `${dataDir}/pipelines`,
      `${dataDir}/pipelines/web.sh`,
      `${dataDir}/pipelines/api.sh`,
    ];
    const stats = (await statAll(paths)).trim().split("\n");
    console.log(`files on ${HOST}:\n  ${stats.map((l) => l.replace(dataDir, "<dataDir>")).join("\n  ")}`);
    expect(stats.map((line) => line.split(" ").slice(0, 3).join(" "))).toEqual([
      `${dataDir}/casc 755 1000:1000`,
      `${dataDir}/casc/jenkins.yaml 444 1000:1000`,
      `${dataDir}/secrets 500 1000:1000`,
      ...secretFiles(names).map((f) => `${f} 400 1000:1000`),
      `${dataDir}/pipelines 755 1000:1000`,
      `${dataDir}/pipelines/web.sh 555 1000:1000`,
      `${dataDir}/pipelines/api.sh 555 1000:1000`,
    ]);

    // Each ${name} of the YAML on the host is a file Jenkins' uid can read (as JCasC will) and
    // another uid cannot; the YAML itself holds no secret.
    const yamlText = await lab.sh(HOST, `cat '${dataDir}/casc/jenkins.yaml'`);
    for (const value of [ROBOT, GIT, TOKEN_WEB, TOKEN_API]) expect(yamlText).not.toContain(value);
    const refs = [...new Set([...yamlText.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]))];
    expect(refs.sort()).toEqual([...names].sort());
    const asJenkins = (file: string) =>
      lab.ssh(HOST, `setpriv --reuid=1000 --regid=1000 --clear-groups cat '${file}'`);
    expect((await asJenkins(`${dataDir}/secrets/pulumi_swarm_registry_password_web`)).stdout).toBe(ROBOT);
    expect((await asJenkins(`${dataDir}/secrets/pulumi_swarm_webhook_token_api`)).stdout).toBe(TOKEN_API);
    expect((await asJenkins(`${dataDir}/secrets/pulumi_swarm_deploy_key`)).stdout).toBe(KEY);
    const other = await lab.ssh(
      HOST,
      `setpriv --reuid=1001 --regid=1001 --clear-groups cat '${dataDir}/secrets/pulumi_swarm_registry_password_web'`,
    );
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("Permission denied");
    expect(YAML.parse(yamlText).jobs).toHaveLength(2);
    // The installed pipeline script is the library's, and bash accepts it.
    expect(await lab.sh(HOST, `head -n 2 '${dataDir}/pipelines/web.sh'`)).toBe(
      "#!/bin/bash\n# Rendered by pulumi-swarm: build, push and deploy 10.213.35.97:5000/team/web to service web.\n",
    );
    expect((await lab.ssh(HOST, `bash -n '${dataDir}/pipelines/web.sh'`)).code).toBe(0);

    // Second run with the same input: nothing rewritten (same mtimes and inodes).
    const second = await lab.ssh(HOST, command, stdin);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`pulumi-swarm: the Jenkins configuration on host ${HOST} is unchanged\n`);
    expect(second.stderr).toBe("");
    expect((await statAll(paths)).trim().split("\n")).toEqual(stats);
  });

  it("a rotated secret is rewritten and a dropped pipeline's secrets and script are removed", async () => {
    const list = pipelines(ROBOT_2).slice(0, 1);
    const { command, stdin } = await rendered(list, [TOKEN_WEB]);
    const ran = await lab.ssh(HOST, command, stdin);
    expect(ran.code).toBe(0);
    expect(ran.stderr.split("\n").filter(Boolean).sort()).toEqual(
      [
        `pulumi-swarm[${HOST}]: installed ${dataDir}/casc/jenkins.yaml`,
        `pulumi-swarm[${HOST}]: installed ${dataDir}/secrets/pulumi_swarm_registry_password_web`,
        `pulumi-swarm[${HOST}]: removed ${dataDir}/secrets/pulumi_swarm_webhook_token_api`,
        `pulumi-swarm[${HOST}]: removed ${dataDir}/pipelines/api.sh`,
      ].sort(),
    );
    expect(ran.stdout).toBe(`pulumi-swarm: 4 Jenkins configuration file(s) changed on host ${HOST}\n`);
    expect(await lab.sh(HOST, `ls '${dataDir}/secrets' '${dataDir}/pipelines'`)).toBe(
      `${dataDir}/pipelines:\nweb.sh\n\n${dataDir}/secrets:\n${[...pipelineSecretNames(list)].sort().join("\n")}\n`,
    );
    expect(await lab.sh(HOST, `cat '${dataDir}/secrets/pulumi_swarm_registry_password_web'`)).toBe(ROBOT_2);
  });

  it("the controller's compose file (built image, read-only configuration) is accepted by the host's docker-compose", async () => {
    const deployDir = `${dataDir}/deploy`;
    const compose = renderJenkinsCompose({
      image: "jenkins/jenkins:2.580.2-lts-jdk21",
      httpPort: 8080,
      agentPort: 50000,
      dataDir,
      build: { image: "pulumi-swarm/jenkins:0123456789abcdef", configDigest: "fedcba9876543210" },
    });
    const script = `set -euo pipefail
install -d -m 0700 '${deployDir}'
cd '${deployDir}'
base64 -d >compose.yaml <<'EOF'
${Buffer.from(compose).toString("base64")}
EOF
printf 'FROM x\\n' >Dockerfile
printf 'DOCKER_GID=998\\n' >.env
${JENKINS_BUILD_CONTEXT}
ls -A image
docker-compose -p jenkins -f compose.yaml config`;
    const out = await lab.sh(HOST, script);
    const [listing, ...rest] = out.split("\n");
    expect(listing).toBe("Dockerfile");
    const service = YAML.parse(rest.join("\n")).services.jenkins;
    expect(service.build.context).toBe(`${deployDir}/image`);
    expect(service.image).toBe("pulumi-swarm/jenkins:0123456789abcdef");
    expect(service.environment).toEqual({
      JENKINS_SLAVE_AGENT_PORT: "50000",
      CASC_JENKINS_CONFIG: "/usr/share/jenkins/pulumi-swarm/casc/jenkins.yaml",
      PULUMI_SWARM_CONFIG_DIGEST: "fedcba9876543210",
    });
    expect(service.volumes).toEqual([
      `${dataDir}/home:/var/jenkins_home:rw`,
      "/var/run/docker.sock:/var/run/docker.sock:rw",
      `${dataDir}/casc:/usr/share/jenkins/pulumi-swarm/casc:ro`,
      `${dataDir}/pipelines:/usr/share/jenkins/pulumi-swarm/pipelines:ro`,
      `${dataDir}/secrets:/run/secrets:ro`,
    ]);
  });
});
