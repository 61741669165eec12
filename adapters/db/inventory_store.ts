/**
 * Long on purpose (~550 lines): the paged load of every inventory table and the journal
 * commit (one transaction writing the changed rows of every table) are one protocol over one schema;
 * they change together whenever a table does.
 */
import {
  COMMAND_VERSION,
  type FileAnnex,
  type FileNeeds,
  type FileRecord,
  InventoryLoader,
  type InventoryState,
  type MappingChain,
  type OwnershipLevel,
  pairOf,
  type PartitionDefinition,
  PartitionTable,
  type SiteStatus,
  Snapshot,
  type StorageType,
} from "../../registry/inventory/mod.ts";
import type { BulkTransaction, Cell, Database, TableReader } from "./database.ts";
import type {
  CommitBatch,
  CommitContent,
  InventoryStore,
  JournalEntry,
  LoadProgress,
  PreparedCommit,
  TablesCheckpoint,
  TableSink,
} from "./inventory_store_port.ts";
import { JOURNAL_CHANNEL } from "./inventory_store_port.ts";
import { settleInjections } from "./injection_queue.ts";
import { insertReplicaOperations } from "./replica_operations.ts";
import { recordCommittedKeys } from "./cluster_store.ts";
import { PipelinedWrites } from "./pipelined_writes.ts";
import { STORED_TABLES } from "./stored_rows.ts";
import {
  decodeJournalRow,
  encodeCommands,
  JOURNAL_FORMAT,
  PACKED_JOURNAL_FORMAT,
  packJournalText,
} from "./journal_codec.ts";

/** Rows per page when streaming tables at start-up. */
const PAGE = 50_000;
/** Rows per statement for bulk writes. */
const WRITE_CHUNK = 20_000;

/** The inventory tables and journal in PostgreSQL or PGlite. */
export class SqlInventoryStore implements InventoryStore {
  /**
   * @param options.fence run last in every commit transaction; throws to roll it back (a deposed leader).
   * @param options.pagedLoad read the tables in pages even where the database can stream them (tests
   *   compare the two).
   */
  constructor(
    private readonly db: Database,
    private readonly options: { fence?: (tx: BulkTransaction) => Promise<void>; pagedLoad?: boolean } = {},
  ) {}

  // ---- loading -----------------------------------------------------------------

  async loadTables(
    definitions: readonly PartitionDefinition[],
    onProgress?: (p: LoadProgress) => void,
  ): Promise<InventoryState> {
    const loader = new InventoryLoader(await this.partitionTable(definitions));
    const { generation, counters } = await this.#snapshotTables(loader, onProgress);
    return loader.finish(generation, counters);
  }

  /** The configured partitions with their persistent ids (new ones are registered). */
  async partitionTable(definitions: readonly PartitionDefinition[]): Promise<PartitionTable> {
    return new PartitionTable(definitions, await this.partitionIds(definitions));
  }

