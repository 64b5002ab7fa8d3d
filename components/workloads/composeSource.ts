import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { fail } from "../validation";

/** Where a compose file comes from: a path read at construction, or the YAML itself. */
export interface ComposeSourceArgs {
  composeFile?: string;
  composeContent?: pulumi.Input<string>;
}

/**
 * The compose file's content from exactly one of `composeFile` / `composeContent`; refuses
 * neither, both, or a file that cannot be read, naming the argument (ComposeStack and ComposeHost
 * take their compose file the same way).
 */
export function readComposeSource(args: ComposeSourceArgs): pulumi.Input<string> {
  const given = (args.composeFile !== undefined ? 1 : 0) + (args.composeContent !== undefined ? 1 : 0);
  if (given !== 1) {
    fail(
      "composeFile",
      given === 0 ? "neither composeFile nor composeContent" : "both composeFile and composeContent",
      "Give exactly one of `composeFile` (a path) or `composeContent` (the YAML).",
    );
  }
  if (args.composeFile === undefined) return args.composeContent as pulumi.Input<string>;
  try {
    return fs.readFileSync(args.composeFile, "utf8");
  } catch (err) {
    return fail(
      "composeFile",
      args.composeFile,
      `Could not read it (${(err as NodeJS.ErrnoException).code ?? "error"}); give an existing compose file.`,
    );
  }
}
