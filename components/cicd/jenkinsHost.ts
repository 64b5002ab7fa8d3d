import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { SwarmHost } from "../hosts/types";
import { fail, validateComponentArgs } from "../validation";
import { DeployTargetArgs, requireDeployTargets } from "./scripts/deployGate";
import { authorizeGatedKey, requireManagers } from "./deployKey";
import {
  CicdHostCommonArgs,
  CicdPort,
  CommonPlan,
  composeDeployCommand,
  generatedSecret,
  hostCommand,
  planCommon,
  planHostKeys,
  componentOf,
  plannedImage,
  preflightCommand,
  webUrl,
} from "./common";
import {
  JENKINS_BUILD_CONTEXT,
  JENKINS_UID,
  deployKeyMarker,
  jenkinsPreUp,
  renderJenkinsCompose,
  renderJenkinsPasswordScript,
} from "./scripts/jenkins";
import {
  JENKINS_PLUGINS,
  configDigest,
  renderJenkinsConfigScript,
  renderJenkinsDockerfile,
} from "./scripts/jenkinsCasc";
import {
  JenkinsPipelineArgs,
  pipelineConfig,
  pipelineSecretNames,
  pipelineTargets,
  requirePipelines,
} from "./jenkinsPipelines";
import { asRemoteCommand, renderBundle } from "../shell";
import { requireDistinctPorts } from "./validate";
import { pinHostKeys } from "../ssh/hostKeys";
import { TOKENS, withTokenAliases } from "../tokens";

const TYPE = TOKENS.JenkinsHost.type;

/** Arguments of {@link JenkinsHost}. */
export interface JenkinsHostArgs extends CicdHostCommonArgs {
  /** Host port of the web UI. Default: 8080. */
  httpPort?: number;
  /** Port of inbound (JNLP) agents. Default: 50000. */
  agentPort?: number;
  /** `jenkins/jenkins` image tag. Default: `PINNED_VERSIONS.jenkins`. */
  version?: string;
  /**
   * Swarm managers on which Jenkins' deploy key is authorized for the SSH user of each host's
   * connection, behind the deploy gate (`restrict,command="<gate>"`): the key can run
   * `docker service update --image <repository>:<tag>|@<digest> <service>` for `deployTargets`
   * and nothing else. That user must be allowed to use Docker there. Default: none (authorize
   * `deployPublicKey` yourself, e.g. with a `DeployKey`).
   */
  authorizeOn?: SwarmHost[];
  /**
   * The services Jenkins may roll on `authorizeOn`, each with the one image repository it may
   * roll it to. Required when `authorizeOn` is not empty and no `pipelines` are given.
   * Default: the pipelines' (service, repository) pairs.
   */
  deployTargets?: DeployTargetArgs[];
  /**
   * Pipeline jobs defined as code (Configuration as Code + Job DSL): each clones its repository on a
   * GitLab push (webhook `<url>/project/<name>`, see `webhook()`), then runs the library's
   * `renderPipelineScript` (build, push, deploy through the gated deploy key on `authorizeOn[0]`)
   * with its credentials bound from Jenkins credentials that JCasC reads from secret files.
   * Needs `authorizeOn`. Default: none.
   */
  pipelines?: JenkinsPipelineArgs[];
  /** Executors of the built-in node, where the jobs run with the host's Docker. Default: 2. */
  executors?: number;
  /**
   * Plugins baked into the derived image (`jenkins-plugin-cli` syntax, "name" or "name:version").
   * Default: `JENKINS_PLUGINS` (configuration-as-code, job-dsl, workflow-aggregator, git,
   * credentials-binding, ssh-credentials, plain-credentials, gitlab-plugin; latest at build time:
   * pin versions here for repeatable images). A list given here replaces the default.
   */
  plugins?: string[];
}

/** The webhook GitLab calls for one pipeline job. */
export interface JenkinsWebhook {
  /** `<url>/project/<job>` (gitlab-plugin's endpoint). */
  url: pulumi.Output<string>;
  /** The job's secret token (secret), checked by Jenkins against GitLab's X-Gitlab-Token. */
  token: pulumi.Output<string>;
}

/** The ports Jenkins needs open, for the host's cloud firewall (usable before the host exists). */
export function jenkinsPorts(args: { httpPort?: number; agentPort?: number } = {}): CicdPort[] {
  return [
    { port: args.httpPort ?? 8080, protocol: "tcp", description: "Jenkins HTTP" },
    { port: args.agentPort ?? 50000, protocol: "tcp", description: "Jenkins inbound agents" },
  ];
}

