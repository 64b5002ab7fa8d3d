import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { fail, isHostAddress, isIpv4, requireBoolean, validateComponentArgs } from "../validation";
import {
  CicdHostCommonArgs,
  CicdPort,
  CommonPlan,
  adminPassword,
  checkedAddress,
  generatedSecret,
  hostCommand,
  planCommon,
  planHostKeys,
  withPinnedHost,
  preflightCommand,
  whenDone,
} from "./common";
import {
  HarborInstallerKind,
  harborInstallerUrl,
  harborPaths,
  renderHarborInstallScript,
  renderHarborRemoveScript,
  renderHarborYml,
} from "./scripts/harbor";
import {
  HarborRobot,
  harborAuthConfig,
  harborRobotBody,
  parseHarborRobots,
  renderHarborProjectScript,
  requireHarborProjectName,
} from "./scripts/harborApi";
import type { CredentialsOutput } from "./credentials";
import { asRemoteCommand, renderBundle } from "../shell";
import { PasswordRule, requireUsablePassword, requireDistinctPorts, requireSeconds } from "./validate";
import { PINNED_VERSIONS, isHarborVersion } from "./versions";
import { TOKENS, withTokenAliases } from "../tokens";

const TYPE = TOKENS.HarborHost.type;

/** Harbor's rule for the admin password: 8-128 characters with upper case, lower case and a digit. */
export const HARBOR_PASSWORD_RULE: PasswordRule = { minLength: 8, mixed: true, special: false };

/** Arguments of {@link HarborHost}. */
export interface HarborHostArgs extends CicdHostCommonArgs {
  /**
   * Serve HTTPS with a certificate from a CA made here (install the CA on the swarm nodes with
   * `RegistryTrust`). false serves plain HTTP, which every node must then list in the cluster's
   * `insecureRegistries`: an explicit opt-in. Default: true.
   */
  tls?: boolean;
  /** HTTP port (redirects to HTTPS when TLS is on). Default: 80. */
  httpPort?: number;
  /** HTTPS port. Default: 443. */
  httpsPort?: number;
  /** Harbor release, e.g. "v2.15.2". Default: `PINNED_VERSIONS.harbor`. Upgrades need Harbor's migration steps first. */
  version?: string;
  /** Installer flavour: "online" pulls goharbor/* images, "offline" carries them. Default: "online". */
  installer?: HarborInstallerKind;
  /** Where the host downloads the installer tarball, over HTTPS only (redirects too). Default: the release's asset on GitHub. */
  installerUrl?: string;
  /**
   * SHA-256 (64 lower-case hex digits) of the installer tarball. Required: the host checks the
   * download against it before anything of it runs as root, and refuses a tarball that differs.
   * Get it once from a copy you trust: `sha256sum harbor-online-installer-v2.15.2.tgz`.
   */
  installerSha256: string;
  /** Install the Trivy scanner too. Default: false. */
  withTrivy?: boolean;
  /** Initial admin password (made secret; Harbor reads it on first start only). Default: generated. */
  adminPassword?: pulumi.Input<string>;
  /** Extra DNS names or IPv4 addresses for the server certificate, besides `address`. Default: none. */
  extraNames?: string[];
  /** Validity of the server certificate, in hours. Default: 17520 (2 years). */
  certificateValidityHours?: number;
  /** Validity of the CA certificate, in hours. Default: 87600 (10 years). */
  caValidityHours?: number;
  /**
   * A project for the pipeline's images, made through Harbor's v2.0 API once Harbor is healthy
   * (idempotent), with two robot accounts whose secrets Pulumi generates: "<project>+jenkins"
   * (push and pull; `pushCredentials`) and "<project>+nodes" (pull only; `pullCredentials`).
   * Default: none.
   */
  project?: HarborProjectArgs;
}

/** The pipeline's Harbor project. */
export interface HarborProjectArgs {
  /** Project name: lower-case letters, digits, ".", "_", "-". Required. */
  name: string;
  /** Anonymous pull allowed. Default: false. */
  public?: boolean;
}

/** The robots HarborHost makes in its `project`. */
export const HARBOR_ROBOTS: readonly HarborRobot[] = [
  { name: "jenkins", access: "push", description: "pulumi-swarm: the pipeline pushes images" },
  { name: "nodes", access: "pull", description: "pulumi-swarm: swarm nodes pull images" },
];

