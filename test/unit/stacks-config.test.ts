import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEYS, parseStackConfig, SECRET_KEYS, StackConfigError } from "../../stacks/config";
import { loadStackFile } from "../../stacks/program";
import { STACKS_DIR, stackFile } from "./stacks-helpers";

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const existing = (): Config => ({
  "pulumi-swarm:hosts": {
    kind: "existing",
    servers: [1, 2, 3].map((n) => ({ name: `srv-${n}`, address: `192.0.2.${n}` })),
  },
  "pulumi-swarm:cluster": { managers: 3 },
});
const aws = (): Config => ({
  "pulumi-swarm:hosts": { kind: "aws", region: "eu-central-1", adminCidrs: ["203.0.113.0/24"] },
  "pulumi-swarm:cluster": { managers: 3, workers: 2 },
});
const lab = (extra: Config = {}): Config => ({
  "pulumi-swarm:hosts": {
    kind: "lab",
    privateKeyPath: "/tmp/k",
    servers: [{ name: "lab1-1", address: "10.213.1.11" }],
  },
  "pulumi-swarm:cluster": { managers: 1 },
  ...extra,
});
const edit = (make: () => Config, change: (c: Config) => void) => () => {
  const c = make();
  change(c);
  return c;
};
/** A stack with delivery tools reachable from 10.0.0.0/8 and the given `cicd` settings. */
const withTools = (make: () => Config, cicd: Record<string, unknown>) =>
  edit(make, (c) => (c["pulumi-swarm:cicd"] = { clientCidrs: ["10.0.0.0/8"], ...cicd }));
const hosts = (c: Config) => c["pulumi-swarm:hosts"];
const cluster = (c: Config) => c["pulumi-swarm:cluster"];

const KINDS =
  'Use kind "lab" (the built-in lab hosts), "existing" (servers you have), "aws", "alicloud" or "hybrid" (Alibaba Cloud managers + existing servers).';
const MANAGERS = "Use an odd number of managers: 1, 3, 5 or 7 (3 survives losing one).";

