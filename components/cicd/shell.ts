/**
 * @deprecated internal shim, removed after merge: import from components/shell instead.
 */
import { asRemoteCommand, prelude, shq } from "../shell";

export type { BundleFile } from "../shell";
export {
  DETECT_COMPOSE,
  isSafeSecret,
  receiveBundleSnippet,
  renderBundle,
  SAFE_SECRET_CHARS,
} from "../shell";

/** @deprecated internal shim, removed after merge: use `shq` from components/shell. */
export const shellQuote = shq;

/** @deprecated internal shim, removed after merge: use `asRemoteCommand(script, { root: true })`. */
export function asRoot(script: string): string {
  return asRemoteCommand(script, { root: true });
}

/** @deprecated internal shim, removed after merge: use `asRemoteCommand(script)`. */
export function asUser(script: string): string {
  return asRemoteCommand(script);
}

/** @deprecated internal shim, removed after merge: use `renderEnvFile(entries, "docker")` from components/shell. */
export { renderEnvFile } from "../shell";

/** @deprecated internal shim, removed after merge: use `prelude({ host, task })` from components/shell. */
export function scriptHeader(hostName: string, what: string): string {
  return prelude({ host: hostName, task: what }).trimEnd();
}
