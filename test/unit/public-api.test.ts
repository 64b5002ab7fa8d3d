import * as fs from "fs";
import * as path from "path";

const REPO = path.join(__dirname, "..", "..");

/** Every .ts file under `dir`, relative to the repo. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith(".ts") ? [rel] : [];
  });
}

describe("the repository's own program is a user of the public API", () => {
  it("nothing in stacks/ imports a component module: only index.ts, its own files and packages", () => {
    const deep: string[] = [];
    for (const file of sources("stacks")) {
      const text = fs.readFileSync(path.join(REPO, file), "utf8");
      for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
        const spec = m[1];
        if (!spec.startsWith(".")) continue;
        const target = path.relative(REPO, path.resolve(REPO, path.dirname(file), spec));
        if (target !== "index" && !target.startsWith(`stacks${path.sep}`)) deep.push(`${file}: ${spec}`);
      }
    }
    expect(deep).toEqual([]);
  });
});