/** Validated Jenkins arguments. */
export interface JenkinsPlan extends CommonPlan {
  httpPort: number;
  agentPort: number;
  image: string;
  authorizeOn: SwarmHost[];
  deployTargets: DeployTargetArgs[];
  pipelines: JenkinsPipelineArgs[];
  executors: number;
  plugins: string[];
}

/** Validates {@link JenkinsHostArgs} (throws a ValidationError) and applies the defaults. */
export function planJenkins(args: JenkinsHostArgs): JenkinsPlan {
  const common = planCommon("Jenkins", args, 300);
  const httpPort = args.httpPort ?? 8080;
  const agentPort = args.agentPort ?? 50000;
  requireDistinctPorts([
    ["httpPort", httpPort],
    ["agentPort", agentPort],
  ]);
  const image = plannedImage("version", args.version, "jenkins");
  const authorizeOn = args.authorizeOn ?? [];
  requireManagers("authorizeOn", authorizeOn, true);
  planHostKeys(TYPE, args, [common.host, ...authorizeOn]);
  const pipelines = args.pipelines ?? [];
  requirePipelines("pipelines", pipelines, authorizeOn);
  const deployTargets = args.deployTargets ?? pipelineTargets(pipelines);
  if (authorizeOn.length > 0) requireDeployTargets("deployTargets", deployTargets);
  else if (deployTargets.length > 0) {
    fail(
      "authorizeOn",
      authorizeOn,
      "deployTargets are given: list the swarm managers to authorize the deploy key on.",
    );
  }
  const executors = args.executors ?? 2;
  if (!Number.isInteger(executors) || executors < 1 || executors > 32) {
    fail("executors", executors, "Use an integer from 1 to 32.");
  }
  const plugins = args.plugins ?? [...JENKINS_PLUGINS];
  if (!Array.isArray(plugins) || plugins.length === 0) {
    fail(
      "plugins",
      plugins,
      'List the plugins to bake in, e.g. ["configuration-as-code", "job-dsl", ...] (see JENKINS_PLUGINS).',
    );
  }
  plugins.forEach((plugin, i) => {
    if (
      typeof plugin !== "string" ||
      !/^[A-Za-z0-9][A-Za-z0-9._-]*(:[A-Za-z0-9][A-Za-z0-9._-]*)?$/.test(plugin)
    ) {
      fail(`plugins[${i}]`, plugin, 'Use "name" or "name:version", e.g. "job-dsl:1.93".');
    }
  });
  return { ...common, httpPort, agentPort, image, authorizeOn, deployTargets, pipelines, executors, plugins };
}

/**
 * A Jenkins controller on its own host, built on the host from `jenkins/jenkins` plus the
 * distribution's Docker CLI and the plugins (a derived image, as Jenkins documents: a host's
 * dynamically linked docker binary mounted into another distribution's container is not sound),
 * driving the host's Docker through the socket (joining the socket's group, read on the host),
 * configured as code (JCasC) with the pipelines' jobs and credentials, and an ed25519 deploy key
 * that can be authorized on swarm managers. The initial admin password is read back from
 * JENKINS_HOME/secrets/initialAdminPassword without being logged.
 */
export class JenkinsHost extends pulumi.ComponentResource {
  /** The web URL, e.g. "http://203.0.113.11:8080". */
  readonly url: pulumi.Output<string>;
  /** The admin user of the setup wizard: "admin". */
  readonly adminUsername: pulumi.Output<string>;
  /** The initial admin password (secret); empty when the setup wizard was already completed on this data directory. */
  readonly adminPassword: pulumi.Output<string>;
  /** OpenSSH public key of Jenkins' deploy key: authorize it on a swarm manager. */
  readonly deployPublicKey: pulumi.Output<string>;
  /** OpenSSH private key of Jenkins' deploy key (secret); also installed as JENKINS_HOME/.ssh/id_ed25519. */
  readonly deployPrivateKey: pulumi.Output<string>;
  /** Ports to open in the host's cloud firewall. */
  readonly ports: CicdPort[];
  /** Name of the controller image built on the host (changes when the Dockerfile changes). */
  readonly builtImage: string;
  private readonly webhooks: Record<string, JenkinsWebhook>;

  /** The webhook of pipeline `job`, for `GitLabHost`'s `webhooks` (throws for a job not in `pipelines`). */
  webhook(job: string): JenkinsWebhook {
    const hook = this.webhooks[job];
    if (!hook) {
      throw new Error(
        `JenkinsHost has no pipeline "${job}" (pipelines: ${Object.keys(this.webhooks).join(", ") || "none"})`,
      );
    }
    return hook;
  }

