import * as pulumi from "@pulumi/pulumi";
import { installStackMocks, settleAll, stackFile } from "./stacks-helpers";
import { isSecretInput, MockRun, unwrapSecrets } from "../helpers/mocks";

const API_TOKEN = "glpat-stack-webhooks-test-token";

/** The prod stack with `cicd.gitlab.webhooks` on (its second step), under mocks. */
describe("stack prod with GitLab webhooks (cicd.gitlab.webhooks + pulumi-swarm:gitlabApiToken)", () => {
  let run: MockRun;

  beforeAll(async () => {
    run = await installStackMocks("prod", { awsRegion: "eu-central-1" });
    const { buildStack, loadStackFile } = await import("../../stacks/program");
    const config = loadStackFile(stackFile("prod"));
    const gitlab = config["pulumi-swarm:cicd"].gitlab;
    if (!gitlab) throw new Error("the prod stack has no GitLab");
    gitlab.webhooks = true;
    expect(() => buildStack(structuredClone(config))).toThrow(
      "pulumi-swarm:gitlabApiToken: received nothing. pulumi-swarm:cicd.gitlab.webhooks needs a GitLab access token with the api scope: `pulumi config set --secret pulumi-swarm:gitlabApiToken <token>`.",
    );
    // Refused before anything was made.
    expect(run.resources).toEqual([]);
    const built = buildStack(config, { gitlabApiToken: pulumi.secret(API_TOKEN) });
    await settleAll(built.outputs.urls, built.cluster.provider.urn);
  }, 120_000);

  it("hooks team/web to Jenkins' job web with the job's token, the API token on stdin only", () => {
    const hooks = run.named("gitlab-webhooks");
    expect(isSecretInput(hooks.inputs.stdin)).toBe(true);
    const files = Object.fromEntries(
      String(unwrapSecrets(hooks.inputs.stdin))
        .trim()
        .split("\n")
        .map((line) => line.split(" "))
        .map(([name, data]) => [name, Buffer.from(data, "base64").toString("utf8")]),
    );
    expect(Object.keys(files)).toEqual(["auth.conf", "hook.0.json"]);
    expect(files["auth.conf"]).toContain(API_TOKEN);
    const hook = JSON.parse(files["hook.0.json"]);
    expect(hook.url).toBe("http://198.51.100.8:8080/project/web");
    expect(typeof hook.token).toBe("string");
    expect(hook.token.length).toBeGreaterThan(0);
    expect(String(hooks.inputs.create)).toContain("projects=('\\''team%2Fweb'\\'')");
    expect(JSON.stringify(hooks.inputs.create)).not.toContain(API_TOKEN);
  });
});
