import * as crypto from "crypto";
import { prelude, receiveBundleSnippet, shq } from "../../shell";
import { renderYaml } from "../yaml";
import { JENKINS_UID } from "./jenkinsPaths";

/*
 * Jenkins as code: the derived image (Docker CLI + the plugins the job needs), the Configuration as
 * Code (JCasC) YAML with the credentials and a Job DSL pipeline job per repository, and the host
 * script that installs them with the secrets as files JCasC resolves (`${name}` reads
 * /run/secrets/<name>): no secret is ever in the YAML, the job definition or a command line.
 */

import { JENKINS_PIPELINES_DIR } from "./jenkinsPaths";

/** The plugins the job as code needs (name or name:version, as jenkins-plugin-cli takes them). */
export const JENKINS_PLUGINS = [
  "configuration-as-code",
  "job-dsl",
  "workflow-aggregator",
  "git",
  "credentials-binding",
  "ssh-credentials",
  "plain-credentials",
  "gitlab-plugin",
] as const;

/** Credential id of the deploy key (the JenkinsHost's own ed25519 key). */
export const DEPLOY_KEY_CREDENTIAL = "pulumi-swarm-deploy-key";
/** Secret file (and JCasC variable) holding the deploy key's private key. */
export const DEPLOY_KEY_SECRET = "pulumi_swarm_deploy_key";

/** One pipeline job as the renderers take it (every value resolved and checked). */
export interface JenkinsJob {
  /** Job name: letters, digits, '-', '_' (also the webhook path /project/<name>). */
  name: string;
  /** Git URL Jenkins clones. */
  gitUrl: string;
  /** Branch built and watched. */
  branch: string;
  /** SSH user of the deploy key on the manager (the credential's user name). */
  deployUser: string;
  /** The job has a registry credential (REGISTRY_USER/REGISTRY_PASSWORD bound). */
  registryCredentials: boolean;
  /** The job has a git credential for the clone. */
  gitCredentials: boolean;
}

/** The secret-file names of one job (JCasC variables). */
export function jobSecretNames(job: string): {
  webhookToken: string;
  registryUser: string;
  registryPassword: string;
  gitUser: string;
  gitPassword: string;
} {
  const id = job.replace(/-/g, "_").toLowerCase();
  return {
    webhookToken: `pulumi_swarm_webhook_token_${id}`,
    registryUser: `pulumi_swarm_registry_user_${id}`,
    registryPassword: `pulumi_swarm_registry_password_${id}`,
    gitUser: `pulumi_swarm_git_user_${id}`,
    gitPassword: `pulumi_swarm_git_password_${id}`,
  };
}

/** Credential ids of one job. */
export function jobCredentialIds(job: string): { registry: string; git: string } {
  return { registry: `pulumi-swarm-registry-${job}`, git: `pulumi-swarm-git-${job}` };
}

/** A JCasC reference to a secret file: resolved by Jenkins at load time, never written out here. */
function secretRef(name: string): string {
  return `\${${name}}`;
}

/**
 * Quotes text as a Groovy single-quoted string (no interpolation). `${` is refused: JCasC would
 * resolve it inside the Job DSL script before Groovy sees it.
 */
export function groovyString(value: string): string {
  if (value.includes("${")) throw new Error("a Groovy string rendered into JCasC may not contain '${'");
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\r/g, "\\r").replace(/\n/g, "\\n")}'`;
}

/** Path of a job's rendered pipeline script inside the container. */
export function pipelineScriptPath(job: string): string {
  return `${JENKINS_PIPELINES_DIR}/${job}.sh`;
}

/**
 * The job's Jenkinsfile (declarative): clone the branch, then run the library's rendered pipeline
 * script (build, push, deploy) with the credentials bound as DEPLOY_KEY_FILE, REGISTRY_USER and
 * REGISTRY_PASSWORD. It names credentials by id only.
 */
export function renderJenkinsfile(job: JenkinsJob): string {
  const ids = jobCredentialIds(job.name);
  const git = [`url: ${groovyString(job.gitUrl)}`, `branch: ${groovyString(job.branch)}`];
  if (job.gitCredentials) git.push(`credentialsId: ${groovyString(ids.git)}`);
  const bindings = [
    `sshUserPrivateKey(credentialsId: ${groovyString(DEPLOY_KEY_CREDENTIAL)}, keyFileVariable: 'DEPLOY_KEY_FILE')`,
  ];
  if (job.registryCredentials) {
    bindings.push(
      `usernamePassword(credentialsId: ${groovyString(ids.registry)}, usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')`,
    );
  }
  return `pipeline {
  agent any
  options {
    disableConcurrentBuilds()
  }
  stages {
    stage('Checkout') {
      steps {
        git(${git.join(", ")})
      }
    }
    stage('Build, push, deploy') {
      steps {
        withCredentials([
          ${bindings.join(",\n          ")}
        ]) {
          sh(script: ${groovyString(`bash ${pipelineScriptPath(job.name)}`)})
        }
      }
    }
  }
}
`;
}

