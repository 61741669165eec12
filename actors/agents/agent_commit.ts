/**
 * How an agent (Detox, the Dealer, the request tracker) commits a cycle's
 * decisions: every command in one atomic submission to the inventory writer,
 * together with the replica operations the file operations will carry out,
 * so that either all of a cycle applies with its operations or nothing does.
 */
import type { CommandOutcome, InventoryCommand, Snapshot } from "../../registry/inventory/mod.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { SubmissionGuard } from "../inventory/inventory_actor.ts";

export type AgentCommit = { ok: true; generation: number } | { ok: false; error: string };

/**
 * Submits atomically; the generation committed, or why nothing was. With a `guard` (the generation
 * decided on and the preconditions relied on), the writer re-checks the preconditions at apply
 * time and refuses the whole submission when one no longer holds (docs/parallel_readers.md).
 */
export async function commitAtomic(
  gateway: InventoryGateway,
  commands: readonly InventoryCommand[],
  operations: readonly NewReplicaOperation[],
  guard?: SubmissionGuard,
): Promise<AgentCommit> {
  const reply = await gateway.submit({ commands, atomic: true }, { operations, ...(guard ? { guard } : {}) });
  if (!reply.ok) return { ok: false, error: reply.error };
  if (reply.refused) {
    return { ok: false, error: `The writer refused the commit (${reply.refused}); nothing committed` };
  }
  if (reply.outcomes.some((o) => o.status !== "applied")) {
    return { ok: false, error: firstRejection(reply.outcomes) };
  }
  return { ok: true, generation: reply.generation };
}

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

/** A planned operation's site, dataset and blocks by name, as the operation is recorded. */
export function operationTarget(
  snapshot: Snapshot,
  o: { siteId: number; datasetId: number; blockIds: readonly number[] | null },
): Pick<NewReplicaOperation, "site" | "dataset" | "blocks"> {
  return {
    site: snapshot.siteById(o.siteId)!.name,
    dataset: snapshot.datasetById(o.datasetId)!.name,
    blocks: o.blockIds === null ? null : o.blockIds.map((id) => snapshot.blockById(id)!.name),
  };
}
