import type {
  FileAnnex,
  FileNeeds,
  FileRecord,
  InventoryChanges,
  InventoryCommand,
  InventoryState,
  PartitionDefinition,
} from "../../registry/inventory/mod.ts";

/** One committed batch as the journal keeps it. */
export interface JournalEntry {
  /** Monotonic; equals the generation of the state after this batch. */
  readonly seq: number;
  /** The writer's clock when the batch was reduced (the reducer's "now"). */
  readonly atMs: number;
  readonly version: number;
  readonly commands: readonly InventoryCommand[];
  readonly annex: FileAnnex;
}

export interface CommitBatch {
  readonly entry: JournalEntry;
  /** The state after the batch: rows are written from it. */
  readonly state: InventoryState;
  readonly changes: InventoryChanges;
}

export interface LoadProgress {
  table: string;
  rows: number;
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
  /** Journal entries with seq > `afterSeq`, in order (at most `limit`). */
  journalSince(afterSeq: number, limit?: number): Promise<JournalEntry[]>;
  /** Reads what a batch needs from the files table. */
  prefetchFiles(needs: FileNeeds): Promise<FileAnnex>;
  /** Journal row + table writes + checkpoint, in one transaction. */
  commit(batch: CommitBatch): Promise<void>;
  filesOfBlock(blockId: number): Promise<FileRecord[]>;
}

/** The channel on which each commit announces its sequence number. */
export const JOURNAL_CHANNEL = "dynamo_inventory_journal";