  async streamTables(
    definitions: readonly PartitionDefinition[],
    loader: TableSink,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TablesCheckpoint> {
    await this.partitionIds(definitions);
    return await this.#snapshotTables(loader, onProgress);
  }

  async #snapshotTables(
    loader: TableSink,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TablesCheckpoint> {
    // Every table as of one moment: a follower loads while the writer on another node commits, and
    // tables read at different moments could hold a row whose block or dataset the loader never saw.
    const [checkpoint, [[packs]]] = await Promise.all([
      this.db.snapshotReads((reader) => this.#readTables(reader, loader, onProgress)),
      this.db.queryArrays(
        `SELECT attstorage = 'e' FROM pg_attribute
         WHERE attrelid = 'inventory_journal'::regclass AND attname = 'commands'`,
      ) as Promise<[[boolean]]>,
    ]);
    this.#packsJournal = packs === true;
    return checkpoint;
  }

  /**
   * Whether a large journal row's text is packed (format 3): where migration 014 made the column
   * EXTERNAL, as the database has no lz4. Learned with the tables (a writer loads them before it
   * commits); until then rows are written in format 2, which reads back the same.
   */
  #packsJournal = false;

  async #readTables(
    reader: TableReader,
    loader: TableSink,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TablesCheckpoint> {
    // The small tables' statements go out together (postgres.js pipelines them on the snapshot's
    // connection): one round trip instead of four before the first large table.
    const [[meta], groupRows, siteRows, quotaRows] = await Promise.all([
      reader.queryArrays(
        `SELECT table_seq, next_dataset_id, next_block_id, next_site_id, next_group_id, next_file_id
         FROM inventory_meta WHERE id = 1`,
      ),
      reader.queryArrays("SELECT id, name, olevel FROM groups ORDER BY id"),
      reader.queryArrays(
        "SELECT id, name, host, storage_type, backend, status, filename_mappings FROM sites ORDER BY id",
      ),
      reader.queryArrays("SELECT site_id, partition_id, quota FROM quotas"),
    ]);
    if (!meta) throw new Error("inventory_meta has no row: the database was not migrated");
    const [tableSeq, nextDatasetId, nextBlockId, nextSiteId, nextGroupId, nextFileId] = meta as number[];
    const progress = (table: string, rows: number) => onProgress?.({ table, rows });
    // Block ids are handed out from 1 up: the next one bounds how many blocks are stored.
    loader.expectBlocks?.(nextBlockId!);

    for (const [id, name, olevel] of groupRows) {
      loader.addGroup(id as number, name as string, olevel as OwnershipLevel);
    }
    for (const [id, name, host, storageType, backend, status, mappings] of siteRows) {
      loader.addSite({
        id: id as number,
        name: name as string,
        host: host as string,
        storageType: storageType as StorageType,
        backend: backend as string,
        status: status as SiteStatus,
        filenameMappings: mappings as Record<string, MappingChain[]>,
      });
    }
    for (const [siteId, partitionId, quota] of quotaRows) {
      loader.addQuota(siteId as number, partitionId as number, quota as number);
    }
    for (const table of STORED_TABLES) {
      await this.#eachRow(
        reader,
        table.name,
        table.keys,
        table.columns,
        (row) => table.add(loader, row),
        progress,
      );
    }
    return {
      generation: tableSeq!,
      counters: {
        nextDatasetId: nextDatasetId!,
        nextBlockId: nextBlockId!,
        nextSiteId: nextSiteId!,
        nextGroupId: nextGroupId!,
        nextFileId: nextFileId!,
      },
    };
  }

  /** Persistent partition ids; partitions new to the configuration are inserted. */
  async partitionIds(definitions: readonly PartitionDefinition[]): Promise<Map<string, number>> {
    const rows = await this.db.kysely.selectFrom("partitions").select(["id", "name"]).execute();
    const ids = new Map(rows.map((r) => [r.name, r.id]));
    let next = Math.max(0, ...ids.values()) + 1;
    const missing = definitions.filter((d) => !ids.has(d.name)).map((d) => ({ id: next++, name: d.name }));
    if (missing.length > 0) {
      await this.db.kysely.insertInto("partitions").values(missing).execute();
      for (const m of missing) ids.set(m.name, m.id);
    }
    return ids;
  }

  /**
   * Every row of a table in key order, handed to `onRow`; `progress` every PAGE rows.
   *
   * On PostgreSQL, one SELECT per table whose rows are handed over as the driver
   * parses them off the socket: no page of 50,000 row arrays is held while the
   * objects are built from it, so the young generation holds only what the
   * loader keeps (the pages made scavenges copy every live row, and promote them).
   * The server sends while we build (TCP's window is the read-ahead). PGlite
   * cannot stream: it reads keyset pages, as PostgreSQL does with `pagedLoad`.
   */
  async #eachRow(
    reader: TableReader,
    table: string,
    keys: readonly string[],
    columns: string,
    onRow: (row: unknown[]) => void,
    progress: (table: string, rows: number) => void,
  ): Promise<void> {
    let n = 0;
    if (reader.streamArrays && !this.options.pagedLoad) {
      await reader.streamArrays(`SELECT ${columns} FROM ${table} ORDER BY ${keys.join(", ")}`, [], (row) => {
        onRow(row);
        if (++n % PAGE === 0) progress(table, n);
      });
      if (n % PAGE !== 0) progress(table, n);
      return;
    }
    for await (const page of this.#pages(reader, table, keys, columns)) {
      for (const row of page) onRow(row);
      progress(table, n += page.length);
    }
  }

