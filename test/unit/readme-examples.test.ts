/**
 * Every TypeScript example in README.md compiles against the public API (index.ts, imported as
 * "pulumi-swarm"), so the README cannot drift from the code. Examples are fragments: the names
 * they use without declaring (a cluster, hosts, an image) are declared with the public types.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";

const REPO = path.resolve(__dirname, "..", "..");

/** Names the README's fragments use without declaring them, with the public type they stand for. */
const FREE_NAMES: Record<string, string> = {
  cluster: "SwarmCluster",
  hosts: "SwarmHost[]",
  others: "SwarmHost[]",
  nodes: "SwarmNodeArgs[]",
  compose: "string",
  password: "pulumi.Output<string>",
  dbPassword: "pulumi.Output<string>",
  backend: "OverlayNetwork",
  image: "string",
  ciHosts: 'Record<"harbor" | "jenkins" | "gitlab" | "sonar" | "tools", SwarmHost>',
};
/** Public types the free names need that are types only (classes come in as values). */
const PUBLIC_TYPES = ["SwarmHost", "SwarmNodeArgs"];

function readmeBlocks(): string[] {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The block as a module: its own imports kept, otherwise the whole public API and the free names. */
function asModule(block: string): string {
  if (/^import /m.test(block)) return block;
  const used = Object.keys(FREE_NAMES).filter(
    (name) => new RegExp(`\\b${name}\\b`).test(block) && !new RegExp(`\\b(const|let) ${name}\\b`).test(block),
  );
  return [
    'import * as pulumi from "@pulumi/pulumi";',
    // Every public value and the types the free names need, as a user's imports give them.
    `import { ${[...publicValueNames(), ...PUBLIC_TYPES].join(", ")} } from "pulumi-swarm";`,
    ...used.map((name) => `declare const ${name}: ${FREE_NAMES[name]};`),
    block,
    "export {};",
  ].join("\n");
}

let valueNames: string[] | undefined;
function publicValueNames(): string[] {
  if (valueNames) return valueNames;
  const program = ts.createProgram([path.join(REPO, "index.ts")], { strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path.join(REPO, "index.ts"))!;
  const symbol = checker.getSymbolAtLocation(source)!;
  valueNames = checker
    .getExportsOfModule(symbol)
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.name);
  return valueNames;
}

describe("README examples", () => {
  const blocks = readmeBlocks();

  it("has TypeScript examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  it("every example compiles against the public API", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-examples-"));
    try {
      const files = blocks.map((block, i) => {
        const file = path.join(dir, `example${i + 1}.ts`);
        fs.writeFileSync(file, asModule(block));
        return file;
      });
      const program = ts.createProgram(files, {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        esModuleInterop: true,
        baseUrl: REPO,
        paths: { "pulumi-swarm": [path.join(REPO, "index.ts")], "*": [path.join(REPO, "node_modules", "*")] },
        typeRoots: [path.join(REPO, "node_modules", "@types")],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file && files.includes(d.file.fileName))
        .map((d) => {
          const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
          const text = d.file!.text.split("\n")[line];
          return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n    ${text}`;
        });
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