/** The ports Harbor needs open, for the host's cloud firewall (usable before the host exists). */
export function harborPorts(args: { tls?: boolean; httpPort?: number; httpsPort?: number } = {}): CicdPort[] {
  return args.tls === false
    ? [{ port: args.httpPort ?? 80, protocol: "tcp", description: "Harbor HTTP" }]
    : [{ port: args.httpsPort ?? 443, protocol: "tcp", description: "Harbor HTTPS" }];
}

/** The registry name images use: "host" on the scheme's default port, else "host:port". */
export function harborRegistryName(address: string, tlsOn: boolean, port: number): string {
  return port === (tlsOn ? 443 : 80) ? address : `${address}:${port}`;
}

/** Validated Harbor arguments. */
export interface HarborPlan extends CommonPlan {
  tls: boolean;
  httpPort: number;
  httpsPort: number;
  version: string;
  installer: HarborInstallerKind;
  installerUrl: string;
  installerSha256: string;
  withTrivy: boolean;
  project?: HarborProjectArgs;
  extraNames: string[];
  certificateValidityHours: number;
  caValidityHours: number;
}

/** Validates {@link HarborHostArgs} (throws a ValidationError) and applies the defaults. */
export function planHarbor(args: HarborHostArgs): HarborPlan {
  const common = planCommon("Harbor", args, 900);
  planHostKeys(TYPE, args, [common.host]);
  requireUsablePassword("adminPassword", args.adminPassword, HARBOR_PASSWORD_RULE);
  requireBoolean("withTrivy", args.withTrivy);
  const tlsOn = args.tls ?? true;
  if (typeof tlsOn !== "boolean") fail("tls", tlsOn, "Use true (HTTPS, the default) or false (plain HTTP).");
  const httpPort = args.httpPort ?? 80;
  const httpsPort = args.httpsPort ?? 443;
  requireDistinctPorts([
    ["httpPort", httpPort],
    ["httpsPort", httpsPort],
  ]);
  const version = args.version ?? PINNED_VERSIONS.harbor;
  if (typeof version !== "string" || !isHarborVersion(version)) {
    fail("version", version, 'Use a Harbor release name such as "v2.15.2".');
  }
  const installer = args.installer ?? "online";
  if (installer !== "online" && installer !== "offline") {
    fail("installer", installer, 'Use "online" or "offline".');
  }
  const installerUrl = args.installerUrl ?? harborInstallerUrl(version, installer);
  if (!/^https:\/\/[A-Za-z0-9._~:/?#@!&+,;=%-]+$/.test(installerUrl)) {
    fail(
      "installerUrl",
      installerUrl,
      "Use an https:// URL of the installer tarball without spaces or quotes (the installer runs as root: plain http is refused).",
    );
  }
  const installerSha256 = args.installerSha256;
  if (typeof installerSha256 !== "string" || !/^[0-9a-f]{64}$/.test(installerSha256)) {
    fail(
      "installerSha256",
      installerSha256,
      `Use the 64 lower-case hex digits of the tarball's SHA-256 (required: the installer runs as root), e.g. the output of \`sha256sum harbor-${installer}-installer-${version}.tgz\` on a copy you trust.`,
    );
  }
  if (args.project !== undefined) {
    requireHarborProjectName("project.name", args.project?.name);
    requireBoolean("project.public", args.project.public);
  }
  const extraNames = args.extraNames ?? [];
  extraNames.forEach((extra, index) => {
    if (!isHostAddress(extra)) fail(`extraNames[${index}]`, extra, "Use a DNS name or an IPv4 address.");
  });
  const certificateValidityHours = args.certificateValidityHours ?? 17520;
  requireSeconds("certificateValidityHours", certificateValidityHours, 24, 876000, "hours");
  const caValidityHours = args.caValidityHours ?? 87600;
  requireSeconds("caValidityHours", caValidityHours, 24, 876000, "hours");
  if (caValidityHours < certificateValidityHours) {
    fail(
      "caValidityHours",
      caValidityHours,
      `Make the CA live at least as long as the server certificate (${certificateValidityHours} hours).`,
    );
  }
  return {
    ...common,
    tls: tlsOn,
    httpPort,
    httpsPort,
    version,
    installer,
    installerUrl,
    installerSha256,
    withTrivy: args.withTrivy ?? false,
    project: args.project,
    extraNames,
    certificateValidityHours,
    caValidityHours,
  };
}

/**
 * Harbor on its own host, installed with Harbor's own installer (see harborConfig.ts for why):
 * preflight (2 CPUs, 4 GiB, 40 GiB free by default), harbor.yml rendered from typed arguments,
 * HTTPS with a server certificate signed by a CA made here (`caCertificate`: install it on the
 * swarm nodes with `RegistryTrust`), and `pulumi up` waiting for /api/v2.0/health.
 */
export class HarborHost extends pulumi.ComponentResource {
  /** The web URL, e.g. "https://203.0.113.13". */
  readonly url: pulumi.Output<string>;
  /** The registry as image references name it, e.g. "203.0.113.13" or "203.0.113.13:8443". */
  readonly registry: pulumi.Output<string>;
  /** PEM certificate of the CA that signed Harbor's certificate (public); undefined without TLS. */
  readonly caCertificate: pulumi.Output<string | undefined>;
  /** The admin user: "admin". */
  readonly adminUsername: pulumi.Output<string>;
  /** The admin password (secret). */
  readonly adminPassword: pulumi.Output<string>;
  /** Ports to open in the host's cloud firewall. */
  readonly ports: CicdPort[];
  /** The push robot of `project` ("robot$<project>+jenkins"; password secret), e.g. for a Jenkins pipeline's `registryCredentials`. Undefined without `project`. */
  readonly pushCredentials?: CredentialsOutput;
  /** The pull-only robot of `project` ("robot$<project>+nodes"; password secret), for the swarm's `docker login`. Undefined without `project`. */
  readonly pullCredentials?: CredentialsOutput;

  constructor(name: string, args: HarborHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = validateComponentArgs(TYPE, name, () => planHarbor(args));
    super(TYPE, name, {}, withTokenAliases("HarborHost", opts));
    // Every command below reaches the host through its pinned key (ssh/hostKeys.ts).
    const plan = withPinnedHost(this, TYPE, name, planned, args);

    const password = adminPassword(this, name, "adminPassword", args.adminPassword, HARBOR_PASSWORD_RULE, {
      type: TYPE,
      name,
      resource: this,
    });
    const dbPassword = generatedSecret(this, `${name}-db-password`);
    const address = checkedAddress(plan.address, { type: TYPE, name, resource: this });
    const paths = harborPaths(plan.dataDir);
    const tlsFiles = plan.tls ? this.certificates(name, plan, address) : undefined;
    const preflight = preflightCommand(this, name, "Harbor", plan);

    const stdin = pulumi
      .all([address, password, dbPassword, tlsFiles?.certificate ?? "", tlsFiles?.privateKey ?? ""])
      .apply(([resolvedAddress, admin, db, certificate, privateKey]) =>
        renderBundle([
          {
            name: "harbor.yml",
            content: renderHarborYml({
              hostname: resolvedAddress,
              httpPort: plan.httpPort,
              https: plan.tls
                ? {
                    port: plan.httpsPort,
                    certificate: `${paths.configDir}/tls.crt`,
                    privateKey: `${paths.configDir}/tls.key`,
                  }
                : undefined,
              adminPassword: admin,
              databasePassword: db,
              dataVolume: paths.dataVolume,
              logDir: paths.logDir,
              version: plan.version,
            }),
          },
          ...(plan.tls
            ? [
                { name: "tls.crt", content: certificate },
                { name: "tls.key", content: privateKey },
              ]
            : []),
        ]),
      );
    const healthUrl = plan.tls
      ? `https://127.0.0.1:${plan.httpsPort}/api/v2.0/health`
      : `http://127.0.0.1:${plan.httpPort}/api/v2.0/health`;
    const deploy = hostCommand(
      this,
      `${name}-deploy`,
      plan.host,
      {
        create: asRemoteCommand(
          renderHarborInstallScript({
            hostName: plan.host.name,
            baseDir: plan.dataDir,
            version: plan.version,
            kind: plan.installer,
            installerUrl: plan.installerUrl,
            installerSha256: plan.installerSha256,
            withTrivy: plan.withTrivy,
            tls: plan.tls,
            health: {
              url: healthUrl,
              expect: '"status": ?"healthy"',
              timeoutSeconds: plan.healthTimeoutSeconds,
            },
          }),
          { root: true },
        ),
        delete: asRemoteCommand(
          renderHarborRemoveScript({
            hostName: plan.host.name,
            baseDir: plan.dataDir,
            version: plan.version,
          }),
          { root: true },
        ),
        stdin,
      },
      [preflight],
    );

    const port = plan.tls ? plan.httpsPort : plan.httpPort;
    const registry = address.apply((a) => harborRegistryName(a, plan.tls, port));
    this.registry = whenDone(deploy, registry);
    this.url = whenDone(
      deploy,
      registry.apply((r) => `${plan.tls ? "https" : "http"}://${r}`),
    );
    this.caCertificate = tlsFiles ? tlsFiles.caCertificate : pulumi.output(undefined);
    this.adminUsername = pulumi.output("admin");
    this.adminPassword = pulumi.secret(whenDone(deploy, password));
    this.ports = harborPorts(plan);
    if (plan.project) {
      const robots = this.projectRobots(name, plan, plan.project, password, deploy);
      this.pushCredentials = robots.jenkins;
      this.pullCredentials = robots.nodes;
    }
    this.registerOutputs({
      url: this.url,
      registry: this.registry,
      caCertificate: this.caCertificate,
      adminUsername: this.adminUsername,
      adminPassword: this.adminPassword,
      ports: this.ports,
      pushCredentials: this.pushCredentials,
      pullCredentials: this.pullCredentials,
    });
  }

  /** The project and its robots, through Harbor's API on the host's loopback, after the deploy. */
  private projectRobots(
    name: string,
    plan: HarborPlan,
    project: HarborProjectArgs,
    password: pulumi.Output<string>,
    deploy: pulumi.Resource,
  ): Record<string, CredentialsOutput> {
    const secrets = HARBOR_ROBOTS.map((robot) => generatedSecret(this, `${name}-robot-${robot.name}`));
    const stdin = pulumi.all([password, ...secrets]).apply(([admin, ...robotSecrets]) =>
      renderBundle([
        { name: "admin.conf", content: harborAuthConfig("admin", admin) },
        ...HARBOR_ROBOTS.flatMap((robot, i) => [
          {
            name: `robot.${robot.name}.json`,
            content: harborRobotBody(project.name, robot, robotSecrets[i]),
          },
          { name: `secret.${robot.name}.json`, content: JSON.stringify({ secret: robotSecrets[i] }) },
        ]),
      ]),
    );
    const apiBase = plan.tls ? `https://127.0.0.1:${plan.httpsPort}` : `http://127.0.0.1:${plan.httpPort}`;
    const command = hostCommand(
      this,
      `${name}-project`,
      plan.host,
      {
        create: asRemoteCommand(
          renderHarborProjectScript({
            hostName: plan.host.name,
            apiBase,
            insecure: plan.tls,
            project: project.name,
            public: project.public ?? false,
            robots: [...HARBOR_ROBOTS],
          }),
          { root: true },
        ),
        stdin,
      },
      [deploy],
    );
    const names = command.stdout.apply((out) => parseHarborRobots(out ?? ""));
    return Object.fromEntries(
      HARBOR_ROBOTS.map((robot, i) => [
        robot.name,
        {
          username: names.apply((n) => n[robot.name] ?? `robot$${project.name}+${robot.name}`),
          password: pulumi.secret(whenDone(command, secrets[i])),
        },
      ]),
    );
  }

  /** The CA (its key stays secret in state) and the server certificate for `address` and `extraNames`. */
  private certificates(
    name: string,
    plan: HarborPlan,
    address: pulumi.Output<string>,
  ): {
    caCertificate: pulumi.Output<string>;
    certificate: pulumi.Output<string>;
    privateKey: pulumi.Output<string>;
  } {
    const caKey = new tls.PrivateKey(
      `${name}-ca-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const ca = new tls.SelfSignedCert(
      `${name}-ca`,
      {
        privateKeyPem: pulumi.secret(caKey.privateKeyPem),
        isCaCertificate: true,
        validityPeriodHours: plan.caValidityHours,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        subject: { commonName: `${name} registry CA`, organization: "pulumi-swarm" },
      },
      { parent: this },
    );
    const serverKey = new tls.PrivateKey(
      `${name}-tls-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const names = address.apply((a) => [a, ...plan.extraNames]);
    const request = new tls.CertRequest(
      `${name}-tls-csr`,
      {
        privateKeyPem: pulumi.secret(serverKey.privateKeyPem),
        subject: { commonName: address, organization: "pulumi-swarm" },
        dnsNames: names.apply((all) => all.filter((n) => !isIpv4(n))),
        ipAddresses: names.apply((all) => all.filter((n) => isIpv4(n))),
      },
      { parent: this },
    );
    const certificate = new tls.LocallySignedCert(
      `${name}-tls-cert`,
      {
        certRequestPem: request.certRequestPem,
        caPrivateKeyPem: pulumi.secret(caKey.privateKeyPem),
        caCertPem: ca.certPem,
        validityPeriodHours: plan.certificateValidityHours,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
      { parent: this },
    );
    return {
      caCertificate: ca.certPem,
      certificate: certificate.certPem,
      privateKey: pulumi.secret(serverKey.privateKeyPem),
    };
  }
}
