/**
 * Every TypeScript example in README.md compiles against the public API (index.ts, imported as
 * "pulumi-swarm"), so the README cannot drift from the code. The lab suite engine-package compiles
 * the same examples against the packed package installed in a user's project.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compileExamples, exportedValueNames, readmeBlocks } from "../helpers/readmeExamples";

const REPO = path.resolve(__dirname, "..", "..");

describe("README examples", () => {
  const blocks = readmeBlocks(path.join(REPO, "README.md"));

  it("has TypeScript examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it("every example compiles against the public API", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-examples-"));
    try {
      const problems = compileExamples(blocks, exportedValueNames(path.join(REPO, "index.ts")), dir, {
        baseUrl: REPO,
        paths: { "pulumi-swarm": [path.join(REPO, "index.ts")], "*": [path.join(REPO, "node_modules", "*")] },
        typeRoots: [path.join(REPO, "node_modules", "@types")],
      });
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
