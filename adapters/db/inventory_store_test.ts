import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import {
  catalogFromAnnex,
  DEFAULT_PARTITIONS,
  EMPTY_ANNEX,
  fileNeeds,
  inventoryDigest,
  parseCommand,
  reduceBatch,
} from "../../registry/inventory/mod.ts";
import { arrayLiteral, SqlInventoryStore } from "./inventory_store.ts";
import { JOURNAL_FORMAT, NEWEST_JOURNAL_FORMAT, PACKED_JOURNAL_FORMAT } from "./journal_codec.ts";
import { migrate, SchemaVersionError } from "./migrate.ts";

const COMMANDS = [
  {
    op: "site.upsert",
    name: "T2_A",
    storage_type: "disk",
    status: "ready",
    filename_mappings: { root: [[["^/(.*)$", "root://a//{0}"]]] },
  },
  { op: "site.upsert", name: "T2_B", storage_type: "disk" },
  { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
  { op: "quota.set", site: "T2_A", partition: "Default", quota: 5_000_000_000_000 },
  { op: "dataset.upsert", name: "/A/B/RAW", status: "valid", software_version: "CMSSW_10_2_0" },
  { op: "block.upsert", dataset: "/A/B/RAW", block: "b0" },
  {
    op: "files.add",
    dataset: "/A/B/RAW",
    block: "b0",
    files: [{ lfn: "/store/a/0", size: 3_000_000_000, checksum: { adler32: "01020304" } }, {
      lfn: "/store/a/1",
      size: 7,
    }],
  },
  { op: "block.upsert", dataset: "/A/B/RAW", block: "b1" },
  { op: "files.add", dataset: "/A/B/RAW", block: "b1", files: [{ lfn: "/store/b/0", size: 11 }] },
  { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
  { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
  { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_A", files: [] },
  { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_B", group: "AnalysisOps" },
  { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_B", files: ["/store/a/1"] },
];

dbTest("committed batches load back to the same inventory", async ({ db }) => {
  const store = new SqlInventoryStore(db);
  let state = await store.loadTables(DEFAULT_PARTITIONS);
  const batches = [COMMANDS.slice(0, 9), COMMANDS.slice(9), [
    { op: "block_replica.delete", dataset: "/A/B/RAW", block: "b0", site: "T2_B" },
    { op: "dataset.upsert", name: "/C/D/AOD" },
    { op: "block.upsert", dataset: "/C/D/AOD", block: "x" },
    { op: "block.delete", dataset: "/C/D/AOD", block: "x" },
  ]];
  for (const raw of batches) {
    const commands = raw.map((c) => parseCommand(c));
    const annex = await store.prefetchFiles(fileNeeds(state, commands));
    const result = reduceBatch(
      state,
      [{ commands }],
      catalogFromAnnex(annex),
      1_800_000_000_000,
      state.generation + 1,
    );
    assertEquals(result.outcomes.flat().map((o) => o.status), commands.map(() => "applied"));
    await store.commit({
      entry: {
        seq: result.state.generation,
        atMs: 1_800_000_000_000,
        version: 1,
        commands: result.applied,
        annex,
      },
      base: state,
      state: result.state,
      changes: result.changes,
    });
    state = result.state;
  }
  const loaded = await store.loadTables(DEFAULT_PARTITIONS);
  assertEquals(loaded.generation, 3);
  assertEquals(inventoryDigest(loaded), inventoryDigest(state));
  const files = await store.filesOfBlock(state.names.blocks.get(1)!.get("b0")!);
  assertEquals(files.map((f) => [f.lfn, f.size, f.checksum]), [
    ["/store/a/0", 3_000_000_000, { adler32: "01020304" }],
    ["/store/a/1", 7, {}],
  ]);
  assertEquals((await store.journalSince(1)).map((e) => [e.seq, e.commands.length]), [[2, 5], [3, 4]]);
  // The rows say their format, so that an older node refuses them by name rather than misreads them.
  const formats = await db.queryArrays("SELECT DISTINCT version FROM inventory_journal");
  assertEquals(formats.map((r) => Number(r[0])), [JOURNAL_FORMAT]);
  // A row of a format newer than this binary knows is refused with a message that says so.
  await db.queryArrays("UPDATE inventory_journal SET version = $1 WHERE seq = 3", [
    NEWEST_JOURNAL_FORMAT + 1,
  ]);
  const error = await assertRejects(() => store.journalSince(1));
  assert(String(error).includes("newer Dynamo"), String(error));
});

dbTest(
  "a large journal row is packed exactly where the database has no lz4, and reads back the same",
  async ({ db }) => {
    const store = new SqlInventoryStore(db);
    let state = await store.loadTables(DEFAULT_PARTITIONS);
    const [[storage, compression]] = await db.queryArrays(
      `SELECT attstorage, attcompression FROM pg_attribute
     WHERE attrelid = 'inventory_journal'::regclass AND attname = 'commands'`,
    ) as [[string, string]];
    // Migration 014: EXTERNAL (no second compression by the database) wherever lz4 is not there.
    assertEquals(storage, compression === "l" ? "x" : "e");
    if (db.kind === "pglite") assertEquals(storage, "e"); // PGlite has no lz4
    const batches = [
      [{ op: "dataset.upsert", name: "/Small/Row/AOD" }],
      Array.from(
        { length: 400 },
        (_, i) => ({ op: "dataset.upsert", name: `/P${i}/${crypto.randomUUID()}/AOD` }),
      ),
    ];
    for (const raw of batches) {
      const commands = raw.map((c) => parseCommand(c));
      const result = reduceBatch(
        state,
        [{ commands }],
        catalogFromAnnex(EMPTY_ANNEX),
        5,
        state.generation + 1,
      );
      await store.commit({
        entry: {
          seq: result.state.generation,
          atMs: 5,
          version: 1,
          commands: result.applied,
          annex: EMPTY_ANNEX,
        },
        base: state,
        state: result.state,
        changes: result.changes,
      });
      state = result.state;
    }
    const rows = await db.queryArrays("SELECT seq, version FROM inventory_journal ORDER BY seq");
    assertEquals(rows.map((r) => [Number(r[0]), Number(r[1])]), [
      [1, JOURNAL_FORMAT], // small: plain wherever it is
      [2, storage === "e" ? PACKED_JOURNAL_FORMAT : JOURNAL_FORMAT],
    ]);
    const entries = await new SqlInventoryStore(db).journalSince(0);
    assertEquals(
      entries.map((e) => e.commands.map((c) => (c as { name: string }).name)),
      batches.map((b) => b.map((c) => c.name)),
    );
  },
);

dbTest("quotas beyond 2^53 bytes load back as numbers", async ({ db }) => {
  // PGlite hands int8 values above 2^53 back as BigInt unless told otherwise; the
  // quota arithmetic then throws "Cannot mix BigInt and other types".
  const store = new SqlInventoryStore(db);
  const state = await store.loadTables(DEFAULT_PARTITIONS);
  const commands = [
    { op: "site.upsert", name: "T1_X_MSS", storage_type: "mss" },
    { op: "quota.set", site: "T1_X_MSS", partition: "Default", quota: 2e16 },
  ].map((c) => parseCommand(c));
  const result = reduceBatch(state, [{ commands }], catalogFromAnnex(EMPTY_ANNEX), 0, 1);
  await store.commit({
    entry: { seq: 1, atMs: 0, version: 1, commands: result.applied, annex: EMPTY_ANNEX },
    base: state,
    state: result.state,
    changes: result.changes,
  });
  const loaded = await store.loadTables(DEFAULT_PARTITIONS);
  const quota = loaded.ledger.get(loaded.names.sites.get("T1_X_MSS")!)!.quota;
  assertEquals(quota.map((q) => typeof q), quota.map(() => "number"));
  assertEquals(Math.max(...quota), 2e16);
});

dbTest("a database written by a newer Dynamo is refused with the unknown versions", async ({ db }) => {
  await db.exec("INSERT INTO dynamo_migrations (name, applied_ms) VALUES ('999_from_the_future', 0)");
  const e = await assertRejects(() => migrate(db, 0), SchemaVersionError);
  assertEquals(e.unknown, ["999_from_the_future"]);
});

dbTest(
  "new rows over the COPY threshold, the last already in the table after all, fail the commit and write nothing",
  async ({ db }) => {
    // The COPY is refused by the server after all its data is sent: the commit failed on PostgreSQL
    // only by never settling (postgres.js reported that error to nobody).
    const store = new SqlInventoryStore(db);
    const state = await store.loadTables(DEFAULT_PARTITIONS);
    const n = db.copyThreshold + 7;
    const commands = Array.from(
      { length: n },
      (_, i) => parseCommand({ op: "dataset.upsert", name: `/C${i}/D/E` }),
    );
    const result = reduceBatch(state, [{ commands }], catalogFromAnnex({ files: [], blockFiles: [] }), 1, 1);
    const lastId = result.state.names.datasets.get(`/C${n - 1}/D/E`)!;
    await db.exec(
      `INSERT INTO datasets (id, name, status, data_type, software_version, last_update, is_open)
       VALUES (${lastId}, 'stray', 'valid', 'unknown', '', 0, true)`,
    );
    const error = await assertRejects(() =>
      store.commit({
        entry: {
          seq: 1,
          atMs: 1,
          version: 1,
          commands: result.applied,
          annex: { files: [], blockFiles: [] },
        },
        base: state,
        state: result.state,
        changes: result.changes,
      })
    );
    assert(/duplicate key/.test(String(error)), String(error));
    await db.exec(`DELETE FROM datasets WHERE id = ${lastId}`);
    assertEquals(inventoryDigest(await store.loadTables(DEFAULT_PARTITIONS)), inventoryDigest(state));
    assertEquals(await store.journalSince(0), []);
  },
);

dbTest(
  "batches over the COPY threshold load back the same, journal and all; a failed one leaves nothing",
  async ({ db }) => {
    // Every table gets more new rows than copyThreshold (so they go in with COPY), with text that COPY
    // must escape; the second batch changes and deletes rows the first one copied in.
    const store = new SqlInventoryStore(db);
    let state = await store.loadTables(DEFAULT_PARTITIONS);
    const n = db.copyThreshold + 7;
    const first: unknown[] = [
      { op: "site.upsert", name: "T2_A", storage_type: "disk" },
      { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ];
    for (let i = 0; i < n; i++) {
      const dataset = `/P${i}/Q\\r\\n-v1/AOD`;
      first.push(
        { op: "dataset.upsert", name: dataset, status: "valid", software_version: `CMSSW\\"${i}"` },
        { op: "block.upsert", dataset, block: "b\\0" },
        { op: "files.add", dataset, block: "b\\0", files: [{ lfn: `/store/p${i}/\\f.root`, size: i + 1 }] },
        { op: "dataset_replica.upsert", dataset, site: "T2_A", group: "AnalysisOps" },
        { op: "block_replica.upsert", dataset, block: "b\\0", site: "T2_A" },
      );
    }
    const second: unknown[] = [];
    for (let i = 0; i < n; i += 2) {
      const dataset = `/P${i}/Q\\r\\n-v1/AOD`;
      second.push(
        { op: "dataset.upsert", name: dataset, status: "production" },
        i % 4 === 0
          ? { op: "block_replica.delete", dataset, block: "b\\0", site: "T2_A" }
          : { op: "block_replica.upsert", dataset, block: "b\\0", site: "T2_A", files: [] },
      );
    }
    const commitBatch = async (raw: unknown[], seq: number) => {
      const commands = raw.map((c) => parseCommand(c));
      const annex = await store.prefetchFiles(fileNeeds(state, commands));
      const result = reduceBatch(state, [{ commands }], catalogFromAnnex(annex), 1_800_000_000_000, seq);
      assertEquals(result.outcomes.flat().filter((o) => o.status !== "applied"), []);
      const batch = {
        entry: { seq, atMs: 1_800_000_000_000, version: 1, commands: result.applied, annex },
        base: state,
        state: result.state,
        changes: result.changes,
      };
      return { batch, commit: () => store.commit(batch) };
    };
    const a = await commitBatch(first, 1);
    await a.commit();
    state = a.batch.state;
    const b = await commitBatch(second, 2);
    await b.commit();
    state = b.batch.state;
    const loaded = await store.loadTables(DEFAULT_PARTITIONS);
    assertEquals(loaded.counts.blockReplicas, n - Math.ceil(n / 4));
    assertEquals(inventoryDigest(loaded), inventoryDigest(state));
    // PostgreSQL streams each table in one SELECT; read in pages instead, the same inventory.
    const paged = await new SqlInventoryStore(db, { pagedLoad: true }).loadTables(DEFAULT_PARTITIONS);
    assertEquals(inventoryDigest(paged), inventoryDigest(state));
    const journal = await store.journalSince(0, 10);
    assertEquals(journal.map((e) => e.commands), [a.batch.entry.commands, b.batch.entry.commands]);
    const files = await store.filesOfBlock(
      state.names.blocks.get(state.names.datasets.get("/P3/Q\\r\\n-v1/AOD")!)!
        .get("b\\0")!,
    );
    assertEquals(files.map((f) => [f.lfn, f.size]), [["/store/p3/\\f.root", 4]]);

    // The same sequence number again: refused, and none of its COPYed rows stay.
    const c = await commitBatch(
      Array.from({ length: n }, (_, i) => ({ op: "dataset.upsert", name: `/N${i}/M/AOD` })),
      2,
    );
    await assertRejects(() => c.commit());
    assertEquals(inventoryDigest(await store.loadTables(DEFAULT_PARTITIONS)), inventoryDigest(state));
  },
);

dbTest(
  "the journal stores commands with hostile text exactly, and reads old plain-array rows",
  async ({ db }) => {
    // The store takes what the writer applied; here text that the command parser would refuse too
    // (NUL, control characters): the journal must keep it byte for byte or refuse it, never alter it.
    const store = new SqlInventoryStore(db);
    const state = await store.loadTables(DEFAULT_PARTITIONS);
    const hostile = [
      "quote \" ' `",
      "back\\slash \\\\ \\N \\.",
      "nul \u0000 byte",
      "tab\tnewline\ncr\r",
      "unicode é 漢字 🚀 \u2028",
      "lone \ud800 surrogate",
    ];
    const commands = hostile.flatMap((s) => [
      { op: "dataset.upsert", name: s, software_version: s },
      { op: "dataset.upsert", name: s, software_version: s },
      { op: s, [s]: [s, { [s]: s }] },
    ]);
    const result = reduceBatch(state, [], catalogFromAnnex(EMPTY_ANNEX), 0, 1);
    await store.commit({
      // deno-lint-ignore no-explicit-any
      entry: { seq: 1, atMs: 0, version: 1, commands: commands as any, annex: EMPTY_ANNEX },
      base: state,
      state: result.state,
      changes: result.changes,
    });
    // A row as journals were written before the compact format.
    await db.queryArrays(
      "INSERT INTO inventory_journal (seq, at_ms, version, commands, annex) VALUES ($1, $2, $3, $4, $5)",
      [2, 0, 1, JSON.stringify([{ op: "site.upsert", name: hostile[0] }]), JSON.stringify(EMPTY_ANNEX)],
    );
    const journal = await store.journalSince(0);
    assertEquals(JSON.stringify(journal[0]!.commands), JSON.stringify(commands));
    assertEquals(journal[1]!.commands, [{ op: "site.upsert" as const, name: hostile[0]! }]);
  },
);

dbTest(
  "a new row found already in its table fails the commit and leaves nothing, as a COPY would",
  async ({ db }) => {
    // Rows new to the base state go in with a plain INSERT below the COPY threshold (COPY above it):
    // a table that disagrees with the state the writer reduced on is an error, never overwritten.
    const store = new SqlInventoryStore(db);
    const base = await store.loadTables(DEFAULT_PARTITIONS);
    const commands = COMMANDS.map((c) => parseCommand(c));
    const annex = await store.prefetchFiles(fileNeeds(base, commands));
    const result = reduceBatch(base, [{ commands }], catalogFromAnnex(annex), 1_800_000_000_000, 1);
    const siteId = result.state.names.sites.get("T2_B")!;
    const datasetId = result.state.names.datasets.get("/A/B/RAW")!;
    await db.queryArrays(
      "INSERT INTO dataset_replicas (dataset_id, site_id, growing, group_id) VALUES ($1, $2, false, 99)",
      [datasetId, siteId],
    );
    const batch = {
      entry: { seq: 1, atMs: 1_800_000_000_000, version: 1, commands: result.applied, annex },
      base,
      state: result.state,
      changes: result.changes,
    };
    const error = await assertRejects(() => store.commit(batch));
    assert(/duplicate key|unique/i.test(String(error)), String(error));
    assertEquals(await store.journalSince(0), []);
    assertEquals(await db.queryArrays("SELECT dataset_id, site_id, group_id FROM dataset_replicas"), [[
      datasetId,
      siteId,
      99,
    ]]);
    assertEquals(await db.queryArrays("SELECT count(*)::integer FROM block_replicas"), [[0]]);
  },
);

dbTest(
  "a column passed as an array literal comes back exactly, nulls and hostile text included",
  async ({ db }) => {
    const text = [
      "plain",
      "",
      "NULL",
      "null",
      " spaced ",
      'quote " inside',
      "back\\slash \\\\ \\N",
      "{braces},comma",
      "tab\tnewline\ncr\r",
      "unicode é 漢字 🚀",
      null,
      '"\\',
    ];
    const rows = text.map((t, i) => [i === 3 ? null : i * 1_000_000_007, t, i % 2 === 0]);
    // Read back as the store's INSERT … SELECT FROM unnest reads them (the drivers' own parsers of
    // arrays are not what is tested: postgres.js reads a NULL element of text[] as "NULL").
    const back = await db.queryArrays(
      `SELECT a, b, c FROM unnest($1::bigint[], $2::text[], $3::text[]::boolean[]) WITH ORDINALITY AS u(a, b, c, i)
       ORDER BY i`,
      [arrayLiteral(rows, 0, true), arrayLiteral(rows, 1, false), arrayLiteral(rows, 2, false)],
    );
    assertEquals(back, rows);
  },
);
