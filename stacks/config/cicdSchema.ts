/** The schema of `pulumi-swarm:cicd`: the delivery platform's tools and their hosts. */
import { z } from "zod";
import { bool, cidr, fingerprintMap, hostKeysMode, int, nonEmptyList, port, str, swarmName } from "./fields";

const toolHost = {
  /** AWS instance type (hosts.kind aws). */
  instanceType: str('Use an instance type such as "t3.large" (AWS) or "ecs.g7.large" (Alibaba Cloud).')
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9.-]+$/, {
      error: 'Use an instance type such as "t3.large" (AWS) or "ecs.g7.large" (Alibaba Cloud).',
    })
    .optional(),
  cpuCores: int(1, 256, "Use a whole number of vCPUs, e.g. 2.").optional(),
  memoryGb: int(1, 4096, "Use a whole number of GiB, e.g. 8.").optional(),
  diskGb: int(20, 16384, "Use a whole number of GiB between 20 and 16384.").optional(),
  version: str(
    "Use an image tag (or Harbor release) to pin, or leave it out for the library's pin.",
  ).optional(),
};

export const cicdSchema = z.strictObject({
  clientCidrs: nonEmptyList(
    cidr(),
    'List who may reach the tools\' ports, e.g. ["203.0.113.0/24", "172.31.0.0/16"] (users and the swarm\'s network).',
  ).optional(),
  // The tools' hostKeys / acceptHostKeys: pins of each tool VM's host key (accepted by the VM's
  // host name, "<tool>-1"); the swarm nodes keep the cluster's pins.
  hostKeys: hostKeysMode().optional(),
  acceptHostKeys: fingerprintMap().optional(),
  gitlab: z
    .strictObject(
      {
        ...toolHost,
        httpPort: port().optional(),
        sshPort: port().optional(),
      },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort, sshPort }." },
    )
    .optional(),
  jenkins: z
    .strictObject(
      {
        ...toolHost,
        httpPort: port().optional(),
        agentPort: port().optional(),
        deployToSwarm: bool().optional(),
        deployTargets: z
          .array(
            z.strictObject(
              {
                service: swarmName("service"),
                repository: str('Use an image repository such as "10.0.1.5/team/web" (no tag).'),
              },
              { error: 'Use { service: "web", repository: "<harbor>/team/web" }.' },
            ),
            { error: "Use a list of { service, repository }." },
          )
          .optional(),
      },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort, deployToSwarm, deployTargets }." },
    )
    .optional(),
  sonarqube: z
    .strictObject(
      { ...toolHost, httpPort: port().optional() },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort }." },
    )
    .optional(),
  harbor: z
    .strictObject(
      {
        ...toolHost,
        httpsPort: port().optional(),
        withTrivy: bool().optional(),
        trustOnNodes: bool().optional(),
        installerSha256: str(
          "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        ).regex(/^[0-9a-f]{64}$/, {
          error:
            "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        }),
      },
      { error: "Use { installerSha256 } plus optional instanceType, diskGb, withTrivy, trustOnNodes." },
    )
    .optional(),
});

/** The parsed `pulumi-swarm:cicd` (defaults applied). */
export type CicdConfig = z.output<typeof cicdSchema>;
