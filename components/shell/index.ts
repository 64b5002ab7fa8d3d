/*
 * The one shell toolkit: every script that runs on a host is rendered through these modules (by a
 * pure function in a `scripts` module of its layer) and unit-tested with bash -n and shellcheck.
 */
export { shq } from "./quote";
export { prelude, PRELUDE, DETECT_COMPOSE } from "./prelude";
export type { PreludeOptions } from "./prelude";
export { asRemoteCommand, scriptOf, withRerunMarker } from "./remote";
export type { RemoteCommandOptions } from "./remote";
export { renderBundle, receiveBundleSnippet } from "./stdin";
export type { BundleFile } from "./stdin";
export { isEnvName, isReservedEnvName, isSafeSecret, renderEnvFile, SAFE_SECRET_CHARS } from "./envFile";
export type { EnvFileFormat } from "./envFile";