  /**
   * Keyset pagination: a table in key order without holding it all.
   * On PostgreSQL (`pagedLoad`) the next page is asked for as soon as this one arrives, so
   * the server reads and sends it while the caller builds objects from this
   * one. In-process PGlite would run it on this same thread: no gain there.
   */
  async *#pages(
    reader: TableReader,
    table: string,
    keys: readonly string[],
    columns: string,
  ): AsyncGenerator<unknown[][]> {
    const order = keys.join(", ");
    const after = `WHERE (${order}) > (${keys.map((_, i) => `$${i + 1}`).join(", ")})`;
    const page = (last: unknown[] | null): Promise<unknown[][]> =>
      reader.queryArrays(
        `SELECT ${columns} FROM ${table} ${last ? after : ""} ORDER BY ${order} LIMIT ${PAGE}`,
        last ?? [],
      );
    const readAhead = this.db.kind === "postgres";
    let next: Promise<unknown[][]> | null = page(null);
    try {
      while (next) {
        const rows: unknown[][] = await next;
        const last = rows.length < PAGE ? null : rows[rows.length - 1]!.slice(0, keys.length);
        next = last && readAhead ? page(last) : null;
        next?.catch(() => {}); // awaited on the next turn, or dropped if the caller stops early
        if (rows.length > 0) yield rows;
        if (last && !next) next = page(last);
      }
    } finally {
      await next?.catch(() => {});
    }
  }

  // ---- journal and files -----------------------------------------------------------

  async journalSince(afterSeq: number, limit = 1000): Promise<JournalEntry[]> {
    const rows = await this.db.kysely.selectFrom("inventory_journal").selectAll()
      .where("seq", ">", afterSeq).orderBy("seq").limit(limit).execute();
    return rows.map((r) => ({
      seq: r.seq,
      atMs: r.at_ms,
      version: COMMAND_VERSION,
      commands: decodeJournalRow(r.version, r.seq, r.commands) as JournalEntry["commands"],
      annex: JSON.parse(r.annex) as FileAnnex,
    }));
  }

  async prefetchFiles(needs: FileNeeds): Promise<FileAnnex> {
    const annex: FileAnnex = { files: [], blockFiles: [] };
    const lfns = [...needs.lfns];
    for (let i = 0; i < lfns.length; i += WRITE_CHUNK) {
      const rows = await this.db.queryArrays(
        "SELECT id, lfn, block_id, size, checksum FROM files WHERE lfn = ANY($1::text[])",
        [lfns.slice(i, i + WRITE_CHUNK)],
      );
      for (const row of rows) annex.files.push(fileFromRow(row));
    }
    const blockIds = [...needs.blockIds];
    if (blockIds.length > 0) {
      const byBlock = new Map<number, number[]>(blockIds.map((id) => [id, []]));
      const rows = await this.db.queryArrays(
        "SELECT block_id, id FROM files WHERE block_id = ANY($1::integer[]) ORDER BY id",
        [blockIds],
      );
      for (const [blockId, id] of rows) byBlock.get(blockId as number)!.push(id as number);
      annex.blockFiles = [...byBlock];
    }
    return annex;
  }

  async filesOfBlock(blockId: number): Promise<FileRecord[]> {
    const rows = await this.db.queryArrays(
      "SELECT id, lfn, block_id, size, checksum FROM files WHERE block_id = $1 ORDER BY id",
      [blockId],
    );
    return rows.map(fileFromRow);
  }

  // ---- committing --------------------------------------------------------------------

  /**
   * One transaction: the journal row, the changed rows, the checkpoint, and
   * the injections the batch settles. Rows that did not exist in the base
   * state cannot be in the tables, so they go in with COPY or a plain INSERT;
   * changed rows are upserted and vanished rows deleted. The statements are pipelined (sent
   * without waiting for each answer; see PipelinedWrites), the fence last.
   *
   * Chained (`after`): the inventory_meta row is locked by the first statement, which a chained
   * commit's statements reach only once the previous commit's are all answered; it then waits on
   * the server until that one has ended, checks that it committed (its sequence in `table_seq`),
   * and every later statement sees it. COMMIT goes out only once the previous one is published.
   */
  async commit(batch: CommitBatch): Promise<void> {
    const previous = batch.after;
    try {
      const prepared = batch.prepared instanceof PreparedStatements && batch.prepared.entry === batch.entry
        ? batch.prepared
        : this.prepare(batch);
      await this.#transaction(batch, prepared);
    } catch (error) {
      // A chained commit can fail before the previous one has ended (a lock_timeout or statement_timeout
      // on its wait, a cancel, its connection lost). Its failure makes the writer reload: not before the
      // previous commit is published or has failed, or the reload would miss a commit that then lands.
      if (previous) await previous.published.catch(() => {});
      throw error;
    }
  }

  #transaction(
    { entry, state, injections, operations, idempotencyKeys, after: previous, onSent, onWritten }:
      CommitBatch,
    prepared: PreparedStatements,
  ): Promise<void> {
    const copyThreshold = this.db.copyThreshold;
    return this.db.bulkTransaction(async (raw) => {
      const tx = new PipelinedWrites(raw);
      // Commit chaining: nothing of ours reaches the server before the previous commit's statements are
      // all answered, so that it holds the inventory_meta row lock before we ask for it (taken first
      // below). Asked for the other way round, it would wait for us and we for its COMMIT: a deadlock.
      if (previous) await previous.written;
      // First, the inventory_meta row: it serializes commits on the server. A chained commit waits here
      // until the previous one has ended, and every statement after this one takes its snapshot after
      // that: a row the previous commit inserted is seen (a DELETE taking its snapshot earlier would
      // miss it). The previous commit must have committed: the row then holds its sequence number.
      tx.queryChecked("SELECT table_seq FROM inventory_meta WHERE id = 1 FOR UPDATE", [], (rows) => {
        const tableSeq = rows[0]?.[0];
        if (previous && tableSeq !== previous.seq) {
          throw new Error(
            `commit ${entry.seq} chained to ${previous.seq}, which did not commit (table_seq is ${tableSeq})`,
          );
        }
      });
      for (const step of prepared.steps) {
        if (step.rows) await step.rows.write(tx, step.table, step.columns, step.keys, copyThreshold);
        else await tx.query(step.text, step.params);
      }
      // The journal row after the tables: a COPY above waits for its answers (its data needs this thread
      // when the server asks for it), and the server inserts this 1 MB row while the writer goes on.
      // One statement with the checkpoint and the notification (delivered at commit whatever its place
      // in the transaction): every statement has a fixed cost, ~0.5-1 ms each on PGlite, and a small
      // commit (an HTTP injection's) had eight.
      const c = state.counters;
      await tx.query(
        `WITH journal AS (
           INSERT INTO inventory_journal (seq, at_ms, version, commands, annex) VALUES ($1, $2, $3, $4, $5)
         )
         UPDATE inventory_meta SET table_seq = $1, next_dataset_id = $6, next_block_id = $7, next_site_id = $8,
           next_group_id = $9, next_file_id = $10 WHERE id = 1
         RETURNING pg_notify($11, $12)`,
        [
          entry.seq,
          entry.atMs,
          prepared.format, // of the row's text; the commands are COMMAND_VERSION
          prepared.commands,
          prepared.annex,
          c.nextDatasetId,
          c.nextBlockId,
          c.nextSiteId,
          c.nextGroupId,
          c.nextFileId,
          JOURNAL_CHANNEL,
          String(entry.seq),
        ],
      );
      if (injections) await settleInjections(tx, injections, entry.atMs, entry.seq);
      if (operations) await insertReplicaOperations(tx, operations, entry.atMs);
      if (idempotencyKeys) await recordCommittedKeys(tx, idempotencyKeys, entry.seq, entry.atMs);
      onSent?.();
      await tx.finish(this.options.fence);
      onWritten?.();
      // Acknowledged means durable, in order: our COMMIT only once the previous one is durable and
      // published. If it failed (or may not have committed), we roll back.
      if (previous) await previous.published;
    });
  }

  /**
   * The journal row's text and every changed row, in the order `commit` writes them. The writer
   * calls this as soon as a batch is reduced, while the previous commit is still being written: the
   * text and the rows (a third of a large commit's work on this thread) are then ready when this
   * commit's turn comes, and its statements go out at once.
   */
  prepare({ entry, base, state, changes }: CommitContent): PreparedStatements {
    const before = new Snapshot(base);
    const after = new Snapshot(state);
    const steps: Step[] = [];
    const rows = (table: string, columns: Columns, keys: string[], set: RowSet) =>
      steps.push({ rows: set, table, columns, keys });

    const datasets = new RowSet();
    for (const id of changes.datasets) {
      const d = state.datasets.get(id);
      if (!d) datasets.gone.push([id]);
      else {datasets.put(base.datasets.has(id), [
          d.id,
          d.name,
          d.status,
          d.dataType,
          d.softwareVersion,
          d.lastUpdate,
          d.isOpen,
        ]);}
    }
    rows("datasets", DATASET_COLUMNS, ["id"], datasets);

    const blocks = new RowSet();
    for (const id of changes.blocks) {
      const b = state.blocks.get(id);
      if (!b) blocks.gone.push([id]);
      else {blocks.put(base.blocks.has(id), [
          b.id,
          b.datasetId,
          b.name,
          b.size,
          b.numFiles,
          b.isOpen,
          b.lastUpdate,
        ]);}
    }
    rows("blocks", BLOCK_COLUMNS, ["id"], blocks);

    const sites = new RowSet();
    for (const id of changes.sites) {
      const s = state.sites.get(id);
      if (!s) sites.gone.push([id]);
      else {
        sites.put(base.sites.has(id), [
          s.id,
          s.name,
          s.host,
          s.storageType,
          s.backend,
          s.status,
          JSON.stringify(s.filenameMappings),
        ]);
      }
    }
    rows("sites", SITE_COLUMNS, ["id"], sites);

    const groups = new RowSet();
    for (const id of changes.groups) {
      const g = state.groups.get(id);
      if (!g) groups.gone.push([id]);
      else if (g.name !== null) groups.put(base.groups.has(id), [g.id, g.name, g.olevel]);
    }
    rows("groups", GROUP_COLUMNS, ["id"], groups);

    if (changes.quotaSites.size > 0) {
      const siteIds = [...changes.quotaSites];
      steps.push({ text: "DELETE FROM quotas WHERE site_id = ANY($1::integer[])", params: [siteIds] });
      const quotas = new RowSet();
      for (const siteId of siteIds) {
        const ledger = state.ledger.get(siteId);
        if (!ledger) continue;
        for (const p of state.partitions.basic) quotas.put(false, [siteId, p.id, ledger.quota[p.bit!]!]);
      }
      rows("quotas", QUOTA_COLUMNS, ["site_id", "partition_id"], quotas);
    }

    const datasetReplicas = new RowSet();
    for (const key of changes.datasetReplicas) {
      const [datasetId, siteId] = pairOf(key);
      const dr = after.replica(datasetId, siteId);
      if (!dr) datasetReplicas.gone.push([datasetId, siteId]);
      else {datasetReplicas.put(!!before.replica(datasetId, siteId), [
          datasetId,
          siteId,
          dr.growing,
          dr.groupId,
        ]);}
    }
    rows("dataset_replicas", DATASET_REPLICA_COLUMNS, ["dataset_id", "site_id"], datasetReplicas);

    const blockReplicas = new RowSet();
    for (const key of changes.blockReplicas) {
      const [blockId, siteId] = pairOf(key);
      const br = blockReplicaIn(after, blockId, siteId);
      if (!br) {
        blockReplicas.gone.push([blockId, siteId]);
        continue;
      }
      blockReplicas.put(!!blockReplicaIn(before, blockId, siteId), [
        blockId,
        siteId,
        br.groupId,
        br.isCustodial,
        br.size,
        br.lastUpdate,
        br.fileIds === null ? null : JSON.stringify(br.fileIds),
      ]);
    }
    rows("block_replicas", BLOCK_REPLICA_COLUMNS, ["block_id", "site_id"], blockReplicas);

    if (changes.purgedBlockIds.size > 0) {
      steps.push({
        text: "DELETE FROM files WHERE block_id = ANY($1::integer[])",
        params: [[...changes.purgedBlockIds]],
      });
    }
    if (changes.deletedFileIds.size > 0) {
      steps.push({
        text: "DELETE FROM files WHERE id = ANY($1::bigint[])",
        params: [[...changes.deletedFileIds]],
      });
    }
    // File ids are never reused: every new file is a new row.
    const files = new RowSet();
    for (const f of changes.newFiles.values()) {
      files.put(false, [f.id, f.blockId, f.lfn, f.size, JSON.stringify(f.checksum)]);
    }
    rows("files", FILE_COLUMNS, ["id"], files);

    const text = encodeCommands(entry.commands);
    const packed = this.#packsJournal && text.length >= PACK_FROM_CHARS;
    return new PreparedStatements(
      entry,
      packed ? PACKED_JOURNAL_FORMAT : JOURNAL_FORMAT,
      packed ? packJournalText(text) : text,
      JSON.stringify(entry.annex),
      steps,
    );
  }
}