/**
 * The Job DSL script of one pipeline job: triggered by GitLab pushes to the branch (gitlab-plugin,
 * the webhook's secret token resolved by JCasC from a secret file), running {@link renderJenkinsfile}
 * in the Groovy sandbox.
 */
export function renderJobDsl(job: JenkinsJob): string {
  const names = jobSecretNames(job.name);
  // The token reference is the only `${` in the script: JCasC replaces it with the secret file's
  // content before Job DSL runs (gitlab-plugin then keeps it as an encrypted Secret).
  const token = `'${secretRef(names.webhookToken)}'`;
  return `pipelineJob(${groovyString(job.name)}) {
  description(${groovyString(`Built, pushed and deployed by pulumi-swarm's pipeline script from ${job.gitUrl} (${job.branch}).`)})
  properties {
    pipelineTriggers {
      triggers {
        gitlab {
          triggerOnPush(true)
          triggerOnMergeRequest(false)
          branchFilterType('NameBasedFilter')
          includeBranchesSpec(${groovyString(job.branch)})
          secretToken(${token})
        }
      }
    }
  }
  definition {
    cps {
      script(${groovyString(renderJenkinsfile(job))})
      sandbox(true)
    }
  }
}
`;
}

/** Inputs of {@link renderJenkinsCasc}. */
export interface JenkinsCascOptions {
  /** Executors of the built-in node (the jobs run there, with the host's Docker). */
  executors: number;
  /** The pipeline jobs. */
  jobs: JenkinsJob[];
}

/**
 * The JCasC YAML: executors, gitlab-plugin's webhook endpoint (authenticated by each job's secret
 * token), the credentials (every secret a `${file}` reference), and the jobs as Job DSL.
 */
export function renderJenkinsCasc(options: JenkinsCascOptions): string {
  const credentials: unknown[] = [];
  if (options.jobs.length > 0) {
    credentials.push({
      basicSSHUserPrivateKey: {
        scope: "GLOBAL",
        id: DEPLOY_KEY_CREDENTIAL,
        username: options.jobs[0].deployUser,
        description: "pulumi-swarm deploy key (gated: docker service update --image only)",
        privateKeySource: { directEntry: { privateKey: secretRef(DEPLOY_KEY_SECRET) } },
      },
    });
  }
  for (const job of options.jobs) {
    const names = jobSecretNames(job.name);
    const ids = jobCredentialIds(job.name);
    if (job.registryCredentials) {
      credentials.push({
        usernamePassword: {
          scope: "GLOBAL",
          id: ids.registry,
          description: `registry credentials of job ${job.name}`,
          username: secretRef(names.registryUser),
          password: secretRef(names.registryPassword),
        },
      });
    }
    if (job.gitCredentials) {
      credentials.push({
        usernamePassword: {
          scope: "GLOBAL",
          id: ids.git,
          description: `git credentials of job ${job.name}`,
          username: secretRef(names.gitUser),
          password: secretRef(names.gitPassword),
        },
      });
    }
  }
  const config: Record<string, unknown> = {
    jenkins: {
      numExecutors: options.executors,
      systemMessage:
        "Configured by pulumi-swarm (Configuration as Code); changes made here are replaced on restart.",
    },
    // Each job checks its own secret token (X-Gitlab-Token), so GitLab needs no Jenkins user.
    unclassified: { gitLabConnectionConfig: { useAuthenticatedEndpoint: false } },
  };
  if (credentials.length > 0) {
    config.credentials = { system: { domainCredentials: [{ credentials }] } };
  }
  if (options.jobs.length > 0) {
    config.jobs = options.jobs.map((job) => ({ script: renderJobDsl(job) }));
  }
  return renderYaml(config);
}

/**
 * The Dockerfile of the controller image: `jenkins/jenkins` plus the distribution's Docker CLI
 * (`docker-cli` where the release splits it out, else `docker.io`, whose daemon never starts) and
 * the plugins, installed as Jenkins documents for a derived image.
 */
export function renderJenkinsDockerfile(baseImage: string, plugins: readonly string[]): string {
  return `FROM ${baseImage}
