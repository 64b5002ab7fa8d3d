import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockRun } from "../helpers/mocks";
import { cloudCall, cloudNewResource } from "../helpers/cloudMocks";

/**
 * Runs a stack of stacks/ under mocks: the cloud lookups answered for the stack's own region,
 * instances given IPs, and the cluster's init/join commands printing what `docker swarm` would,
 * with tokens made at run time. Nothing is dialed: every resource is a mock.
 */

export const STACKS_DIR = path.join(__dirname, "..", "..", "stacks");
export const stackFile = (env: string) => path.join(STACKS_DIR, `Pulumi.${env}.yaml`);

/** A value shaped like nothing real, made at run time (no key-shaped literal in the repository). */
export const fakeSecret = (label: string) => `${label}-${crypto.randomBytes(12).toString("hex")}`;

export const TOKENS = {
  worker: fakeSecret("worker-token"),
  manager: fakeSecret("manager-token"),
  unlock: fakeSecret("unlock-key"),
};

/** What generated passwords resolve to under these mocks. */
export const GENERATED_PASSWORD = fakeSecret("Generated-1");
/** A CA certificate as RegistryTrust expects it (PEM-framed, content fake). */
export const CA_CERT = "-----BEGIN CERTIFICATE-----\nTEST-ONLY\n-----END CERTIFICATE-----\n";

export interface StackMockOptions {
  /** AWS region of the stack: zones "<region>a/b/c" are answered. */
  awsRegion?: string;
  /** Alibaba Cloud region: zones "<region>-h/j/k" are answered. */
  alicloudRegion?: string;
}

/** Installs the mocks; the init command of cluster `clusterName` prints a swarm summary, joins print "id-<host>". */
export function installStackMocks(clusterName: string, options: StackMockOptions = {}): Promise<MockRun> {
  const awsZones = options.awsRegion ? ["c", "a", "b"].map((z) => `${options.awsRegion}${z}`) : undefined;
  const alicloudZones = options.alicloudRegion
    ? ["j", "h", "k"].map((z) => `${options.alicloudRegion}-${z}`)
    : undefined;
  const cloud = { awsZones, alicloudZones };
  const instanceTypes = alicloudZones
    ? [
        { id: "ecs.u1-c1m2.large", availabilityZones: alicloudZones, cpuCoreCount: 2, memorySize: 4 },
        { id: "ecs.g7.large", availabilityZones: alicloudZones, cpuCoreCount: 2, memorySize: 8 },
      ]
    : undefined;
  const resources = cloudNewResource({ ...cloud, instanceTypes });
  return installMocks({
    call: cloudCall({ ...cloud, instanceTypes }),
    newResource: (args: pulumi.runtime.MockResourceArgs) => {
      if (args.type === "command:remote:Command") {
        if (args.name === `${clusterName}-init`) {
          const summary = {
            clusterId: "cluster-1",
            nodeId: "id-first",
            workerToken: TOKENS.worker,
            managerToken: TOKENS.manager,
            unlockKey: TOKENS.unlock,
          };
          return { ...args.inputs, stdout: `${JSON.stringify(summary)}\n`, stderr: "" };
        }
        const join = new RegExp(`^${clusterName}-(.+)-join$`).exec(args.name);
        if (join) return { ...args.inputs, stdout: `id-${join[1]}\n`, stderr: "" };
        return { ...args.inputs, stdout: "ok\n", stderr: "" };
      }
      const inputs = args.inputs as Record<string, unknown>;
      // A node's state resource (SwarmNodeState): the node id the swarm gave the host.
      if (args.type === "pulumi-nodejs:dynamic:Resource" && inputs.kind === "swarm:cluster:Node")
        return { ...inputs, nodeId: `id-${String(inputs.host)}` };
      switch (args.type) {
        case "random:index/randomPassword:RandomPassword":
          return { ...inputs, result: GENERATED_PASSWORD };
        case "tls:index/privateKey:PrivateKey":
          return {
            ...inputs,
            privateKeyPem: `TEST-ONLY PEM ${args.name}`,
            privateKeyOpenssh: `-----BEGIN TEST-ONLY OPENSSH PRIVATE KEY-----\n${args.name}\n-----END OPENSSH PRIVATE KEY-----\n`,
            publicKeyOpenssh: "ssh-ed25519 AAAAGENERATED\n",
          };
        case "tls:index/selfSignedCert:SelfSignedCert":
          return { ...inputs, certPem: CA_CERT };
        case "tls:index/certRequest:CertRequest":
          return { ...inputs, certRequestPem: "TEST-ONLY CSR" };
        case "tls:index/locallySignedCert:LocallySignedCert":
          return { ...inputs, certPem: "TEST-ONLY SERVER CERT" };
      }
      return resources(args);
    },
  });
}

/** Resource count per type, sorted by type, for exact comparison. */
export function countsByType(run: MockRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Waits until the runtime has registered everything (outputs resolve through a few rounds of applies). */
export async function settleAll(...outputs: pulumi.Output<unknown>[]): Promise<void> {
  for (const o of outputs) await new Promise((resolve) => o.apply((v) => resolve(v)));
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 100));
}
