import { DETECT_COMPOSE, prelude, receiveBundleSnippet, shq } from "../../shell";
import { HealthCheck, waitHealthSnippet } from "./deploy";
import { renderYaml } from "../yaml";

/**
 * Harbor is deployed the way its maintainers ship it: the release's installer tarball is
 * downloaded on the host, harbor.yml is rendered from typed arguments, and the installer's own
 * `install.sh` (which runs `prepare` to generate every component's config and compose file) brings
 * it up. Re-implementing `prepare` as our own compose file would drift from Harbor's releases.
 */

/** Installer flavours Harbor publishes: "online" pulls goharbor/* images, "offline" carries them (~700 MB). */
export type HarborInstallerKind = "online" | "offline";

/** Download URL of a Harbor release's installer on GitHub. */
export function harborInstallerUrl(version: string, kind: HarborInstallerKind): string {
  return `https://github.com/goharbor/harbor/releases/download/${version}/harbor-${kind}-installer-${version}.tgz`;
}

/** Where Harbor keeps things under its base directory. */
export function harborPaths(baseDir: string): {
  configDir: string;
  installerDir: string;
  dataVolume: string;
  logDir: string;
} {
  return {
    configDir: `${baseDir}/deploy`,
    installerDir: `${baseDir}/installer`,
    dataVolume: `${baseDir}/data`,
    logDir: `${baseDir}/log`,
  };
}

/** Inputs of {@link renderHarborYml}. */
export interface HarborYmlOptions {
  /** Address clients and swarm nodes use (IPv4 or DNS name); never loopback. */
  hostname: string;
  /** HTTP port (redirects to HTTPS when TLS is on). */
  httpPort: number;
  /** HTTPS settings; omitted for plain HTTP. */
  https?: { port: number; certificate: string; privateKey: string };
  /** Initial admin password (Harbor reads it on first start only). */
  adminPassword: string;
  /** Password of Harbor's internal Postgres. */
  databasePassword: string;
  /** Harbor's data directory on the host. */
  dataVolume: string;
  /** Directory of Harbor's log files on the host. */
  logDir: string;
  /** Harbor release, e.g. "v2.15.2"; sets the file's `_version` ("2.15.0"). */
  version: string;
}

/** The harbor.yml of Harbor's installer, with its template's defaults for everything not given. */
export function renderHarborYml(options: HarborYmlOptions): string {
  const match = /^v(\d+)\.(\d+)\.\d+$/.exec(options.version);
  if (!match) throw new Error(`Harbor version ${options.version} is not like v2.15.2`);
  return renderYaml({
    hostname: options.hostname,
    http: { port: options.httpPort },
    ...(options.https
      ? {
          https: {
            port: options.https.port,
            certificate: options.https.certificate,
            private_key: options.https.privateKey,
          },
        }
      : {}),
    harbor_admin_password: options.adminPassword,
    database: {
      password: options.databasePassword,
      max_idle_conns: 100,
      max_open_conns: 900,
      conn_max_lifetime: "5m",
      conn_max_idle_time: 0,
    },
    data_volume: options.dataVolume,
    trivy: {
      ignore_unfixed: false,
      skip_update: false,
      skip_java_db_update: false,
      offline_scan: false,
      security_check: "vuln",
      insecure: false,
      timeout: "5m0s",
    },
    jobservice: {
      max_job_workers: 10,
      job_loggers: ["STD_OUTPUT", "FILE"],
      logger_sweeper_duration: 1,
    },
    notification: { webhook_job_max_retry: 3, webhook_job_http_client_timeout: 3 },
    log: {
      level: "info",
      local: { rotate_count: 50, rotate_size: "200M", location: options.logDir },
    },
    _version: `${match[1]}.${match[2]}.0`,
    proxy: {
      http_proxy: null,
      https_proxy: null,
      no_proxy: null,
      components: ["core", "jobservice", "trivy"],
    },
    upload_purging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
    cache: { enabled: false, expire_hours: 24 },
  });
}

/** Inputs of {@link renderHarborInstallScript}. */
export interface HarborInstallOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Base directory (see {@link harborPaths}). */
  baseDir: string;
  /** Harbor release, e.g. "v2.15.2". */
  version: string;
  /** Installer flavour. */
  kind: HarborInstallerKind;
  /** Where to download the installer from. */
  installerUrl: string;
  /** Expected SHA-256 of the installer tarball (64 hex digits); required. */
  installerSha256: string;
  /** Install Trivy (`install.sh --with-trivy`). */
  withTrivy: boolean;
  /** Whether TLS files (tls.crt, tls.key) come on standard input with harbor.yml. */
  tls: boolean;
  /** Health endpoint to wait for. */
  health: HealthCheck;
}

/**
 * Renders Harbor's install script: receives harbor.yml (and the TLS files) on standard input,
 * downloads and unpacks the installer once, and runs `install.sh` only when the configuration or
 * version changed since the last run (it restarts Harbor); otherwise `up -d` starts anything
 * stopped. Then waits for /api/v2.0/health.
 */
