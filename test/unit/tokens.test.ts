import * as fs from "fs";
import * as path from "path";
import { TOKENS, withTokenAliases, type ComponentKind } from "../../components/tokens";

const COMPONENTS = path.join(__dirname, "..", "..", "components");

/** Every .ts file under components/, relative to it. */
function sources(dir = COMPONENTS): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".ts") ? [path.relative(COMPONENTS, full)] : [];
  });
}

describe("type tokens", () => {
  const files = sources();

  it.each(Object.keys(TOKENS) as ComponentKind[])(
    "%s: swarm:<folder>:<Type>, the folder being where the class lives",
    (kind) => {
      const declaring = files.filter((f) =>
        new RegExp(`export class ${kind} extends pulumi\\.ComponentResource\\b`).test(
          fs.readFileSync(path.join(COMPONENTS, f), "utf8"),
        ),
      );
      expect(declaring).toHaveLength(1);
      const folder = declaring[0].split(path.sep)[0];
      expect(TOKENS[kind].type).toBe(`swarm:${folder}:${kind}`);
    },
  );

  it("the tokens that moved keep their old names as aliases (stacks made before upgrade in place)", () => {
    expect(TOKENS.SwarmCluster.previous).toEqual(["swarm:index:SwarmCluster"]);
    expect(TOKENS.AwsHosts.previous).toEqual(["swarm:aws:AwsHosts"]);
    expect(TOKENS.AlicloudHosts.previous).toEqual(["swarm:alicloud:AlicloudHosts"]);
  });

  it("no component declares a token string of its own: tokens.ts is the one place", () => {
    const offenders = files.filter(
      (f) =>
        f !== "tokens.ts" &&
        /super\(\s*"swarm:|const (TYPE|type) = "swarm:/.test(
          fs.readFileSync(path.join(COMPONENTS, f), "utf8"),
        ),
    );
    expect(offenders).toEqual([]);
  });

  it("merges the old tokens after the user's own aliases and keeps every other option", () => {
    const parent = { urn: "x" } as never;
    const merged = withTokenAliases("SwarmCluster", {
      aliases: [{ name: "renamed" }],
      protect: true,
      parent,
    });
    expect(merged).toEqual({
      aliases: [{ name: "renamed" }, { type: "swarm:index:SwarmCluster" }],
      protect: true,
      parent,
    });
    expect(withTokenAliases("AwsHosts", undefined)).toEqual({ aliases: [{ type: "swarm:aws:AwsHosts" }] });
    const opts = { protect: true };
    expect(withTokenAliases("SwarmService", opts)).toBe(opts);
  });
});
