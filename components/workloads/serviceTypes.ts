import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type { SwarmClusterLike } from "../cluster/types";

/** A port a service publishes. */
export interface ServicePort {
  /** Port inside the container (1-65535). Required. */
  target: number;
  /** Port on the swarm nodes. Default: none (swarm picks one from 30000-32767 in ingress mode). */
  published?: number;
  /** "tcp", "udp" or "sctp". Default: "tcp". */
  protocol?: "tcp" | "udp" | "sctp";
  /**
   * "ingress" (routing mesh: every node answers on the port) or "host" (only nodes running a task,
   * one task per node and port). Default: "ingress".
   */
  mode?: "ingress" | "host";
  /** A name for the port. Default: none. */
  name?: string;
}

/** A network the service's tasks join, referenced by id (names give perpetual diffs). */
export interface ServiceNetworkAttachment {
  /** An {@link OverlayNetwork} of this library, or anything with a network `id` (e.g. a `docker.Network`). */
  network: { readonly networkId: pulumi.Input<string> } | { readonly id: pulumi.Input<string> };
  /** Extra DNS aliases of the service on this network. Default: none. */
  aliases?: string[];
}

/** A named volume, created by the volume driver on each node that runs a task. */
export interface VolumeMount {
  type: "volume";
  /** Volume name. Default: none (an anonymous volume per task). */
  source?: string;
  /** Absolute path in the container. */
  target: string;
  /** Mount read-only. Default: false. */
  readOnly?: boolean;
  /** Volume driver. Default: Docker's default ("local"). */
  driver?: string;
  /** Options of the volume driver. Default: none. */
  driverOptions?: Record<string, string>;
  /** Do not copy the image's files at `target` into a new volume. Default: false. */
  noCopy?: boolean;
}

/** An NFS export mounted through the `local` volume driver (`type=nfs`), the way swarm users do it by hand. */
export interface NfsMount {
  type: "nfs";
  /** Name of the volume each node creates for the export (share it between services to share the data). */
  source: string;
  /** Absolute path in the container. */
  target: string;
  /** NFS server address (IPv4 or DNS name). */
  server: string;
  /** Exported path on the server, absolute (e.g. "/exports/data"). */
  path: string;
  /** Mount options after `addr=`. Default: "rw,nfsvers=4". */
  options?: string;
  /** Mount read-only. Default: false. */
  readOnly?: boolean;
}

/** A host path bind-mounted into the container; the path must exist on every node that runs a task. */
export interface BindMount {
  type: "bind";
  /** Absolute path on the node. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  /** Mount read-only. Default: false. */
  readOnly?: boolean;
  /** Bind propagation. Default: Docker's ("rprivate"). */
  propagation?: "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";
}

/** An in-memory filesystem. */
export interface TmpfsMount {
  type: "tmpfs";
  /** Absolute path in the container. */
  target: string;
  /** Size limit, e.g. "64M". Default: unlimited. */
  size?: string;
  /** Permission bits, e.g. 0o1777. Default: Docker's (0o1777). */
  mode?: number;
}

/** A mount of a service's containers. */
export type ServiceMount = VolumeMount | NfsMount | BindMount | TmpfsMount;

/** CPU and memory of one task. */
export interface ResourceAmounts {
  /** CPUs, e.g. 0.5. Default: none. */
  cpus?: number;
  /** Memory, e.g. "512M". Default: none. */
  memory?: string;
}

/** How updates (or rollbacks) roll through the tasks. Unset fields keep Docker's defaults. */
export interface UpdatePolicy {
  /** Tasks updated at once; 0 updates all at once. Docker default: 1. */
  parallelism?: number;
  /** Wait between batches, e.g. "10s". Docker default: "0s". */
  delay?: string;
  /** On failure: "pause", "continue" or "rollback" (not for rollbacks). Docker default: "pause". */
  failureAction?: "pause" | "continue" | "rollback";
  /** How long each task is watched for failure, e.g. "5s". Docker default: "5s". */
  monitor?: string;
  /** Fraction of tasks that may fail, 0-1. Docker default: 0. */
  maxFailureRatio?: number;
  /** "stop-first" or "start-first". Docker default: "stop-first". */
  order?: "stop-first" | "start-first";
}