/**
 * Journal text shorter than this stays plain (format 2) even where rows are packed: readable in
 * psql, and a row this small is stored whole in its table page anyway.
 */
const PACK_FROM_CHARS = 8192;

/** A statement of a commit before its journal row: a table's changed rows, or one with its parameters. */
type Step =
  | { readonly rows: RowSet; readonly table: string; readonly columns: Columns; readonly keys: string[] }
  | { readonly rows?: undefined; readonly text: string; readonly params: unknown[] };

/** `SqlInventoryStore.prepare`'s result: the journal row's text and the steps after it. */
class PreparedStatements implements PreparedCommit {
  constructor(
    readonly entry: JournalEntry,
    readonly format: number,
    readonly commands: string,
    readonly annex: string,
    readonly steps: readonly Step[],
  ) {}

  get seq(): number {
    return this.entry.seq;
  }
}

type ColumnType = "integer" | "bigint" | "text" | "boolean" | "jsonb";
type Columns = readonly (readonly [name: string, type: ColumnType])[];

const DATASET_COLUMNS: Columns = [
  ["id", "integer"],
  ["name", "text"],
  ["status", "text"],
  ["data_type", "text"],
  ["software_version", "text"],
  ["last_update", "bigint"],
  ["is_open", "boolean"],
];
const BLOCK_COLUMNS: Columns = [
  ["id", "integer"],
  ["dataset_id", "integer"],
  ["name", "text"],
  ["size", "bigint"],
  ["num_files", "integer"],
  ["is_open", "boolean"],
  ["last_update", "bigint"],
];
const SITE_COLUMNS: Columns = [
  ["id", "integer"],
  ["name", "text"],
  ["host", "text"],
  ["storage_type", "text"],
  ["backend", "text"],
  ["status", "text"],
  ["filename_mappings", "jsonb"],
];
const GROUP_COLUMNS: Columns = [["id", "integer"], ["name", "text"], ["olevel", "text"]];
const QUOTA_COLUMNS: Columns = [["site_id", "integer"], ["partition_id", "integer"], ["quota", "bigint"]];
const DATASET_REPLICA_COLUMNS: Columns = [
  ["dataset_id", "integer"],
  ["site_id", "integer"],
  ["growing", "boolean"],
  ["group_id", "integer"],
];
const BLOCK_REPLICA_COLUMNS: Columns = [
  ["block_id", "integer"],
  ["site_id", "integer"],
  ["group_id", "integer"],
  ["is_custodial", "boolean"],
  ["size", "bigint"],
  ["last_update", "bigint"],
  ["file_ids", "jsonb"],
];
const FILE_COLUMNS: Columns = [
  ["id", "bigint"],
  ["block_id", "integer"],
  ["lfn", "text"],
  ["size", "bigint"],
  [
    "checksum",
    "jsonb",
  ],
];