USER root
RUN set -eu; apt-get update; \\
    if apt-cache show docker-cli >/dev/null 2>&1; then cli=docker-cli; else cli=docker.io; fi; \\
    apt-get install -y --no-install-recommends "$cli" openssh-client git; \\
    rm -rf /var/lib/apt/lists/*; docker --version
USER jenkins
RUN jenkins-plugin-cli --plugins ${plugins.join(" ")}
`;
}

/** The files the config script installs: name in the stdin bundle -> where it goes. */
export interface JenkinsConfigFiles {
  /** Secret names (files under <dataDir>/secrets, mode 0400, owner jenkins). */
  secrets: string[];
  /** Job names (pipeline scripts under <dataDir>/pipelines, mode 0444). */
  jobs: string[];
}

/** Bundle names of the config script's standard input. */
export function jenkinsConfigBundleNames(files: JenkinsConfigFiles): string[] {
  return [
    "jenkins.yaml",
    ...files.secrets.map((s) => `secret.${s}`),
    ...files.jobs.map((j) => `pipeline.${j}.sh`),
  ];
}

/** Inputs of {@link renderJenkinsConfigScript}. */
export interface JenkinsConfigScriptOptions extends JenkinsConfigFiles {
  /** Host name, shown in every message. */
  hostName: string;
  /** The JenkinsHost's base data directory. */
  dataDir: string;
}

/**
 * Renders the host script that installs Jenkins' configuration from its standard input (a bundle of
 * jenkins.yaml, `secret.<name>` and `pipeline.<job>.sh`): `<dataDir>/casc/jenkins.yaml` (0444),
 * `<dataDir>/secrets/<name>` (0400, owner jenkins, in a 0500 directory) and
 * `<dataDir>/pipelines/<job>.sh` (0555). A file is rewritten only when its content or mode changed;
 * secrets and scripts no longer listed are removed. Prints one line per change, "unchanged" otherwise.
 */
export function renderJenkinsConfigScript(options: JenkinsConfigScriptOptions): string {
  const names = jenkinsConfigBundleNames(options);
  const base = options.dataDir;
  return `${prelude({ host: options.hostName, task: "installing the Jenkins configuration" })}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${receiveBundleSnippet("work", names)}
umask 022
casc_dir=${shq(`${base}/casc`)}
secrets_dir=${shq(`${base}/secrets`)}
pipelines_dir=${shq(`${base}/pipelines`)}
changes=0
# place SOURCE TARGET MODE: installs SOURCE as TARGET (owner jenkins) unless both already match.
place() {
  if cmp -s "$1" "$2" && [ "$(stat -c '%a %u %g' "$2")" = "$3 ${JENKINS_UID} ${JENKINS_UID}" ]; then return 0; fi
  install -m "$3" -o ${JENKINS_UID} -g ${JENKINS_UID} "$1" "$2.new"
  mv -f "$2.new" "$2"
  log "installed $2"
  changes=$((changes + 1))
}
# prune DIR SUFFIX KEEP...: removes files of DIR ending in SUFFIX that are not listed.
prune() {
  local dir=$1 suffix=$2 file base keep name
  shift 2
  for file in "$dir"/*"$suffix"; do
    [ -e "$file" ] || continue
    base=\${file##*/}
    keep=0
    for name in "$@"; do [ "$base" = "$name$suffix" ] && keep=1; done
    if [ "$keep" = 0 ]; then
      rm -f -- "$file"
      log "removed $file"
      changes=$((changes + 1))
    fi
  done
}
install -d -m 0755 -o ${JENKINS_UID} -g ${JENKINS_UID} "$casc_dir" "$pipelines_dir"
install -d -m 0500 -o ${JENKINS_UID} -g ${JENKINS_UID} "$secrets_dir"
place "$work/jenkins.yaml" "$casc_dir/jenkins.yaml" 444
secrets=(${options.secrets.map(shq).join(" ")})
for name in "\${secrets[@]}"; do place "$work/secret.$name" "$secrets_dir/$name" 400; done
prune "$secrets_dir" "" "\${secrets[@]}"
jobs=(${options.jobs.map(shq).join(" ")})
for name in "\${jobs[@]}"; do place "$work/pipeline.$name.sh" "$pipelines_dir/$name.sh" 555; done
prune "$pipelines_dir" .sh "\${jobs[@]}"
if [ "$changes" = 0 ]; then
  echo "pulumi-swarm: the Jenkins configuration on host $host_name is unchanged"
else
  echo "pulumi-swarm: $changes Jenkins configuration file(s) changed on host $host_name"
fi
`;
}

/**
 * A short digest of the configuration the container reads at start (JCasC is applied on start):
 * it goes into the compose file so a changed configuration recreates the container.
 */
export function configDigest(contents: string[]): string {
  const hash = crypto.createHash("sha256");
  for (const content of contents) hash.update(content).update("\0");
  return hash.digest("hex").slice(0, 16);
}
