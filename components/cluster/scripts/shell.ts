/**
 * @deprecated internal shim, removed after merge: import from components/shell instead.
 */
export { shq, PRELUDE, asRemoteCommand, withRerunMarker } from "../../shell";