/** When and how often failed tasks restart. Unset fields keep Docker's defaults. */
export interface RestartPolicy {
  /** "none", "on-failure" or "any". Docker default: "any". */
  condition?: "none" | "on-failure" | "any";
  /** Wait between restarts, e.g. "5s". Docker default: "5s". */
  delay?: string;
  /** Restarts before giving up; 0 is unlimited. Docker default: 0. */
  maxAttempts?: number;
  /** Window used to evaluate the restart policy, e.g. "2m". Docker default: unbounded. */
  window?: string;
}

/** Container health check. */
export interface HealthCheck {
  /** A shell command (run with CMD-SHELL) or an exec array (run with CMD, unless it starts with CMD/CMD-SHELL/NONE). */
  test: string | string[];
  /** Time between checks. Default: Docker's ("30s"). */
  interval?: string;
  /** Time a check may take. Default: Docker's ("30s"). */
  timeout?: string;
  /** Grace period before failures count. Default: Docker's ("0s"). */
  startPeriod?: string;
  /** Consecutive failures before unhealthy. Default: Docker's (3). */
  retries?: number;
}

/** A secret mounted as a file into the service's containers (`/run/secrets/<fileName>`). */
export interface ServiceSecret {
  /** Name of the secret in this service (used for the child resource and the default file name). */
  name: string;
  /** The secret's content, plain text (kept secret, sent base64-encoded). Give this or `secret`. */
  data?: pulumi.Input<string>;
  /** An existing `docker.Secret` to mount instead of creating one. Give this or `data`. */
  secret?: docker.Secret;
  /** File name under /run/secrets, or an absolute path. Default: `name`. */
  fileName?: string;
  /** File owner uid. Default: "0". */
  uid?: string;
  /** File group gid. Default: "0". */
  gid?: string;
  /** File mode. Default: 0o444. */
  mode?: number;
}

/** A config mounted as a file into the service's containers. */
export interface ServiceConfigFile {
  /** Name of the config in this service (used for the child resource). */
  name: string;
  /** The config's content, plain text (kept secret in state, sent base64-encoded). Give this or `config`. */
  data?: pulumi.Input<string>;
  /** An existing `docker.ServiceConfig` to mount instead of creating one. Give this or `data`. */
  config?: docker.ServiceConfig;
  /** Absolute path of the file in the container. Default: `/<name>`. */
  fileName?: string;
  /** File owner uid. Default: "0". */
  uid?: string;
  /** File group gid. Default: "0". */
  gid?: string;
  /** File mode. Default: 0o444. */
  mode?: number;
}

/** Registry credentials for pulling the image. */
export interface RegistryAuth {
  /**
   * Registry address, e.g. "registry.example.com:5000", or an Output such as `harbor.registry`
   * (checked when it resolves). Required.
   */
  server: pulumi.Input<string>;
  /** User name. */
  username: pulumi.Input<string>;
  /** Password or token (kept secret). */
  password: pulumi.Input<string>;
}

