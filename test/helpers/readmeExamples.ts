/**
 * README.md's TypeScript examples as modules a user would write, and their compile errors against
 * a given "pulumi-swarm": the repository's index.ts (unit test) or the packed package installed in
 * a user's project (lab suite engine-package). Examples are fragments: the names they use without
 * declaring (a cluster, hosts, an image) are declared with the public types.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

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

/** The ```ts blocks of a README. */
export function readmeBlocks(readmePath: string): string[] {
  const readme = fs.readFileSync(readmePath, "utf8");
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The names of the values (not types) a module exports: what `import { ... }` can take. */
export function exportedValueNames(entry: string): string[] {
  const program = ts.createProgram([entry], { strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${entry} is not a module`);
  return checker
    .getExportsOfModule(symbol)
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.name);
}

/** The block as a module: its own imports kept, otherwise every public value and the free names. */
export function asModule(block: string, valueNames: string[]): string {
  if (/^import /m.test(block)) return block;
  const used = Object.keys(FREE_NAMES).filter(
    (name) => new RegExp(`\\b${name}\\b`).test(block) && !new RegExp(`\\b(const|let) ${name}\\b`).test(block),
  );
  return [
    'import * as pulumi from "@pulumi/pulumi";',
    `import { ${[...valueNames, ...PUBLIC_TYPES].join(", ")} } from "pulumi-swarm";`,
    ...used.map((name) => `declare const ${name}: ${FREE_NAMES[name]};`),
    block,
    "export {};",
  ].join("\n");
}

/**
 * Writes each block as `readme-exampleN.ts` into `dir` and type-checks them (strict) with `options`
 * deciding where "pulumi-swarm" and its dependencies come from. Returns one line per error, naming
 * the file, the line and the code there; empty when every example compiles.
 */
export function compileExamples(
  blocks: string[],
  valueNames: string[],
  dir: string,
  options: ts.CompilerOptions,
): string[] {
  const files = blocks.map((block, i) => {
    const file = path.join(dir, `readme-example${i + 1}.ts`);
    fs.writeFileSync(file, asModule(block, valueNames));
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
    ...options,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const text = d.file!.text.split("\n")[line];
      return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n    ${text}`;
    });
}
