import { scriptOf } from "../../components/shell";
import * as pulumi from "@pulumi/pulumi";
import type * as dockerTypes from "@pulumi/docker";
import {
  installMocks,
  isSecretInput,
  isSecretOutput,
  RecordedResource,
  settle,
  unwrapSecrets,
  valueOf,
} from "../helpers/mocks";
import type { SwarmClusterLike } from "../../components/cluster/types";

let resources: RecordedResource[] = [];
const ofType = (type: string) => resources.filter((r) => r.type === type);
const named = (type: string, name: string) => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
};

let docker: typeof dockerTypes;
let workloads: typeof import("../../components/workloads/swarmService");
let networks: typeof import("../../components/workloads/overlayNetwork");
let stacks: typeof import("../../components/workloads/composeStack");

beforeAll(async () => {
  ({ resources } = await installMocks());
  docker = await import("@pulumi/docker");
  workloads = await import("../../components/workloads/swarmService");
  networks = await import("../../components/workloads/overlayNetwork");
  stacks = await import("../../components/workloads/composeStack");
});

beforeEach(() => {
  resources.length = 0;
});

let clusters = 0;
/** A fresh cluster per test: the port registry is per cluster object. */
function fakeCluster(spansNetworks = false): SwarmClusterLike {
  clusters++;
  return {
    provider: new docker.Provider(`swarm-${clusters}`, { host: "ssh://root@10.0.0.1:22" }),
    managerHost: {
      name: "manager-1",
      connection: { host: "10.0.0.1", user: "root", privateKey: pulumi.secret("PRIVATE-KEY") },
      advertiseAddr: "10.0.0.1",
    },
    managerAddress: pulumi.output("10.0.0.1:2377"),
    spansNetworks,
  };
}

function providerOf(r: RecordedResource): string {
  return (r.provider ?? "").split("::").slice(-2, -1)[0] ?? "";
}

const converge = { delay: "7s", timeout: "3m" };

