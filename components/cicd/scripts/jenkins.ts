import { prelude, shq } from "../../shell";
import { renderYaml } from "../yaml";
import { JENKINS_CASC_DIR, JENKINS_PIPELINES_DIR, JENKINS_SECRETS_DIR, JENKINS_UID } from "./jenkinsPaths";

export { JENKINS_UID } from "./jenkinsPaths";

/** Inputs of {@link renderJenkinsCompose}. */
export interface JenkinsComposeOptions {
  /** Full image reference, e.g. "jenkins/jenkins:2.580.2-lts-jdk21". */
  image: string;
  /** Host port of the web UI (container port 8080). */
  httpPort: number;
  /** Port of inbound (JNLP) agents, the same on the host and in the container so Jenkins advertises the right one. */
  agentPort: number;
  /** Base data directory: home/ (JENKINS_HOME) lives under it. */
  dataDir: string;
  /**
   * Build a derived image (Docker CLI and plugins, see jenkinsCasc.ts) from `image/Dockerfile` in
   * the deploy directory and run it with the configuration as code mounted read-only. Default: none
   * (the plain `image`).
   */
  build?: JenkinsBuildOptions;
}

/** How {@link renderJenkinsCompose} builds and configures the derived controller image. */
export interface JenkinsBuildOptions {
  /** Name of the built image, e.g. "pulumi-swarm/jenkins:<digest of the Dockerfile>" (a new name rebuilds). */
  image: string;
  /** Digest of the configuration the controller reads at start (a change recreates the container). */
  configDigest: string;
}

/**
 * The compose file of a Jenkins controller that drives the host's Docker: the socket is mounted
 * and the container joins the socket's group (DOCKER_GID, read on the host into .env at deploy
 * time) instead of the socket being made world-writable.
 */
export function renderJenkinsCompose(options: JenkinsComposeOptions): string {
  const build = options.build;
  const environment: Record<string, string> = { JENKINS_SLAVE_AGENT_PORT: String(options.agentPort) };
  const volumes = [`${options.dataDir}/home:/var/jenkins_home`, "/var/run/docker.sock:/var/run/docker.sock"];
  if (build) {
    environment.CASC_JENKINS_CONFIG = `${JENKINS_CASC_DIR}/jenkins.yaml`;
    environment.PULUMI_SWARM_CONFIG_DIGEST = build.configDigest;
    volumes.push(
      `${options.dataDir}/casc:${JENKINS_CASC_DIR}:ro`,
      `${options.dataDir}/pipelines:${JENKINS_PIPELINES_DIR}:ro`,
      `${options.dataDir}/secrets:${JENKINS_SECRETS_DIR}:ro`,
    );
  }
  return renderYaml({
    services: {
      jenkins: {
        ...(build ? { build: { context: "image" } } : {}),
        image: build ? build.image : options.image,
        restart: "unless-stopped",
        group_add: [
          "${DOCKER_GID:?DOCKER_GID must be the gid of /var/run/docker.sock (written to .env by the deploy script)}",
        ],
        ports: [`${options.httpPort}:8080`, `${options.agentPort}:${options.agentPort}`],
        environment,
        volumes,
      },
    },
  });
}

/**
 * Shell run before `up` when the image is built: the Dockerfile (received with the compose file)
 * becomes the only file of the build context `image/`, so the deploy key next to it never reaches
 * the build.
 */
export const JENKINS_BUILD_CONTEXT = `install -d -m 0700 image
if ! cmp -s Dockerfile image/Dockerfile; then install -m 0600 Dockerfile image/Dockerfile; fi`;

/**
 * Shell run before `up`: writes DOCKER_GID (the group of the host's Docker socket) to .env, and
 * installs the deploy key from the config directory as JENKINS_HOME/.ssh/id_ed25519 (owner
 * jenkins, mode 0600). Refuses a socket owned by group root: adding gid 0 to the container
 * would give it far more than Docker.
 */
export function jenkinsPreUp(dataDir: string, dockerSocket = "/var/run/docker.sock"): string {
  const ssh = `${dataDir}/home/.ssh`;
  return `docker_sock=${shq(dockerSocket)}
[ -S "$docker_sock" ] || fail "$docker_sock is not a socket; Jenkins needs the host's Docker socket"
docker_gid=$(stat -c %g "$docker_sock")
[ "$docker_gid" != 0 ] || fail "$docker_sock belongs to group root (gid 0); give it a docker group (groupadd docker && chgrp docker $docker_sock, as Docker's packages do) so Jenkins can join that group instead"
printf 'DOCKER_GID=%s\\n' "$docker_gid" >.env.new
if cmp -s .env.new .env; then rm -f .env.new; else mv -f .env.new .env; fi
install -d -m 0700 -o ${JENKINS_UID} -g ${JENKINS_UID} ${shq(ssh)}
for key_file in id_ed25519 id_ed25519.pub; do
  if ! cmp -s "$key_file" ${shq(ssh)}/"$key_file"; then
    install -m 0600 -o ${JENKINS_UID} -g ${JENKINS_UID} "$key_file" ${shq(ssh)}/"$key_file"
  fi
done`;
}

/**
 * Renders the script that prints Jenkins' initial admin password once it exists (the setup
 * wizard writes it on first start and deletes it when the wizard is finished; then this prints
 * nothing). Run it with logging "none": its output is a secret.
 */
export function renderJenkinsPasswordScript(
  hostName: string,
  dataDir: string,
  timeoutSeconds: number,
): string {
  return `${prelude({ host: hostName, task: "reading the Jenkins initial admin password" })}
password_file=${shq(`${dataDir}/home/secrets/initialAdminPassword`)}
config_file=${shq(`${dataDir}/home/config.xml`)}
deadline=$((SECONDS + ${timeoutSeconds}))
while [ ! -s "$password_file" ]; do
  if [ -f "$config_file" ] && grep -q '<installStateName>RUNNING' "$config_file" 2>/dev/null; then
    exit 0
  fi
  [ "$SECONDS" -lt "$deadline" ] || fail "$password_file did not appear within ${timeoutSeconds} s"
  sleep 3
done
tr -d '\\n' <"$password_file"
`;
}

/** Comment that marks the deploy key in authorized_keys, so delete removes exactly that line. */
export function deployKeyMarker(name: string): string {
  return `pulumi-swarm-jenkins-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}
