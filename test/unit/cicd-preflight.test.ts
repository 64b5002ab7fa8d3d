import * as fs from "fs";
import * as path from "path";
import {
  MAX_MAP_COUNT_FILE,
  TOOL_MINIMUMS,
  CicdTool,
  renderPreflightScript,
} from "../../components/cicd/scripts/preflight";
import { Sandbox, sandbox } from "./cicd-helpers";

const DOCKER_OK = `case "$1 $2" in
  "compose version") exit \${FAKE_COMPOSE_RC:-0} ;;
esac
[ "$1" = info ] && exit \${FAKE_INFO_RC:-0}
exit 0`;
const DF = `printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n'
printf '/dev/fake 1 1 %s 1%% /\\n' "$FAKE_DF_AVAIL"`;

interface Facts {
  memKb?: number;
  cpus?: number;
  diskKb?: number;
  mapCount?: number | "readonly";
}

describe("preflight script, run by bash against fake /proc and tools", () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  function setup(
    facts: Facts,
    fakes: Record<string, string> = { docker: DOCKER_OK, curl: "exit 0", df: DF },
  ) {
    sb = sandbox(fakes);
    sb.write("proc/meminfo", `MemTotal:       ${facts.memKb ?? 8_000_000} kB\nMemFree:        100 kB\n`);
    sb.write(
      "proc/cpuinfo",
      Array.from({ length: facts.cpus ?? 4 }, (_, i) => `processor\t: ${i}\nmodel name\t: fake\n\n`).join(""),
    );
    fs.mkdirSync(path.join(sb.dir, "proc/sys/vm"), { recursive: true });
    if (facts.mapCount === "readonly") {
      // A sysctl even root cannot write: the "could not raise it" case without touching the real one.
      fs.symlinkSync("/proc/sys/kernel/ngroups_max", path.join(sb.dir, "proc/sys/vm/max_map_count"));
    } else {
      sb.write("proc/sys/vm/max_map_count", `${facts.mapCount ?? 65530}\n`);
    }
    return {
      FAKE_DF_AVAIL: String(facts.diskKb ?? 200 * 1048576),
      PREFLIGHT_PROC: `${sb.dir}/proc`,
      PREFLIGHT_SYSCTL_DIR: `${sb.dir}/sysctl.d`,
    };
  }

  function run(tool: CicdTool, env: Record<string, string>, hostName = "ci-1") {
    const script = renderPreflightScript({
      hostName,
      tool,
      dataDir: `${sb.dir}/srv/${tool.toLowerCase()}`,
      requirements: TOOL_MINIMUMS[tool],
    });
    return sb.run(script, { env });
  }

  it("passes a host that has enough and says what it measured", () => {
    const env = setup({ memKb: 8_000_000, cpus: 4, diskKb: 100 * 1048576 });
    const result = run("GitLab", env);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `pulumi-swarm: host ci-1 is ready for GitLab: 4 CPUs, MemTotal 8000000 kB, ${100 * 1048576} kB free at ${sb.dir}\n`,
    );
  });

  it("accepts a 4 GiB VM (MemTotal a little under 4 GiB) for GitLab", () => {
    const env = setup({ memKb: 3_900_000 });
    expect(run("GitLab", env).status).toBe(0);
  });

  it("refuses GitLab on 2 GiB, naming the host, what it has and what it needs", () => {
    const env = setup({ memKb: 2_000_000 });
    const result = run("GitLab", env, "gitlab-vm");
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm: host gitlab-vm is not ready for GitLab:\n" +
        "  - memory: has 1.9 GiB (MemTotal 2000000 kB); needs 4 GiB (MemTotal of at least 3774873 kB)\n",
    );
  });

  it("refuses Harbor on 1 CPU and on 10 GiB of free disk, listing both", () => {
    const env = setup({ cpus: 1, diskKb: 10 * 1048576 });
    const result = run("Harbor", env, "harbor-vm");
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm: host harbor-vm is not ready for Harbor:\n" +
        "  - CPUs: has 1; needs 2\n" +
        `  - disk: has 10.0 GiB free for ${sb.dir}/srv/harbor (measured at ${sb.dir}); needs 40 GiB free\n`,
    );
  });

  it("raises vm.max_map_count for SonarQube and persists it in sysctl.d, idempotently", () => {
    const env = setup({ mapCount: 65530 });
    const first = run("SonarQube", env);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(sb.read("proc/sys/vm/max_map_count")).toBe("262144\n");
    expect(sb.read(`sysctl.d/${MAX_MAP_COUNT_FILE}`)).toBe("vm.max_map_count = 262144\n");
    const mtime = fs.statSync(path.join(sb.dir, "sysctl.d", MAX_MAP_COUNT_FILE)).mtimeMs;
    expect(run("SonarQube", env).status).toBe(0);
    expect(fs.statSync(path.join(sb.dir, "sysctl.d", MAX_MAP_COUNT_FILE)).mtimeMs).toBe(mtime);
  });

  it("persists a higher vm.max_map_count as it is, so a reboot never lowers it", () => {
    const env = setup({ mapCount: 1048576 });
    expect(run("SonarQube", env).status).toBe(0);
    expect(sb.read(`sysctl.d/${MAX_MAP_COUNT_FILE}`)).toBe("vm.max_map_count = 1048576\n");
  });

  it("fails SonarQube when vm.max_map_count cannot be raised", () => {
    const env = setup({ mapCount: "readonly" });
    const result = run("SonarQube", env, "sonar-vm");
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm: host sonar-vm is not ready for SonarQube:\n" +
        "  - vm.max_map_count: has 65536; needs at least 262144 and raising it failed (run 'sysctl -w vm.max_map_count=262144' as root; in a container, on its host)\n",
    );
  });

  it("fails SonarQube when the raised value cannot be persisted", () => {
    const env = setup({ mapCount: 65530 });
    sb.write("sysctl.d", "a file where the directory should be");
    const result = run("SonarQube", env, "sonar-vm");
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm: host sonar-vm is not ready for SonarQube:\n" +
        `  - vm.max_map_count: is 262144 but could not be persisted in ${sb.dir}/sysctl.d/${MAX_MAP_COUNT_FILE}\n`,
    );
  });

  it("does not touch vm.max_map_count for the other tools", () => {
    const env = setup({ mapCount: 65530 });
    expect(run("Jenkins", env).status).toBe(0);
    expect(sb.read("proc/sys/vm/max_map_count")).toBe("65530\n");
    expect(sb.exists("sysctl.d")).toBe(false);
  });

  it.each([
    [
      "docker missing",
      { curl: "exit 0", df: DF },
      {},
      "  - docker: not installed; needs Docker Engine (the SwarmCluster installs it, or install docker.io / docker-ce)\n",
    ],
    [
      "dockerd down",
      { docker: DOCKER_OK, curl: "exit 0", df: DF },
      { FAKE_INFO_RC: "1" },
      "  - docker: installed but the daemon does not answer 'docker info'; needs a running dockerd\n",
    ],
    [
      "no compose",
      { docker: DOCKER_OK, curl: "exit 0", df: DF },
      { FAKE_COMPOSE_RC: "1" },
      "  - compose: neither 'docker compose' nor 'docker-compose' is installed; needs one of them (docker-compose-plugin or Debian's docker-compose)\n",
    ],
    [
      "curl missing",
      { docker: DOCKER_OK, df: DF },
      {},
      "  - curl: not installed; needs curl for health checks (apt-get install curl)\n",
    ],
  ])("fails when %s", (_label, fakes, extraEnv, line) => {
    const env = setup({}, fakes as Record<string, string>);
    const result = run("Jenkins", { ...env, ...extraEnv }, "jenkins-vm");
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`pulumi-swarm: host jenkins-vm is not ready for Jenkins:\n${line}`);
  });

  it("accepts Debian's docker-compose when the compose plugin is missing", () => {
    const env = setup({}, { docker: DOCKER_OK, "docker-compose": "exit 0", curl: "exit 0", df: DF });
    expect(run("Jenkins", { ...env, FAKE_COMPOSE_RC: "1" }).status).toBe(0);
  });

  it("uses raised requirements in its messages", () => {
    const env = setup({ memKb: 8_000_000 });
    const script = renderPreflightScript({
      hostName: "big",
      tool: "GitLab",
      dataDir: `${sb.dir}/srv/gitlab`,
      requirements: { ...TOOL_MINIMUMS.GitLab, memoryGiB: 16 },
    });
    const result = sb.run(script, { env });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm: host big is not ready for GitLab:\n" +
        "  - memory: has 7.6 GiB (MemTotal 8000000 kB); needs 16 GiB (MemTotal of at least 15099494 kB)\n",
    );
  });
});
