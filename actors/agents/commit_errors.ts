import type { CommandOutcome } from "../../registry/inventory/mod.ts";

/**
 * Why an agent's atomic commit did not apply: the inventory changed between
 * the snapshot the agent decided on and the commit (the writer validates
 * every command again), so nothing was committed.
 */
export function firstRejection(outcomes: readonly CommandOutcome[]): string {
  const rejected = outcomes.find((o) => o.status === "rejected") ??
    outcomes.find((o) => o.status === "aborted");
  return `The inventory changed since the snapshot; nothing committed (${
    rejected?.status === "rejected" ? rejected.error.message : rejected?.reason ?? "aborted"
  })`;
}
