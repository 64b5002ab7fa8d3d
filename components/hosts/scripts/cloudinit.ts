import { prelude, shq } from "../../shell";

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
