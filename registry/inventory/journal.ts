import type { InventoryCommand } from "./commands.ts";
import { catalogFromAnnex, type FileAnnex } from "./file_catalog.ts";
import { reduceBatch } from "./reduce_batch.ts";
import type { InventoryState } from "./state.ts";

/** One committed batch as the journal keeps it. */
export interface JournalEntry {
  /** Monotonic; equals the generation of the state after this batch. */
  readonly seq: number;
  /** The writer's clock when the batch was reduced (the reducer's "now"). */
  readonly atMs: number;
  readonly version: number;
  readonly commands: readonly InventoryCommand[];
  /** What was read from the files table, so that replay needs no database. */
  readonly annex: FileAnnex;
}

/** The journal does not follow on from this state (a gap, or a command the writer had applied now fails). */
export class JournalMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JournalMismatchError";
  }
}

/**
 * Applies a committed entry with the same reducer the writer used. Every
 * command was accepted by the writer, so any rejection here means the replica
 * has diverged.
 */
export function replayEntry(state: InventoryState, entry: JournalEntry): InventoryState {
  if (entry.seq !== state.generation + 1) {
    throw new JournalMismatchError(
      `Journal entry ${entry.seq} does not follow generation ${state.generation}`,
    );
  }
  const result = reduceBatch(
    state,
    [{ commands: entry.commands }],
    catalogFromAnnex(entry.annex),
    entry.atMs,
    entry.seq,
  );
  const rejected = result.outcomes[0]?.findIndex((o) => o.status !== "applied") ?? -1;
  if (rejected >= 0) {
    const o = result.outcomes[0]![rejected]!;
    const reason = o.status === "rejected" ? o.error.message : o.status;
    throw new JournalMismatchError(
      `Journal entry ${entry.seq}, command ${rejected} does not apply: ${reason}`,
    );
  }
  return result.state;
}
