import { prelude, shq } from "../../shell";

/** What a tool needs from its host. */
export interface HostRequirements {
  /** CPUs (as the kernel counts them in /proc/cpuinfo). */
  cpus: number;
  /** Memory in GiB. The check accepts a MemTotal of 90% of it, which is what a VM of that size reports. */
  memoryGiB: number;
  /** Free disk space in GiB where the tool keeps its data. */
  diskGiB: number;
  /** Minimum `vm.max_map_count` (Elasticsearch inside SonarQube); it is raised and persisted. 0: no check. */
  maxMapCount: number;
  /** The host must have `curl` (health checks, API calls, downloads). */
  curl: boolean;
}

/** Tools of the delivery platform. */
export type CicdTool = "GitLab" | "Jenkins" | "SonarQube" | "Harbor";

/**
 * Each tool's floor. GitLab: 4 GB (its documented minimum with swap); Harbor: 2 CPU, 4 GB, 40 GB
 * (its documented minimum); SonarQube: vm.max_map_count 262144 and 4 GB for the server, its
 * Elasticsearch and Postgres; Jenkins: a controller that also builds images needs 2 GB and room
 * for workspaces and images.
 */
export const TOOL_MINIMUMS: Record<CicdTool, HostRequirements> = {
  GitLab: { cpus: 2, memoryGiB: 4, diskGiB: 20, maxMapCount: 0, curl: true },
  Jenkins: { cpus: 1, memoryGiB: 2, diskGiB: 10, maxMapCount: 0, curl: true },
  SonarQube: { cpus: 2, memoryGiB: 4, diskGiB: 10, maxMapCount: 262144, curl: true },
  Harbor: { cpus: 2, memoryGiB: 4, diskGiB: 40, maxMapCount: 0, curl: true },
};

/** Inputs of {@link renderPreflightScript}. */
export interface PreflightOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Tool name, shown in every message. */
  tool: CicdTool;
  /** Where the tool keeps its data; free space is measured on the file system holding it. */
  dataDir: string;
  /** What the host must have. */
  requirements: HostRequirements;
}

/** File the raised `vm.max_map_count` is persisted in. */
export const MAX_MAP_COUNT_FILE = "99-pulumi-swarm-max-map-count.conf";

/**
 * Renders the preflight script: it measures memory, CPUs and free disk, checks Docker and the
 * compose command, raises and persists `vm.max_map_count` when asked, and fails with one message
 * that names the host, what it has and what it needs. Running it again changes nothing.
 *
 * Facts are read from `${PREFLIGHT_PROC:-/proc}` and the sysctl file goes to
 * `${PREFLIGHT_SYSCTL_DIR:-/etc/sysctl.d}`, so the script can be exercised against fake inputs.
 */
