import * as pulumi from "@pulumi/pulumi";
import { fail, validateComponentArgs } from "../validation";
import {
  CicdHostCommonArgs,
  CicdPort,
  CommonPlan,
  adminPassword,
  checkedAddress,
  composeDeployCommand,
  planCommon,
  planHostKeys,
  withPinnedHost,
  plannedImage,
  preflightCommand,
  whenDone,
} from "./common";
import { gitlabExternalUrl, renderGitLabCompose } from "./gitlabCompose";
import { asRemoteCommand, renderBundle, renderEnvFile } from "../shell";
import {
  gitlabAuthConfig,
  gitlabHookBody,
  renderGitLabHooksScript,
  requireGitLabProject,
  requireHookUrl,
} from "./scripts/gitlabApi";
import { hostCommand } from "./common";
import { isKnown } from "../validation";
import { PasswordRule, requireUsablePassword, requireDistinctPorts } from "./validate";
import { TOKENS, withTokenAliases } from "../tokens";

const TYPE = TOKENS.GitLabHost.type;

/** GitLab refuses root passwords shorter than 8 characters. */
export const GITLAB_PASSWORD_RULE: PasswordRule = { minLength: 8, mixed: false, special: false };

/** Arguments of {@link GitLabHost}. */
export interface GitLabHostArgs extends CicdHostCommonArgs {
  /** HTTP port of the web UI and API (also GitLab's listen port, part of its external URL). Default: 9999. */
  httpPort?: number;
  /** Host port of Git over SSH (container port 22). Default: 2222. */
  sshPort?: number;
  /** `gitlab/gitlab-ce` image tag. Default: `PINNED_VERSIONS.gitlab`. */
  version?: string;
  /** Initial root password (made secret; GitLab reads it on its first start only). Default: generated. */
  rootPassword?: pulumi.Input<string>;
  /** Extra GITLAB_OMNIBUS_CONFIG lines (Ruby). Never put secrets here: they are in the compose file. Default: none. */
  extraOmnibusConfig?: string;
  /**
   * Project webhooks made through GitLab's API v4 once GitLab answers (found by URL first, so a
   * second run creates nothing), e.g. `{ project: "team/web", ...jenkins.webhook("web") }`. Needs
   * `apiToken`. Default: none.
   */
  webhooks?: GitLabWebhookArgs[];
  /**
   * A GitLab access token with the `api` scope that may manage the projects' hooks (made secret;
   * sent on stdin as a curl config). Required with `webhooks`. Default: none.
   */
  apiToken?: pulumi.Input<string>;
}

/** A push webhook of one project. */
export interface GitLabWebhookArgs {
  /** Project path ("group/name") or numeric id. Required. */
  project: string;
  /** URL GitLab posts push events to, e.g. `jenkins.webhook("web").url`. Required. */
  url: pulumi.Input<string>;
  /** Secret token GitLab sends as X-Gitlab-Token (made secret). Required. */
  token: pulumi.Input<string>;
  /** Only pushes to this branch. Default: every branch. */
  branch?: string;
}

/** The ports GitLab needs open, for the host's cloud firewall (usable before the host exists). */
export function gitlabPorts(args: { httpPort?: number; sshPort?: number } = {}): CicdPort[] {
  return [
    { port: args.httpPort ?? 9999, protocol: "tcp", description: "GitLab HTTP" },
    { port: args.sshPort ?? 2222, protocol: "tcp", description: "GitLab SSH" },
  ];
}

/** Validated GitLab arguments. */
export interface GitLabPlan extends CommonPlan {
  httpPort: number;
  sshPort: number;
  image: string;
  webhooks: GitLabWebhookArgs[];
}

/** Validates {@link GitLabHostArgs} (throws a ValidationError) and applies the defaults. */
export function planGitLab(args: GitLabHostArgs): GitLabPlan {
  const common = planCommon("GitLab", args, 1200);
  planHostKeys(TYPE, args, [common.host]);
  requireUsablePassword("rootPassword", args.rootPassword, GITLAB_PASSWORD_RULE);
  const httpPort = args.httpPort ?? 9999;
  const sshPort = args.sshPort ?? 2222;
  if (sshPort === 22) {
    fail(
      "sshPort",
      sshPort,
      "Port 22 is the host's own sshd (the cluster's scripts use it); give GitLab's SSH another port, e.g. 2222 (the default).",
    );
  }
  requireDistinctPorts([
    ["httpPort", httpPort],
    ["sshPort", sshPort],
  ]);
  const image = plannedImage("version", args.version, "gitlab");
  const webhooks = args.webhooks ?? [];
  if (!Array.isArray(webhooks)) fail("webhooks", webhooks, "Pass a list of { project, url, token }.");
  webhooks.forEach((hook, i) => {
    requireGitLabProject(`webhooks[${i}].project`, hook?.project);
    if (isKnown(hook.url)) requireHookUrl(`webhooks[${i}].url`, hook.url);
    if (hook.token === undefined)
      fail(
        `webhooks[${i}].token`,
        undefined,
        'Give the secret token Jenkins checks, e.g. jenkins.webhook("web").token.',
      );
  });
  if (webhooks.length > 0 && args.apiToken === undefined) {
    fail(
      "apiToken",
      undefined,
      'webhooks are made through GitLab\'s API: give an access token with the api scope (e.g. config.requireSecret("gitlabToken")).',
    );
  }
  return { ...common, httpPort, sshPort, image, webhooks };
}

