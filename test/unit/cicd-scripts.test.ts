import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderDeployScript, renderRemoveScript } from "../../components/cicd/scripts/deploy";
import { renderHarborInstallScript, renderHarborRemoveScript } from "../../components/cicd/scripts/harbor";
import {
  deployKeyMarker,
  jenkinsPreUp,
  renderJenkinsPasswordScript,
} from "../../components/cicd/scripts/jenkins";
import {
  renderAuthorizeGateScript,
  renderDeployGate,
  renderRevokeGateScript,
} from "../../components/cicd/scripts/deployGate";
import { renderTrustScript, renderUntrustScript } from "../../components/cicd/registryTrust";
import { asRemoteCommand, renderBundle, renderEnvFile, shq } from "../../components/shell";
import {
  renderSonarQubePasswordCurlConfig,
  renderSonarQubePasswordScript,
  renderSonarQubeValidateCurlConfig,
} from "../../components/cicd/scripts/sonarqube";
import { Sandbox, sandbox } from "./cicd-helpers";

/** A docker whose compose subcommand logs its arguments to $FAKE_LOG. */
const FAKE_DOCKER = `if [ "$1" = compose ]; then
  shift
  [ "$1" = version ] && exit 0
  printf 'compose %s\\n' "$*" >>"$FAKE_LOG"
  exit \${FAKE_UP_RC:-0}
fi
exit 0`;
/** A curl that answers health probes with $FAKE_STATUS and $FAKE_BODY, and logs every call. */
const FAKE_CURL = `printf 'curl %s\\n' "$*" >>"$FAKE_LOG"
out=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out="$2"; shift ;; esac
  shift
done
[ -n "$out" ] && printf '%s' "\${FAKE_BODY:-}" >"$out"
printf '%s' "\${FAKE_STATUS:-200}"`;

describe("shell helpers", () => {
  it("quotes any string as one shell word", () => {
    const nasty = `it's "$HOME" \`id\` $(id)\n`;
    expect(execFileSync("bash", ["-c", `printf '%s' ${shq(nasty)}`], { encoding: "utf8" })).toBe(nasty);
  });

  it("renders a bundle of base64 lines and refuses odd names", () => {
    expect(renderBundle([{ name: "a.env", content: "K=v\n" }])).toBe(
      `a.env ${Buffer.from("K=v\n").toString("base64")}\n`,
    );
    expect(() => renderBundle([{ name: "../x", content: "" }])).toThrow(
      'bundle file name "../x" is not a plain file name',
    );
    expect(() => renderBundle([{ name: ".env", content: "" }])).toThrow(
      'bundle file name ".env" is not a plain file name',
    );
    expect(() =>
      renderBundle([
        { name: "a", content: "" },
        { name: "a", content: "" },
      ]),
    ).toThrow("bundle file a appears twice");
  });

  it("renders env files and refuses values it cannot write literally, without printing them", () => {
    expect(renderEnvFile({ A: "x-y_z.1", B_2: "p@ss:w0rd/+=" })).toBe("A=x-y_z.1\nB_2=p@ss:w0rd/+=\n");
    expect(() => renderEnvFile({ A: "has$dollar" })).toThrow(
      "env value of A uses characters outside A-Z a-z 0-9 - _ . ~ ! @ % ^ * + = : , /",
    );
    expect(() => renderEnvFile({ A: "has$dollar" })).not.toThrow(/dollar/);
    expect(() => renderEnvFile({ "1A": "x" })).toThrow('env key "1A" is not a variable name');
  });

  it("wraps scripts for root (directly as root, else sudo -n) and for the login user", () => {
    const wrapped = asRemoteCommand("echo hi", { root: true });
    expect(wrapped).toBe(
      "PULUMI_SWARM_SCRIPT='exec 3<&0\necho hi'\n" +
        'if [ "$(id -u)" = 0 ]; then exec bash -c "$PULUMI_SWARM_SCRIPT"; else exec sudo -n bash -c "$PULUMI_SWARM_SCRIPT"; fi',
    );
    expect(asRemoteCommand("echo 'x'")).toBe(
      `PULUMI_SWARM_SCRIPT='exec 3<&0\necho '\\''x'\\'''\nexec bash -c "$PULUMI_SWARM_SCRIPT"`,
    );
    const read = "read -r l <&3; echo got $l";
    expect(execFileSync("sh", ["-c", asRemoteCommand(read)], { input: "line\n", encoding: "utf8" })).toBe(
      "got line\n",
    );
    if (process.getuid?.() === 0) {
      expect(
        execFileSync("sh", ["-c", asRemoteCommand(read, { root: true })], {
          input: "line\n",
          encoding: "utf8",
        }),
      ).toBe("got line\n");
    }
  });
});