  constructor(name: string, args: JenkinsHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = validateComponentArgs(TYPE, name, () => planJenkins(args));
    super(TYPE, name, {}, withTokenAliases("JenkinsHost", opts));
    // Its own host and the managers it authorizes the deploy key on, each reached through its
    // pinned key (ssh/hostKeys.ts); managers from SwarmCluster.hosts keep the cluster's pins.
    const [host, ...authorizeOn] = pinHostKeys(
      { component: componentOf(TYPE), name, parent: this },
      [planned.host, ...planned.authorizeOn],
      args,
    );
    const plan = { ...planned, host, authorizeOn };

    const key = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
    const privateKey = pulumi.secret(key.privateKeyOpenssh);
    const publicKey = key.publicKeyOpenssh.apply((k) => k.trim());
    const preflight = preflightCommand(this, name, "Jenkins", plan);
    const tokens = plan.pipelines.map((p) => generatedSecret(this, `${name}-webhook-${p.name}`));
    const config = pipelineConfig(
      "pipelines",
      plan.pipelines,
      plan.authorizeOn[0],
      privateKey,
      tokens,
      plan.executors,
    );
    const secretNames = pipelineSecretNames(plan.pipelines);
    const jobNames = plan.pipelines.map((p) => p.name);
    const configCommand = hostCommand(
      this,
      `${name}-config`,
      plan.host,
      {
        create: asRemoteCommand(
          renderJenkinsConfigScript({
            hostName: plan.host.name,
            dataDir: plan.dataDir,
            secrets: secretNames,
            jobs: jobNames,
          }),
          { root: true },
        ),
        stdin: config.apply((c) => c.bundle),
      },
      [preflight],
    );
    const dockerfile = renderJenkinsDockerfile(plan.image, plan.plugins);
    const builtImage = `pulumi-swarm/jenkins:${configDigest([dockerfile])}`;
    const stdin = pulumi
      .all([privateKey, publicKey, config])
      .apply(([resolvedPrivate, resolvedPublic, resolvedConfig]) =>
        renderBundle([
          {
            name: "compose.yaml",
            content: renderJenkinsCompose({
              image: plan.image,
              httpPort: plan.httpPort,
              agentPort: plan.agentPort,
              dataDir: plan.dataDir,
              build: { image: builtImage, configDigest: resolvedConfig.digest },
            }),
          },
          { name: "Dockerfile", content: dockerfile },
          {
            name: "id_ed25519",
            content: resolvedPrivate.endsWith("\n") ? resolvedPrivate : `${resolvedPrivate}\n`,
          },
          { name: "id_ed25519.pub", content: `${resolvedPublic} ${deployKeyMarker(name)}\n` },
        ]),
      );
    const deploy = composeDeployCommand(
      this,
      name,
      plan,
      {
        tool: "Jenkins",
        project: "jenkins",
        files: ["compose.yaml", "Dockerfile", "id_ed25519", "id_ed25519.pub"],
        stdin,
        dataDirs: [{ path: `${plan.dataDir}/home`, owner: JENKINS_UID }],
        preUp: `${jenkinsPreUp(plan.dataDir)}\n${JENKINS_BUILD_CONTEXT}`,
        health: { url: `http://127.0.0.1:${plan.httpPort}/login` },
      },
      configCommand,
    );
    const passwordRead = hostCommand(
      this,
      `${name}-admin-password`,
      plan.host,
      {
        create: asRemoteCommand(
          renderJenkinsPasswordScript(plan.host.name, plan.dataDir, plan.healthTimeoutSeconds),
          { root: true },
        ),
        updateToo: false,
        printsSecret: true,
      },
      [deploy],
    );
    for (const manager of plan.authorizeOn) {
      authorizeGatedKey(
        this,
        `${name}-authorize-${manager.name}`,
        manager,
        publicKey,
        deployKeyMarker(name),
        plan.deployTargets,
        "deployTargets",
      );
    }

    this.url = webUrl(deploy, plan.address, plan.httpPort, { type: TYPE, name, resource: this });
    this.adminUsername = pulumi.output("admin");
    this.adminPassword = pulumi.secret(passwordRead.stdout.apply((out) => (out ?? "").trim()));
    this.deployPublicKey = publicKey;
    this.deployPrivateKey = privateKey;
    this.ports = jenkinsPorts(plan);
    this.builtImage = builtImage;
    this.webhooks = Object.fromEntries(
      plan.pipelines.map((p, i) => [
        p.name,
        { url: this.url.apply((u) => `${u}/project/${p.name}`), token: pulumi.secret(tokens[i]) },
      ]),
    );
    this.registerOutputs({
      url: this.url,
      adminUsername: this.adminUsername,
      adminPassword: this.adminPassword,
      deployPublicKey: this.deployPublicKey,
      deployPrivateKey: this.deployPrivateKey,
      ports: this.ports,
      builtImage: this.builtImage,
    });
  }
}