/** Arguments of a {@link SwarmService}. */
export interface SwarmServiceArgs {
  /** The swarm to run on (a `SwarmCluster` or anything of its shape). */
  cluster: SwarmClusterLike;
  /** Docker service name. Default: the component name. */
  serviceName?: string;
  /** Image reference, e.g. "tomcat:9.0". Checked when known at construction. */
  image: pulumi.Input<string>;
  /**
   * Who owns the image once the service exists. "pulumi": `image` is the truth; changing it rolls
   * the service, and `pulumi up --refresh` puts back an image someone changed by hand. "pipeline":
   * `image` is only the first image; after that a CI pipeline rolls the service
   * (`docker service update --image`, e.g. through a `DeployKey`) and Pulumi never changes the
   * image again: the `docker.Service` ignores changes to `taskSpec.containerSpec.image` and to
   * `taskSpec.placement.platforms`, which Docker fills from the image when it resolves it
   * (Pulumi's `ignoreChanges`). A plain `pulumi up` then leaves the pipeline's image alone; when
   * you change another field of the service, refresh in the same run (`pulumi up --refresh`, or
   * `options: refresh: always` in Pulumi.yaml) so the update re-sends the pipeline's image and not
   * the one recorded at the last refresh. Default: "pulumi".
   */
  imageOwner?: "pulumi" | "pipeline";
  /** "replicated" (a fixed number of tasks) or "global" (one task per eligible node). Default: "replicated". */
  mode?: "replicated" | "global";
  /** Number of tasks of a replicated service (0 or more). Default: 1. Not allowed with mode "global". */
  replicas?: number;
  /** Published ports. Default: none. */
  ports?: ServicePort[];
  /** "vip" (one virtual IP, load-balanced) or "dnsrr" (DNS round robin, no ingress ports). Default: "vip". */
  endpointMode?: "vip" | "dnsrr";
  /** Networks to join, e.g. an {@link OverlayNetwork}. Default: none (ingress only). */
  networks?: (ServiceNetworkAttachment | { readonly networkId: pulumi.Input<string> })[];
  /** Environment variables. Secret values stay secret. Default: none. */
  env?: Record<string, pulumi.Input<string>>;
  /** Entrypoint override (exec form). Default: the image's. */
  command?: string[];
  /** Arguments to the entrypoint. Default: the image's CMD. */
  args?: string[];
  /** User to run as, e.g. "1000:1000". Default: the image's. */
  user?: string;
  /** Working directory. Default: the image's. */
  workdir?: string;
  /** Placement constraints, e.g. "node.role==worker", "node.labels.zone==a". Default: none. */
  constraints?: string[];
  /** Spread preferences, e.g. "node.labels.zone" (or "spread=node.labels.zone"). Default: none. */
  placementPreferences?: string[];
  /** Maximum tasks of this service on one node; 0 is unlimited. Default: 0. */
  maxReplicasPerNode?: number;
  /** Volumes, NFS exports, bind mounts and tmpfs. Default: none. */
  mounts?: ServiceMount[];
  /** Resource limits and reservations per task. Default: none. */
  resources?: { limits?: ResourceAmounts; reservations?: ResourceAmounts };
  /** Health check. Default: the image's. */
  healthcheck?: HealthCheck;
  /** Rolling update policy. Default: Docker's (one task at a time, pause on failure). */
  updatePolicy?: UpdatePolicy;
  /** Rollback policy. Default: Docker's. */
  rollbackPolicy?: UpdatePolicy & { failureAction?: "pause" | "continue" };
  /** Restart policy. Default: Docker's (restart on any exit). */
  restartPolicy?: RestartPolicy;
  /** Time a task gets to stop before it is killed, e.g. "30s". Default: Docker's ("10s"). */
  stopGracePeriod?: string;
  /** Secrets mounted as files. Default: none. */
  secrets?: ServiceSecret[];
  /** Configs mounted as files. Default: none. */
  configs?: ServiceConfigFile[];
  /** Service labels. Default: none. */
  labels?: Record<string, string>;
  /** Container labels. Default: none. */
  containerLabels?: Record<string, string>;
  /** Registry credentials to pull the image with. Default: the provider's registry auth. */
  registryAuth?: RegistryAuth;
  /**
   * Wait until all tasks run (and updates complete or roll back) so `pulumi up` fails when the
   * service does not converge. `true` uses a 3 minute timeout. Default: true for replicated services;
   * not supported for global services (the provider's convergence check only counts replicas).
   */
  waitForConvergence?: boolean | { timeout?: string; delay?: string };
}

/** One published port of a running service, as the service outputs it. */
export interface PublishedEndpoint {
  /** Port on the nodes. */
  published: number;
  /** Port in the container. */
  target: number;
  /** "tcp", "udp" or "sctp". */
  protocol: string;
  /** "ingress" or "host". */
  mode: string;
  /**
   * "<manager ip>:<published>" for ingress ports (every node answers); for host ports only the
   * nodes running a task answer, so this is the manager address only as a hint.
   */
  address: string;
}