describe("examples under mocks: exact docker inputs", () => {
  it("volatile overlay + 3-replica volatile_frontend_svc 80:80, update parallelism 2 delay 1s", async () => {
    const { volatileFrontend } = await import("../../examples/volatileFrontend");
    const cluster = fakeCluster();
    const { frontend, network } = volatileFrontend(cluster);
    await settle();
    const net = named("docker:index/network:Network", "volatile");
    expect(net.inputs).toEqual({ name: "volatile", driver: "overlay", attachable: true, internal: false });
    expect(providerOf(net)).toBe(`swarm-${clusters}`);
    const svc = named("docker:index/service:Service", "volatile_frontend_svc");
    expect(providerOf(svc)).toBe(`swarm-${clusters}`);
    expect(svc.inputs).toEqual({
      name: "volatile_frontend_svc",
      mode: { replicated: { replicas: 3 } },
      taskSpec: {
        containerSpec: { image: "nginx:1.27-alpine" },
        networksAdvanceds: [{ id: "volatile-id" }],
      },
      endpointSpec: {
        mode: "vip",
        ports: [{ protocol: "tcp", targetPort: 80, publishedPort: 80, publishMode: "ingress" }],
      },
      updateConfig: { parallelism: 2, delay: "1s" },
      convergeConfig: converge,
    });
    expect(await valueOf(network.networkId)).toBe("volatile-id");
    expect(await valueOf(network.networkName)).toBe("volatile");
    expect(await valueOf(frontend.serviceId)).toBe("volatile_frontend_svc-id");
    expect(await valueOf(frontend.serviceName)).toBe("volatile_frontend_svc");
    expect(await valueOf(frontend.endpoints)).toEqual([
      { published: 80, target: 80, protocol: "tcp", mode: "ingress", address: "10.0.0.1:80" },
    ]);
  });

  it("10-replica tomcat with update and rollback policies", async () => {
    const { tomcatRollingUpdate } = await import("../../examples/tomcatRollingUpdate");
    tomcatRollingUpdate(fakeCluster());
    await settle();
    expect(named("docker:index/service:Service", "tomcat").inputs).toEqual({
      name: "tomcat",
      mode: { replicated: { replicas: 10 } },
      taskSpec: { containerSpec: { image: "tomcat:9.0" } },
      endpointSpec: {
        mode: "vip",
        ports: [{ protocol: "tcp", targetPort: 8080, publishedPort: 8080, publishMode: "ingress" }],
      },
      updateConfig: { parallelism: 2, delay: "3s", maxFailureRatio: "0.2", failureAction: "rollback" },
      rollbackConfig: { parallelism: 2, delay: "3s", maxFailureRatio: "0.2", failureAction: "continue" },
      convergeConfig: converge,
    });
  });

  it("a global service: no replicas, no convergeConfig (the provider cannot check global services)", async () => {
    const { globalService } = await import("../../examples/globalService");
    globalService(fakeCluster());
    await settle();
    expect(named("docker:index/service:Service", "node-exporter").inputs).toEqual({
      name: "node-exporter",
      mode: { global: true },
      taskSpec: { containerSpec: { image: "prom/node-exporter:v1.8.2" } },
      endpointSpec: {
        mode: "vip",
        ports: [{ protocol: "tcp", targetPort: 9100, publishedPort: 9100, publishMode: "host" }],
      },
    });
  });

  it("a dnsrr service on an overlay, network by id with an alias", async () => {
    const { dnsrrService } = await import("../../examples/dnsrrService");
    dnsrrService(fakeCluster());
    await settle();
    expect(named("docker:index/network:Network", "backend").inputs).toEqual({
      name: "backend",
      driver: "overlay",
      attachable: true,
      internal: false,
    });
    expect(named("docker:index/service:Service", "api").inputs).toEqual({
      name: "api",
      mode: { replicated: { replicas: 2 } },
      taskSpec: {
        containerSpec: { image: "traefik/whoami:v1.10" },
        networksAdvanceds: [{ id: "backend-id", aliases: ["api.internal"] }],
      },
      endpointSpec: { mode: "dnsrr" },
      convergeConfig: converge,
    });
  });

  it("an NFS-backed service: local driver with type=nfs options", async () => {
    const { nfsService } = await import("../../examples/nfsService");
    nfsService(fakeCluster());
    await settle();
    expect(named("docker:index/service:Service", "uploads").inputs).toEqual({
      name: "uploads",
      mode: { replicated: { replicas: 2 } },
      taskSpec: {
        containerSpec: {
          image: "busybox:1.36",
          args: ["sleep", "infinity"],
          mounts: [
            {
              type: "volume",
              source: "uploads",
              target: "/data",
              volumeOptions: {
                driverName: "local",
                driverOptions: { type: "nfs", o: "addr=10.0.0.50,rw,nfsvers=4", device: ":/exports/uploads" },
              },
            },
          ],
        },
      },
      endpointSpec: { mode: "vip" },
      convergeConfig: converge,
    });
  });

  it("a read-only bind mount with a label constraint", async () => {
    const { readOnlyBind } = await import("../../examples/readOnlyBind");
    readOnlyBind(fakeCluster());
    await settle();
    expect(named("docker:index/service:Service", "static-site").inputs).toEqual({
      name: "static-site",
      mode: { replicated: { replicas: 2 } },
      taskSpec: {
        containerSpec: {
          image: "nginx:1.27-alpine",
          mounts: [{ type: "bind", source: "/srv/www", target: "/usr/share/nginx/html", readOnly: true }],
        },
        placement: { constraints: ["node.labels.web==true"] },
      },
      endpointSpec: {
        mode: "vip",
        ports: [{ protocol: "tcp", targetPort: 80, publishedPort: 8081, publishMode: "ingress" }],
      },
      convergeConfig: converge,
    });
  });

  it("a web + redis compose stack: deploy over SSH, password only on secret stdin", async () => {
    const { webRedisStack, webRedisCompose } = await import("../../examples/webRedisStack");
    const scripts = await import("../../components/workloads/scripts/compose");
    const cluster = fakeCluster();
    const { shop } = webRedisStack(cluster, "s3cr3t-Pa55");
    await settle();
    const cmd = named("command:remote:Command", "shop-stack");
    const deploy = scripts.renderStackDeployScript({
      stackName: "shop",
      withRegistryAuth: false,
      prune: true,
      wait: true,
    });
    expect(scriptOf(String(cmd.inputs.create))).toBe(deploy);
    expect(scriptOf(String(cmd.inputs.update))).toBe(deploy);
    expect(scriptOf(String(cmd.inputs.delete))).toBe(scripts.renderStackRemoveScript("shop", 60));
    expect(cmd.inputs.logging).toBe("stdoutAndStderr");
    expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
    expect(isSecretInput(cmd.inputs.stdin)).toBe(true);
    expect(unwrapSecrets(cmd.inputs.stdin)).toBe(
      scripts.composeStdin(webRedisCompose, { REDIS_PASSWORD: "s3cr3t-Pa55" }),
    );
    expect(unwrapSecrets(cmd.inputs.connection)).toMatchObject({ host: "10.0.0.1", user: "root" });
    // The password is nowhere but the secret stdin.
    for (const key of ["create", "update", "delete"]) {
      expect(JSON.stringify(cmd.inputs[key])).not.toContain("s3cr3t");
    }
    // A trigger change would replace the Command and `docker stack rm` the stack before re-deploying.
    expect(cmd.inputs.triggers).toBeUndefined();
    expect(await valueOf(shop.stackName)).toBe("shop");
    expect(await isSecretOutput(shop.deployOutput)).toBe(true);
    expect(ofType("docker:index/service:Service")).toHaveLength(0);
  });
});