function blockReplicaIn(snap: Snapshot, blockId: number, siteId: number) {
  const block = snap.blockById(blockId);
  const dr = block && snap.replica(block.datasetId, siteId);
  return dr && snap.blockReplica(dr, blockId);
}

/** The rows of one table that a batch inserts (new), updates (existing) or deletes (gone, by key). */
class RowSet {
  readonly fresh: Cell[][] = [];
  readonly existing: Cell[][] = [];
  readonly gone: number[][] = [];

  put(existed: boolean, row: Cell[]): void {
    (existed ? this.existing : this.fresh).push(row);
  }

  async write(
    tx: BulkTransaction,
    table: string,
    columns: Columns,
    keys: string[],
    copyThreshold: number,
  ): Promise<void> {
    if (this.gone.length > 0) await deleteKeys(tx, table, keys, this.gone);
    if (this.existing.length > 0) await upsert(tx, table, columns, keys, this.existing);
    // New rows were not in the base state, so they cannot be in the table: a plain INSERT, as COPY
    // does, without the upsert's conflict check per row (~1.7× the server's time for 800 block
    // replicas). COPY has a fixed cost per statement (see Database.copyThreshold): from there on, COPY.
    if (this.fresh.length >= copyThreshold) await tx.copyFrom(table, columns.map(([n]) => n), this.fresh);
    else if (this.fresh.length > 0) await upsert(tx, table, columns, null, this.fresh);
  }
}