export function renderPreflightScript(options: PreflightOptions): string {
  const r = options.requirements;
  const memoryMiB = Math.round(r.memoryGiB * 1024);
  return `${prelude({ host: options.hostName, task: "preflight" })}
tool=${shq(options.tool)}
data_dir=${shq(options.dataDir)}
need_cpus=${r.cpus}
need_mem_mib=${memoryMiB}
need_mem_label=${shq(formatGiB(r.memoryGiB))}
need_disk_gib=${r.diskGiB}
need_map_count=${r.maxMapCount}
need_curl=${r.curl ? 1 : 0}
proc="\${PREFLIGHT_PROC:-/proc}"
sysctl_dir="\${PREFLIGHT_SYSCTL_DIR:-/etc/sysctl.d}"
problems=()

mem_kb=$(awk '/^MemTotal:/ {print $2; exit}' "$proc/meminfo" 2>/dev/null || true)
[ -n "$mem_kb" ] || fail "cannot read MemTotal from $proc/meminfo"
min_mem_kb=$((need_mem_mib * 1024 * 9 / 10))
if [ "$mem_kb" -lt "$min_mem_kb" ]; then
  has=$(awk -v kb="$mem_kb" 'BEGIN {printf "%.1f", kb / 1048576}')
  problems+=("memory: has $has GiB (MemTotal $mem_kb kB); needs $need_mem_label GiB (MemTotal of at least $min_mem_kb kB)")
fi

cpus=$(grep -c '^processor' "$proc/cpuinfo" 2>/dev/null || true)
if [ -z "$cpus" ] || [ "$cpus" -le 0 ]; then fail "cannot count CPUs in $proc/cpuinfo"; fi
if [ "$cpus" -lt "$need_cpus" ]; then
  problems+=("CPUs: has $cpus; needs $need_cpus")
fi

probe="$data_dir"
while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
free_kb=$(df -Pk "$probe" 2>/dev/null | awk 'NR == 2 {print $4}') || true
[ -n "$free_kb" ] || fail "cannot measure free disk space at $probe"
if [ "$free_kb" -lt $((need_disk_gib * 1048576)) ]; then
  has=$(awk -v kb="$free_kb" 'BEGIN {printf "%.1f", kb / 1048576}')
  problems+=("disk: has $has GiB free for $data_dir (measured at $probe); needs $need_disk_gib GiB free")
fi

if [ "$need_map_count" -gt 0 ]; then
  map_file="$proc/sys/vm/max_map_count"
  current=$(cat "$map_file" 2>/dev/null || echo 0)
  if [ "$current" -lt "$need_map_count" ]; then
    { printf '%s\\n' "$need_map_count" >"$map_file"; } 2>/dev/null || true
    current=$(cat "$map_file" 2>/dev/null || echo 0)
  fi
  if [ "$current" -lt "$need_map_count" ]; then
    problems+=("vm.max_map_count: has $current; needs at least $need_map_count and raising it failed (run 'sysctl -w vm.max_map_count=$need_map_count' as root; in a container, on its host)")
  else
    persist_file="$sysctl_dir/${MAX_MAP_COUNT_FILE}"
    persisted=$(awk -F= '/^[[:space:]]*vm\\.max_map_count[[:space:]]*=/ {gsub(/[[:space:]]/, "", $2); v = $2} END {print v}' "$persist_file" 2>/dev/null || true)
    if [ -z "$persisted" ] || [ "$persisted" -lt "$need_map_count" ]; then
      # Persist what is in force (it may be higher than needed) so a reboot never lowers it.
      if ! { mkdir -p "$sysctl_dir" && printf 'vm.max_map_count = %s\\n' "$current" >"$persist_file"; } 2>/dev/null; then
        problems+=("vm.max_map_count: is $current but could not be persisted in $persist_file")
      fi
    fi
  fi
fi

if ! command -v docker >/dev/null 2>&1; then
  problems+=("docker: not installed; needs Docker Engine (the SwarmCluster installs it, or install docker.io / docker-ce)")
elif ! docker info >/dev/null 2>&1; then
  problems+=("docker: installed but the daemon does not answer 'docker info'; needs a running dockerd")
elif ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  problems+=("compose: neither 'docker compose' nor 'docker-compose' is installed; needs one of them (docker-compose-plugin or Debian's docker-compose)")
fi

if [ "$need_curl" = 1 ] && ! command -v curl >/dev/null 2>&1; then
  problems+=("curl: not installed; needs curl for health checks (apt-get install curl)")
fi

if [ "\${#problems[@]}" -gt 0 ]; then
  {
    printf 'pulumi-swarm: host %s is not ready for %s:\\n' "$host_name" "$tool"
    for problem in "\${problems[@]}"; do printf '  - %s\\n' "$problem"; done
  } >&2
  exit 1
fi
printf 'pulumi-swarm: host %s is ready for %s: %s CPUs, MemTotal %s kB, %s kB free at %s\\n' "$host_name" "$tool" "$cpus" "$mem_kb" "$free_kb" "$probe"
`;
}

/** "4" for 4, "3.5" for 3.5. */
function formatGiB(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
