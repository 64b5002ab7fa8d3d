/**
 * Jenkins as code, checked with real parsers: the JCasC YAML with the `yaml` package (structure,
 * every secret a `${file}` reference), the Job DSL scripts and Jenkinsfiles with Groovy's own
 * compiler (Debian's `groovy`, `groovyc`), and the Groovy quoting by evaluating it with `groovy`.
 * Jenkins itself never runs here (no image, no war): whether Jenkins accepts this configuration is
 * NOT proven by these tests.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import {
  DEPLOY_KEY_SECRET,
  JENKINS_PLUGINS,
  JenkinsJob,
  groovyString,
  jobSecretNames,
  renderJenkinsCasc,
  renderJenkinsDockerfile,
  renderJenkinsfile,
  renderJobDsl,
} from "../../components/cicd/scripts/jenkinsCasc";

jest.setTimeout(120_000);

const jobs: JenkinsJob[] = [
  {
    name: "web",
    gitUrl: "http://10.0.0.20:9999/team/web.git",
    branch: "main",
    deployUser: "deploy",
    registryCredentials: true,
    gitCredentials: true,
  },
  {
    name: "api_v2",
    gitUrl: "ssh://git@10.0.0.20:2222/team/api.git",
    branch: "release/2.x",
    deployUser: "deploy",
    registryCredentials: false,
    gitCredentials: false,
  },
];

describe("JCasC YAML (parsed by the yaml package)", () => {
  const text = renderJenkinsCasc({ executors: 3, jobs });
  const config = YAML.parse(text);

  it("has the root keys JCasC knows, executors, and gitlab-plugin's endpoint checked by job tokens", () => {
    expect(Object.keys(config).sort()).toEqual(["credentials", "jenkins", "jobs", "unclassified"]);
    expect(config.jenkins.numExecutors).toBe(3);
    expect(config.unclassified).toEqual({ gitLabConnectionConfig: { useAuthenticatedEndpoint: false } });
  });

  it("declares every credential with a scope and an id, every secret field a ${file} reference", () => {
    const creds = config.credentials.system.domainCredentials[0].credentials as Record<
      string,
      Record<string, unknown>
    >[];
    expect(creds.map((c) => Object.keys(c)[0])).toEqual([
      "basicSSHUserPrivateKey",
      "usernamePassword",
      "usernamePassword",
    ]);
    expect(creds[0].basicSSHUserPrivateKey).toEqual({
      scope: "GLOBAL",
      id: "pulumi-swarm-deploy-key",
      username: "deploy",
      description: expect.any(String),
      privateKeySource: { directEntry: { privateKey: `\${${DEPLOY_KEY_SECRET}}` } },
    });
    const names = jobSecretNames("web");
    expect(creds[1].usernamePassword).toMatchObject({
      id: "pulumi-swarm-registry-web",
      username: `\${${names.registryUser}}`,
      password: `\${${names.registryPassword}}`,
    });
    expect(creds[2].usernamePassword).toMatchObject({
      id: "pulumi-swarm-git-web",
      username: `\${${names.gitUser}}`,
      password: `\${${names.gitPassword}}`,
    });
  });

  it("references only secret files: the ${...} set is exactly the secrets the jobs need", () => {
    const refs = new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]));
    const web = jobSecretNames("web");
    expect([...refs].sort()).toEqual(
      [
        DEPLOY_KEY_SECRET,
        web.webhookToken,
        web.registryUser,
        web.registryPassword,
        web.gitUser,
        web.gitPassword,
        jobSecretNames("api_v2").webhookToken,
      ].sort(),
    );
  });

  it("carries each job as a Job DSL script (a literal block, read back byte for byte)", () => {
    expect(config.jobs).toEqual(jobs.map((job) => ({ script: renderJobDsl(job) })));
    expect(text).toContain("  - script: |");
  });

  it("with no jobs: no credentials and no jobs keys", () => {
    expect(Object.keys(YAML.parse(renderJenkinsCasc({ executors: 2, jobs: [] }))).sort()).toEqual([
      "jenkins",
      "unclassified",
    ]);
  });
});

describe("the derived image's Dockerfile", () => {
  it("adds the distribution's Docker CLI as root and the plugins as jenkins", () => {
    const text = renderJenkinsDockerfile("jenkins/jenkins:2.580.2-lts-jdk21", JENKINS_PLUGINS);
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe("FROM jenkins/jenkins:2.580.2-lts-jdk21");
    expect(lines[1]).toBe("USER root");
    expect(text).toContain('apt-get install -y --no-install-recommends "$cli" openssh-client git');
    expect(lines.at(-2)).toBe("USER jenkins");
    expect(lines.at(-1)).toBe(`RUN jenkins-plugin-cli --plugins ${JENKINS_PLUGINS.join(" ")}`);
  });

  it("its RUN shell passes bash -n", () => {
    const text = renderJenkinsDockerfile("jenkins/jenkins:lts", JENKINS_PLUGINS);
    const run = /RUN (set -eu;[\s\S]*?docker --version)\n/.exec(text)![1].replace(/\\\n/g, "\n");
    expect(spawnSync("bash", ["-n"], { input: run, encoding: "utf8" }).status).toBe(0);
  });
});

describe("groovyString", () => {
  it("refuses ${ (JCasC would resolve it inside the script)", () => {
    expect(() => groovyString("a${b}")).toThrow("a Groovy string rendered into JCasC may not contain '${'");
  });
});

const groovyc = ["/usr/bin/groovyc", "/usr/share/groovy/bin/groovyc"].find((p) => fs.existsSync(p));
const describeGroovy = groovyc ? describe : describe.skip;
if (!groovyc) {
  if (process.env.CI) {
    describe("Groovy", () =>
      it("is installed (Debian packages groovy and default-jre-headless, in .ci/run-deps.txt)", () => {
        throw new Error("groovyc is not installed: apt-get install -y groovy default-jre-headless");
      }));
  } else {
    console.warn("\n*** SKIPPED: groovyc is not installed; Job DSL and Jenkinsfiles were NOT parsed ***\n");
  }
}

describeGroovy("Job DSL and Jenkinsfiles (parsed by Groovy's compiler)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jenkins-groovy-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Compiles the files with groovyc (syntax and class generation; method calls stay dynamic). */
  function compile(files: Record<string, string>): { status: number | null; output: string } {
    const paths = Object.entries(files).map(([name, content]) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      return file;
    });
    const out = fs.mkdtempSync(path.join(dir, "classes-"));
    const result = spawnSync(groovyc!, ["-d", out, ...paths], { encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  }

  it("every job's Job DSL script and Jenkinsfile compile", () => {
    const files: Record<string, string> = {};
    for (const job of jobs) {
      files[`JobDsl_${job.name}.groovy`] = renderJobDsl(job);
      files[`Jenkinsfile_${job.name}.groovy`] = renderJenkinsfile(job);
    }
    expect(compile(files)).toEqual({ status: 0, output: "" });
  });

  it("a broken script does not (the check can fail)", () => {
    const broken = compile({
      "Broken.groovy": renderJobDsl(jobs[0]).replace("definition {", "definition {{"),
    });
    expect(broken.status).not.toBe(0);
    expect(broken.output).toContain("Broken.groovy");
  });

  it("groovyString round-trips quotes, backslashes, newlines and dollars through Groovy itself", () => {
    const value = `it's "quoted" \\ back\\slash\nline 2 $HOME $(id) \`x\` \t tab '''`;
    const groovy = groovyc!.replace(/groovyc$/, "groovy");
    const result = spawnSync(groovy, ["-e", `print(${groovyString(value)})`], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(value);
  });
});
