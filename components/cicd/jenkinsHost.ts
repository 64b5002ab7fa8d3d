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
  hostCommand,
  planCommon,
  plannedImage,
  preflightCommand,
  webUrl,
} from "./common";
import {
  JENKINS_UID,
  deployKeyMarker,
  jenkinsPreUp,
  renderJenkinsCompose,
  renderJenkinsPasswordScript,
} from "./scripts/jenkins";
import { asRemoteCommand, renderBundle } from "../shell";
import { requireDistinctPorts } from "./validate";
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
   * roll it to. Required when `authorizeOn` is not empty. Default: none.
   */
  deployTargets?: DeployTargetArgs[];
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
  const deployTargets = args.deployTargets ?? [];
  if (authorizeOn.length > 0) requireDeployTargets("deployTargets", deployTargets);
  else if (deployTargets.length > 0) {
    fail(
      "authorizeOn",
      authorizeOn,
      "deployTargets are given: list the swarm managers to authorize the deploy key on.",
    );
  }
  return { ...common, httpPort, agentPort, image, authorizeOn, deployTargets };
}

/**
 * A Jenkins controller on its own host that drives the host's Docker through the socket (joining
 * the socket's group, read on the host), with an ed25519 deploy key in JENKINS_HOME/.ssh that
 * can be authorized on swarm managers. The initial admin password is read back from
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

  constructor(name: string, args: JenkinsHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = validateComponentArgs(TYPE, name, () => planJenkins(args));
    super(TYPE, name, {}, withTokenAliases("JenkinsHost", opts));

    const key = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
    const privateKey = pulumi.secret(key.privateKeyOpenssh);
    const publicKey = key.publicKeyOpenssh.apply((k) => k.trim());
    const preflight = preflightCommand(this, name, "Jenkins", plan);
    const stdin = pulumi.all([privateKey, publicKey]).apply(([resolvedPrivate, resolvedPublic]) =>
      renderBundle([
        {
          name: "compose.yaml",
          content: renderJenkinsCompose({
            image: plan.image,
            httpPort: plan.httpPort,
            agentPort: plan.agentPort,
            dataDir: plan.dataDir,
          }),
        },
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
        files: ["compose.yaml", "id_ed25519", "id_ed25519.pub"],
        stdin,
        dataDirs: [{ path: `${plan.dataDir}/home`, owner: JENKINS_UID }],
        preUp: jenkinsPreUp(plan.dataDir),
        health: { url: `http://127.0.0.1:${plan.httpPort}/login` },
      },
      preflight,
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
    this.registerOutputs({
      url: this.url,
      adminUsername: this.adminUsername,
      adminPassword: this.adminPassword,
      deployPublicKey: this.deployPublicKey,
      deployPrivateKey: this.deployPrivateKey,
      ports: this.ports,
    });
  }
}
