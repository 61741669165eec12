import { CompiledQuery, type Kysely } from "kysely";
import type { BulkTransaction, Database } from "./database.ts";
import { recordAppliedKey, type RememberedAnswer } from "./cluster_store.ts";
import type { DB } from "./schema.ts";

export interface FencedDatabaseOptions {
  /** Run last in every transaction (`SqlClusterStore.fence`); throws to roll it back (a deposed leader). */
  fence: (tx: BulkTransaction) => Promise<void>;
  /** The `Idempotency-Key` of the HTTP write being served, if any: recorded in the same transaction. */
  idempotencyKey?: () => string | undefined;
  /** What a retry of that key is answered when the first answer was lost with its server. */
  lostAnswer?: RememberedAnswer;
  nowMs?: () => number;
}

/** The answer kept with a key until the real one replaces it: the write is known applied, its result is not. */
export const LOST_ANSWER: RememberedAnswer = {
  status: 200,
  contentType: "application/json",
  body: JSON.stringify({
    result: "OK",
    message: "Already applied; the first answer was lost with the server that gave it",
    data: null,
  }),
  generation: null,
};

/**
 * The database as a cluster leader's registry stores see it (requests, locks,
 * users, popularity, the injection queue: every write that does not go through
 * the inventory writer). Each transaction records the key of the write being
 * served, then checks the fencing generation as its last statement, as the
 * inventory commit does: a deposed leader's transaction rolls back, and a write
 * that committed is known applied to a retry even if its answer was lost.
 * Writes outside `transaction`/`bulkTransaction` are not fenced: the stores
 * make theirs in one.
 */
export function fencedDatabase(db: Database, options: FencedDatabaseOptions): Database {
  const nowMs = options.nowMs ?? Date.now;
  async function close(tx: BulkTransaction): Promise<void> {
    const key = options.idempotencyKey?.();
    if (key !== undefined) await recordAppliedKey(tx, key, options.lostAnswer ?? LOST_ANSWER, nowMs());
    await options.fence(tx); // last: the lease row stays shared-locked until the commit
  }
  return {
    ...db,
    transaction: (fn) =>
      db.transaction(async (tx) => {
        const result = await fn(tx);
        await close(rawQueries(tx));
        return result;
      }),
    bulkTransaction: (fn) =>
      db.bulkTransaction(async (tx) => {
        const result = await fn(tx);
        await close(tx);
        return result;
      }),
  };
}

/** A Kysely transaction seen as raw SQL (for the fence's own statements). */
function rawQueries(tx: Kysely<DB>): BulkTransaction {
  return {
    query: async (text, params = []) =>
      (await tx.executeQuery(CompiledQuery.raw(text, params))).rows.map((r) => Object.values(r as object)),
    copyFrom: () => Promise.reject(new Error("COPY is not available in a Kysely transaction")),
  };
}