describe("OverlayNetwork", () => {
  it("is encrypted when the cluster spans networks, with subnet and labels", async () => {
    const net = new networks.OverlayNetwork("edge", {
      cluster: fakeCluster(true),
      subnet: "10.20.0.0/24",
      gateway: "10.20.0.1",
      labels: { team: "web" },
    });
    await settle();
    expect(net.encrypted).toBe(true);
    expect(named("docker:index/network:Network", "edge").inputs).toEqual({
      name: "edge",
      driver: "overlay",
      attachable: true,
      internal: false,
      options: { encrypted: "true" },
      ipamConfigs: [{ subnet: "10.20.0.0/24", gateway: "10.20.0.1" }],
      labels: [{ label: "team", value: "web" }],
    });
  });

  it("honours encrypted: false and a custom name", async () => {
    new networks.OverlayNetwork("plain", {
      cluster: fakeCluster(true),
      encrypted: false,
      networkName: "plain_net",
    });
    await settle();
    expect(named("docker:index/network:Network", "plain").inputs).toEqual({
      name: "plain_net",
      driver: "overlay",
      attachable: true,
      internal: false,
    });
  });

  it.each([
    [
      { subnet: "10.20.0.1/24" },
      'subnet: received "10.20.0.1/24". Use an IPv4 CIDR block with no host bits set',
    ],
    [
      { subnet: "10.20.0.0/24", gateway: "10.30.0.1" },
      'gateway: received "10.30.0.1". Use an IPv4 address inside 10.20.0.0/24.',
    ],
    [{ gateway: "10.30.0.1" }, 'gateway: received "10.30.0.1". Give `subnet` too'],
    [{ networkName: "bad name" }, 'networkName: received "bad name". Use 1-63 letters, digits'],
  ])("refuses bad input %#", (extra, message) => {
    const before = resources.length;
    expect(() => new networks.OverlayNetwork("n", { cluster: fakeCluster(), ...extra })).toThrow(
      `swarm:workloads:OverlayNetwork "n": ${message}`,
    );
    expect(resources.length).toBe(before);
  });
});