/**
 * `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (keys) DO UPDATE`, one statement per chunk;
 * without keys a plain INSERT (rows known to be new: one that is there after all fails the commit).
 */
async function upsert(
  tx: BulkTransaction,
  table: string,
  columns: Columns,
  keys: string[] | null,
  rows: Cell[][],
): Promise<void> {
  const names = columns.map(([n]) => n);
  // postgres.js mis-types boolean arrays, and JSON goes as text: both are cast back in the SELECT.
  const viaText = (t: ColumnType) => t === "jsonb" || t === "boolean";
  const unnestArgs = columns.map(([, t], i) => `$${i + 1}::${viaText(t) ? "text" : t}[]`).join(", ");
  const selectList = columns.map(([n, t]) => (viaText(t) ? `${n}::${t}` : n)).join(", ");
  const updates = keys &&
    names.filter((n) => !keys.includes(n)).map((n) => `${n} = EXCLUDED.${n}`).join(", ");
  const text = `INSERT INTO ${table} (${names.join(", ")})
    SELECT ${selectList} FROM unnest(${unnestArgs}) AS u(${names.join(", ")})` +
    (keys
      ? `\n    ON CONFLICT (${keys.join(", ")}) DO ${updates ? `UPDATE SET ${updates}` : "NOTHING"}`
      : "");
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    const chunk = rows.slice(i, i + WRITE_CHUNK);
    await tx.query(
      text,
      columns.map(([, t], c) => arrayLiteral(chunk, c, t === "integer" || t === "bigint")),
    );
  }
}

