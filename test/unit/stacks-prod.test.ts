import { CA_CERT, countsByType, installStackMocks, settleAll, stackFile } from "./stacks-helpers";
import * as YAML from "yaml";
import { isSecretInput, isSecretOutput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";

/** The prod stack file, run through the real program under mocks: a broken stack file fails here. */
describe("stack prod (stacks/Pulumi.prod.yaml) under mocks", () => {
  let run: MockRun;
  let built: import("../../stacks/program").BuiltStack;

  beforeAll(async () => {
    run = await installStackMocks("prod", { awsRegion: "eu-central-1" });
    const { buildStack, loadStackFile } = await import("../../stacks/program");
    built = buildStack(loadStackFile(stackFile("prod")));
    await settleAll(
      built.outputs.nodeIds,
      built.outputs.networks,
      built.outputs.urls,
      built.outputs.adminCredentials,
      built.cluster.provider.urn,
    );
  }, 120_000);

  it("creates exactly this resource set", () => {
    expect(countsByType(run)).toEqual({
      "aws:ec2/instance:Instance": 10,
      "aws:ec2/keyPair:KeyPair": 5,
      "aws:ec2/securityGroup:SecurityGroup": 5,
      "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 5,
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 44,
      "command:remote:Command": 38, // jenkins-config (JCasC + the pipeline) and harbor-project among them
      "pulumi-nodejs:dynamic:Resource": 17, // + one host-key pin per swarm node and per tool VM
      "docker:index/network:Network": 2,
      "docker:index/service:Service": 1,
      "pulumi:providers:docker": 1,
      "random:index/randomPassword:RandomPassword": 8, // + 2 Harbor robots, 1 webhook token
      "swarm:hosts:AwsHosts": 5,
      "swarm:cicd:GitLabHost": 1,
      "swarm:cicd:HarborHost": 1,
      "swarm:cicd:JenkinsHost": 1,
      "swarm:cicd:RegistryTrust": 1,
      "swarm:cicd:SonarQubeHost": 1,
      "swarm:cluster:SwarmCluster": 1,
      "swarm:workloads:OverlayNetwork": 2,
      "swarm:workloads:SwarmService": 1,
      "tls:index/certRequest:CertRequest": 1,
      "tls:index/locallySignedCert:LocallySignedCert": 1,
      "tls:index/privateKey:PrivateKey": 18, // + one SSH host key per instance
      "tls:index/selfSignedCert:SelfSignedCert": 1,
    });
  });

  it("spreads 3 managers over 3 availability zones, workers too, on m6i.large", () => {
    const swarm = run.ofType("aws:ec2/instance:Instance").filter((i) => i.name.startsWith("prod-"));
    expect(swarm.map((i) => i.name)).toEqual(["prod-1", "prod-2", "prod-3", "prod-4", "prod-5", "prod-6"]);
    for (const i of swarm) {
      expect(i.inputs).toMatchObject({ instanceType: "m6i.large", rootBlockDevice: { volumeSize: 50 } });
    }
    const zoneOf = (n: number) => swarm[n - 1].inputs.availabilityZone;
    expect(new Set([1, 2, 3].map(zoneOf))).toEqual(
      new Set(["eu-central-1a", "eu-central-1b", "eu-central-1c"]),
    );
    expect(new Set([4, 5, 6].map(zoneOf))).toEqual(
      new Set(["eu-central-1a", "eu-central-1b", "eu-central-1c"]),
    );
    expect(built.outputs.managers).toEqual(["prod-1", "prod-2", "prod-3"]);
    expect(built.outputs.workers).toEqual(["prod-4", "prod-5", "prod-6"]);
  });

  it("drains the managers, locks Raft data and encrypts every overlay (ESP open between members only)", async () => {
    for (const n of [1, 2, 3]) {
      expect(run.named(`prod-prod-${n}-node`).inputs.availability).toBe("drain");
    }
    for (const n of [4, 5, 6]) {
      expect(run.named(`prod-prod-${n}-node`).inputs.availability).toBe("active");
    }
    expect(String(unwrapSecrets(run.named("prod-init").inputs.create))).toContain("--autolock");
    expect(await isSecretOutput(built.outputs.unlockKey)).toBe(true);
    const networks = run.ofType("docker:index/network:Network");
    expect(networks.map((n) => [n.inputs.name, n.inputs.options, n.inputs.internal])).toEqual([
      ["frontend", { encrypted: "true" }, false],
      ["backend", { encrypted: "true" }, true],
    ]);
    const esp = run
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.ipProtocol === "50");
    expect(esp.map((r) => r.name)).toEqual(["prod-in-esp-members"]);
    expect(esp[0].inputs.cidrIpv4).toBeUndefined();
    // Host firewalls admit ESP from the peers too.
    expect(String(unwrapSecrets(run.named("prod-prod-4-prepare").inputs.create))).toContain("ALLOW_ESP=1");
  });

  it("runs the web service on workers only, on both encrypted networks", () => {
    const [web] = run.ofType("docker:index/service:Service");
    expect(web.inputs).toMatchObject({
      name: "web",
      mode: { replicated: { replicas: 3 } },
      taskSpec: {
        containerSpec: { image: "nginx:1.27-alpine" },
        placement: { constraints: ["node.role==worker"], maxReplicas: 1 },
        networksAdvanceds: [{ id: "frontend-id" }, { id: "backend-id" }],
      },
      updateConfig: { failureAction: "rollback", order: "start-first" },
    });
  });

  it("gives GitLab, Jenkins, SonarQube and Harbor a VM each, sized for the tool", () => {
    const vms = run.ofType("aws:ec2/instance:Instance").filter((i) => !i.name.startsWith("prod-"));
    expect(
      vms.map((i) => [
        i.name,
        i.inputs.instanceType,
        (i.inputs.rootBlockDevice as { volumeSize: number }).volumeSize,
      ]),
    ).toEqual([
      ["gitlab-1", "t3.xlarge", 100],
      ["jenkins-1", "t3.large", 50],
      ["sonarqube-1", "t3.large", 30],
      ["harbor-1", "t3.large", 200],
    ]);
    // Each tool's ports are open to clientCidrs only.
    const toolRules = run
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => /-in-svc-/.test(r.name));
    const ports = [
      ...new Set(toolRules.map((r) => `${r.name.split("-in-")[0]}:${r.inputs.fromPort}`)),
    ].sort();
    expect(ports).toEqual([
      "gitlab:2222",
      "gitlab:9999",
      "harbor:443",
      "jenkins:50000",
      "jenkins:8080",
      "prod:80",
      "sonarqube:9000",
    ]);
    for (const r of toolRules.filter((x) => !x.name.startsWith("prod-"))) {
      expect(["203.0.113.0/24", "172.31.0.0/16"]).toContain(r.inputs.cidrIpv4);
    }
  });

  it("trusts Harbor's CA on every swarm node and authorizes Jenkins on the manager", async () => {
    const trust = run.ofType("command:remote:Command").filter((c) => c.name.startsWith("harbor-trust-"));
    expect(trust.map((c) => c.name)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `harbor-trust-prod-${n}`));
    expect(unwrapSecrets(trust[0].inputs.stdin)).toBe(CA_CERT);
    expect(
      run
        .ofType("command:remote:Command")
        .filter((c) => c.name.startsWith("jenkins-authorize-"))
        .map((c) => c.name),
    ).toEqual(["jenkins-authorize-prod-1"]);
    // The nodes come pinned from the cluster: the trust and the deploy key wait for the cluster's
    // pins and pin nothing again; each tool VM has its own pin.
    for (const n of [1, 2, 3, 4, 5, 6])
      expect(run.dependenciesOf(`harbor-trust-prod-${n}`)).toContain(`prod-prod-${n}-host-key`);
    expect(run.dependenciesOf("jenkins-authorize-prod-1")).toContain("prod-prod-1-host-key");
    expect(
      run
        .ofType("pulumi-nodejs:dynamic:Resource")
        .map((r) => r.name)
        .filter((name) => name.endsWith("-host-key") && !name.startsWith("prod-"))
        .sort(),
    ).toEqual([
      "gitlab-gitlab-1-host-key",
      "harbor-harbor-1-host-key",
      "jenkins-jenkins-1-host-key",
      "sonarqube-sonarqube-1-host-key",
    ]);
    // Harbor is reached on its private address inside the VPC (instance 10 of the mocks).
    expect(await valueOf(built.outputs.harborRegistry)).toBe("10.0.0.10");
    expect(await valueOf(built.outputs.urls)).toEqual({
      gitlab: "http://198.51.100.7:9999",
      jenkins: "http://198.51.100.8:8080",
      sonarqube: "http://198.51.100.9:9000",
      harbor: "https://10.0.0.10",
    });
  });

  it("wires the pipeline: Jenkins clones team/web from GitLab, pushes to Harbor's team/web with its push robot, rolls web", () => {
    // Harbor's project with its two robots, through its API on the Harbor host.
    expect(run.named("harbor-project").inputs.create).toContain("team");
    // JenkinsHost's configuration bundle (on stdin, secret): the job, its script, the robot's secret files.
    const config = run.named("jenkins-config");
    expect(isSecretInput(config.inputs.stdin)).toBe(true);
    const files = Object.fromEntries(
      String(unwrapSecrets(config.inputs.stdin))
        .trim()
        .split("\n")
        .map((line) => line.split(" "))
        .map(([name, data]) => [name, Buffer.from(data, "base64").toString("utf8")]),
    );
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        "jenkins.yaml",
        "secret.pulumi_swarm_registry_user_web",
        "secret.pulumi_swarm_registry_password_web",
        "pipeline.web.sh",
      ]),
    );
    expect(files["secret.pulumi_swarm_registry_user_web"]).toBe("robot$team+jenkins");
    const jobs = YAML.parse(files["jenkins.yaml"]).jobs.map((j: { script: string }) => j.script);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatch(/^pipelineJob\('web'\)/);
    // GitLab's address (instance 7 of the mocks) and the project path.
    expect(jobs[0]).toContain("http://198.51.100.7:9999/team/web.git");
    expect(files["pipeline.web.sh"]).toContain("10.0.0.10/team/web");
    // The deploy key may roll exactly "web" to that repository.
    expect(run.named("jenkins-authorize-prod-1").inputs.create).toContain("10.0.0.10/team/web");
    // Webhooks are the second step (they need a token made in GitLab): none yet.
    expect(run.resources.filter((r) => r.name.startsWith("gitlab-webhook"))).toEqual([]);
  });

  it("keeps the admin credentials and generated keys secret", async () => {
    expect(await isSecretOutput(built.outputs.adminCredentials)).toBe(true);
    expect(await isSecretOutput(built.outputs.sshPrivateKeys)).toBe(true);
    expect(Object.keys(await valueOf(built.outputs.adminCredentials))).toEqual([
      "gitlab",
      "jenkins",
      "sonarqube",
      "harbor",
    ]);
    expect(Object.keys(await valueOf(built.outputs.sshPrivateKeys))).toEqual([
      "prod",
      "gitlab",
      "jenkins",
      "sonarqube",
      "harbor",
    ]);
  });
});
