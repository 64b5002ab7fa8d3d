import { fail } from "../validation";
import type { QuorumRecovery, SwarmRotations } from "./args";
import type { SwarmNodeArgs } from "./types";

/** Generations as the swarm resource records them (all present, 0 when not given). */
export interface Generations {
  ca: number;
  workerToken: number;
  managerToken: number;
  /** 0 when no recovery is declared. */
  recovery: number;
}

const GENERATION_KEYS = ["caGeneration", "workerTokenGeneration", "managerTokenGeneration"] as const;

function requireGeneration(argument: string, value: unknown, minimum: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum)
    fail(
      argument,
      value,
      `Use a whole number of at least ${minimum}; raise it by one to run the action again on the next pulumi up.`,
    );
  return value;
}

/**
 * Checks `rotations` and `recoverQuorum` (before anything is created) and returns the generations.
 * The survivor must be a declared manager: the swarm restarts from its Raft state.
 */
export function validateDay2Args(
  args: { rotations?: SwarmRotations; recoverQuorum?: QuorumRecovery },
  nodes: SwarmNodeArgs[],
): Generations {
  const rotations = args.rotations ?? {};
  if (typeof rotations !== "object" || rotations === null || Array.isArray(rotations))
    fail("rotations", rotations, "Use an object such as { caGeneration: 1 }.");
  for (const key of Object.keys(rotations))
    if (!(GENERATION_KEYS as readonly string[]).includes(key))
      fail(
        `rotations.${key}`,
        (rotations as Record<string, unknown>)[key],
        `Use one of ${GENERATION_KEYS.join(", ")}.`,
      );
  const gen = (key: (typeof GENERATION_KEYS)[number]) =>
    rotations[key] === undefined ? 0 : requireGeneration(`rotations.${key}`, rotations[key], 0);
  let recovery = 0;
  if (args.recoverQuorum !== undefined) {
    const r = args.recoverQuorum;
    if (typeof r !== "object" || r === null)
      fail("recoverQuorum", r, 'Use { survivor: "<manager host name>", generation: 1 }.');
    const managers = nodes.filter((n) => n.role === "manager").map((n) => n.host.name);
    if (!managers.includes(r.survivor))
      fail(
        "recoverQuorum.survivor",
        r.survivor,
        `Name a manager of this cluster whose dockerd still answers: one of ${managers.join(", ")}.`,
      );
    recovery = requireGeneration("recoverQuorum.generation", r.generation, 1);
  }
  return {
    ca: gen("caGeneration"),
    workerToken: gen("workerTokenGeneration"),
    managerToken: gen("managerTokenGeneration"),
    recovery,
  };
}
