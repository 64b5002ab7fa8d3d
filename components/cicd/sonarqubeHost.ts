import * as pulumi from "@pulumi/pulumi";
import { validateComponentArgs } from "../validation";
import {
  CicdHostCommonArgs,
  CicdPort,
  CommonPlan,
  adminPassword,
  composeDeployCommand,
  generatedSecret,
  hostCommand,
  planCommon,
  planHostKeys,
  withPinnedHost,
  plannedImage,
  preflightCommand,
  webUrl,
  whenDone,
} from "./common";
import {
  SONARQUBE_UID,
  renderSonarQubeCompose,
  renderSonarQubePasswordCurlConfig,
  renderSonarQubePasswordScript,
  renderSonarQubeValidateCurlConfig,
} from "./scripts/sonarqube";
import { asRemoteCommand, renderBundle, renderEnvFile } from "../shell";
import { PasswordRule, requireUsablePassword, requireDistinctPorts } from "./validate";
import { TOKENS, withTokenAliases } from "../tokens";

const TYPE = TOKENS.SonarQubeHost.type;

/** SonarQube's rule for local passwords: 12+ characters, upper, lower, digit and a special character. */
export const SONARQUBE_PASSWORD_RULE: PasswordRule = { minLength: 12, mixed: true, special: true };

/** Arguments of {@link SonarQubeHost}. */
export interface SonarQubeHostArgs extends CicdHostCommonArgs {
  /** Host port of the web UI and API (container port 9000). Default: 9000. */
  httpPort?: number;
  /** `sonarqube` image tag. Default: `PINNED_VERSIONS.sonarqube`. */
  version?: string;
  /** `postgres` image tag of its database. Default: `PINNED_VERSIONS.postgres`. */
  postgresVersion?: string;
  /**
   * Admin password (made secret), set by changing the default "admin" through the web API once
   * SonarQube is up. Changing it later is not supported here: change it in SonarQube first, then
   * here. Default: generated.
   */
  adminPassword?: pulumi.Input<string>;
}

/** The ports SonarQube needs open, for the host's cloud firewall (Postgres is never published). */
export function sonarqubePorts(args: { httpPort?: number } = {}): CicdPort[] {
  return [{ port: args.httpPort ?? 9000, protocol: "tcp", description: "SonarQube HTTP" }];
}

/** Validated SonarQube arguments. */
export interface SonarQubePlan extends CommonPlan {
  httpPort: number;
  image: string;
  postgresImage: string;
}

/** Validates {@link SonarQubeHostArgs} (throws a ValidationError) and applies the defaults. */
export function planSonarQube(args: SonarQubeHostArgs): SonarQubePlan {
  const common = planCommon("SonarQube", args, 600);
  planHostKeys(TYPE, args, [common.host]);
  requireUsablePassword("adminPassword", args.adminPassword, SONARQUBE_PASSWORD_RULE);
  const httpPort = args.httpPort ?? 9000;
  requireDistinctPorts([["httpPort", httpPort]]);
  const image = plannedImage("version", args.version, "sonarqube");
  const postgresImage = plannedImage("postgresVersion", args.postgresVersion, "postgres");
  return { ...common, httpPort, image, postgresImage };
}

/**
 * SonarQube (Community Build) with its own Postgres on an internal network, on its own host:
 * preflight raises and persists vm.max_map_count, `pulumi up` waits for /api/system/status to be
 * UP, then the admin password is changed from the default through the web API.
 */
export class SonarQubeHost extends pulumi.ComponentResource {
  /** The web URL, e.g. "http://203.0.113.12:9000". */
  readonly url: pulumi.Output<string>;
  /** The admin user: "admin". */
  readonly adminUsername: pulumi.Output<string>;
  /** The admin password (secret). */
  readonly adminPassword: pulumi.Output<string>;
  /** Ports to open in the host's cloud firewall. */
  readonly ports: CicdPort[];

  constructor(name: string, args: SonarQubeHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = validateComponentArgs(TYPE, name, () => planSonarQube(args));
    super(TYPE, name, {}, withTokenAliases("SonarQubeHost", opts));
    // Every command below reaches the host through its pinned key (ssh/hostKeys.ts).
    const plan = withPinnedHost(this, TYPE, name, planned, args);

    const password = adminPassword(this, name, "adminPassword", args.adminPassword, SONARQUBE_PASSWORD_RULE, {
      type: TYPE,
      name,
      resource: this,
    });
    const dbPassword = generatedSecret(this, `${name}-db-password`);
    const preflight = preflightCommand(this, name, "SonarQube", plan);
    const stdin = dbPassword.apply((db) =>
      renderBundle([
        {
          name: "compose.yaml",
          content: renderSonarQubeCompose({
            image: plan.image,
            postgresImage: plan.postgresImage,
            httpPort: plan.httpPort,
            dataDir: plan.dataDir,
          }),
        },
        { name: "sonarqube.env", content: renderEnvFile({ SONAR_JDBC_PASSWORD: db }) },
        { name: "postgres.env", content: renderEnvFile({ POSTGRES_PASSWORD: db }) },
      ]),
    );
    const deploy = composeDeployCommand(
      this,
      name,
      plan,
      {
        tool: "SonarQube",
        project: "sonarqube",
        files: ["compose.yaml", "sonarqube.env", "postgres.env"],
        stdin,
        dataDirs: [
          ...["data", "extensions", "logs"].map((dir) => ({
            path: `${plan.dataDir}/${dir}`,
            owner: SONARQUBE_UID,
          })),
          { path: `${plan.dataDir}/postgresql` },
        ],
        health: { url: `http://127.0.0.1:${plan.httpPort}/api/system/status`, expect: '"status": ?"UP"' },
      },
      preflight,
    );
    const setPassword = hostCommand(
      this,
      `${name}-admin-password`,
      plan.host,
      {
        create: asRemoteCommand(renderSonarQubePasswordScript(plan.host.name, plan.httpPort), { root: true }),
        stdin: password.apply((p) =>
          renderBundle([
            { name: "validate.conf", content: renderSonarQubeValidateCurlConfig(p) },
            { name: "change.conf", content: renderSonarQubePasswordCurlConfig(p) },
          ]),
        ),
      },
      [deploy],
    );

    this.url = webUrl(deploy, plan.address, plan.httpPort, { type: TYPE, name, resource: this });
    this.adminUsername = pulumi.output("admin");
    this.adminPassword = pulumi.secret(whenDone(setPassword, password));
    this.ports = sonarqubePorts(plan);
    this.registerOutputs({
      url: this.url,
      adminUsername: this.adminUsername,
      adminPassword: this.adminPassword,
      ports: this.ports,
    });
  }
}
