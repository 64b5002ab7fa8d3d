import type { OpMap } from "@pulumi/pulumi/automation";

/**
 * PASS/FAIL lines for the engine scripts, closed by the plain "N passed, N failed" line CI reads.
 */
export class Checks {
  private passed = 0;
  private failed = 0;

  /** Records and prints one check; returns `ok`. */
  check(name: string, ok: boolean, detail = ""): boolean {
    if (ok) this.passed++;
    else this.failed++;
    console.log(`${ok ? "PASS" : "FAIL"}: ${name}${detail ? ` (${detail})` : ""}`);
    return ok;
  }

  /** Prints the closing line and sets the exit code: 0 only when something passed and nothing failed. */
  finish(): void {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed === 0 && this.passed > 0 ? 0 : 1;
  }
}

/** An environment variable the wrapper script sets; throws naming the script to run instead. */
export function requireEnv(name: string, wrapper: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through ${wrapper}`);
  return value;
}

/** Only the operations other than "same", e.g. { create: 2 }. */
export function changes(ops: OpMap | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(ops ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0));
}