describe("compose deploy and remove scripts, run by bash with a fake docker and curl", () => {
  let sb: Sandbox;
  let log: string;
  beforeEach(() => {
    sb = sandbox({ docker: FAKE_DOCKER, curl: FAKE_CURL });
    log = path.join(sb.dir, "log");
  });
  afterEach(() => sb.cleanup());

  const options = (dir: string, timeoutSeconds = 30) => ({
    hostName: "ci-1",
    tool: "GitLab",
    project: "gitlab",
    configDir: `${dir}/srv/deploy`,
    files: ["compose.yaml", "gitlab.env"],
    dataDirs: [{ path: `${dir}/srv/data` }, { path: `${dir}/srv/home`, owner: 1000 }],
    health: { url: "http://127.0.0.1:9999/users/sign_in", timeoutSeconds },
  });
  const bundle = renderBundle([
    { name: "compose.yaml", content: "services: {}\n" },
    { name: "gitlab.env", content: "GITLAB_ROOT_PASSWORD=s3cret-Pass\n" },
  ]);

  it("writes the files 0600 in a 0700 directory, creates data dirs, brings the project up and waits", () => {
    const result = sb.run(renderDeployScript(options(sb.dir)), { input: bundle, env: { FAKE_LOG: log } });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      "pulumi-swarm: GitLab answers on http://127.0.0.1:9999/users/sign_in on host ci-1\n",
    );
    expect(sb.read("srv/deploy/gitlab.env")).toBe("GITLAB_ROOT_PASSWORD=s3cret-Pass\n");
    expect(fs.statSync(path.join(sb.dir, "srv/deploy")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(sb.dir, "srv/deploy/gitlab.env")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(sb.dir, "srv/data")).mode & 0o777).toBe(0o755);
    if (process.getuid?.() === 0) expect(fs.statSync(path.join(sb.dir, "srv/home")).uid).toBe(1000);
    const calls = fs.readFileSync(log, "utf8").split("\n");
    expect(calls[0]).toBe("compose -p gitlab -f compose.yaml up -d --remove-orphans");
    expect(calls[1]).toMatch(
      /^curl -ksS -o \S+ -w %\{http_code\} --max-time 10 http:\/\/127\.0\.0\.1:9999\/users\/sign_in$/,
    );
  });

  it("leaves unchanged files untouched on a second run", () => {
    const script = renderDeployScript(options(sb.dir));
    expect(sb.run(script, { input: bundle, env: { FAKE_LOG: log } }).status).toBe(0);
    const file = path.join(sb.dir, "srv/deploy/compose.yaml");
    fs.utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    expect(sb.run(script, { input: bundle, env: { FAKE_LOG: log } }).status).toBe(0);
    expect(fs.statSync(file).mtimeMs).toBe(1_000_000);
  });

  it("refuses standard input that lacks a file or carries an unexpected one", () => {
    const script = renderDeployScript(options(sb.dir));
    const missing = sb.run(script, {
      input: renderBundle([{ name: "compose.yaml", content: "x" }]),
      env: { FAKE_LOG: log },
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      "pulumi-swarm[ci-1]: ERROR: deploying GitLab: standard input did not carry gitlab.env (expected: compose.yaml gitlab.env)\n",
    );
    const extra = sb.run(script, {
      input: renderBundle([{ name: "evil.sh", content: "x" }]),
      env: { FAKE_LOG: log },
    });
    expect(extra.stderr).toBe(
      "pulumi-swarm[ci-1]: ERROR: deploying GitLab: standard input carried an unexpected file 'evil.sh' (expected: compose.yaml gitlab.env)\n",
    );
  });

  it("fails with a clear error when compose up fails", () => {
    const result = sb.run(renderDeployScript(options(sb.dir)), {
      input: bundle,
      env: { FAKE_LOG: log, FAKE_UP_RC: "1" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `pulumi-swarm[ci-1]: ERROR: deploying GitLab: 'compose up' of project gitlab in ${sb.dir}/srv/deploy failed (its output is above)\n`,
    );
  });

  it("times out with the tool, URL and last status, after listing the containers", () => {
    const result = sb.run(renderDeployScript(options(sb.dir, 0)), {
      input: bundle,
      env: { FAKE_LOG: log, FAKE_STATUS: "502" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm[ci-1]: ERROR: deploying GitLab: GitLab did not answer on http://127.0.0.1:9999/users/sign_in within 0 s (last HTTP status 502); look at its containers' state above and their logs\n",
    );
    expect(fs.readFileSync(log, "utf8")).toContain("compose -p gitlab -f compose.yaml ps\n");
  });

  it("requires the body pattern when one is given", () => {
    const script = renderDeployScript({
      ...options(sb.dir, 0),
      health: {
        url: "http://127.0.0.1:9000/api/system/status",
        expect: '"status": ?"UP"',
        timeoutSeconds: 0,
      },
    });
    const starting = sb.run(script, {
      input: bundle,
      env: { FAKE_LOG: log, FAKE_BODY: '{"status":"STARTING"}' },
    });
    expect(starting.status).toBe(1);
    const up = sb.run(script, { input: bundle, env: { FAKE_LOG: log, FAKE_BODY: '{"status":"UP"}' } });
    expect(up.status).toBe(0);
  });

  it("removes with compose down, keeps data and drops the config directory with its secrets", () => {
    expect(
      sb.run(renderDeployScript(options(sb.dir)), { input: bundle, env: { FAKE_LOG: log } }).status,
    ).toBe(0);
    const remove = renderRemoveScript({
      hostName: "ci-1",
      tool: "GitLab",
      project: "gitlab",
      configDir: `${sb.dir}/srv/deploy`,
    });
    const result = sb.run(remove, { env: { FAKE_LOG: log } });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      "pulumi-swarm: GitLab removed from host ci-1; its data directories were kept\n",
    );
    expect(fs.readFileSync(log, "utf8")).toContain(
      "compose -p gitlab -f compose.yaml down --remove-orphans\n",
    );
    expect(sb.exists("srv/deploy")).toBe(false);
    expect(sb.exists("srv/data")).toBe(true);
    const again = sb.run(remove, { env: { FAKE_LOG: log } });
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(
      `pulumi-swarm: GitLab is not deployed in ${sb.dir}/srv/deploy on host ci-1; nothing to remove\n`,
    );
  });
});

describe("Jenkins host scripts", () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  it("pre-up writes DOCKER_GID from the socket's group, installs the key, and refuses a root-group socket", async () => {
    sb = sandbox({ stat: 'echo "${FAKE_GID:-998}"' });
    sb.write("cfg/id_ed25519", "PRIVATE\n");
    sb.write("cfg/id_ed25519.pub", "ssh-ed25519 AAAA marker\n");
    const socket = path.join(sb.dir, "docker.sock");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const script = (sock: string) =>
        `fail() { echo "FAIL: $*" >&2; exit 1; }\ncd ${shq(`${sb.dir}/cfg`)}\n${jenkinsPreUp(`${sb.dir}/srv`, sock)}`;
      const ok = sb.run(script(socket));
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
      expect(sb.read("cfg/.env")).toBe("DOCKER_GID=998\n");
      expect(sb.read("srv/home/.ssh/id_ed25519")).toBe("PRIVATE\n");
      expect(fs.statSync(path.join(sb.dir, "srv/home/.ssh/id_ed25519")).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(sb.dir, "srv/home/.ssh")).mode & 0o777).toBe(0o700);
      const root = sb.run(script(socket), { env: { FAKE_GID: "0" } });
      expect(root.status).toBe(1);
      expect(root.stderr).toBe(
        `FAIL: ${socket} belongs to group root (gid 0); give it a docker group (groupadd docker && chgrp docker ${socket}, as Docker's packages do) so Jenkins can join that group instead\n`,
      );
      const none = sb.run(script(`${sb.dir}/cfg/id_ed25519`));
      expect(none.stderr).toBe(
        `FAIL: ${sb.dir}/cfg/id_ed25519 is not a socket; Jenkins needs the host's Docker socket\n`,
      );
    } finally {
      server.close();
    }
  });

  it("prints the initial admin password without a newline, or nothing once the wizard is done", () => {
    sb = sandbox();
    const script = renderJenkinsPasswordScript("jenkins-1", `${sb.dir}/srv`, 0);
    sb.write("srv/home/secrets/initialAdminPassword", "abc123\n");
    expect(sb.run(script)).toEqual({ status: 0, stdout: "abc123", stderr: "" });
    fs.rmSync(path.join(sb.dir, "srv/home/secrets"), { recursive: true });
    sb.write("srv/home/config.xml", "<hudson><installStateName>RUNNING</installStateName></hudson>");
    expect(sb.run(script)).toEqual({ status: 0, stdout: "", stderr: "" });
    fs.rmSync(path.join(sb.dir, "srv/home/config.xml"));
    expect(sb.run(script).stderr).toBe(
      `pulumi-swarm[jenkins-1]: ERROR: reading the Jenkins initial admin password: ${sb.dir}/srv/home/secrets/initialAdminPassword did not appear within 0 s\n`,
    );
  });

  it("authorizes the deploy key once behind the gate, with restrict and a marker, and revokes exactly that line", () => {
    sb = sandbox();
    const marker = deployKeyMarker("ci/jenkins");
    expect(marker).toBe("pulumi-swarm-jenkins-ci-jenkins");
    sb.write("home/.ssh/authorized_keys", "ssh-ed25519 OTHER admin@laptop\n");
    const targets = [{ service: "web", repository: "10.0.0.13/team/web" }];
    const authorize = renderAuthorizeGateScript("mgr-1", marker, targets);
    const key = "ssh-ed25519 AAAAC3Nza jenkins\n";
    const gate = `${sb.dir}/home/.pulumi-swarm/deploy-gate-${marker}`;
    expect(sb.run(authorize, { input: key })).toEqual({
      status: 0,
      stdout: `pulumi-swarm: deploy key ${marker} authorized on host mgr-1, restricted to ${gate}\n`,
      stderr: "",
    });
    expect(sb.run(authorize, { input: key })).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(sb.read("home/.ssh/authorized_keys")).toBe(
      `ssh-ed25519 OTHER admin@laptop\nrestrict,command="${gate}" ssh-ed25519 AAAAC3Nza ${marker}\n`,
    );
    expect(sb.read(`home/.pulumi-swarm/deploy-gate-${marker}`)).toBe(renderDeployGate(marker, targets));
    expect(fs.statSync(gate).mode & 0o777).toBe(0o700);
    expect(sb.run(authorize, { input: "ssh-ed25519 NEWKEY x\n" }).status).toBe(0);
    expect(sb.read("home/.ssh/authorized_keys")).toBe(
      `ssh-ed25519 OTHER admin@laptop\nrestrict,command="${gate}" ssh-ed25519 NEWKEY ${marker}\n`,
    );
    const bad = sb.run(authorize, { input: "rm -rf /\n" });
    expect(bad.stderr).toBe(
      "pulumi-swarm[mgr-1]: ERROR: authorizing the restricted deploy key: standard input is not an OpenSSH public key\n",
    );
    expect(sb.run(renderRevokeGateScript("mgr-1", marker)).status).toBe(0);
    expect(sb.read("home/.ssh/authorized_keys")).toBe("ssh-ed25519 OTHER admin@laptop\n");
    expect(sb.exists(`home/.pulumi-swarm/deploy-gate-${marker}`)).toBe(false);
    expect(sb.run(renderRevokeGateScript("mgr-1", marker)).status).toBe(0);
  });
});

