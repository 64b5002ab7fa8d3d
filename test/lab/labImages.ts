import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import type { LabImages } from "../../examples/scenarios";
import { Lab } from "./lab";

const run = promisify(execFile);
const IMAGES_DIR = path.join(__dirname, "images");

/** A fresh lab whose hosts pull the scenario images from a lab registry they trust. */
export interface LabWithImages {
  lab: Lab;
  /** `<ip>:5000` of the lab registry (served from a lab host's namespace). */
  registry: string;
  /** The wanted images as the hosts pull them: `<registry>/<name>:<version>@sha256:...`. */
  images: LabImages;
}

/**
 * Builds the `wanted` images (test/lab/images/build.sh: from Debian packages, cached by recipe),
 * makes lab `labId` with `hosts` hosts and serves the images from its registry (serve.sh).
 * build.sh prints every image of its cache: only the wanted ones are kept.
 */
export async function labWithImages(labId: number, hosts: number, wanted: string[]): Promise<LabWithImages> {
  const started = Date.now();
  const built = await run("bash", [path.join(IMAGES_DIR, "build.sh"), ...wanted], { maxBuffer: 1 << 24 });
  const all = JSON.parse(built.stdout.trim().split("\n").pop() ?? "{}") as LabImages;
  const names = Object.fromEntries(wanted.map((n) => [n, all[n]]));
  console.log(`images (${((Date.now() - started) / 1000).toFixed(1)} s): ${JSON.stringify(names)}`);
  const lab = await Lab.fresh(labId, hosts);
  const registry = (await run("bash", [path.join(IMAGES_DIR, "serve.sh"), String(labId)])).stdout.trim();
  const images = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${registry}/${v}`]));
  console.log(`lab ${labId} + registry ${registry} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { lab, registry, images };
}