/**
 * Column `c` of `rows` as a PostgreSQL array literal, which both drivers pass through as it is:
 * their own serialization quoted and escaped every element through a closure and two regex
 * replaces (~6 % of an injection's CPU on PostgreSQL). Numbers go bare, anything else quoted
 * (booleans as `true`/`false`, cast back in the SELECT).
 */
export function arrayLiteral(rows: readonly Cell[][], c: number, numeric: boolean): string {
  let out = "{";
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![c];
    if (i > 0) out += ",";
    if (v === null || v === undefined) out += "NULL";
    else if (numeric) out += String(v);
    else {
      const text = String(v);
      out += ARRAY_SPECIAL.test(text) ? `"${text.replace(/[\\"]/g, "\\$&")}"` : `"${text}"`;
    }
  }
  return out + "}";
}

/** What an array literal's quoted element escapes. */
const ARRAY_SPECIAL = /[\\"]/;

async function deleteKeys(
  tx: BulkTransaction,
  table: string,
  keys: string[],
  rows: number[][],
): Promise<void> {
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    const chunk = rows.slice(i, i + WRITE_CHUNK);
    if (keys.length === 1) {
      await tx.query(`DELETE FROM ${table} WHERE ${keys[0]} = ANY($1::bigint[])`, [chunk.map((r) => r[0])]);
    } else {
      await tx.query(
        `DELETE FROM ${table} t USING unnest($1::integer[], $2::integer[]) AS k(a, b)
         WHERE t.${keys[0]} = k.a AND t.${keys[1]} = k.b`,
        [chunk.map((r) => r[0]), chunk.map((r) => r[1])],
      );
    }
  }
}

function fileFromRow(row: unknown[]): FileRecord {
  const [id, lfn, blockId, size, checksum] = row;
  return Object.freeze({
    id: id as number,
    lfn: lfn as string,
    blockId: blockId as number,
    size: size as number,
    checksum: Object.freeze(checksum as Record<string, string>),
  });
}
