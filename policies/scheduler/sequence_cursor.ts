/**
 * Where a sequence goes next (spec §7). A sequence is a rotating queue: after
 * its last step it starts again at the first. A step that failed is handled by
 * its mark: `^` restarts the sequence, `&` retries the step, `|` goes on.
 * `TERMINATE` ends the sequence (it must be started again by hand).
 */
import type { SequenceDefinition } from "./sequence_file.ts";

export type StepOutcome = "done" | "failed";

export interface CursorMove {
  /** The step to run next. */
  position: number;
  /** The same step again (`&`): the caller waits a little before it. */
  retry: boolean;
}

/** The step after `position` ran with `outcome`. */
export function nextPosition(
  sequence: SequenceDefinition,
  position: number,
  outcome: StepOutcome,
): CursorMove {
  const step = sequence.steps[position];
  const after = (position + 1) % sequence.steps.length;
  if (!step || step.kind !== "run" || outcome === "done") return { position: after, retry: false };
  switch (step.onFailure) {
    case "restart":
      return { position: 0, retry: false };
    case "retry":
      return { position, retry: true };
    case "ignore":
      return { position: after, retry: false };
  }
}

/**
 * Where a (re)started sequence begins: a `restart` sequence always at its first
 * step, the others where they stopped (a saved position past the end, left by
 * an edited file, starts again at the first).
 */
export function startPosition(sequence: SequenceDefinition, saved: number | null): number {
  if (sequence.restart || saved === null || saved < 0 || saved >= sequence.steps.length) return 0;
  return saved;
}
