import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as dockerTypes from "@pulumi/docker";
import { installMocks, isSecretInput, RecordedResource, settle, unwrapSecrets } from "../helpers/mocks";
import type { SwarmClusterLike } from "../../components/cluster/types";
import { jobStdin, renderJobRemoveScript, renderJobRunScript } from "../../components/workloads/scripts/job";

let resources: RecordedResource[] = [];
let docker: typeof dockerTypes;
let jobs: typeof import("../../components/workloads/swarmJob");

beforeAll(async () => {
  ({ resources } = await installMocks());
  docker = await import("@pulumi/docker");
  jobs = await import("../../components/workloads/swarmJob");
});

beforeEach(() => {
  resources.length = 0;
});

function fakeCluster(): SwarmClusterLike {
  return {
    provider: new docker.Provider(`swarm-${Math.random().toString(36).slice(2)}`, {
      host: "ssh://root@10.0.0.1:22",
    }),
    managerHost: {
      name: "manager-1",
      connection: { host: "10.0.0.1", user: "root", privateKey: pulumi.secret("PRIVATE-KEY") },
      advertiseAddr: "10.0.0.1",
    },
    managerAddress: pulumi.output("10.0.0.1:2377"),
    spansNetworks: false,
  };
}

function shellcheck(script: string): void {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "job-sc-")), "s.sh");
  fs.writeFileSync(file, `#!/bin/sh\n${script}`);
  execFileSync("sh", ["-n", file]);
  execFileSync("shellcheck", ["-s", "sh", file]);
}

describe("job scripts", () => {
  const base = {
    jobName: "rc-create",
    mode: "replicated-job" as const,
    image: "reg:5000/lab/redis:7",
    timeoutSeconds: 120,
  };

  it("renders docker service create for a replicated job with every option, quoted", () => {
    const script = renderJobRunScript({
      ...base,
      command: ["sh", "-c"],
      args: ["echo 'hi' && redis-cli --cluster create rc1:6379"],
      completions: 2,
      maxConcurrent: 1,
      networks: ["rc-net"],
      secrets: [{ source: "rc-password", target: "redis-password" }],
      configs: [{ source: "rc-conf", target: "/etc/job.conf" }],
      constraints: ["node.role==manager"],
      envNames: ["HOSTS", "A_FIRST"],
    });
    expect(script).toContain(
      `set -- --detach --quiet --name 'rc-create' --mode replicated-job --restart-condition none --replicas 2 --max-concurrent 1 --network 'rc-net' --secret 'source=rc-password,target=redis-password' --config 'source=rc-conf,target=/etc/job.conf' --constraint 'node.role==manager' --env A_FIRST --env HOSTS --label pulumi-swarm.job=true --entrypoint 'sh' 'reg:5000/lab/redis:7' '-c' 'echo '\\''hi'\\'' && redis-cli --cluster create rc1:6379'`,
    );
    expect(script).toContain("timeout=120");
    expect(script).toContain('docker service rm "$job"');
    shellcheck(script);
  });

  it("renders a global job without completions, and a remove script", () => {
    const script = renderJobRunScript({ ...base, mode: "global-job", completions: 3 });
    expect(script).toContain("--mode global-job --restart-condition none --label");
    expect(script).not.toContain("--replicas");
    shellcheck(script);
    const rm = renderJobRemoveScript("rc-create");
    expect(rm).toContain(`job='rc-create'`);
    shellcheck(rm);
  });

  it("refuses bad names, timeouts and entrypoints with the argument named", () => {
    expect(() => renderJobRunScript({ ...base, jobName: "bad name" })).toThrow(
      /jobName: received "bad name"/,
    );
    expect(() => renderJobRunScript({ ...base, timeoutSeconds: 0 })).toThrow(/timeoutSeconds: received 0/);
    expect(() => renderJobRunScript({ ...base, command: ["sh -c"] })).toThrow(
      /command\[0\]: received "sh -c"/,
    );
  });

  it("sends the environment as one base64 line of export statements", () => {
    const line = jobStdin({ B: "two words", A: "it's" });
    expect(Buffer.from(line.trim(), "base64").toString()).toBe(`export A='it'\\''s'\nexport B='two words'\n`);
  });
});

describe("SwarmJob", () => {
  it("runs the job with a remote command on the manager; env and triggers travel on stdin", async () => {
    const cluster = fakeCluster();
    const job = new jobs.SwarmJob("seed", {
      cluster,
      image: "lab/redis:7",
      args: ["redis-cli", "ping"],
      networks: [{ networkName: pulumi.output("app-net") }, "other-net"],
      env: { TOKEN: pulumi.secret("s3cr3t-value") },
      secrets: [{ secret: { name: pulumi.output("app-password") }, target: "password" }],
      triggers: ["service-id-1"],
      timeoutSeconds: 60,
    });
    await settle();
    const cmd = resources.find((r) => r.type === "command:remote:Command" && r.name === "seed-job");
    expect(cmd).toBeDefined();
    const inputs = cmd!.inputs;
    const create = unwrapSecrets(inputs.create) as string;
    expect(create).toContain("--network 'app-net' --network 'other-net'");
    expect(create).toContain("--secret 'source=app-password,target=password'");
    expect(create).toContain("--env TOKEN");
    expect(create).not.toContain("s3cr3t-value");
    expect(inputs.update).toEqual(inputs.create);
    expect(unwrapSecrets(inputs.delete)).toBe(renderJobRemoveScript("seed"));
    // The secret value is only on stdin, and stdin is secret.
    expect(isSecretInput(inputs.stdin)).toBe(true);
    const stdin = unwrapSecrets(inputs.stdin) as string;
    const [envLine, triggerLine] = stdin.split("\n");
    expect(Buffer.from(envLine, "base64").toString()).toBe("export TOKEN='s3cr3t-value'\n");
    expect(triggerLine).toMatch(/^triggers [0-9a-f]{64}$/);
    expect(await new Promise((r) => job.jobName.apply(r))).toBe("seed");
  });

  it("a trigger change changes stdin only (an update that re-runs the job, not a replacement)", async () => {
    const stdins: string[] = [];
    for (const t of ["a", "b"]) {
      resources.length = 0;
      new jobs.SwarmJob(`t-${t}`, { cluster: fakeCluster(), jobName: "same", image: "img", triggers: [t] });
      await settle();
      const cmd = resources.find((r) => r.type === "command:remote:Command")!;
      stdins.push(unwrapSecrets(cmd.inputs.stdin) as string);
    }
    expect(stdins[0]).not.toBe(stdins[1]);
  });

  it.each([
    [{ mode: "job" }, 'mode: received "job"'],
    [
      { mode: "global-job", completions: 2 },
      "completions: received 2. A global job runs once on every eligible node",
    ],
    [{ completions: 0 }, "completions: received 0. Give a whole number of 1 or more."],
    [{ jobName: "no spaces" }, 'jobName: received "no spaces"'],
    [{ env: { PATH: "/x" } }, 'env.PATH: received "PATH"'],
    [{ configs: [{ config: "c", target: "rel/path" }] }, 'configs[0].target: received "rel/path"'],
    [{ timeoutSeconds: 1.5 }, "timeoutSeconds: received 1.5"],
    [{ image: "" }, 'image: received ""'],
  ])("refuses %j before creating anything", (extra, message) => {
    expect(
      () => new jobs.SwarmJob("bad", { cluster: fakeCluster(), image: "img", ...extra } as never),
    ).toThrow(`swarm:workloads:SwarmJob "bad": ${message}`);
    expect(resources.filter((r) => r.name.startsWith("bad"))).toEqual([]);
  });
});
