/** The uid and gid the jenkins/jenkins image runs as. */
export const JENKINS_UID = 1000;
/** Where the container sees the JCasC YAML (mounted read-only from <dataDir>/casc). */
export const JENKINS_CASC_DIR = "/usr/share/jenkins/pulumi-swarm/casc";
/** Where the container sees the rendered pipeline scripts (mounted read-only from <dataDir>/pipelines). */
export const JENKINS_PIPELINES_DIR = "/usr/share/jenkins/pulumi-swarm/pipelines";
/** JCasC's secret source for Docker secrets resolves `${name}` from `<this directory>/<name>` (mounted read-only from <dataDir>/secrets). */
export const JENKINS_SECRETS_DIR = "/run/secrets";
