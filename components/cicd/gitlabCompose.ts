import { renderYaml } from "./yaml";

/** Inputs of {@link renderGitLabCompose}. */
export interface GitLabComposeOptions {
  /** Full image reference, e.g. "gitlab/gitlab-ce:19.4.1-ce.0". */
  image: string;
  /** Address users reach GitLab on (IPv4 or DNS name). */
  address: string;
  /** HTTP port, published on the host and used inside the container (GitLab listens on the port of its external URL). */
  httpPort: number;
  /** Host port of GitLab's SSH (container port 22). */
  sshPort: number;
  /** Base data directory: config/, logs/ and data/ live under it. */
  dataDir: string;
  /** Extra Omnibus configuration lines (Ruby), appended after the generated ones. Never put secrets here. */
  extraOmnibusConfig?: string;
}

/** GitLab's external URL for these options. */
export function gitlabExternalUrl(address: string, httpPort: number): string {
  return `http://${address}:${httpPort}`;
}

/** The GITLAB_OMNIBUS_CONFIG value (no secrets: the root password comes from the env file). */
export function gitlabOmnibusConfig(options: GitLabComposeOptions): string {
  const lines = [
    `external_url '${gitlabExternalUrl(options.address, options.httpPort)}'`,
    `gitlab_rails['gitlab_shell_ssh_port'] = ${options.sshPort}`,
  ];
  if (options.extraOmnibusConfig) lines.push(options.extraOmnibusConfig.trimEnd());
  return `${lines.join("\n")}\n`;
}

/**
 * The compose file of GitLab CE: one Omnibus container, its config, logs and data bind-mounted
 * from the host, HTTP on `httpPort` and SSH on `sshPort`. GITLAB_ROOT_PASSWORD comes from
 * gitlab.env (written with mode 0600), which GitLab reads on its first start only.
 */
export function renderGitLabCompose(options: GitLabComposeOptions): string {
  return renderYaml({
    services: {
      gitlab: {
        image: options.image,
        restart: "always",
        shm_size: "256m",
        ports: [`${options.httpPort}:${options.httpPort}`, `${options.sshPort}:22`],
        env_file: ["gitlab.env"],
        environment: { GITLAB_OMNIBUS_CONFIG: gitlabOmnibusConfig(options) },
        volumes: [
          `${options.dataDir}/config:/etc/gitlab`,
          `${options.dataDir}/logs:/var/log/gitlab`,
          `${options.dataDir}/data:/var/opt/gitlab`,
        ],
      },
    },
  });
}