describe("registry trust scripts", () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

  it("installs the CA under certs.d/<registry>/ca.crt idempotently and removes it", () => {
    sb = sandbox();
    const certs = `${sb.dir}/etc/docker/certs.d`;
    const trust = renderTrustScript("node-1", "10.0.1.5:8443", certs);
    const first = sb.run(trust, { input: pem });
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe(`pulumi-swarm: installed ${certs}/10.0.1.5:8443/ca.crt on host node-1\n`);
    expect(sb.read("etc/docker/certs.d/10.0.1.5:8443/ca.crt")).toBe(pem);
    expect(fs.statSync(`${certs}/10.0.1.5:8443/ca.crt`).mode & 0o777).toBe(0o644);
    expect(sb.run(trust, { input: pem }).stdout).toBe("");
    const bad = sb.run(trust, { input: "not a cert" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(
      "pulumi-swarm[node-1]: ERROR: trusting the CA of registry 10.0.1.5:8443: standard input is not a PEM certificate\n",
    );
    expect(sb.run(renderUntrustScript("node-1", "10.0.1.5:8443", certs)).status).toBe(0);
    expect(sb.exists("etc/docker/certs.d/10.0.1.5:8443")).toBe(false);
  });

  it("refuses a registry name that is not host[:port]", () => {
    expect(() => renderTrustScript("n", "10.0.1.5:8443/evil")).toThrow(
      'registry: received "10.0.1.5:8443/evil". Use the registry as image references name it: "host" or "host:port", e.g. "10.0.1.5:443".',
    );
  });
});

describe("SonarQube admin password script", () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());
  const curl = (validBody: string, changeStatus: string) => `printf 'curl %s\\n' "$*" >>"$FAKE_LOG"
conf=""; prev=""
for a in "$@"; do [ "$prev" = -K ] && conf="$a"; prev="$a"; done
cp "$conf" "$FAKE_DIR/seen-$(basename "$conf")"
case "$*" in
  *change_password*) printf '%s' '${changeStatus}' ;;
  *) printf '%s' '${validBody}' ;;
esac`;
  const stdin = renderBundle([
    { name: "validate.conf", content: renderSonarQubeValidateCurlConfig("N3w-Passw0rd.x") },
    { name: "change.conf", content: renderSonarQubePasswordCurlConfig("N3w-Passw0rd.x") },
  ]);

  it("changes the default password through curl configs, never the command line", () => {
    sb = sandbox({ curl: curl('{"valid":false}', "204") });
    const result = sb.run(renderSonarQubePasswordScript("sonar-1", 9000), {
      input: stdin,
      env: { FAKE_LOG: `${sb.dir}/log`, FAKE_DIR: sb.dir },
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("pulumi-swarm: the SonarQube admin password was changed from the default\n");
    const log = sb.read("log");
    expect(log).not.toContain("N3w-Passw0rd.x");
    expect(log).toContain("-X POST http://127.0.0.1:9000/api/users/change_password");
    expect(sb.read("seen-change.conf")).toBe(
      'user = "admin:admin"\ndata-urlencode = "login=admin"\ndata-urlencode = "previousPassword=admin"\ndata-urlencode = "password=N3w-Passw0rd.x"\n',
    );
    expect(sb.read("seen-validate.conf")).toBe('user = "admin:N3w-Passw0rd.x"\n');
  });

  it("does nothing when the password already works, and fails clearly when neither works", () => {
    sb = sandbox({ curl: curl('{"valid":true}', "204") });
    const env = { FAKE_LOG: `${sb.dir}/log`, FAKE_DIR: sb.dir };
    expect(sb.run(renderSonarQubePasswordScript("sonar-1", 9000), { input: stdin, env }).stdout).toBe(
      "pulumi-swarm: the SonarQube admin password is already set\n",
    );
    fs.writeFileSync(path.join(sb.bin, "curl"), `#!/bin/bash\n${curl('{"valid":false}', "401")}\n`, {
      mode: 0o755,
    });
    const result = sb.run(renderSonarQubePasswordScript("sonar-1", 9000), { input: stdin, env });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "pulumi-swarm[sonar-1]: ERROR: setting the SonarQube admin password: the admin password is neither the default nor the configured one (was it changed by hand?); set adminPassword to the current one\n",
    );
  });
});

