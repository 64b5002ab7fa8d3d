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

/** One pipeline job Jenkins gets as code (JenkinsHost `pipelines`): clone, build, push, roll a service. */
const pipeline = z.strictObject(
  {
    name: str("Use a job name: 1-63 letters, digits, '-' or '_' (the webhook is <jenkins>/project/<name>)."),
    gitProject: str(
      'Use the GitLab project path, e.g. "team/web" (cloned from the stack\'s GitLab), or give gitUrl.',
    ).optional(),
    gitUrl: str('Use a git URL such as "http://10.0.1.10:9999/team/web.git", or give gitProject.').optional(),
    branch: str('Use a branch name, e.g. "main".').optional(),
    service: swarmName("service"),
    repository: str(
      'Use an image repository without tag: a path in the stack\'s Harbor ("team/web"), or a full one ("10.0.1.5/team/web") without Harbor.',
    ),
    context: str('Use a directory inside the checkout, e.g. ".".').optional(),
    dockerfile: str('Use a file inside the checkout, e.g. "Dockerfile".').optional(),
  },
  {
    error:
      'Use { name: "web", gitProject: "team/web", service: "web", repository: "team/web" } (plus optional gitUrl, branch, context, dockerfile).',
  },
);

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
        /** Push webhooks from each pipeline's gitProject to its Jenkins job (needs gitlabApiToken). */
        webhooks: bool().optional(),
      },
      { error: "Use {} (defaults) or { instanceType, diskGb, httpPort, sshPort, webhooks }." },
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
        pipelines: z.array(pipeline, { error: "Use a list of pipelines." }).optional(),
      },
      {
        error:
          "Use {} (defaults) or { instanceType, diskGb, httpPort, deployToSwarm, deployTargets, pipelines }.",
      },
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
        /** The pipeline's project, with a push robot for Jenkins and a pull robot for the nodes. */
        project: z
          .strictObject(
            {
              name: str('Use a Harbor project name: lower-case letters, digits, ".", "_", "-".'),
              public: bool().optional(),
            },
            { error: 'Use { name: "team" } (plus optional public).' },
          )
          .optional(),
        installerSha256: str(
          "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        ).regex(/^[0-9a-f]{64}$/, {
          error:
            "Give the SHA-256 of Harbor's installer tarball (64 lower-case hex digits): it runs as root.",
        }),
      },
      {
        error:
          "Use { installerSha256 } plus optional instanceType, diskGb, withTrivy, trustOnNodes, project.",
      },
    )
    .optional(),
});

/** The parsed `pulumi-swarm:cicd` (defaults applied). */
export type CicdConfig = z.output<typeof cicdSchema>;
