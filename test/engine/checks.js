"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Checks = void 0;
exports.requireEnv = requireEnv;
exports.changes = changes;
/**
 * PASS/FAIL lines for the engine scripts, closed by the plain "N passed, N failed" line CI reads.
 */
class Checks {
    passed = 0;
    failed = 0;
    /** Records and prints one check; returns `ok`. */
    check(name, ok, detail = "") {
        if (ok)
            this.passed++;
        else
            this.failed++;
        console.log(`${ok ? "PASS" : "FAIL"}: ${name}${detail ? ` (${detail})` : ""}`);
        return ok;
    }
    /** Prints the closing line and sets the exit code: 0 only when something passed and nothing failed. */
    finish() {
        console.log(`${this.passed} passed, ${this.failed} failed`);
        process.exitCode = this.failed === 0 && this.passed > 0 ? 0 : 1;
    }
}
exports.Checks = Checks;
/** An environment variable the wrapper script sets; throws naming the script to run instead. */
function requireEnv(name, wrapper) {
    const value = process.env[name];
    if (!value)
        throw new Error(`${name} is not set: run this through ${wrapper}`);
    return value;
}
/** Only the operations other than "same", e.g. { create: 2 }. */
function changes(ops) {
    return Object.fromEntries(Object.entries(ops ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0));
}