/**
 * GitLab CE on its own host: preflight (2 CPUs, 4 GiB, 20 GiB free by default), a compose
 * deployment with bind-mounted config/logs/data, the root password set at first start through
 * GITLAB_ROOT_PASSWORD, and `pulumi up` waiting until the sign-in page answers.
 */
export class GitLabHost extends pulumi.ComponentResource {
  /** The web URL, e.g. "http://203.0.113.10:9999". */
  readonly url: pulumi.Output<string>;
  /** Base of SSH clone URLs, e.g. "ssh://git@203.0.113.10:2222". */
  readonly sshUrl: pulumi.Output<string>;
  /** The admin user: "root". */
  readonly adminUsername: pulumi.Output<string>;
  /** The root password (secret). */
  readonly adminPassword: pulumi.Output<string>;
  /** Ports to open in the host's cloud firewall. */
  readonly ports: CicdPort[];

  constructor(name: string, args: GitLabHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const planned = validateComponentArgs(TYPE, name, () => planGitLab(args));
    super(TYPE, name, {}, withTokenAliases("GitLabHost", opts));
    // Every command below reaches the host through its pinned key (ssh/hostKeys.ts).
    const plan = withPinnedHost(this, TYPE, name, planned, args);

    const password = adminPassword(this, name, "rootPassword", args.rootPassword, GITLAB_PASSWORD_RULE, {
      type: TYPE,
      name,
      resource: this,
    });
    const address = checkedAddress(plan.address, { type: TYPE, name, resource: this });
    const preflight = preflightCommand(this, name, "GitLab", plan);
    const stdin = pulumi.all([address, password]).apply(([resolvedAddress, resolvedPassword]) =>
      renderBundle([
        {
          name: "compose.yaml",
          content: renderGitLabCompose({
            image: plan.image,
            address: resolvedAddress,
            httpPort: plan.httpPort,
            sshPort: plan.sshPort,
            dataDir: plan.dataDir,
            extraOmnibusConfig: args.extraOmnibusConfig,
          }),
        },
        { name: "gitlab.env", content: renderEnvFile({ GITLAB_ROOT_PASSWORD: resolvedPassword }) },
      ]),
    );
    const deploy = composeDeployCommand(
      this,
      name,
      plan,
      {
        tool: "GitLab",
        project: "gitlab",
        files: ["compose.yaml", "gitlab.env"],
        stdin,
        dataDirs: ["config", "logs", "data"].map((dir) => ({ path: `${plan.dataDir}/${dir}` })),
        // /-/readiness only answers the monitoring allow-list inside the container; the
        // sign-in page renders only once Rails, Workhorse and the database are up.
        health: { url: `http://127.0.0.1:${plan.httpPort}/users/sign_in` },
      },
      preflight,
    );

    this.url = whenDone(
      deploy,
      address.apply((a) => gitlabExternalUrl(a, plan.httpPort)),
    );
    this.sshUrl = whenDone(
      deploy,
      address.apply((a) => `ssh://git@${a}:${plan.sshPort}`),
    );
    if (plan.webhooks.length > 0) this.hooks(name, plan, args.apiToken!, deploy);
    this.adminUsername = pulumi.output("root");
    this.adminPassword = pulumi.secret(whenDone(deploy, password));
    this.ports = gitlabPorts(plan);
    this.registerOutputs({
      url: this.url,
      sshUrl: this.sshUrl,
      adminUsername: this.adminUsername,
      adminPassword: this.adminPassword,
      ports: this.ports,
    });
  }

  /** The webhooks, through GitLab's API on the host's loopback, after GitLab answers. */
  private hooks(
    name: string,
    plan: GitLabPlan,
    apiToken: pulumi.Input<string>,
    deploy: pulumi.Resource,
  ): void {
    const resolved = plan.webhooks.map((hook) => pulumi.all([hook.url, hook.token]));
    const stdin = pulumi.all([apiToken, pulumi.all(resolved)]).apply(([token, hooks]) =>
      renderBundle([
        { name: "auth.conf", content: gitlabAuthConfig(token) },
        ...hooks.map(([url, hookToken], i) => {
          requireHookUrl(`webhooks[${i}].url`, url);
          return {
            name: `hook.${i}.json`,
            content: gitlabHookBody(
              { project: plan.webhooks[i].project, url, branch: plan.webhooks[i].branch },
              hookToken,
            ),
          };
        }),
      ]),
    );
    // The script lists the URLs it looks for, so it waits for them (they are not secret).
    const create = pulumi.all(plan.webhooks.map((hook) => hook.url)).apply((urls) =>
      asRemoteCommand(
        renderGitLabHooksScript({
          hostName: plan.host.name,
          apiBase: `http://127.0.0.1:${plan.httpPort}`,
          hooks: plan.webhooks.map((hook, i) => ({
            project: hook.project,
            url: urls[i],
            branch: hook.branch,
          })),
        }),
        { root: true },
      ),
    );
    hostCommand(this, `${name}-webhooks`, plan.host, { create, stdin }, [deploy]);
  }
}