/** Malformed configs and the exact error each gives: key, value received, fix. */
const CASES: [string, () => Config, string][] = [
  [
    "an even number of managers",
    edit(existing, (c) => {
      cluster(c).managers = 2;
      hosts(c).servers.pop();
    }),
    `pulumi-swarm:cluster.managers: received 2. ${MANAGERS}`,
  ],
  [
    "no managers key",
    edit(existing, (c) => delete cluster(c).managers),
    `pulumi-swarm:cluster.managers: received undefined. ${MANAGERS}`,
  ],
  [
    "managers as a string",
    edit(existing, (c) => (cluster(c).managers = "3")),
    `pulumi-swarm:cluster.managers: received "3". ${MANAGERS}`,
  ],
  [
    "an unknown hosts kind",
    edit(existing, (c) => (hosts(c).kind = "gcp")),
    `pulumi-swarm:hosts.kind: received "gcp". ${KINDS}`,
  ],
  [
    "hosts set as a plain string",
    edit(existing, (c) => (c["pulumi-swarm:hosts"] = "aws")),
    `pulumi-swarm:hosts: received "aws". ${KINDS}`,
  ],
  [
    "a server address that is no address",
    edit(existing, (c) => (hosts(c).servers[1].address = "300.1.1.1")),
    'pulumi-swarm:hosts.servers[1].address: received "300.1.1.1". Use the IPv4 address or DNS name SSH dials.',
  ],
  [
    "a lab host outside the lab network",
    edit(lab, (c) => (hosts(c).servers[0].address = "192.168.1.5")),
    'pulumi-swarm:hosts.servers[0].address: received "192.168.1.5". Use the lab host\'s address, 10.213.<lab>.<n> (e.g. "10.213.1.11"): the lab stack only dials hosts of the lab network.',
  ],
  [
    "servers and node counts that do not match",
    edit(existing, (c) => (cluster(c).workers = 1)),
    "pulumi-swarm:cluster.workers: received 1. pulumi-swarm:hosts.servers lists 3 server(s) but managers + workers is 4: the first 3 server(s) become managers, the rest workers; make the numbers match.",
  ],
  [
    "two servers with one name",
    edit(existing, (c) => (hosts(c).servers[2].name = "srv-1")),
    'pulumi-swarm:hosts.servers[2].name: received "srv-1". servers[0] already has this name; give each server its own.',
  ],
  [
    "a mistyped key",
    edit(existing, (c) => (cluster(c).manager = 3)),
    "pulumi-swarm:cluster.manager: received an unknown key. Did you mean managers? Known keys here: name, managers, workers, managerLabels, workerLabels, managerAvailability, autolock, encryptOverlays, certExpiry, dataPathPort, defaultAddrPool, defaultAddrPoolMaskLength, hostFirewall, installDocker, registryMirrors, insecureRegistries, hostKeys, acceptHostKeys.",
  ],
  [
    "a private key in plain config",
    edit(existing, (c) => (hosts(c).privateKey = "not-a-real-key")),
    "pulumi-swarm:hosts.privateKey: received a secret-looking key in plain config (value not shown). Remove it: secrets never go in plain config. Set keys and passwords with `pulumi config set --secret`, e.g. `pulumi config set --secret pulumi-swarm:sshPrivateKey < ~/.ssh/id_ed25519`.",
  ],
  [
    "a mistyped top-level key",
    edit(existing, (c) => (c["pulumi-swarm:cluser"] = "(not shown)")),
    "pulumi-swarm:cluser: received a key this program does not read. Known keys: pulumi-swarm:hosts, pulumi-swarm:cluster, pulumi-swarm:workloads, pulumi-swarm:cicd, pulumi-swarm:sshPrivateKey, pulumi-swarm:composeSecrets, pulumi-swarm:gitlabRootPassword, pulumi-swarm:harborAdminPassword, pulumi-swarm:sonarqubeAdminPassword, pulumi-swarm:gitlabApiToken; did you mean pulumi-swarm:cluster?",
  ],
  [
    "an admin CIDR with host bits",
    edit(aws, (c) => (hosts(c).adminCidrs = ["10.0.0.1/8"])),
    'pulumi-swarm:hosts.adminCidrs[0]: received "10.0.0.1/8". Use an IPv4 CIDR block with no host bits set, e.g. "203.0.113.0/24".',
  ],
  [
    "no admin CIDRs",
    edit(aws, (c) => (hosts(c).adminCidrs = [])),
    'pulumi-swarm:hosts.adminCidrs: received []. List the networks allowed to SSH in, e.g. ["203.0.113.0/24"] (your office or VPN); "0.0.0.0/0" needs allowSshFromAnywhere: true.',
  ],
  [
    "an AWS region that is no region",
    edit(aws, (c) => (hosts(c).region = "europe")),
    'pulumi-swarm:hosts.region: received "europe". Use an AWS region name such as "eu-central-1".',
  ],
  [
    "a zone of another region",
    edit(aws, (c) => (hosts(c).availabilityZones = ["us-east-1a"])),
    'pulumi-swarm:hosts.availabilityZones[0]: received "us-east-1a". Use a zone of region "eu-central-1", e.g. "eu-central-1a".',
  ],
  [
    "more zones than hosts",
    edit(aws, (c) => (hosts(c).zoneCount = 6)),
    "pulumi-swarm:hosts.zoneCount: received 6. Use at most managers + workers (5) zones.",
  ],
  [
    "a service on an undeclared network",
    edit(
      aws,
      (c) =>
        (c["pulumi-swarm:workloads"] = {
          services: [{ name: "web", image: "nginx:1", networks: ["backend"] }],
        }),
    ),
    'pulumi-swarm:workloads.services[0].networks[0]: received "backend". Declare it in pulumi-swarm:workloads.networks first (declared: none).',
  ],
  [
    "replicas on a global service",
    edit(
      aws,
      (c) =>
        (c["pulumi-swarm:workloads"] = {
          services: [{ name: "web", image: "nginx:1", mode: "global", replicas: 2 }],
        }),
    ),
    'pulumi-swarm:workloads.services[0].replicas: received 2. A global service runs one task per node; remove replicas or use mode "replicated".',
  ],
  [
    "a compose stack with both compose and composeFile",
    edit(
      aws,
      (c) =>
        (c["pulumi-swarm:workloads"] = {
          stacks: [{ name: "s", compose: "services: {}", composeFile: "x.yml" }],
        }),
    ),
    'pulumi-swarm:workloads.stacks[0].compose: received "(both compose and composeFile)". Give exactly one of compose (the YAML, as a `|` block) or composeFile (a path relative to the project directory).',
  ],
  [
    "an ingress port in the lab (no IPVS)",
    () =>
      lab({
        "pulumi-swarm:workloads": {
          services: [{ name: "web", image: "x", ports: [{ target: 80 }], endpointMode: "dnsrr" }],
        },
      }),
    'pulumi-swarm:workloads.services[0].ports[0].mode: received undefined. The lab kernel has no IPVS (no routing mesh): use mode "host" (and endpointMode "dnsrr").',
  ],
  [
    "the delivery platform on existing servers",
    withTools(existing, {
      harbor: { installerSha256: "3f1c3d9a2b7e4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5" },
    }),
    'pulumi-swarm:cicd: received ["harbor"]. The delivery platform gets its own VMs, created in the swarm\'s cloud: use hosts.kind "aws", "alicloud" or "hybrid", or remove harbor (use GitLabHost/JenkinsHost/SonarQubeHost/HarborHost directly for servers you have).',
  ],
  [
    "tools without clientCidrs",
    edit(aws, (c) => (c["pulumi-swarm:cicd"] = { gitlab: {} })),
    'pulumi-swarm:cicd.clientCidrs: received undefined. List who may reach the tools\' ports, e.g. ["203.0.113.0/24", "172.31.0.0/16"] (users and the swarm\'s network).',
  ],
  [
    "a pipeline with neither gitProject nor gitUrl",
    withTools(aws, { jenkins: { pipelines: [{ name: "web", service: "web", repository: "team/web" }] } }),
    'pulumi-swarm:cicd.jenkins.pipelines[0]: received "web". Give exactly one of gitProject (a project of the stack\'s GitLab) and gitUrl (any git URL).',
  ],
  [
    "a pipeline cloning from a GitLab the stack does not have",
    withTools(aws, {
      jenkins: {
        pipelines: [{ name: "web", gitProject: "team/web", service: "web", repository: "team/web" }],
      },
    }),
    'pulumi-swarm:cicd.jenkins.pipelines[0].gitProject: received "team/web". gitProject names a project of the stack\'s GitLab, and the stack has none: add cicd.gitlab, or give gitUrl.',
  ],
  [
    "pipelines with deployToSwarm: false",
    withTools(aws, {
      jenkins: {
        deployToSwarm: false,
        pipelines: [{ name: "web", gitUrl: "http://10.0.0.9/web.git", service: "web", repository: "r/web" }],
      },
    }),
    'pulumi-swarm:cicd.jenkins.pipelines: received ["web"]. Pipelines deploy to the swarm through the gated deploy key: remove deployToSwarm: false, or the pipelines.',
  ],
  [
    "GitLab webhooks without a pipeline cloned from it",
    withTools(aws, { gitlab: { webhooks: true } }),
    "pulumi-swarm:cicd.gitlab.webhooks: received true. Webhooks connect GitLab projects to Jenkins jobs: add cicd.jenkins.pipelines with gitProject, or remove webhooks.",
  ],
  [
    "drained managers and no workers",
    edit(existing, (c) => (cluster(c).managerAvailability = "drain")),
    'pulumi-swarm:cluster.managerAvailability: received "drain". With no workers, drained managers leave nowhere to run tasks; add workers or use "active".',
  ],
  [
    "a DNS name for a server in another cloud (hybrid)",
    () => ({
      "pulumi-swarm:hosts": {
        kind: "hybrid",
        alicloud: { region: "cn-hangzhou", adminCidrs: ["203.0.113.0/24"] },
        existing: { servers: [{ name: "t-1", address: "t1.example.com" }] },
      },
      "pulumi-swarm:cluster": { managers: 1, workers: 1 },
    }),
    'pulumi-swarm:hosts.existing.servers[0].address: received "t1.example.com". Across clouds the Alibaba Cloud firewall admits each server by its public IPv4 address; give an IPv4 address (or set advertiseAddr to it).',
  ],
  [
    "two problems at once (one line each)",
    edit(aws, (c) => {
      hosts(c).instanceType = "big";
      cluster(c).workers = -1;
    }),
    'pulumi-swarm:hosts.instanceType: received "big". Use an EC2 instance type such as "t3.medium".\npulumi-swarm:cluster.workers: received -1. Use a whole number of workers between 0 and 100.',
  ],
  // The rules below are the components' own (index.ts `rules`): the config refuses what the
  // component would, with the component's fix, before anything is created.
  [
    "a certificate expiry shorter than Docker accepts",
    edit(existing, (c) => (cluster(c).certExpiry = "30m")),
    'pulumi-swarm:cluster.certExpiry: received "30m". Docker needs at least 1h; use e.g. "2160h" (90 days, the default).',
  ],
  [
    "a public registry as an insecure registry",
    edit(existing, (c) => (cluster(c).insecureRegistries = ["docker.io"])),
    'pulumi-swarm:cluster.insecureRegistries[0]: received "docker.io". This is a public registry: switching its TLS off lets anyone on the path serve any image; remove it (only your own plain-HTTP registry belongs here).',
  ],
  [
    "a registry mirror with a path",
    edit(existing, (c) => (cluster(c).registryMirrors = ["https://mirror.example.com/v2"])),
    'pulumi-swarm:cluster.registryMirrors[0]: received "https://mirror.example.com/v2". Use an http(s) URL with no path, e.g. "https://mirror.example.com".',
  ],
  [
    "a node label in the library's own namespace",
    edit(existing, (c) => (cluster(c).managerLabels = { "pulumi-swarm.claim": "x" })),
    'pulumi-swarm:cluster.managerLabels["pulumi-swarm.claim"]: received "pulumi-swarm.claim". Use label keys of letters, digits, ".", "_", "-" or "/" (not starting with "pulumi-swarm.", which this library uses).',
  ],
  [
    "the swarm's gossip port as the data path port",
    edit(existing, (c) => (cluster(c).dataPathPort = 7946)),
    "pulumi-swarm:cluster.dataPathPort: received 7946. Use a UDP port in 1024-49151 other than 2377 and 7946 (default 4789).",
  ],
  [
    "a public key that is no key line",
    edit(aws, (c) => (hosts(c).publicKey = "AAAAC3Nza")),
    'pulumi-swarm:hosts.publicKey: received "AAAAC3Nza". Use an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... me@host".',
  ],
  [
    "a host key mode that is neither pin nor off",
    edit(existing, (c) => (cluster(c).hostKeys = "trust")),
    'pulumi-swarm:cluster.hostKeys: received "trust". Use one of "pin", "off".',
  ],
  [
    "an accepted host key that is no SHA-256 fingerprint",
    edit(existing, (c) => (cluster(c).acceptHostKeys = { "srv-2": "MD5:aa:bb" })),
    'pulumi-swarm:cluster.acceptHostKeys["srv-2"]: received "MD5:aa:bb". Use the SHA-256 fingerprint the refusal printed, e.g. "SHA256:" followed by 43 characters (ssh-keygen -lf <key>.pub).',
  ],
  [
    "accepted host keys with pins off",
    edit(existing, (c) => {
      cluster(c).hostKeys = "off";
      cluster(c).acceptHostKeys = { "srv-2": `SHA256:${"A".repeat(43)}` };
    }),
    `pulumi-swarm:cluster.acceptHostKeys: received {"srv-2":"SHA256:${"A".repeat(43)}"}. Host keys are not pinned with hostKeys: "off"; remove acceptHostKeys or pin.`,
  ],
  [
    "an accepted tool host key for a tool that is not configured",
    edit(aws, (c) => {
      c["pulumi-swarm:cicd"] = {
        clientCidrs: ["203.0.113.0/24"],
        gitlab: {},
        acceptHostKeys: { "jenkins-1": `SHA256:${"A".repeat(43)}` },
      };
    }),
    'pulumi-swarm:cicd.acceptHostKeys["jenkins-1"]: received "jenkins-1". Use the host name of one of the tools\' VMs: gitlab-1 (the swarm nodes\' keys are accepted under pulumi-swarm:cluster.acceptHostKeys).',
  ],
  [
    "a bastion host key that is no key line",
    edit(existing, (c) => (hosts(c).bastion = { host: "198.51.100.5", hostKey: "AAAAC3Nza" })),
    'pulumi-swarm:hosts.bastion.hostKey: received "AAAAC3Nza". Use the server\'s SSH host public key line, e.g. "ssh-ed25519 AAAA..." (its /etc/ssh/ssh_host_ed25519_key.pub).',
  ],
];

