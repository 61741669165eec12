import type { InventoryCommand } from "./commands.ts";
import type { CommandOutcome } from "./reduce_batch.ts";

export interface Rejection {
  /** Index of the command in the submission. */
  readonly index: number;
  readonly object: string;
  readonly field: string | null;
  readonly reason: string;
}

export interface OutcomeSummary {
  /** Applied commands per operation, e.g. `{"dataset.upsert": 2}`. */
  readonly applied: Record<string, number>;
  readonly rejected: Rejection[];
  /** Commands not applied because another command of the atomic submission failed. */
  readonly aborted: number;
}

/** A compact, JSON-safe account of what happened to a submission. */
export function summarizeOutcomes(
  commands: readonly InventoryCommand[],
  outcomes: readonly CommandOutcome[],
): OutcomeSummary {
  const applied: Record<string, number> = {};
  const rejected: Rejection[] = [];
  let aborted = 0;
  outcomes.forEach((o, index) => {
    if (o.status === "applied") {
      const op = commands[index]!.op;
      applied[op] = (applied[op] ?? 0) + 1;
    } else if (o.status === "rejected") {
      rejected.push({ index, object: o.error.object, field: o.error.field, reason: o.error.reason });
    } else {
      aborted += 1;
    }
  });
  return { applied, rejected, aborted };
}
