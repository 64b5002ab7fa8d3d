import { countsByType, fakeSecret, installStackMocks, settleAll, stackFile } from "./stacks-helpers";
import { isSecretInput, MockRun, unwrapSecrets, valueOf } from "../helpers/mocks";

/**
 * The lab stack file: parsed and validated as `npm run lab` reads it, then built under mocks (the
 * real lab run is the lab layer's job). The key is a fake made here, not the lab's key file.
 */
describe("stack lab (stacks/Pulumi.lab.yaml)", () => {
  const labKey = fakeSecret("lab-key");
  const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeLabHostKeyForTheUnitTestOnly";
  let run: MockRun;
  let program: typeof import("../../stacks/program");
  let built: import("../../stacks/program").BuiltStack;

  beforeAll(async () => {
    run = await installStackMocks("lab");
    program = await import("../../stacks/program");
    built = program.buildStack(
      program.loadStackFile(stackFile("lab")),
      { sshPrivateKey: labKey },
      { labHostKey: hostKey },
    );
    await settleAll(
      built.outputs.nodeIds,
      built.cluster.provider.urn,
      built.workloads.stacks.demo.urn,
      built.workloads.services["volatile-frontend"].urn,
    );
  }, 120_000);

  it("parses to 5 lab hosts at 10.213.1.11-15, root, the lab key file, 3 managers + 2 workers", () => {
    const config = program.loadStackFile(stackFile("lab"));
    expect(config["pulumi-swarm:hosts"]).toEqual({
      kind: "lab",
      privateKeyPath: "/tmp/pulumi-swarm-lab/lab1/id_ed25519",
      hostKeyPath: "/tmp/pulumi-swarm-lab/lab1/ssh_host_ed25519_key.pub",
      user: "root",
      servers: [1, 2, 3, 4, 5].map((n) => ({ name: `lab1-${n}`, address: `10.213.1.${10 + n}` })),
    });
    expect(config["pulumi-swarm:cluster"]).toMatchObject({ name: "lab", managers: 3, workers: 2 });
    expect(config["pulumi-swarm:cicd"]).toEqual({});
    expect(config["pulumi-swarm:workloads"].networks).toEqual([{ name: "volatile", attachable: true }]);
    expect(config["pulumi-swarm:workloads"].services.map((s) => s.name)).toEqual(["volatile-frontend"]);
    expect(config["pulumi-swarm:workloads"].stacks.map((s) => s.name)).toEqual(["demo"]);
  });

  it("builds the swarm over SSH and the flagship service through the Docker provider, no cloud", () => {
    expect(countsByType(run)).toEqual({
      "command:remote:Command": 17,
      "pulumi-nodejs:dynamic:Resource": 11, // + one host-key pin per swarm node
      "docker:index/network:Network": 1,
      "docker:index/service:Service": 1,
      "pulumi:providers:docker": 1,
      "swarm:cluster:SwarmCluster": 1,
      "swarm:workloads:ComposeStack": 1,
      "swarm:workloads:OverlayNetwork": 1,
      "swarm:workloads:SwarmService": 1,
    });
    const service = unwrapSecrets(run.ofType("docker:index/service:Service")[0].inputs) as {
      mode: { replicated: { replicas: number } };
      updateConfig: { parallelism: number; delay: string };
    };
    expect(service.mode.replicated.replicas).toBe(3);
    expect(service.updateConfig).toMatchObject({ parallelism: 2, delay: "1s" });
    expect(built.outputs.managers).toEqual(["lab1-1", "lab1-2", "lab1-3"]);
    expect(built.outputs.workers).toEqual(["lab1-4", "lab1-5"]);
  });

  it("dials only lab addresses, as root, with the key kept secret", async () => {
    for (const c of run.ofType("command:remote:Command")) {
      expect(isSecretInput(c.inputs.connection)).toBe(true);
      const connection = unwrapSecrets(c.inputs.connection) as {
        host: string;
        user: string;
        privateKey: string;
      };
      expect(connection.host).toMatch(/^10\.213\.1\.1[1-5]$/);
      expect(connection).toMatchObject({ user: "root", privateKey: labKey });
    }
    expect(await valueOf(built.outputs.managerAddress)).toBe("10.213.1.11:2377");
    expect(await valueOf(built.outputs.nodeIds)).toEqual(
      Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`lab1-${n}`, `id-lab1-${n}`])),
    );
    const provider = run.named("lab-docker").inputs as { host: string; sshOpts: string };
    expect(provider.host).toBe("ssh://root@10.213.1.11:22");
    // The provider's ssh gets the key as a file path and the pinned host key, never key material.
    expect(JSON.parse(provider.sshOpts)).toEqual(
      expect.arrayContaining(["-i", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes"]),
    );
    expect(JSON.stringify(provider)).not.toContain(labKey);
    expect(JSON.stringify(unwrapSecrets(run.named("lab-lab1-1-prepare").inputs.connection))).toContain(
      labKey,
    );
  });

  it("labels the workers and deploys the compose stack on the first manager", () => {
    for (const n of [4, 5]) {
      expect(run.named(`lab-lab1-${n}-node`).inputs.labels).toMatchObject({ tier: "web" });
    }
    const deploy = run.named("demo-stack");
    expect(unwrapSecrets(deploy.inputs.connection)).toMatchObject({ host: "10.213.1.11" });
    // stdin: a bundle of the env file, then the compose file, each "<name> <base64>" on its own line.
    const [env, compose] = String(unwrapSecrets(deploy.inputs.stdin))
      .trim()
      .split("\n")
      .map((line) => Buffer.from(line.split(" ")[1], "base64").toString("utf8"));
    expect(env).toBe("export GREETING='PONG'\n");
    const stdin = compose;
    expect(stdin).toContain("image: lab/busybox:latest");
    expect(stdin).toContain("- { target: 8080, published: 8080, mode: host }");
    expect(stdin).toContain("endpoint_mode: dnsrr");
    expect(stdin).toContain("driver: overlay");
    expect(stdin).toContain("echo ${GREETING} | nc -l -p 6379");
    expect(String(deploy.inputs.create)).toContain("demo");
  });
});
