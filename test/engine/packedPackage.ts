/**
 * The package as users install it: `npm pack` of this repository (its `prepack` builds bin/), and
 * an empty Pulumi TypeScript project with the tarball installed in node_modules, as npm installs a
 * tarball dependency (its `package/` directory extracted under the package's name).
 *
 * Offline, npm cannot resolve the package's dependencies for a new project (`npm install --offline`
 * fails with ENOTCACHED: the cache holds tarballs, not the registry's metadata). So each dependency
 * the packed package.json DECLARES (and the project's own typescript, ts-node, @types/node) is a
 * symlink to this repository's installed copy. Nothing else is reachable: the package resolves its
 * imports from the project's node_modules, and the engine runs with NODE_PATH set to that directory
 * only, so a dependency the package uses but does not declare fails the program.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { REPO } from "./engine";

const run = promisify(execFile);

/** What `npm pack` made. */
export interface PackedPackage {
  /** Absolute path of the .tgz. */
  tarball: string;
  name: string;
  version: string;
  /** Every file in the tarball, relative to the package root, sorted. */
  files: string[];
  /** The tarball's size in bytes. */
  size: number;
  /** The packed package.json's dependencies. */
  dependencies: Record<string, string>;
}

/** The project's own packages besides the library: what a Pulumi TypeScript project depends on. */
const PROJECT_TOOLS = ["typescript", "ts-node", "@types/node"];

/** Runs `npm pack` in the repository (building bin/ through `prepack`) into `dest`. */
export async function packRepository(dest: string): Promise<PackedPackage> {
  fs.mkdirSync(dest, { recursive: true });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dest], {
    cwd: REPO,
    maxBuffer: 16 << 20,
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
  });
  // prepack's own output (tsc) may precede the JSON report.
  const report = JSON.parse(stdout.slice(stdout.indexOf("[\n"))) as {
    name: string;
    version: string;
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  const packed = report[0];
  const tarball = path.join(dest, packed.filename);
  const { stdout: manifest } = await run("tar", ["-xzOf", tarball, "package/package.json"]);
  return {
    tarball,
    name: packed.name,
    version: packed.version,
    files: packed.files.map((f) => f.path).sort(),
    size: packed.size,
    dependencies: (JSON.parse(manifest) as { dependencies?: Record<string, string> }).dependencies ?? {},
  };
}

/**
 * Writes an empty Pulumi TypeScript project named `project` into `dir` (Pulumi.yaml, package.json,
 * tsconfig.json, `program` as index.ts) and installs the packed package into its node_modules.
 * Returns the project's node_modules directory.
 */
export async function userProject(
  dir: string,
  project: string,
  pkg: PackedPackage,
  program: string,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: ${project}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\ndescription: A user's project that installs ${pkg.name} from its tarball.\n`,
  );
  const tools = Object.fromEntries(PROJECT_TOOLS.map((t) => [t, installedVersion(t)]));
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: project,
        private: true,
        main: "index.ts",
        dependencies: {
          [pkg.name]: `file:${pkg.tarball}`,
          "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"],
        },
        devDependencies: tools,
      },
      null,
      2,
    )}\n`,
  );
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "commonjs",
          moduleResolution: "node",
          esModuleInterop: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["index.ts"],
      },
      null,
      2,
    )}\n`,
  );
  fs.writeFileSync(path.join(dir, "index.ts"), program);

  const modules = path.join(dir, "node_modules");
  const target = path.join(modules, ...pkg.name.split("/"));
  fs.mkdirSync(target, { recursive: true });
  await run("tar", ["-xzf", pkg.tarball, "-C", target, "--strip-components=1"]);
  for (const dep of [...Object.keys(pkg.dependencies), ...PROJECT_TOOLS]) {
    const installed = path.join(REPO, "node_modules", ...dep.split("/"));
    if (!fs.existsSync(installed)) throw new Error(`${dep} is not installed in ${REPO}/node_modules`);
    const link = path.join(modules, ...dep.split("/"));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) fs.symlinkSync(fs.realpathSync(installed), link, "dir");
  }
  return modules;
}

function installedVersion(name: string): string {
  const manifest = path.join(REPO, "node_modules", ...name.split("/"), "package.json");
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}
