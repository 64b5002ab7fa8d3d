/** One engine operation of a fault scenario. */
export interface FaultRun {
  /** `up`, `preview`, ... */
  operation: string;
  /** What this run changed in the config, or why it ran ("reconcile r1 -> r2", "same config"). */
  note: string;
  ok: boolean;
  seconds: number;
  /** Resource changes the engine reported ("same" left out): `{}` means nothing changed. */
  changes: Record<string, number>;
}

/** One fault, run through the real Pulumi engine, and what came of it, for docs/proof.md. */
export interface FaultRecord {
  scenario: string;
  fault: string;
  /** What the user saw: the engine's error diagnostics (host scripts elided), or what the run did. */
  userSees: string[];
  outcome: string;
  runs: FaultRun[];
  replicasAfter: string;
  /** Wall time of the whole scenario (fault, runs, checks), s. */
  seconds: number;
  passed: boolean;
  /** Why it failed, when it did. */
  failure?: string;
}
