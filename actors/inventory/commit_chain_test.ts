/**
 * Commit chaining (inventory_actor.ts, SqlInventoryStore.commit): the next transaction starts while
 * the previous COMMIT is in flight. Each failure case, on both databases. The previous commit is held
 * just before its COMMIT (its statements answered) by a wrapper of the real store.
 */
import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest, LOCK_WAITERS_OF_THIS_SCHEMA, postgresTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { SqlInventoryStore } from "../../adapters/db/inventory_store.ts";
import type { CommitBatch, InventoryStore, PreviousCommit } from "../../adapters/db/inventory_store_port.ts";
import type { Database } from "../../adapters/db/database.ts";
import {
  catalogFromAnnex,
  DEFAULT_PARTITIONS,
  type FileNeeds,
  type InventoryCommand,
  inventoryDigest,
  parseCommand,
  reduceBatch,
} from "../../registry/inventory/mod.ts";
import { type SubmitReply, WRITE_FAILED } from "./inventory_actor.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";

const c = (raw: Record<string, unknown>): InventoryCommand => parseCommand(raw);
const dataset = (name: string) => ({ commands: [c({ op: "dataset.upsert", name })] });

/**
 * The real store, with hooks: `hold(seq)` keeps that commit from sending its COMMIT until released
 * (as if its WAL flush took that long), and each commit's start and written stage can be awaited.
 */
class HeldStore implements InventoryStore {
  readonly inner: SqlInventoryStore;
  readonly #held = new Map<number, PromiseWithResolvers<void>>();
  readonly #started = new Map<number, PromiseWithResolvers<void>>();
  readonly #written = new Map<number, PromiseWithResolvers<void>>();
  readonly #unstarted = new Map<number, Promise<void>>();
  #batchesTaken = 0;
  readonly #taken: { count: number; done: () => void }[] = [];

  constructor(db: Database) {
    this.inner = new SqlInventoryStore(db);
  }