export function renderHarborInstallScript(options: HarborInstallOptions): string {
  const paths = harborPaths(options.baseDir);
  const files = options.tls ? ["harbor.yml", "tls.crt", "tls.key"] : ["harbor.yml"];
  if (!/^https:\/\//.test(options.installerUrl)) throw new Error("installerUrl must be an https:// URL");
  if (!/^[0-9a-f]{64}$/.test(options.installerSha256))
    throw new Error("installerSha256 must be 64 hex digits");
  return `${prelude({ host: options.hostName, task: "installing Harbor" })}
version=${shq(options.version)}
kind=${shq(options.kind)}
installer_url=${shq(options.installerUrl)}
installer_sha256=${shq(options.installerSha256)}
install_flags=${shq(options.withTrivy ? "--with-trivy" : "")}
config_dir=${shq(paths.configDir)}
installer_dir=${shq(paths.installerDir)}
${DETECT_COMPOSE}
command -v curl >/dev/null 2>&1 || fail "curl is not installed; it downloads the Harbor installer"
umask 022
install -d -m 0755 ${shq(paths.dataVolume)} ${shq(paths.logDir)}
${receiveBundleSnippet("config_dir", files)}
install -d -m 0700 "$installer_dir"
tarball="$installer_dir/harbor-$kind-installer-$version.tgz"
if [ ! -s "$tarball" ]; then
  curl -fsSL --proto =https --proto-redir =https --retry 3 --max-time 3600 -o "$tarball.part" "$installer_url" || fail "could not download the Harbor installer from $installer_url over https (the host must reach it; set installerUrl to a mirror you host)"
  mv -f "$tarball.part" "$tarball"
fi
# Checked on every run, before anything in the tarball is unpacked or run as root.
printf '%s  %s\\n' "$installer_sha256" "$tarball" | sha256sum -c --status || { rm -f "$tarball"; fail "$tarball does not match installerSha256; it was deleted"; }
release_dir="$installer_dir/$version"
if [ ! -x "$release_dir/harbor/install.sh" ]; then
  rm -rf "$release_dir.tmp"
  mkdir -p "$release_dir.tmp"
  tar -xzf "$tarball" -C "$release_dir.tmp" || fail "could not unpack $tarball"
  [ -x "$release_dir.tmp/harbor/install.sh" ] || fail "$tarball has no harbor/install.sh"
  rm -rf "$release_dir"
  mv "$release_dir.tmp" "$release_dir"
fi
harbor_dir="$release_dir/harbor"
install -m 0600 "$config_dir/harbor.yml" "$harbor_dir/harbor.yml"
stamp=$( { printf '%s %s\\n' "$version" "$install_flags"; cat ${files.map((f) => `"$config_dir/${f}"`).join(" ")}; } | sha256sum | cut -d' ' -f1)
cd "$harbor_dir"
if [ "$(cat "$config_dir/installed" 2>/dev/null || true)" = "$stamp" ] && [ -f docker-compose.yml ]; then
  compose -f docker-compose.yml up -d >&2 || fail "'compose up' in $harbor_dir failed (its output is above)"
else
  # shellcheck disable=SC2086
  ./install.sh $install_flags >&2 || fail "Harbor's install.sh failed in $harbor_dir (its output is above)"
  printf '%s\\n' "$stamp" >"$config_dir/installed"
fi
${waitHealthSnippet("Harbor", options.health, "compose -f docker-compose.yml ps")}
`;
}

/** Inputs of {@link renderHarborRemoveScript}. */
export interface HarborRemoveOptions {
  /** Host name, shown in every message. */
  hostName: string;
  /** Base directory (see {@link harborPaths}). */
  baseDir: string;
  /** Harbor release that was installed. */
  version: string;
}

/**
 * Renders Harbor's delete script: `down` of the installer's compose project, then removal of the
 * installer, the generated configs and harbor.yml (they hold secrets); data/ and log/ stay.
 */
export function renderHarborRemoveScript(options: HarborRemoveOptions): string {
  const paths = harborPaths(options.baseDir);
  return `${prelude({ host: options.hostName, task: "removing Harbor" })}
config_dir=${shq(paths.configDir)}
installer_dir=${shq(paths.installerDir)}
harbor_dir="$installer_dir"/${shq(options.version)}/harbor
if [ -f "$harbor_dir/docker-compose.yml" ]; then
${DETECT_COMPOSE.replace(/^/gm, "  ")}
  (cd "$harbor_dir" && compose -f docker-compose.yml down --remove-orphans) >&2 || fail "'compose down' in $harbor_dir failed (its output is above)"
fi
rm -rf -- "$config_dir" "$installer_dir"
printf 'pulumi-swarm: Harbor removed from host %s; its data and log directories were kept\\n' "$host_name"
`;
}
