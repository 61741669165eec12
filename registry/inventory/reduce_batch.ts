import type { InventoryCommand } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";
import type { FileCatalog } from "./file_catalog.ts";
import { applyCommand } from "./reducer.ts";
import type { InventoryState } from "./state.ts";
import { type InventoryChanges, StateBuilder } from "./state_builder.ts";

/** Commands from one caller. An atomic submission is applied entirely or not at all. */
export interface Submission {
  readonly commands: readonly InventoryCommand[];
  readonly atomic?: boolean;
  /** The write's `Idempotency-Key`: recorded with the journal entry that applies it (docs/cluster.md). */
  readonly idempotencyKey?: string;
}

export type CommandOutcome =
  | { status: "applied" }
  | { status: "rejected"; error: InventoryValidationError }
  | { status: "aborted"; reason: string };

/** The outcome of every applied command: one frozen object, not one per command (20,000 a full batch). */
const APPLIED: CommandOutcome = Object.freeze({ status: "applied" });

export interface BatchResult {
  readonly state: InventoryState;
  /** One outcome per command, per submission. */
  readonly outcomes: CommandOutcome[][];
  /** Applied commands in order: what the journal records. */
  readonly applied: InventoryCommand[];
  readonly changes: InventoryChanges;
}

/**
 * Applies a batch of submissions on top of `base`. A rejected command changes
 * nothing (handlers validate before writing). When an atomic submission fails,
 * or a handler throws something unexpected, the builder is thrown away and the
 * batch is reduced again without the offender: the base is immutable, so
 * discarding is free and the survivors see exactly what the journal will say.
 */
export function reduceBatch(
  base: InventoryState,
  submissions: readonly Submission[],
  catalog: FileCatalog,
  nowMs: number,
  generation: number,
): BatchResult {
  const fixed = new Map<number, CommandOutcome>();
  const excludedSubmissions = new Set<number>();
  for (;;) {
    const b = new StateBuilder(base, catalog, Math.floor(nowMs / 1000));
    const outcomes: CommandOutcome[][] = [];
    const applied: InventoryCommand[] = [];
    let restart = false;
    for (let i = 0; i < submissions.length && !restart; i++) {
      const sub = submissions[i]!;
      const row: CommandOutcome[] = [];
      outcomes.push(row);
      for (let j = 0; j < sub.commands.length; j++) {
        const key = i * 2 ** 26 + j;
        const known = fixed.size > 0 ? fixed.get(key) : undefined;
        if (known || excludedSubmissions.has(i)) {
          row.push(
            known ?? { status: "aborted", reason: "another command of this atomic submission was rejected" },
          );
          continue;
        }
        const cmd = sub.commands[j]!;
        try {
          applyCommand(b, cmd);
          row.push(APPLIED);
          applied.push(cmd);
        } catch (e) {
          const error = e instanceof InventoryValidationError ? e : new InventoryValidationError(
            "command",
            null,
            `internal error: ${(e as Error)?.message ?? String(e)}`,
          );
          fixed.set(key, { status: "rejected", error });
          row.push({ status: "rejected", error });
          // An unexpected exception may have left partial writes: start over without this command.
          if (!(e instanceof InventoryValidationError)) restart = true;
          if (sub.atomic) {
            excludedSubmissions.add(i);
            // Earlier commands of this submission were applied: start over without any of it.
            if (j > 0) restart = true;
          }
          if (restart) break;
        }
      }
    }
    if (restart) continue;
    return { state: b.build(generation), outcomes, applied, changes: b.changes };
  }
}