describe("stack config validation", () => {
  it.each(CASES)("%s", (_title, make, message) => {
    let error: unknown;
    try {
      parseStackConfig(make());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    expect((error as Error).message).toBe(message);
  });

  it("accepts the base configs and applies the defaults", () => {
    const parsed = parseStackConfig(existing());
    expect(parsed["pulumi-swarm:hosts"]).toMatchObject({ kind: "existing", user: "root", port: 22 });
    expect(parsed["pulumi-swarm:cluster"]).toEqual({
      name: "swarm",
      managers: 3,
      workers: 0,
      managerAvailability: "active",
    });
    expect(parsed["pulumi-swarm:workloads"]).toEqual({ networks: [], services: [], stacks: [] });
    expect(parsed["pulumi-swarm:cicd"]).toEqual({});
    expect(parseStackConfig(aws())["pulumi-swarm:hosts"]).toMatchObject({
      instanceType: "t3.medium",
      namePrefix: "node",
    });
  });
});

describe("stack files", () => {
  it.each(["lab", "dev", "prod", "hybrid"])("stacks/Pulumi.%s.yaml parses and validates", (env) => {
    const config = loadStackFile(stackFile(env));
    expect(Object.keys(config).sort()).toEqual(Object.values(CONFIG_KEYS).sort());
  });

  it("has no stack file the tests do not know", () => {
    expect(
      fs
        .readdirSync(STACKS_DIR)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .sort(),
    ).toEqual(["Pulumi.dev.yaml", "Pulumi.hybrid.yaml", "Pulumi.lab.yaml", "Pulumi.prod.yaml"]);
  });

  describe("loadStackFile", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stacks-"));
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const body = `  pulumi-swarm:hosts:
    kind: lab
    privateKeyPath: /tmp/k
    servers: [{ name: lab1-1, address: 10.213.1.11 }]
  pulumi-swarm:cluster: { managers: 1 }
`;
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("refuses a secret key stored in plain text, without showing it", () => {
      const file = write("Pulumi.a.yaml", `config:\n${body}  pulumi-swarm:sshPrivateKey: not-a-real-key\n`);
      expect(() => loadStackFile(file)).toThrow(
        new StackConfigError([
          {
            key: "pulumi-swarm:sshPrivateKey",
            received: "a plain value (not shown)",
            fix: "Store it encrypted: remove it from the file and run `pulumi config set --secret pulumi-swarm:sshPrivateKey <value>`.",
          },
        ]),
      );
    });

    it("accepts encrypted secrets (not read) and ignores other namespaces", () => {
      const file = write(
        "Pulumi.b.yaml",
        `config:\n  aws:region: eu-central-1\n${body}  pulumi-swarm:sshPrivateKey:\n    secure: v1:AAAA\n  pulumi-swarm:composeSecrets:\n    DB_PASSWORD:\n      secure: v1:BBBB\n`,
      );
      expect(loadStackFile(file)["pulumi-swarm:cluster"].managers).toBe(1);
    });

    it("refuses a plain key holding an encrypted value", () => {
      const file = write("Pulumi.c.yaml", `config:\n${body}  pulumi-swarm:cicd:\n    secure: v1:CCCC\n`);
      expect(() => loadStackFile(file)).toThrow(
        "pulumi-swarm:cicd: received an encrypted value. This key is plain config (no secrets in it); secrets have their own keys: pulumi-swarm:sshPrivateKey, pulumi-swarm:composeSecrets, pulumi-swarm:gitlabRootPassword, pulumi-swarm:harborAdminPassword, pulumi-swarm:sonarqubeAdminPassword, pulumi-swarm:gitlabApiToken.",
      );
    });

    it("names a missing file and a file without config", () => {
      expect(() => loadStackFile(path.join(dir, "Pulumi.none.yaml"))).toThrow(
        `Pulumi.none.yaml: received ${JSON.stringify(path.join(dir, "Pulumi.none.yaml"))}. Cannot read it (ENOENT); stack files live in stacks/ as Pulumi.<stack>.yaml.`,
      );
      expect(() => loadStackFile(write("Pulumi.d.yaml", "encryptionsalt: x\n"))).toThrow(
        "Pulumi.d.yaml: config: received undefined. Give a top-level config: map with at least pulumi-swarm:hosts and pulumi-swarm:cluster.",
      );
    });
  });
});

