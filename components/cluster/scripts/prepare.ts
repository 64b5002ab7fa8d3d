import { PRELUDE } from "../../shell/prelude";
import { shq } from "../../shell/quote";
import { RESTART_OR_DEFER } from "./restart";

/** What the prepare script makes true on one host before it joins the swarm. */
export interface PrepareOptions {
  /** Install Docker Engine when it is missing. */
  installDocker: boolean;
  /** Values for daemon.json keys this cluster manages; a key absent here is left as the host has it. */
  daemonConfig: { "insecure-registries"?: string[]; "registry-mirrors"?: string[] };
  /** "auto": open the swarm ports to `peers` in ufw or firewalld when one is active. */
  hostFirewall: "auto" | "none";
  /** Advertise addresses of the other members (the only sources the swarm ports open to). */
  peers: string[];
  /** UDP port of the overlay data path (VXLAN). */
  dataPathPort: number;
  /** Also allow IP protocol 50 (ESP) between members, which encrypted overlays use. */
  allowEsp: boolean;
}

const INSTALL_DOCKER = `install_docker() {
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq docker.io curl >/dev/null
  elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    local pm
    pm=$(command -v dnf || command -v yum)
    if ! $SUDO "$pm" install -y -q docker-ce docker-ce-cli containerd.io >/dev/null 2>&1; then
      $SUDO "$pm" install -y -q dnf-plugins-core >/dev/null 2>&1 || true
      $SUDO "$pm" config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo >/dev/null
      $SUDO "$pm" install -y -q docker-ce docker-ce-cli containerd.io >/dev/null
    fi
  else
    fail "Docker is missing and this host has neither apt-get nor dnf/yum; install Docker Engine yourself or use a Debian/Ubuntu/RHEL-family image"
  fi
  $SUDO systemctl enable --now docker >/dev/null 2>&1 || $SUDO service docker start >/dev/null
}`;

/**
 * A login user other than root joins the docker group, so the Docker provider's own ssh sessions
 * (\`docker system dial-stdio\`, which cannot use sudo) may use the socket. Group changes apply to
 * new sessions, which is what the provider opens.
 */
const DOCKER_GROUP = `if [ "$(id -u)" != 0 ]; then
  login_user=$(id -un)
  if ! getent group docker >/dev/null; then
    $SUDO groupadd docker
    restart_or_defer "created the docker group (its socket must belong to it)"
  fi
  if ! id -nG "$login_user" | tr ' ' '\\n' | grep -qx docker; then
    $SUDO usermod -aG docker "$login_user"
    log "added $login_user to the docker group (the Docker provider's ssh sessions use the socket without sudo)"
  fi
fi`;

/**
 * Merges the managed keys into /etc/docker/daemon.json, keeping every other key, and prints
 * "changed" only when the file's meaning changed (so dockerd restarts only then).
 */
const MERGE_DAEMON_JSON = `merge_daemon_json() {
  local desired=$1 path=/etc/docker/daemon.json
  command -v python3 >/dev/null 2>&1 || fail "python3 is needed to merge $path; install it (apt-get install python3-minimal)"
  $SUDO mkdir -p /etc/docker
  $SUDO python3 - "$path" "$desired" <<'PY'
import json, os, sys
path, desired = sys.argv[1], json.loads(sys.argv[2])
current = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read().strip()
    current = json.loads(text) if text else {}
merged = dict(current)
for key, value in desired.items():
    if value:
        merged[key] = value
    else:
        merged.pop(key, None)
if merged != current:
    tmp = path + ".pulumi-swarm.tmp"
    with open(tmp, "w") as f:
        json.dump(merged, f, indent=2, sort_keys=True)
        f.write("\\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print("changed")
PY
}`;

