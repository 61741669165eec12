import type {
  Counters,
  FileAnnex,
  FileNeeds,
  FileRecord,
  InventoryChanges,
  InventoryLoader,
  InventoryState,
  JournalEntry,
  PartitionDefinition,
} from "../../registry/inventory/mod.ts";
import type { InjectionSettlement } from "./injection_queue_port.ts";
import type { NewReplicaOperation } from "./replica_operations_port.ts";

export interface CommitBatch {
  readonly entry: JournalEntry;
  /** The state before the batch: rows absent from it are inserted with COPY. */
  readonly base: InventoryState;
  /** The state after the batch: rows are written from it. */
  readonly state: InventoryState;
  readonly changes: InventoryChanges;
  /** Queued injections this batch settles, recorded in the same transaction (exactly once). */
  readonly injections?: readonly InjectionSettlement[];
  /** Replica operations that must exist exactly when these commands are durable. */
  readonly operations?: readonly NewReplicaOperation[];
  /** Idempotency keys of the submissions this batch applies, recorded in the same transaction. */
  readonly idempotencyKeys?: readonly string[];
  /**
   * The commit this one is chained to (commit chaining, see `SqlInventoryStore.commit`): this one's
   * statements start once that one's are all answered, and its COMMIT once that one is durable
   * and published. Its failure fails this one, which then writes nothing.
   */
  readonly after?: PreviousCommit;
  /**
   * Called once every statement of this commit has been handed to the database (their answers may be
   * still to come): from then on the commit needs no more of this thread until they are.
   */
  readonly onSent?: () => void;
  /** Called once every statement of this commit is answered, before its COMMIT is sent. */
  readonly onWritten?: () => void;
  /** What `InventoryStore.prepare` built for this batch, if the store has it. */
  readonly prepared?: PreparedCommit;
}

/** What a commit's statements are built from (and nothing else): see `InventoryStore.prepare`. */
export type CommitContent = Pick<CommitBatch, "entry" | "base" | "state" | "changes">;

/** A batch's statements, built by `InventoryStore.prepare`: opaque to the writer. */
export interface PreparedCommit {
  /** The journal sequence it was built for. */
  readonly seq: number;
}

/** A commit still in flight that the next one follows. */
export interface PreviousCommit {
  /** Its journal sequence: the tables' `table_seq` once it is durable. */
  readonly seq: number;
  /** Settles once its statements are all answered (rejects if one failed). */
  readonly written: Promise<void>;
  /** Settles once it is durable and published (rejects if it failed or may not have committed). */
  readonly published: Promise<void>;
}

export interface LoadProgress {
  table: string;
  rows: number;
}

export type { JournalEntry };

/** Where stored rows go, in the loader's order (an `InventoryLoader`, or a reader replica's feed). */
export type TableSink =
  & Pick<
    InventoryLoader,
    "addGroup" | "addSite" | "addQuota" | "addDataset" | "addBlock" | "addDatasetReplica" | "addBlockReplica"
  >
  & Partial<Pick<InventoryLoader, "expectBlocks">>;

/** What `finish` needs once every row has been streamed: the tables' generation and id counters. */
export interface TablesCheckpoint {
  readonly generation: number;
  readonly counters: Counters;
}

/** Durable inventory: tables + journal. Implemented by `adapters/db`. */
export interface InventoryStore {
  /**
   * Loads the tables as of their last checkpoint (`generation` = table
   * sequence). The caller replays `journalSince(generation)` on top.
   */
  loadTables(
    partitions: readonly PartitionDefinition[],
    onProgress?: (p: LoadProgress) => void,
  ): Promise<InventoryState>;
  /** The persistent id of each configured partition (new ones are registered). */
  partitionIds(partitions: readonly PartitionDefinition[]): Promise<Map<string, number>>;
  /** Journal entries with seq > `afterSeq`, in order (at most `limit`). */
  journalSince(afterSeq: number, limit?: number): Promise<JournalEntry[]>;
  /** Reads what a batch needs from the files table. */
  prefetchFiles(needs: FileNeeds): Promise<FileAnnex>;
  /** Journal row + table writes + checkpoint, in one transaction. */
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Optional: builds what a commit sends that depends only on its content (the journal row's text,
   * the changed rows), for `CommitBatch.prepared`. The writer calls it as soon as a batch is reduced,
   * while the previous commit's statements are still being written, so that its own statements go
   * out at once when their turn comes instead of after being built. Pure: no I/O, no state.
   */
  prepare?(content: CommitContent): PreparedCommit;
  filesOfBlock(blockId: number): Promise<FileRecord[]>;
}

/** The channel on which each commit announces its sequence number. */
export const JOURNAL_CHANNEL = "dynamo_inventory_journal";