describe("SwarmService", () => {
  it("maps every friendly argument onto the provider's inputs", async () => {
    const cluster = fakeCluster();
    const net = new networks.OverlayNetwork("app-net", { cluster });
    const svc = new workloads.SwarmService("app", {
      cluster,
      serviceName: "shop_app",
      image: "registry.example.com:5000/team/app:1.2",
      replicas: 4,
      ports: [
        { target: 8080, published: 8443, name: "web" },
        { target: 53, published: 5353, protocol: "udp" },
      ],
      networks: [net, { network: { id: "existing-net-id" }, aliases: ["app"] }],
      env: { MODE: "prod", DB_PASSWORD: pulumi.secret("db-pass") },
      command: ["/app"],
      args: ["serve", "--port", "8080"],
      user: "1000:1000",
      workdir: "/srv",
      constraints: ["node.role == worker", "node.labels.zone!=c"],
      placementPreferences: ["spread=node.labels.zone", "node.labels.rack"],
      maxReplicasPerNode: 2,
      mounts: [
        { type: "volume", source: "app-data", target: "/data", noCopy: true },
        { type: "tmpfs", target: "/tmp", size: "64M", mode: 0o1777 },
        {
          type: "bind",
          source: "/etc/ssl/certs",
          target: "/etc/ssl/certs",
          readOnly: true,
          propagation: "rprivate",
        },
      ],
      resources: { limits: { cpus: 1.5, memory: "512M" }, reservations: { cpus: 0.25, memory: "128MiB" } },
      healthcheck: {
        test: "curl -fs http://localhost:8080/health",
        interval: "90s",
        timeout: "500ms",
        retries: 3,
      },
      restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 3, window: "2m" },
      updatePolicy: { order: "start-first", monitor: "1h" },
      stopGracePeriod: "30s",
      labels: { "com.example.team": "shop" },
      containerLabels: { tier: "app" },
      waitForConvergence: { timeout: "10m" },
      registryAuth: { server: "registry.example.com:5000", username: "ci", password: "registry-pass" },
    });
    await settle();
    const inputs = named("docker:index/service:Service", "app").inputs;
    // A secret env value makes the task spec secret as a whole; the registry password, the auth block.
    expect(isSecretInput(inputs.taskSpec)).toBe(true);
    expect(isSecretInput(inputs.auth)).toBe(true);
    expect(isSecretInput(inputs.endpointSpec)).toBe(false);
    expect(unwrapSecrets(inputs)).toEqual({
      name: "shop_app",
      mode: { replicated: { replicas: 4 } },
      taskSpec: {
        containerSpec: {
          image: "registry.example.com:5000/team/app:1.2",
          commands: ["/app"],
          args: ["serve", "--port", "8080"],
          user: "1000:1000",
          dir: "/srv",
          env: { MODE: "prod", DB_PASSWORD: "db-pass" },
          mounts: [
            { type: "volume", source: "app-data", target: "/data", volumeOptions: { noCopy: true } },
            { type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 64 * 1024 * 1024, mode: 0o1777 } },
            {
              type: "bind",
              source: "/etc/ssl/certs",
              target: "/etc/ssl/certs",
              readOnly: true,
              bindOptions: { propagation: "rprivate" },
            },
          ],
          healthcheck: {
            tests: ["CMD-SHELL", "curl -fs http://localhost:8080/health"],
            interval: "1m30s",
            timeout: "500ms",
            retries: 3,
          },
          stopGracePeriod: "30s",
          labels: [{ label: "tier", value: "app" }],
        },
        networksAdvanceds: [{ id: "app-net-id" }, { id: "existing-net-id", aliases: ["app"] }],
        placement: {
          constraints: ["node.role==worker", "node.labels.zone!=c"],
          prefs: ["node.labels.zone", "node.labels.rack"],
          maxReplicas: 2,
        },
        resources: {
          limits: { nanoCpus: 1_500_000_000, memoryBytes: 512 * 1024 * 1024 },
          reservation: { nanoCpus: 250_000_000, memoryBytes: 128 * 1024 * 1024 },
        },
        restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 3, window: "2m" },
      },
      endpointSpec: {
        mode: "vip",
        ports: [
          { name: "web", protocol: "tcp", targetPort: 8080, publishedPort: 8443, publishMode: "ingress" },
          { protocol: "udp", targetPort: 53, publishedPort: 5353, publishMode: "ingress" },
        ],
      },
      updateConfig: { order: "start-first", monitor: "1h" },
      convergeConfig: { timeout: "10m", delay: "7s" },
      labels: [{ label: "com.example.team", value: "shop" }],
      auth: { serverAddress: "registry.example.com:5000", username: "ci", password: "registry-pass" },
    });
    expect(await valueOf(svc.endpoints)).toEqual([
      { published: 8443, target: 8080, protocol: "tcp", mode: "ingress", address: "10.0.0.1:8443" },
      { published: 5353, target: 53, protocol: "udp", mode: "ingress", address: "10.0.0.1:5353" },
    ]);
  });

  it("creates secrets and configs with secret base64 data and mounts them by id", async () => {
    const cluster = fakeCluster();
    const existing = new docker.Secret("shared-tls", {
      data: pulumi.secret(Buffer.from("PEM").toString("base64")),
    });
    const svc = new workloads.SwarmService("db", {
      cluster,
      image: "postgres:16",
      secrets: [
        { name: "db_password", data: "hunter2-db", mode: 0o400, uid: "999", gid: "999" },
        { name: "tls", secret: existing, fileName: "server.pem" },
      ],
      configs: [
        { name: "pg_conf", data: "max_connections = 50\n", fileName: "/etc/postgresql/postgresql.conf" },
      ],
      waitForConvergence: false,
    });
    await settle();
    const secret = named("docker:index/secret:Secret", "db-secret-db_password");
    expect(providerOf(secret)).toBe(`swarm-${clusters}`);
    expect(isSecretInput(secret.inputs.data)).toBe(true);
    expect(unwrapSecrets(secret.inputs)).toEqual({ data: Buffer.from("hunter2-db").toString("base64") });
    const config = named("docker:index/serviceConfig:ServiceConfig", "db-config-pg_conf");
    expect(isSecretInput(config.inputs.data)).toBe(true);
    expect(unwrapSecrets(config.inputs)).toEqual({
      data: Buffer.from("max_connections = 50\n").toString("base64"),
    });
    expect(Object.keys(svc.secrets)).toEqual(["db_password"]);
    expect(Object.keys(svc.configs)).toEqual(["pg_conf"]);

    const spec = named("docker:index/service:Service", "db").inputs.taskSpec as {
      containerSpec: Record<string, unknown>;
    };
    // Names are auto-named by the engine (absent under mocks), so only ids are asserted.
    expect(spec.containerSpec.secrets).toEqual([
      {
        secretId: "db-secret-db_password-id",
        fileName: "db_password",
        fileUid: "999",
        fileGid: "999",
        fileMode: 0o400,
      },
      { secretId: "shared-tls-id", fileName: "server.pem" },
    ]);
    expect(spec.containerSpec.configs).toEqual([
      { configId: "db-config-pg_conf-id", fileName: "/etc/postgresql/postgresql.conf" },
    ]);
    expect(named("docker:index/service:Service", "db").inputs.convergeConfig).toBeUndefined();
    expect(JSON.stringify(named("docker:index/service:Service", "db").inputs)).not.toContain("hunter2");
  });

  it("refuses a published port already used by another service of the same cluster", async () => {
    const cluster = fakeCluster();
    new workloads.SwarmService("first", {
      cluster,
      image: "nginx:1.27",
      ports: [{ target: 80, published: 8080 }],
    });
    const before = resources.length;
    expect(
      () =>
        new workloads.SwarmService("second", {
          cluster,
          image: "nginx:1.27",
          ports: [{ target: 80, published: 8080 }],
        }),
    ).toThrow(
      'swarm:workloads:SwarmService "second": ports[0].published: received 8080. Port 8080/tcp is already published by service "first" on this cluster; a published port belongs to one service only. Pick another port.',
    );
    expect(resources.length).toBe(before);
    // Another protocol, or another cluster, is fine.
    new workloads.SwarmService("third", {
      cluster,
      image: "nginx:1.27",
      ports: [{ target: 80, published: 8080, protocol: "udp" }],
    });
    new workloads.SwarmService("first-elsewhere", {
      cluster: fakeCluster(),
      serviceName: "first",
      image: "nginx:1.27",
      ports: [{ target: 80, published: 8080 }],
    });
    // A failed service left no claim: its name is still free.
    new workloads.SwarmService("second", {
      cluster,
      image: "nginx:1.27",
      ports: [{ target: 80, published: 9090 }],
    });
    await settle();
  });

  it.each<[number, string, number | undefined]>([
    [22, "SSH", undefined],
    [2375, "the Docker Engine API", undefined],
    [2376, "the Docker Engine API (TLS)", undefined],
    [2377, "swarm management", undefined],
    [7946, "swarm gossip", undefined],
    [4789, "the swarm's VXLAN data path", undefined],
    [4800, "the swarm's VXLAN data path", 4800],
  ])("refuses to publish %i (%s) on every node", (published, what, dataPathPort) => {
    const cluster = { ...fakeCluster(), ...(dataPathPort !== undefined ? { dataPathPort } : {}) };
    const before = resources.length;
    expect(
      () =>
        new workloads.SwarmService("mesh", {
          cluster,
          image: "nginx:1.27",
          ports: [
            { target: 8080, published: 8080 },
            { target: 80, published },
          ],
        }),
    ).toThrow(
      `swarm:workloads:SwarmService "mesh": ports[1].published: received ${published}. Port ${published} is ${what} on every node; publishing it through the routing mesh would open it on all of them. Pick another port (e.g. above 1024).`,
    );
    expect(resources.length).toBe(before);
  });

  it("publishes 4789 when the cluster's data path runs on another port", () => {
    const service = new workloads.SwarmService("vx", {
      cluster: { ...fakeCluster(), dataPathPort: 4800 },
      image: "nginx:1.27",
      ports: [{ target: 80, published: 4789 }],
    });
    expect(service).toBeDefined();
  });

  it("refuses two services with the same name on one cluster", () => {
    const cluster = fakeCluster();
    new workloads.SwarmService("a", { cluster, serviceName: "web", image: "nginx" });
    expect(() => new workloads.SwarmService("b", { cluster, serviceName: "web", image: "nginx" })).toThrow(
      'swarm:workloads:SwarmService "b": serviceName: received "web". A service with this name is already declared on this cluster; give each service its own name.',
    );
  });

  const base = { image: "nginx:1.27" };
  it.each<[string, Record<string, unknown>, string]>([
    [
      "replicas with global mode",
      { mode: "global", replicas: 3 },
      'replicas: received 3. A global service runs one task on every eligible node; remove `replicas`, or use mode "replicated" to choose a count.',
    ],
    ["negative replicas", { replicas: -1 }, "replicas: received -1. Use a whole number of tasks, 0 or more."],
    [
      "fractional replicas",
      { replicas: 1.5 },
      "replicas: received 1.5. Use a whole number of tasks, 0 or more.",
    ],
    [
      "a port twice in one service",
      {
        ports: [
          { target: 80, published: 80 },
          { target: 81, published: 80 },
        ],
      },
      "ports[1].published: received 80. ports[0] already publishes 80/tcp; a published port can be used once. Pick another port.",
    ],
    [
      "host-mode port with replicas > 1 and no maxReplicasPerNode 1",
      { replicas: 3, ports: [{ target: 80, published: 80, mode: "host" }] },
      'ports[0].mode: received "host". 3 replicas publishing host port 80/tcp would collide when two land on one node; set maxReplicasPerNode: 1 (and have at least that many nodes), or publish in "ingress" mode.',
    ],
    [
      "host-mode port without a published port",
      { ports: [{ target: 80, mode: "host" }] },
      "ports[0].published: received undefined. A host-mode port needs an explicit published port.",
    ],
    [
      "ingress port on a dnsrr service",
      { endpointMode: "dnsrr", ports: [{ target: 80, published: 80 }] },
      'ports[0].mode: received "ingress". Swarm cannot publish ingress ports for a service with endpointMode "dnsrr"; publish with mode "host", or use endpointMode "vip".',
    ],
    [
      "a port out of range",
      { ports: [{ target: 80, published: 70000 }] },
      "ports[0].published: received 70000. Use an integer port between 1 and 65535.",
    ],
    [
      "an unparseable duration",
      { updatePolicy: { delay: "10 seconds" } },
      'updatePolicy.delay: received "10 seconds". Use a duration made of a number and a unit (ns, us, ms, s, m, h), e.g. "10s", "500ms" or "1m30s".',
    ],
    [
      "an unparseable memory size",
      { resources: { limits: { memory: "512X" } } },
      'resources.limits.memory: received "512X". Use a size like "512M", "1.5G", "256MiB" or a number of bytes (units b, k, m, g, t, p).',
    ],
    [
      "a memory limit Docker refuses",
      { resources: { limits: { memory: "1M" } } },
      'resources.limits.memory: received "1M". Docker refuses memory limits under 6MiB; use e.g. "64M".',
    ],
    [
      "a reservation above the limit",
      { resources: { limits: { cpus: 1 }, reservations: { cpus: 2 } } },
      "resources.reservations.cpus: received 2. A reservation cannot exceed the limit (1); lower the reservation or raise the limit.",
    ],
    [
      "an image that does not parse",
      { image: "Nginx:latest" },
      'image: received "Nginx:latest". Use an image reference like "nginx:1.27"',
    ],
    [
      "an image with a scheme",
      { image: "https://registry.example.com/app:1" },
      'image: received "https://registry.example.com/app:1". Use an image reference',
    ],
    [
      "rollback as a rollback failure action",
      { rollbackPolicy: { failureAction: "rollback" } },
      'rollbackPolicy.failureAction: received "rollback". Use "pause", "continue".',
    ],
    [
      "a failure ratio above 1",
      { updatePolicy: { maxFailureRatio: 20 } },
      "updatePolicy.maxFailureRatio: received 20. Use a fraction between 0 and 1, e.g. 0.2.",
    ],
    [
      "a bad constraint",
      { constraints: ["role=manager"] },
      'constraints[0]: received "role=manager". Use "<attribute>==<value>"',
    ],
    [
      "a bad node.role",
      { constraints: ["node.role==boss"] },
      'constraints[0]: received "node.role==boss". node.role is "manager" or "worker"',
    ],
    [
      "a bad preference",
      { placementPreferences: ["zone"] },
      'placementPreferences[0]: received "zone". Spread over a node label',
    ],
    [
      "a relative bind source",
      { mounts: [{ type: "bind", source: "data", target: "/data" }] },
      'mounts[0].source: received "data". Use an absolute path, e.g. "/data".',
    ],
    [
      "a bad NFS server",
      { mounts: [{ type: "nfs", source: "v", target: "/d", server: "not a host", path: "/x" }] },
      'mounts[0].server: received "not a host". Use the NFS server\'s IPv4 address or DNS name.',
    ],
    [
      "two mounts on one target",
      {
        mounts: [
          { type: "tmpfs", target: "/t" },
          { type: "tmpfs", target: "/t" },
        ],
      },
      'mounts[1].target: received "/t". mounts[0] already mounts this path; give each mount its own target.',
    ],
    [
      "convergence wait on a global service",
      { mode: "global", waitForConvergence: true },
      "waitForConvergence: received true. The Docker provider's convergence check only counts replicas and fails on global services; leave it unset for a global service.",
    ],
    ["a bad service name", { serviceName: "-web" }, 'serviceName: received "-web". Use 1-63 letters, digits'],
    [
      "a secret with both sources",
      { secrets: [{ name: "s", data: "x", secret: {} }] },
      'secrets[0]: received "both". Give exactly one of `data` or `secret`.',
    ],
    [
      "a network without id",
      { networks: [{ network: {} }] },
      'networks[0]: received "no id". Pass an OverlayNetwork, a docker.Network, or { network, aliases }.',
    ],
  ])("refuses %s before creating anything", (_label, extra, message) => {
    const before = resources.length;
    expect(
      () => new workloads.SwarmService("svc", { cluster: fakeCluster(), ...base, ...extra } as never),
    ).toThrow(`swarm:workloads:SwarmService "svc": ${message}`);
    expect(resources.length).toBe(before);
  });

  it("never echoes secret data in an error", () => {
    let message = "";
    try {
      new workloads.SwarmService("svc", {
        cluster: fakeCluster(),
        image: "nginx",
        secrets: [{ name: "s", data: "TOP-SECRET-VALUE", secret: {} as never }],
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("secrets[0]");
    expect(message).not.toContain("TOP-SECRET-VALUE");
  });
});

describe("ComposeStack", () => {
  it("reads composeFile from disk, with registry auth, no prune, resolve-image never, no wait", async () => {
    const fs = await import("fs");
    const os = await import("os");
    const path = await import("path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-"));
    const file = path.join(dir, "docker-compose.yml");
    fs.writeFileSync(file, "services:\n  web:\n    image: nginx:1.27\n");
    const scripts = await import("../../components/workloads/scripts/compose");
    new stacks.ComposeStack("site", {
      cluster: fakeCluster(),
      composeFile: file,
      withRegistryAuth: true,
      prune: false,
      resolveImage: "never",
      waitForConvergence: false,
      removeTimeoutSeconds: 5,
    });
    await settle();
    const cmd = named("command:remote:Command", "site-stack");
    expect(scriptOf(String(cmd.inputs.create))).toBe(
      scripts.renderStackDeployScript({
        stackName: "site",
        withRegistryAuth: true,
        prune: false,
        resolveImage: "never",
        wait: false,
      }),
    );
    expect(scriptOf(String(cmd.inputs.delete))).toBe(scripts.renderStackRemoveScript("site", 5));
    // No environment: stdin is not secret, so the compose diff stays readable.
    expect(isSecretInput(cmd.inputs.stdin)).toBe(false);
    expect(cmd.inputs.stdin).toBe(scripts.composeStdin("services:\n  web:\n    image: nginx:1.27\n", {}));
    fs.rmSync(dir, { recursive: true });
  });

  it.each<[Record<string, unknown>, string]>([
    [
      {},
      'composeFile: received "neither composeFile nor composeContent". Give exactly one of `composeFile` (a path) or `composeContent` (the YAML).',
    ],
    [
      { composeFile: "/x.yml", composeContent: "services: {}" },
      'composeFile: received "both composeFile and composeContent". Give exactly one',
    ],
    [
      { composeFile: "/nonexistent/compose.yml" },
      'composeFile: received "/nonexistent/compose.yml". Could not read it (ENOENT); give an existing compose file.',
    ],
    [
      { composeContent: "version: '3'\n" },
      'composeContent: received "content without a top-level services: key". A compose file for `docker stack deploy` needs a top-level `services:` key.',
    ],
    [
      { composeContent: "services: {}\n", stackName: "my stack" },
      'stackName: received "my stack". Use 1-63 letters, digits',
    ],
    [
      { composeContent: "services: {}\n", environment: { "BAD-NAME": "x" } },
      "environment.BAD-NAME: received \"BAD-NAME\". Use variable names of letters, digits and '_', not starting with a digit.",
    ],
    [
      { composeContent: "services: {}\n", environment: { DOCKER_HOST: "tcp://203.0.113.9:2375" } },
      'environment.DOCKER_HOST: received "DOCKER_HOST". This name steers the shell, the loader or the Docker CLI that deploys the stack (PATH, HOME, IFS, DOCKER_*, LD_*, BASH*, proxies...); rename it in the compose file and here, e.g. with an APP_ prefix.',
    ],
    [
      { composeContent: "services: {}\n", removeTimeoutSeconds: -1 },
      "removeTimeoutSeconds: received -1. Use a whole number of seconds, 0 or more.",
    ],
  ])("refuses bad input %#", (extra, message) => {
    const before = resources.length;
    expect(() => new stacks.ComposeStack("st", { cluster: fakeCluster(), ...extra } as never)).toThrow(
      `swarm:workloads:ComposeStack "st": ${message}`,
    );
    expect(resources.length).toBe(before);
  });
});