  hold(seq: number): () => void {
    const gate = Promise.withResolvers<void>();
    this.#held.set(seq, gate);
    return () => gate.resolve();
  }
  started(seq: number): Promise<void> {
    return signal(this.#started, seq).promise;
  }
  written(seq: number): Promise<void> {
    return signal(this.#written, seq).promise;
  }
  /** Keeps that commit from starting at all (from sending anything) until released. */
  holdStart(seq: number): () => void {
    const gate = Promise.withResolvers<void>();
    this.#unstarted.set(seq, gate.promise);
    return () => gate.resolve();
  }
  /** Resolves once the writer has taken `n` more batches (each prefetches the files it needs). */
  batchesTaken(n: number): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#taken.push({ count: this.#batchesTaken + n, done: done.resolve });
    return done.promise;
  }

  async commit(batch: CommitBatch): Promise<void> {
    const seq = batch.entry.seq;
    signal(this.#started, seq).resolve();
    await this.#unstarted.get(seq);
    const gate = this.#held.get(seq);
    // Held: the store sends COMMIT only once `after.published` settles, so the gate goes there.
    const after: PreviousCommit | undefined = gate
      ? {
        seq: batch.after?.seq ?? batch.base.generation,
        written: batch.after?.written ?? Promise.resolve(),
        published: Promise.all([batch.after?.published, gate.promise]).then(() => {}),
      }
      : batch.after;
    await this.inner.commit({
      ...batch,
      ...(after ? { after } : {}),
      onWritten: () => {
        signal(this.#written, seq).resolve();
        batch.onWritten?.();
      },
    });
  }

  loadTables: InventoryStore["loadTables"] = (p, o) => this.inner.loadTables(p, o);
  partitionIds: InventoryStore["partitionIds"] = (p) => this.inner.partitionIds(p);
  journalSince: InventoryStore["journalSince"] = (s, l) => this.inner.journalSince(s, l);
  filesOfBlock: InventoryStore["filesOfBlock"] = (id) => this.inner.filesOfBlock(id);
  async prefetchFiles(needs: FileNeeds) {
    const annex = await this.inner.prefetchFiles(needs);
    this.#batchesTaken += 1;
    for (const t of this.#taken) if (t.count === this.#batchesTaken) t.done();
    return annex;
  }
}

function signal(map: Map<number, PromiseWithResolvers<void>>, seq: number): PromiseWithResolvers<void> {
  let s = map.get(seq);
  if (!s) map.set(seq, s = Promise.withResolvers<void>());
  return s;
}

async function datasetNames(db: Database): Promise<string[]> {
  return (await db.queryArrays("SELECT name FROM datasets ORDER BY name")).map((r) => r[0] as string);
}
async function journalSeqs(db: Database): Promise<number[]> {
  return (await db.queryArrays("SELECT seq FROM inventory_journal ORDER BY seq")).map((r) => Number(r[0]));
}

/**
 * PostgreSQL: until a session of this test waits for a lock, i.e. the chained commit's statements
 * have reached the server and wait behind the held one. PGlite runs one transaction at a time: the
 * chained one cannot begin before the held one ends.
 */
async function chainedWaits(db: Database): Promise<void> {
  if (db.kind !== "postgres") return;
  for (let i = 0; i < 10_000; i++) {
    const [[n]] = await db.queryArrays(
      `SELECT count(*)::integer FROM (${LOCK_WAITERS_OF_THIS_SCHEMA}) w`,
    ) as [[number]];
    if (n > 0) return;
  }
  throw new Error("the chained commit never waited for the held one");
}

/**
 * A writer over a HeldStore after one set-up commit (generation `g`): `first` is submitted and held just
 * before its COMMIT, then `second` is submitted and chained to it (on PostgreSQL, waiting for its lock).
 * `before(g)` runs before either is submitted.
 */
async function heldChain(
  db: Database,
  first: { commands: InventoryCommand[] },
  second: { commands: InventoryCommand[] },
  before?: (g: number) => Promise<void>,
) {
  const store = new HeldStore(db);
  const w = await startWriter(db, undefined, undefined, { store });
  await w.gateway.submit(dataset("/Setup/A/X"));
  const g = w.gateway.snapshot().generation;
  await before?.(g);
  const releaseA = store.hold(g + 1);
  const a = w.gateway.submit(first);
  await store.written(g + 1);
  const b = w.gateway.submit(second);
  await store.started(g + 2); // B's transaction is open while A's COMMIT has not been sent
  await chainedWaits(db);
  return { ...w, store, g, releaseA, a, b };
}

/** Fails, at its COMMIT (a deferred constraint trigger), any transaction inserting this dataset. */
async function failAtCommit(db: Database, name: string): Promise<void> {
  await db.exec(`
    CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
    CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON datasets
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.name = '${name}')
      EXECUTE FUNCTION refuse_at_commit();`);
}

dbTest(
  "a chained commit starts during the previous COMMIT and is acknowledged after it, in order",
  async ({ db }) => {
    const chain = await heldChain(db, dataset("/Chain/A/X"), dataset("/Chain/B/X"));
    const { system, gateway, publication, g, releaseA } = chain;
    const answered: string[] = [];
    const a = chain.a.then((r) => (answered.push("A"), r));
    const b = chain.b.then((r) => (answered.push("B"), r));
    // Neither is acknowledged or published before A's COMMIT: B's COMMIT waits for A's.
    assertEquals(answered, []);
    assertEquals(publication.snapshot().generation, g);
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assertEquals([ra.ok && ra.generation, rb.ok && rb.generation], [g + 1, g + 2]);
    assertEquals(answered, ["A", "B"]);
    assertEquals(await journalSeqs(db), [g, g + 1, g + 2]);
    assertEquals(await datasetNames(db), ["/Chain/A/X", "/Chain/B/X", "/Setup/A/X"]);
    const reloaded = await new SqlInventoryStore(db).loadTables(DEFAULT_PARTITIONS);
    assertEquals(inventoryDigest(reloaded), inventoryDigest(gateway.snapshot().state));
    await system.shutdown();
  },
);

dbTest(
  "a row the previous commit inserted is deleted by the chained one (its statements see that commit)",
  async ({ db }) => {
    // On PostgreSQL a DELETE whose snapshot was taken before the previous COMMIT would not see the row
    // inserted there and delete nothing; the chained commit's statements wait behind inventory_meta.
    const { system, gateway, releaseA, a, b } = await heldChain(
      db,
      {
        commands: [
          c({ op: "site.upsert", name: "T2_Q", storage_type: "disk" }),
          c({ op: "dataset.upsert", name: "/Brief/A/X" }),
        ],
      },
      { commands: [c({ op: "dataset.delete", name: "/Brief/A/X" }), c({ op: "site.delete", name: "T2_Q" })] },
    );
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assert(ra.ok && rb.ok, JSON.stringify([ra, rb]));
    assertEquals(rb.outcomes.map((o) => o.status), ["applied", "applied"]);
    assertEquals(await datasetNames(db), ["/Setup/A/X"]);
    assertEquals(await db.queryArrays("SELECT name FROM sites"), []);
    const reloaded = await new SqlInventoryStore(db).loadTables(DEFAULT_PARTITIONS);
    assertEquals(inventoryDigest(reloaded), inventoryDigest(gateway.snapshot().state));
    await system.shutdown();
  },
);

dbTest(
  "a previous commit failing at COMMIT fails the chained one: both answered, nothing written, one reload",
  async ({ db }) => {
    await failAtCommit(db, "/Refused/At/Commit");
    const { system, gateway, publication, g, releaseA, a, b } = await heldChain(
      db,
      dataset("/Refused/At/Commit"),
      dataset("/Chained/B/X"),
    );
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assert(!ra.ok && !rb.ok, JSON.stringify([ra, rb]));
    assertEquals([ra.error, rb.error], [WRITE_FAILED, WRITE_FAILED]);
    assert(/refused at commit/.test(ra.cause ?? ""), ra.cause);
    assertEquals(publication.snapshot().generation, g);
    assertEquals(await journalSeqs(db), [g]);
    assertEquals(await datasetNames(db), ["/Setup/A/X"]);
    await system.runUntilIdle();
    // One restart: the chained commit's failure, reported after the first, is not a second reason.
    assertEquals(system.incarnationOf("/inventory"), 2);
    const retry = await gateway.submit(dataset("/Chained/B/X"));
    assert(retry.ok);
    assertEquals(retry.generation, g + 1);
    assertEquals(await datasetNames(db), ["/Chained/B/X", "/Setup/A/X"]);
    await system.shutdown();
  },
);

dbTest(
  "a previous commit failing in its statements fails the batch behind it before that sends anything",
  async ({ db }) => {
    const store = new HeldStore(db);
    // One command per batch: the second is a full batch, taken and reduced while the first is written.
    const { system, gateway } = await startWriter(db, undefined, undefined, { store, maxBatchCommands: 1 });
    await gateway.submit(dataset("/Setup/A/X"));
    const g = gateway.snapshot().generation;
    // Something else holds the first one's journal sequence: its INSERT fails (primary key).
    await db.queryArrays(
      `INSERT INTO inventory_journal (seq, at_ms, version, commands, annex)
       VALUES ($1, 0, 1, '[{"op":"dataset.upsert","name":"/From/Elsewhere/X"}]', '{"files":[],"blockFiles":[]}')`,
      [g + 1],
    );
    const taken = store.batchesTaken(2);
    const releaseA = store.holdStart(g + 1);
    const a = gateway.submit(dataset("/First/A/X"));
    const b = gateway.submit(dataset("/Second/B/X"));
    await taken;
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assert(!ra.ok && !rb.ok, JSON.stringify([ra, rb]));
    assertEquals([ra.error, rb.error], [WRITE_FAILED, WRITE_FAILED]);
    let secondStarted = false;
    store.started(g + 2).then(() => secondStarted = true);
    await system.runUntilIdle();
    assertEquals(secondStarted, false);
    assertEquals(await datasetNames(db), ["/Setup/A/X"]);
    assertEquals(system.incarnationOf("/inventory"), 2);
    await system.shutdown();
  },
);

dbTest(
  "a chained commit that fails leaves the one before it acknowledged and durable",
  async ({ db }) => {
    // Something else holds the chained one's journal sequence: its INSERT fails (primary key).
    const { system, gateway, g, releaseA, a, b } = await heldChain(
      db,
      dataset("/Kept/A/X"),
      dataset("/Lost/B/X"),
      (g) =>
        db.queryArrays(
          `INSERT INTO inventory_journal (seq, at_ms, version, commands, annex)
           VALUES ($1, 0, 1, '[{"op":"dataset.upsert","name":"/From/Elsewhere/X"}]', '{"files":[],"blockFiles":[]}')`,
          [g + 2],
        ).then(() => {}),
    );
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assert(ra.ok && ra.generation === g + 1, JSON.stringify(ra));
    assert(!rb.ok && rb.error === WRITE_FAILED, JSON.stringify(rb));
    assertEquals(await datasetNames(db), ["/Kept/A/X", "/Setup/A/X"]);
    await system.runUntilIdle();
    assertEquals(system.incarnationOf("/inventory"), 2);
    // Reloaded: A's row from the tables, then the journal's tail.
    assert(gateway.snapshot().dataset("/Kept/A/X"));
    assert(gateway.snapshot().dataset("/From/Elsewhere/X"));
    assertEquals(gateway.snapshot().dataset("/Lost/B/X"), undefined);
    await system.shutdown();
  },
);

dbTest("a commit chained to one that did not commit, or failed, writes nothing", async ({ db }) => {
  const store = new SqlInventoryStore(db);
  const base = await store.loadTables(DEFAULT_PARTITIONS);
  const batch = (seq: number, name: string): CommitBatch => {
    const result = reduceBatch(
      base,
      [{ commands: [c({ op: "dataset.upsert", name })] }],
      catalogFromAnnex({ files: [], blockFiles: [] }),
      0,
      seq,
    );
    return {
      entry: { seq, atMs: 0, version: 1, commands: result.applied, annex: { files: [], blockFiles: [] } },
      base,
      state: result.state,
      changes: result.changes,
    };
  };
  // Told the previous one (seq 1) was durable, while the tables say it never was: refused by the check.
  const durable = Promise.resolve();
  const error = await assertRejects(() =>
    store.commit({ ...batch(2, "/Orphan/B/X"), after: { seq: 1, written: durable, published: durable } })
  );
  assert(/did not commit/.test(String(error)), String(error));
  // The previous one failed after its statements were answered: rolled back.
  const failed = Promise.reject(new Error("previous commit failed"));
  failed.catch(() => {});
  await assertRejects(
    () =>
      store.commit({ ...batch(1, "/Orphan/A/X"), after: { seq: 0, written: durable, published: failed } }),
    Error,
    "previous commit failed",
  );
  assertEquals(await journalSeqs(db), []);
  assertEquals(await datasetNames(db), []);
});

postgresTest(
  "a chained commit failing early (its lock wait cancelled) restarts the writer only once the one before it is published",
  async ({ db }) => {
    // A chained commit can fail while the previous COMMIT is still in flight: lock_timeout or
    // statement_timeout set by an operator, a cancel. Reloading then would load tables without the previous
    // commit, which lands (and is acknowledged) afterwards: the new writer would answer from a stale head.
    const { system, gateway, publication, g, releaseA, a, b } = await heldChain(
      db,
      dataset("/Chain/A/X"),
      dataset("/Chain/B/X"),
    );
    const [[cancelled]] = await db.queryArrays(
      `SELECT count(pg_cancel_backend(pid))::integer FROM (${LOCK_WAITERS_OF_THIS_SCHEMA}) w`,
    ) as [[number]];
    assertEquals(cancelled, 1);
    // Round trips, not time: B's error reaches the writer within a few; it must not restart on it yet.
    for (let i = 0; i < 100 && system.incarnationOf("/inventory") === 1; i++) {
      await db.queryArrays("SELECT 1");
    }
    assertEquals(system.incarnationOf("/inventory"), 1, "reloaded while the previous COMMIT was in flight");
    assertEquals(publication.snapshot().generation, g);
    releaseA();
    const [ra, rb] = await Promise.all([a, b]);
    assert(ra.ok && ra.generation === g + 1, JSON.stringify(ra));
    assert(!rb.ok && rb.error === WRITE_FAILED, JSON.stringify(rb));
    await system.runUntilIdle();
    assertEquals(system.incarnationOf("/inventory"), 2);
    // The reloaded writer has A: deleting A's dataset applies, on the next generation.
    const deleted = await gateway.submit({ commands: [c({ op: "dataset.delete", name: "/Chain/A/X" })] });
    assert(deleted.ok && deleted.outcomes[0]!.status === "applied", JSON.stringify(deleted));
    assertEquals(deleted.generation, g + 2);
    assertEquals(await datasetNames(db), ["/Setup/A/X"]);
    await system.shutdown();
  },
);

/**
 * Group commit (takeNow): two callers answered by commit A submit again at once; meanwhile B, chained
 * to A, is unpublished and C waits for its batch. C is taken once both are back, in one transaction
 * with them, not before (then they would wait for the transaction after it).
 */
dbTest("callers answered while the last commit is unpublished join the next batch", async ({ db }) => {
  const store = new HeldStore(db);
  const { system, gateway, publication } = await startWriter(db, undefined, undefined, { store });
  await gateway.submit(dataset("/Setup/A/X"));
  const g = gateway.snapshot().generation;
  const releaseA = store.hold(g + 1);
  const releaseB = store.hold(g + 2);
  // The callers come back after B's statements are answered (HTTP clients take longer than a
  // microtask): a batch taken at B's "written" would hold only C.
  const again = (name: string) => async (r: SubmitReply) => {
    assert(r.ok && r.generation === g + 1, JSON.stringify(r));
    await store.written(g + 2);
    await yieldToEventLoop();
    return await gateway.submit(dataset(name));
  };
  const a = [
    gateway.submit(dataset("/A/1/X")).then(again("/A/1/Y")),
    gateway.submit(dataset("/A/2/X")).then(again("/A/2/Y")),
  ];
  await store.written(g + 1);
  const b = gateway.submit(dataset("/B/0/X"));
  await store.started(g + 2);
  const waiting = gateway.submit(dataset("/C/0/X"));
  releaseA();
  await store.started(g + 3);
  assertEquals(publication.snapshot().generation, g + 1, "B is still unpublished");
  releaseB();
  const replies = await Promise.all([b, waiting, ...a]);
  assertEquals(replies.map((r) => r.ok && r.generation), [g + 2, g + 3, g + 3, g + 3]);
  assertEquals(await journalSeqs(db), [g, g + 1, g + 2, g + 3]);
  await system.shutdown();
});

dbTest(
  "a small batch waiting for answered callers who do not come back is taken when the last commit is published",
  async ({ db }) => {
    const store = new HeldStore(db);
    const { system, gateway } = await startWriter(db, undefined, undefined, { store });
    await gateway.submit(dataset("/Setup/A/X"));
    const g = gateway.snapshot().generation;
    const releaseA = store.hold(g + 1);
    const releaseB = store.hold(g + 2);
    const a = [gateway.submit(dataset("/A/1/X")), gateway.submit(dataset("/A/2/X"))];
    await store.written(g + 1);
    const b = gateway.submit(dataset("/B/0/X"));
    await store.started(g + 2);
    const waiting = gateway.submit(dataset("/C/0/X"));
    releaseA();
    await Promise.all(a);
    releaseB();
    const replies = await Promise.all([...a, b, waiting]);
    assertEquals(replies.map((r) => r.ok && r.generation), [g + 1, g + 1, g + 2, g + 3]);
    await system.shutdown();
  },
);
