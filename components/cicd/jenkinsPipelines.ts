import * as pulumi from "@pulumi/pulumi";
import { SwarmHost } from "../hosts/types";
import type { Credentials } from "./credentials";
import { fail, isKnown } from "../validation";
import { renderBundle } from "../shell";
import { requireSwarmName } from "../workloads/parse";
import { DeployTargetArgs, requireRepository } from "./scripts/deployGate";
import { renderPipelineScript } from "./scripts/pipeline";
import {
  DEPLOY_KEY_SECRET,
  JenkinsJob,
  configDigest,
  jobSecretNames,
  renderJenkinsCasc,
} from "./scripts/jenkinsCasc";

/** One pipeline job Jenkins gets as code: clone, build, push, deploy. */
export interface JenkinsPipelineArgs {
  /** Job name: 1-63 letters, digits, '-' or '_' (the webhook URL is `<url>/project/<name>`). Required. */
  name: string;
  /** Git URL Jenkins clones (http(s)://, ssh:// or git@host:path), e.g. from `GitLabHost.url`. Required. */
  gitUrl: pulumi.Input<string>;
  /** Branch built and watched. Default: "main". */
  branch?: string;
  /** Image repository pushed to, without tag, e.g. `pulumi.interpolate\`${harbor.registry}/team/web\``. Required. */
  repository: pulumi.Input<string>;
  /** Swarm service the job rolls (through the gated deploy key on `authorizeOn[0]`). Required. */
  service: string;
  /** Registry credentials, bound as REGISTRY_USER/REGISTRY_PASSWORD, e.g. `harbor.pushCredentials`. Default: none (anonymous push). */
  registryCredentials?: Credentials;
  /** Credentials of the clone (e.g. a GitLab deploy token). Default: none (a public repository). */
  gitCredentials?: Credentials;
  /** Build context inside the checkout. Default: ".". */
  context?: string;
  /** Dockerfile inside the checkout. Default: "Dockerfile". */
  dockerfile?: string;
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const GIT_URL = /^(https?:\/\/|ssh:\/\/|git@)[A-Za-z0-9._~:/@%+-]+$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

function requireGitUrl(argument: string, value: string): void {
  if (typeof value !== "string" || !GIT_URL.test(value) || value.includes("${")) {
    fail(
      argument,
      value,
      'Use a git URL such as "http://10.0.1.10:9999/team/web.git" (no credentials in it: use gitCredentials).',
    );
  }
  if (/^https?:\/\/[^/]*@/.test(value)) {
    fail(
      argument,
      value,
      "Do not put credentials in the URL (they would be in the job definition): use gitCredentials.",
    );
  }
}

/** Validates the pipelines (throws a ValidationError naming the argument). */
export function requirePipelines(
  argument: string,
  pipelines: JenkinsPipelineArgs[],
  authorizeOn: SwarmHost[],
): void {
  if (!Array.isArray(pipelines)) fail(argument, pipelines, "Pass a list of pipelines.");
  if (pipelines.length > 0 && authorizeOn.length === 0) {
    fail(
      "authorizeOn",
      authorizeOn,
      "pipelines deploy through the gated deploy key: list the swarm manager(s) to authorize it on (the first one is the one jobs deploy through).",
    );
  }
  const names = new Set<string>();
  const secretIds = new Set<string>();
  pipelines.forEach((p, i) => {
    const at = `${argument}[${i}]`;
    if (typeof p?.name !== "string" || !JOB_NAME.test(p.name)) {
      fail(
        `${at}.name`,
        p?.name,
        'Use 1-63 letters, digits, "-" or "_", starting with a letter or digit, e.g. "web".',
      );
    }
    const id = jobSecretNames(p.name).webhookToken;
    if (names.has(p.name) || secretIds.has(id))
      fail(
        `${at}.name`,
        p.name,
        "Give each pipeline its own name (names equal up to '-'/'_' and case collide).",
      );
    names.add(p.name);
    secretIds.add(id);
    requireSwarmName(`${at}.service`, p.service);
    if (
      p.branch !== undefined &&
      (typeof p.branch !== "string" || !BRANCH.test(p.branch) || p.branch.includes(".."))
    ) {
      fail(`${at}.branch`, p.branch, 'Use a branch name such as "main".');
    }
    if (isKnown(p.gitUrl)) requireGitUrl(`${at}.gitUrl`, p.gitUrl);
    if (isKnown(p.repository)) requireRepository(`${at}.repository`, p.repository);
    for (const key of ["registryCredentials", "gitCredentials"] as const) {
      const creds = p[key];
      if (creds !== undefined && (creds.username === undefined || creds.password === undefined)) {
        fail(`${at}.${key}`, "(incomplete)", "Give both username and password.");
      }
    }
  });
}

/** The deploy targets the pipelines need (service -> repository). */
export function pipelineTargets(pipelines: JenkinsPipelineArgs[]): DeployTargetArgs[] {
  return pipelines.map((p) => ({ service: p.service, repository: p.repository }));
}

/** The secret-file names the pipelines need, in bundle order (known before anything resolves). */
export function pipelineSecretNames(pipelines: JenkinsPipelineArgs[]): string[] {
  if (pipelines.length === 0) return [];
  return [
    DEPLOY_KEY_SECRET,
    ...pipelines.flatMap((p) => {
      const names = jobSecretNames(p.name);
      return [
        names.webhookToken,
        ...(p.registryCredentials ? [names.registryUser, names.registryPassword] : []),
        ...(p.gitCredentials ? [names.gitUser, names.gitPassword] : []),
      ];
    }),
  ];
}

/** What the pipelines put on the Jenkins host, resolved. */
export interface PipelineConfig {
  /** Bundle for the config script (secrets inside: keep it secret). */
  bundle: string;
  /** Secret-file names in the bundle. */
  secrets: string[];
  /** Job names. */
  jobs: string[];
  /** Digest of everything the controller reads at start. */
  digest: string;
}

/** A secret value as written into a secret file: one line, checked to be non-empty. */
function secretLine(argument: string, value: string): string {
  if (typeof value !== "string" || value === "" || /[\r\n]/.test(value)) {
    // Never echo the value: it is a secret.
    fail(argument, "(a secret value)", "Use a non-empty value without line breaks.");
  }
  return value;
}

/**
 * Resolves the pipelines into the configuration bundle: the JCasC YAML, one rendered pipeline
 * script per job, and the secret files (deploy key, webhook tokens, registry and git credentials).
 */
export function pipelineConfig(
  argument: string,
  pipelines: JenkinsPipelineArgs[],
  manager: SwarmHost | undefined,
  deployPrivateKey: pulumi.Output<string>,
  webhookTokens: pulumi.Output<string>[],
  executors: number,
): pulumi.Output<PipelineConfig> {
  const resolved = pipelines.map((p, i) =>
    pulumi.all([
      p.gitUrl,
      p.repository,
      p.registryCredentials?.username ?? "",
      p.registryCredentials?.password ?? "",
      p.gitCredentials?.username ?? "",
      p.gitCredentials?.password ?? "",
      webhookTokens[i],
    ]),
  );
  // The manager's host key as the connection pins it (JenkinsHost hands in the pinned host): the
  // pipeline's ssh then checks it too, instead of trusting the first key it sees.
  const connection = manager
    ? pulumi.all([
        manager.connection.host,
        manager.connection.port ?? 22,
        manager.connection.user ?? "root",
        manager.connection.hostKey,
      ])
    : pulumi.output(["", 22, "root", undefined] as [string, number, string, string | undefined]);
  return pulumi
    .all([deployPrivateKey, connection, pulumi.all(resolved)])
    .apply(([key, [host, port, user, hostKey], values]) => {
      const pinned = hostKey ? hostKey.trim().split(/\s+/).slice(0, 2).join(" ") : undefined;
      const files: { name: string; content: string }[] = [];
      const secrets: string[] = [];
      const addSecret = (name: string, content: string) => {
        secrets.push(name);
        files.push({ name: `secret.${name}`, content });
      };
      const jobs: JenkinsJob[] = [];
      const scripts: { name: string; content: string }[] = [];
      if (pipelines.length > 0) addSecret(DEPLOY_KEY_SECRET, key.endsWith("\n") ? key : `${key}\n`);
      pipelines.forEach((p, i) => {
        const at = `${argument}[${i}]`;
        const [gitUrl, repository, regUser, regPassword, gitUser, gitPassword, token] = values[i];
        requireGitUrl(`${at}.gitUrl`, gitUrl);
        requireRepository(`${at}.repository`, repository);
        const names = jobSecretNames(p.name);
        addSecret(names.webhookToken, secretLine(`${at} webhook token`, token));
        if (p.registryCredentials) {
          addSecret(names.registryUser, secretLine(`${at}.registryCredentials.username`, regUser));
          addSecret(names.registryPassword, secretLine(`${at}.registryCredentials.password`, regPassword));
        }
        if (p.gitCredentials) {
          addSecret(names.gitUser, secretLine(`${at}.gitCredentials.username`, gitUser));
          addSecret(names.gitPassword, secretLine(`${at}.gitCredentials.password`, gitPassword));
        }
        jobs.push({
          name: p.name,
          gitUrl,
          branch: p.branch ?? "main",
          deployUser: user,
          registryCredentials: p.registryCredentials !== undefined,
          gitCredentials: p.gitCredentials !== undefined,
        });
        scripts.push({
          name: `pipeline.${p.name}.sh`,
          content: renderPipelineScript({
            repository,
            service: p.service,
            manager: { host, port: Number(port), user, ...(pinned ? { hostKey: pinned } : {}) },
            context: p.context,
            dockerfile: p.dockerfile,
          }),
        });
      });
      const casc = renderJenkinsCasc({ executors, jobs });
      const all = [{ name: "jenkins.yaml", content: casc }, ...files, ...scripts];
      return {
        bundle: renderBundle(all),
        secrets,
        jobs: pipelines.map((p) => p.name),
        digest: configDigest(all.map((f) => `${f.name}\n${f.content}`)),
      };
    });
}