function firewallFunction(opts: PrepareOptions): string {
  const rules = ["2377/tcp", "7946/tcp", "7946/udp", `${opts.dataPathPort}/udp`];
  return `SWARM_PORTS=(${rules.map(shq).join(" ")})
PEERS=(${opts.peers.map(shq).join(" ")})
ALLOW_ESP=${opts.allowEsp ? 1 : 0}
open_swarm_ports() {
  if command -v ufw >/dev/null 2>&1 && $SUDO ufw status 2>/dev/null | grep -q "Status: active"; then
    local peer rule port proto line
    for peer in "\${PEERS[@]}"; do
      for rule in "\${SWARM_PORTS[@]}"; do
        port=\${rule%/*} proto=\${rule#*/}
        $SUDO ufw allow from "$peer" to any port "$port" proto "$proto" comment pulumi-swarm >/dev/null
      done
      if [ "$ALLOW_ESP" = 1 ]; then $SUDO ufw allow proto esp from "$peer" comment pulumi-swarm >/dev/null; fi
    done
    # Rules this cluster added for members that are gone.
    $SUDO ufw show added 2>/dev/null | grep "comment 'pulumi-swarm'" | while read -r line; do
      peer=$(echo "$line" | sed -n 's/.* from \\([^ ]*\\) .*/\\1/p')
      if [ -n "$peer" ] && ! printf '%s\\n' "\${PEERS[@]}" | grep -qxF "$peer"; then
        eval "$SUDO ufw delete \${line#ufw }" >/dev/null
      fi
    done
    log "ufw: swarm ports open to \${#PEERS[@]} peer(s)"
  elif command -v firewall-cmd >/dev/null 2>&1 && $SUDO firewall-cmd --state >/dev/null 2>&1; then
    local peer rule port proto rich
    for peer in "\${PEERS[@]}"; do
      for rule in "\${SWARM_PORTS[@]}"; do
        port=\${rule%/*} proto=\${rule#*/}
        rich="rule family=ipv4 source address=$peer port port=$port protocol=$proto accept"
        $SUDO firewall-cmd --permanent --query-rich-rule="$rich" >/dev/null 2>&1 || $SUDO firewall-cmd --permanent --add-rich-rule="$rich" >/dev/null
      done
      if [ "$ALLOW_ESP" = 1 ]; then
        rich="rule family=ipv4 source address=$peer protocol value=esp accept"
        $SUDO firewall-cmd --permanent --query-rich-rule="$rich" >/dev/null 2>&1 || $SUDO firewall-cmd --permanent --add-rich-rule="$rich" >/dev/null
      fi
    done
    $SUDO firewall-cmd --permanent --list-rich-rules | while read -r rich; do
      peer=$(echo "$rich" | sed -n 's/.*source address="\\{0,1\\}\\([0-9.\\/]*\\)"\\{0,1\\} .*/\\1/p')
      case "$rich" in *"port=\\"2377\\""* | *"port=\\"7946\\""* | *"port=\\"${opts.dataPathPort}\\""* | *"value=\\"esp\\""*) ;; *) continue ;; esac
      if [ -n "$peer" ] && ! printf '%s\\n' "\${PEERS[@]}" | grep -qxF "$peer"; then
        $SUDO firewall-cmd --permanent --remove-rich-rule="$rich" >/dev/null
      fi
    done
    $SUDO firewall-cmd --reload >/dev/null
    log "firewalld: swarm ports open to \${#PEERS[@]} peer(s)"
  fi
}`;
}

/**
 * Renders the script that readies a host: Docker Engine installed and running, curl present,
 * daemon.json merged and, with `hostFirewall: "auto"`, the swarm ports opened to the other members
 * only. dockerd restarts only when its configuration changed: at once on a host in no swarm; on a
 * member, in the node's membership step (restart.ts), so the prepare steps need not wait for one
 * another. Idempotent: a second run changes nothing.
 */
export function renderPrepareScript(opts: PrepareOptions): string {
  const desired = JSON.stringify(opts.daemonConfig);
  return `${PRELUDE}
${INSTALL_DOCKER}
${RESTART_OR_DEFER}
${MERGE_DAEMON_JSON}
${firewallFunction(opts)}

if ! command -v docker >/dev/null 2>&1; then
  ${opts.installDocker ? 'log "installing Docker Engine"; install_docker' : 'fail "Docker is not installed and installDocker is false; install Docker Engine or set installDocker: true"'}
fi
if ! command -v curl >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then $SUDO apt-get install -y -qq curl >/dev/null; else $SUDO "$(command -v dnf || command -v yum)" install -y -q curl >/dev/null; fi
fi
if ! dk version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  $SUDO systemctl start docker >/dev/null 2>&1 || $SUDO service docker start >/dev/null 2>&1 || true
  wait_for 120 "dockerd to answer" dk version --format '{{.Server.Version}}'
fi
${
  Object.keys(opts.daemonConfig).length > 0
    ? `if [ "$(merge_daemon_json ${shq(desired)})" = changed ]; then
  restart_or_defer "daemon.json changed"
fi`
    : ": # no daemon.json keys managed"
}
${DOCKER_GROUP}
${opts.hostFirewall === "auto" ? "open_swarm_ports" : ": # host firewall left as it is"}
echo "ready: docker $(dk version --format '{{.Server.Version}}')"
`;
}
