/** One fault and what came of it, for docs/proof.md. */
export interface FaultRecord {
  scenario: string;
  fault: string;
  userSees: string[];
  outcome: string;
  runs: { ok: boolean; seconds: number; commands: number }[];
  replicasAfter: string;
  passed: boolean;
}