describe("Pulumi.yaml config declarations", () => {
  const project = parseYaml(fs.readFileSync(path.join(STACKS_DIR, "..", "Pulumi.yaml"), "utf8")) as {
    name: string;
    main: string;
    stackConfigDir: string;
    config: Record<string, { type?: string; description?: string; default?: unknown; secret?: boolean }>;
  };

  it("declares exactly the keys the program reads, each with a description", () => {
    expect(project).toMatchObject({
      name: "pulumi-swarm",
      main: "stacks/index.ts",
      stackConfigDir: "stacks/",
    });
    expect(Object.keys(project.config).sort()).toEqual(
      [...Object.values(CONFIG_KEYS), ...Object.values(SECRET_KEYS)].sort(),
    );
    for (const declaration of Object.values(project.config))
      expect(declaration.description).toEqual(expect.any(String));
  });

  it("leaves only hosts and cluster required, so every stack file satisfies `pulumi up`'s missing-key check", () => {
    const required = Object.entries(project.config)
      .filter(([, d]) => d.default === undefined)
      .map(([key]) => key)
      .sort();
    expect(required).toEqual(["pulumi-swarm:cluster", "pulumi-swarm:hosts"]);
    for (const env of ["lab", "dev", "prod", "hybrid"]) {
      const stack = parseYaml(fs.readFileSync(stackFile(env), "utf8")) as { config: Record<string, unknown> };
      for (const key of required) expect(Object.keys(stack.config)).toContain(key);
    }
  });

  it("uses only the types Pulumi's project schema knows, and no secret default (which Pulumi would refuse)", () => {
    for (const declaration of Object.values(project.config)) {
      if (declaration.type !== undefined)
        expect(["string", "integer", "boolean", "array"]).toContain(declaration.type);
      expect(declaration.secret).toBeUndefined();
    }
    for (const key of Object.values(SECRET_KEYS)) expect(project.config[key].default).toBe("");
  });
});