describe("Harbor install script, run by bash with a fake installer", () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  function fakeInstaller(): string {
    const src = path.join(sb.dir, "src");
    fs.mkdirSync(path.join(src, "harbor"), { recursive: true });
    fs.writeFileSync(
      path.join(src, "harbor/install.sh"),
      `#!/bin/bash\necho "install.sh $*" >>"$FAKE_LOG"\necho 'services: {}' >docker-compose.yml\n`,
      { mode: 0o755 },
    );
    const tgz = path.join(sb.dir, "installer.tgz");
    execFileSync("tar", ["-czf", tgz, "-C", src, "harbor"]);
    return tgz;
  }

  it("downloads once, installs once per configuration, restarts with up -d otherwise, then waits for health", () => {
    sb = sandbox({
      docker: FAKE_DOCKER,
      curl: `printf 'curl %s\\n' "$*" >>"$FAKE_LOG"
out=""; prev=""
for a in "$@"; do [ "$prev" = -o ] && out="$a"; prev="$a"; done
case "$*" in
  *-w*) printf '{"status":"healthy"}' >"$out"; printf 200 ;;
  *) cp "$FAKE_TGZ" "$out" ;;
esac`,
    });
    const tgz = fakeInstaller();
    const base = `${sb.dir}/srv/harbor`;
    const script = renderHarborInstallScript({
      hostName: "harbor-1",
      baseDir: base,
      version: "v2.15.2",
      kind: "online",
      installerUrl: "https://example.invalid/harbor.tgz",
      installerSha256: execFileSync("sha256sum", [tgz], { encoding: "utf8" }).split(" ")[0],
      withTrivy: true,
      tls: true,
      health: {
        url: "https://127.0.0.1:443/api/v2.0/health",
        expect: '"status": ?"healthy"',
        timeoutSeconds: 5,
      },
    });
    const input = renderBundle([
      { name: "harbor.yml", content: "hostname: x\n" },
      { name: "tls.crt", content: "CERT\n" },
      { name: "tls.key", content: "KEY\n" },
    ]);
    const env = { FAKE_LOG: `${sb.dir}/log`, FAKE_TGZ: tgz };
    const first = sb.run(script, { input, env });
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(sb.read(`srv/harbor/installer/v2.15.2/harbor/harbor.yml`)).toBe("hostname: x\n");
    const second = sb.run(script, { input, env });
    expect(second.status).toBe(0);
    const calls = sb
      .read("log")
      .trim()
      .split("\n")
      .map((line) => line.replace(/-o \S+/, "-o FILE"));
    expect(calls).toEqual([
      "curl -fsSL --proto =https --proto-redir =https --retry 3 --max-time 3600 -o FILE https://example.invalid/harbor.tgz",
      "install.sh --with-trivy",
      "curl -ksS -o FILE -w %{http_code} --max-time 10 https://127.0.0.1:443/api/v2.0/health",
      "compose -f docker-compose.yml up -d",
      "curl -ksS -o FILE -w %{http_code} --max-time 10 https://127.0.0.1:443/api/v2.0/health",
    ]);
    const changed = renderBundle([
      { name: "harbor.yml", content: "hostname: y\n" },
      { name: "tls.crt", content: "CERT\n" },
      { name: "tls.key", content: "KEY\n" },
    ]);
    expect(sb.run(script, { input: changed, env }).status).toBe(0);
    expect(sb.read("log")).toMatch(/install\.sh --with-trivy\n[^\n]*\n$/);

    const remove = sb.run(
      renderHarborRemoveScript({ hostName: "harbor-1", baseDir: base, version: "v2.15.2" }),
      { env },
    );
    expect(remove.status).toBe(0);
    expect(sb.read("log")).toContain("compose -f docker-compose.yml down --remove-orphans\n");
    expect(sb.exists("srv/harbor/deploy")).toBe(false);
    expect(sb.exists("srv/harbor/installer")).toBe(false);
    expect(sb.exists("srv/harbor/data")).toBe(true);
  });

  it("refuses an installer whose checksum does not match, and deletes it", () => {
    sb = sandbox({
      docker: FAKE_DOCKER,
      curl: `out=""; prev=""; for a in "$@"; do [ "$prev" = -o ] && out="$a"; prev="$a"; done; echo tampered >"$out"`,
    });
    const base = `${sb.dir}/srv/harbor`;
    const script = renderHarborInstallScript({
      hostName: "harbor-1",
      baseDir: base,
      version: "v2.15.2",
      kind: "offline",
      installerUrl: "https://example.invalid/h.tgz",
      installerSha256: "0".repeat(64),
      withTrivy: false,
      tls: false,
      health: { url: "http://127.0.0.1:80/api/v2.0/health", timeoutSeconds: 5 },
    });
    const result = sb.run(script, { input: renderBundle([{ name: "harbor.yml", content: "x\n" }]) });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `pulumi-swarm[harbor-1]: ERROR: installing Harbor: ${base}/installer/harbor-offline-installer-v2.15.2.tgz does not match installerSha256; it was deleted\n`,
    );
    expect(sb.exists("srv/harbor/installer/harbor-offline-installer-v2.15.2.tgz")).toBe(false);
  });
});
