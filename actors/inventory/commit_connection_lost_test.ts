/**
 * A commit whose PostgreSQL connection is lost while its COPY's rows are sent (a server restart, a
 * failover, an administrator ending the backend): the batch is answered as a failed write, nothing of it
 * is committed, the writer reloads as for any other failed commit, and the process goes on (before, the
 * loss reached the process as uncaught errors). The database is real; a wrapper of it makes the files'
 * COPY of the first commit endless (its real rows, then more without end), so that the loss is certain to
 * come while rows are being sent, and tells which backend to end.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { postgresTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import type { BulkTransaction, Cell, Database } from "../../adapters/db/database.ts";
import { type InventoryCommand, parseCommand } from "../../registry/inventory/mod.ts";
import { WRITE_FAILED } from "./inventory_actor.ts";
import { withinMinutes } from "../../tests/helpers/hang_guard.ts";

const c = (raw: Record<string, unknown>): InventoryCommand => parseCommand(raw);

/** Files rows as given, then ones like the last without end (new ids and names). */
function* endlessAfter(rows: Iterable<Cell[]>, started: () => void): Generator<Cell[]> {
  let last: Cell[] | null = null;
  for (const row of rows) yield last = row;
  started();
  for (let i = 0;; i++) yield [1e12 + i, last![1]!, `${last![2]}/endless/${i}`, ...last!.slice(3)];
}

/**
 * `db`, whose next transaction with a COPY into files is made endless: `backend` resolves with that
 * transaction's backend pid once its real rows are sent.
 */
function endlessFilesOnce(db: Database): { db: Database; backend: Promise<number> } {
  const backend = Promise.withResolvers<number>();
  let armed = true;
  const wrapped: Database = {
    ...db,
    bulkTransaction: (fn) =>
      db.bulkTransaction(async (tx) => {
        if (!armed || !tx.copyFromSent) return await fn(tx);
        const [[pid]] = await tx.query("SELECT pg_backend_pid()") as [[number]];
        const copyFromSent: BulkTransaction["copyFromSent"] = (table, columns, rows) => {
          if (table !== "files" || !armed) return tx.copyFromSent!(table, columns, rows);
          armed = false;
          return tx.copyFromSent!(table, columns, endlessAfter(rows, () => backend.resolve(pid)));
        };
        return await fn({ ...tx, copyFromSent });
      }),
  };
  return { db: wrapped, backend: backend.promise };
}

postgresTest(
  "a commit whose connection is lost while its COPY's rows are sent fails, writes nothing, and the writer reloads",
  async ({ db, reopen }) => {
    const endless = endlessFilesOnce(db);
    const w = await startWriter(endless.db);
    await w.gateway.submit({
      commands: [
        c({ op: "site.upsert", name: "T2_A", storage_type: "disk" }),
        c({ op: "dataset.upsert", name: "/Setup/A/X" }),
      ],
    });
    const g = w.gateway.snapshot().generation;
    // More new files than the COPY threshold: they go to the server by COPY.
    const files = Array.from({ length: db.copyThreshold }, (_, i) => ({ lfn: `/store/lost/${i}`, size: 1 }));
    const lost = w.gateway.submit({
      commands: [
        c({ op: "dataset.upsert", name: "/Lost/A/X" }),
        c({ op: "block.upsert", dataset: "/Lost/A/X", block: "b0" }),
        c({ op: "files.add", dataset: "/Lost/A/X", block: "b0", files }),
      ],
    });
    const pid = await endless.backend;
    const other = await reopen!();
    await other.queryArrays("SELECT pg_terminate_backend($1)", [pid]);
    const answer = await withinMinutes("the commit", lost);
    assert(!answer.ok, JSON.stringify(answer));
    assertEquals(answer.error, WRITE_FAILED);
    assert(/the connection to PostgreSQL was lost/.test(answer.cause ?? ""), answer.cause);
    // Nothing of it was committed.
    assertEquals(await other.queryArrays("SELECT count(*)::integer FROM files"), [[0]]);
    assertEquals(await other.queryArrays("SELECT max(seq)::integer FROM inventory_journal"), [[g]]);
    // The writer reloads, as for any failed commit. postgres.js hands the lost connection's last server error
    // ("terminating connection") to the first statement on that connection once reconnected: a reload that
    // met it failed too, and the writer reloaded once more.
    await w.system.runUntilIdle();
    assert([2, 3].includes(w.system.incarnationOf("/inventory")), `${w.system.incarnationOf("/inventory")}`);
    assertEquals(w.gateway.snapshot().generation, g);
    // A statement on every connection of the pool, so that a stale error not met yet is met here, not by the
    // retry's reads (a transaction asks again for a connection that failed so; a single statement cannot
    // know it was never sent).
    await Promise.allSettled(Array.from({ length: 8 }, () => db.queryArrays("SELECT 1")));
    const retry = await withinMinutes(
      "the retry",
      w.gateway.submit({
        commands: [
          c({ op: "dataset.upsert", name: "/Lost/A/X" }),
          c({ op: "block.upsert", dataset: "/Lost/A/X", block: "b0" }),
          c({ op: "files.add", dataset: "/Lost/A/X", block: "b0", files }),
        ],
      }),
    );
    assert(retry.ok, JSON.stringify(retry));
    assertEquals(retry.generation, g + 1);
    assertEquals(await other.queryArrays("SELECT count(*)::integer FROM files"), [[files.length]]);
    await w.system.shutdown();
  },
);
