import * as crypto from "crypto";
import { shq } from "./quote";

/** How {@link asRemoteCommand} runs a script. */
export interface RemoteCommandOptions {
  /**
   * Run as root: directly when the SSH user is root, through password-less `sudo -n` otherwise.
   * Default: false (as the SSH user; the prelude's `$SUDO` raises single commands).
   */
  root?: boolean;
}

/**
 * Wraps a bash script into the command string a remote command runs, from any POSIX login shell
 * (sh, dash, bash). The script travels as one quoted word, never as a file; the command's standard
 * input (where secrets and files travel, see stdin.ts) reaches the script on file descriptor 0 and,
 * as a duplicate, on 3 (sudo closes every descriptor above 2, so the root form duplicates it after
 * sudo). The one remote-command wrapper of the library.
 */
export function asRemoteCommand(script: string, options: RemoteCommandOptions = {}): string {
  const body = script.trimEnd();
  const assign = `PULUMI_SWARM_SCRIPT=${shq(`exec 3<&0\n${body}`)}`;
  if (!options.root) return `${assign}\nexec bash -c "$PULUMI_SWARM_SCRIPT"`;
  return `${assign}\nif [ "$(id -u)" = 0 ]; then exec bash -c "$PULUMI_SWARM_SCRIPT"; else exec sudo -n bash -c "$PULUMI_SWARM_SCRIPT"; fi`;
}

/**
 * Appends a comment carrying a hash of `values` to a script, so that a change to any of them
 * changes the command text. @pulumi/command replaces a Command whose `triggers` change (its SDK
 * sets replaceOnChanges on triggers, pulumi-command#855), and a replacement runs the old
 * resource's delete (leave, drain): a changed text is an in-place update that only re-runs the
 * guarded script.
 */
export function withRerunMarker(script: string, values: string[]): string {
  const hash = crypto.createHash("sha256").update(values.join("\0")).digest("hex").slice(0, 16);
  return `${script.trimEnd()}\n# pulumi-swarm: runs again when this changes: ${hash}\n`;
}

/** The script inside a command made by {@link asRemoteCommand} (for tests and for reading a diff). */
export function scriptOf(command: string): string {
  const match = /^PULUMI_SWARM_SCRIPT='((?:[^']|'\\'')*)'\n/.exec(command);
  if (!match) throw new Error("not a command made by asRemoteCommand");
  return `${match[1].replace(/'\\''/g, "'").replace(/^exec 3<&0\n/, "")}\n`;
}
