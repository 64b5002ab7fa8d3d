import { prelude, shq } from "../../shell";
import * as YAML from "yaml";

/**
 * User data that installs Docker on first boot, so the cluster's own install step finds it present
 * and only checks it. Pure: the text is unit-tested and identical to what the instance runs.
 */

/** Options of {@link renderDockerUserData}. */
export interface DockerUserDataOptions {
  /** Login user added to the `docker` group (skipped for root). */
  user: string;
}

/**
 * A `#!/bin/bash` user-data script (cloud-init runs it as root) for Debian/Ubuntu images: installs the distribution's `docker.io`
 * package when Docker is missing, enables the service and adds the login user to the `docker`
 * group. Idempotent: on a host where Docker already answers it changes nothing.
 */
export function renderDockerUserData(options: DockerUserDataOptions): string {
  if (!/^[a-z_][a-z0-9_-]*$/.test(options.user)) {
    throw new Error(`user: received ${JSON.stringify(options.user)}. Use a plain login name.`);
  }
  const addToGroup =
    options.user === "root"
      ? ""
      : `id -nG ${shq(options.user)} | grep -qw docker || usermod -aG docker ${shq(options.user)}\n`;
  // apt may be busy with unattended upgrades on first boot: wait for its lock instead of failing.
  return `#!/bin/bash
# pulumi-swarm: install Docker Engine (idempotent)
${prelude({ task: "installing Docker" }).trimEnd()}
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "docker already present"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get on this image; leaving Docker to the cluster install step"
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  for _ in 1 2 3 4 5; do
    apt-get -o DPkg::Lock::Timeout=300 update && break
    sleep 10
  done
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends docker.io
  systemctl enable --now docker
fi
${addToGroup}touch /var/lib/pulumi-swarm-docker-ready
`;
}

/** An SSH host key pair for cloud-init to install before sshd first starts. */
export interface HostKeyPair {
  /** OpenSSH private key of type Ed25519 (secret). */
  privateKey: string;
  /** Its public key line ("ssh-ed25519 AAAA..."). */
  publicKey: string;
}

/** Options of {@link renderCloudUserData}. */
export interface CloudUserDataOptions {
  /** Login user (added to the `docker` group when Docker is installed). */
  user: string;
  /** Install Docker with {@link renderDockerUserData}'s script. */
  installDocker: boolean;
  /** The host's SSH host key, known to the program before first contact. */
  hostKey: HostKeyPair;
}

const BOUNDARY = "==pulumi-swarm-user-data==";

/**
 * Cloud-init user data as MIME multipart: a cloud-config part that installs the host's SSH host key
 * (`ssh_keys`, applied by cloud-init's ssh module before sshd first accepts connections, so the
 * first SSH contact already meets the pinned key; no other key type is generated) and, when asked,
 * the Docker install script. Pure: the text is unit-tested and identical to what the instance gets.
 * It holds the host's private key: keep it secret.
 */
export function renderCloudUserData(options: CloudUserDataOptions): string {
  const type = options.hostKey.publicKey.trim().split(/\s+/)[0];
  if (
    type !== "ssh-ed25519" ||
    !/^-----BEGIN [A-Z -]*OPENSSH PRIVATE KEY-----\n/.test(options.hostKey.privateKey)
  ) {
    throw new Error(
      `hostKey: received a ${JSON.stringify(type)} key. Give an Ed25519 key pair in OpenSSH format (tls.PrivateKey algorithm "ED25519").`,
    );
  }
  const cloudConfig = `#cloud-config\n${YAML.stringify({
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: {
      ed25519_private: `${options.hostKey.privateKey.trim()}\n`,
      ed25519_public: options.hostKey.publicKey.trim(),
    },
  })}`;
  const part = (contentType: string, filename: string, body: string) =>
    `--${BOUNDARY}\nContent-Type: ${contentType}; charset="us-ascii"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename="${filename}"\n\n${body.endsWith("\n") ? body : `${body}\n`}`;
  return [
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"\nMIME-Version: 1.0\n\n`,
    part("text/cloud-config", "pulumi-swarm-host-key.cfg", cloudConfig),
    options.installDocker
      ? part("text/x-shellscript", "pulumi-swarm-docker.sh", renderDockerUserData({ user: options.user }))
      : "",
    `--${BOUNDARY}--\n`,
  ].join("");
}
