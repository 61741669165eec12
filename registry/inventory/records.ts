import type { DatasetStatus, DataType, OwnershipLevel, SiteStatus, StorageType } from "./enums.ts";
import type { BlockReplicaColumns } from "./block_replica_columns.ts";

/**
 * Frozen records of the in-memory inventory (spec §1.1). Records refer to each
 * other by numeric id, never by pointer, so that replacing one record does not
 * force copies of everything that points at it (structural sharing).
 * Times are Unix seconds; sizes are bytes.
 */

export interface Dataset {
  readonly id: number;
  readonly name: string;
  readonly status: DatasetStatus;
  readonly dataType: DataType;
  readonly softwareVersion: string | null;
  readonly lastUpdate: number;
  readonly isOpen: boolean;
  /** Σ block sizes, maintained by the reducer. */
  readonly size: number;
  /** Σ block file counts, maintained by the reducer. */
  readonly numFiles: number;
  readonly blockIds: readonly number[];
}

export interface Block {
  readonly id: number;
  readonly datasetId: number;
  /** Name within the dataset; the full name is `dataset#block`. */
  readonly name: string;
  readonly size: number;
  readonly numFiles: number;
  readonly isOpen: boolean;
  readonly lastUpdate: number;
}

/** One step of a filename mapping chain: a regex on the LFN and a template with `{0}`, `{1}`… */
export type MappingStep = readonly [lfnPattern: string, pfnTemplate: string];
export type MappingChain = readonly MappingStep[];

export interface Site {
  readonly id: number;
  readonly name: string;
  readonly host: string;
  readonly storageType: StorageType;
  readonly backend: string;
  readonly status: SiteStatus;
  /** protocol → chains, tried in order (spec §1.1 Site). */
  readonly filenameMappings: Readonly<Record<string, readonly MappingChain[]>>;
}

/** The null group (id 0, name null) always exists: ownership by it means "being deleted / unowned". */
export const NULL_GROUP_ID = 0;

export interface Group {
  readonly id: number;
  readonly name: string | null;
  readonly olevel: OwnershipLevel;
}

export interface Partition {
  readonly id: number;
  readonly name: string;
  /** Basic partitions have a membership bit; superpartitions list their subpartitions. */
  readonly bit: number | null;
  readonly subpartitionIds: readonly number[] | null;
  readonly parentId: number | null;
}

export interface BlockReplica {
  readonly blockId: number;
  readonly siteId: number;
  readonly groupId: number;
  readonly isCustodial: boolean;
  /** Bytes present at the site. */
  readonly size: number;
  readonly lastUpdate: number;
  /** `null`: complete (every file of the block). Otherwise the ids of the files present. */
  readonly fileIds: readonly number[] | null;
  /** Bit i set ⇔ member of the basic partition with bit i. */
  readonly partitions: number;
}

export interface DatasetReplica {
  readonly datasetId: number;
  readonly siteId: number;
  /** New blocks of the dataset automatically get block replicas here. */
  readonly growing: boolean;
  /** Owner used for the block replicas that growth creates. */
  readonly groupId: number;
  /**
   * Sorted by block id. Built afresh from `columns` on every read (the records
   * are not stored as objects): read it once per use.
   */
  readonly blockReplicas: readonly BlockReplica[];
  /** The block replicas, packed: lookups by block id and counts without building records. */
  readonly columns: BlockReplicaColumns;
}

export interface FileRecord {
  readonly id: number;
  readonly lfn: string;
  readonly blockId: number;
  readonly size: number;
  /** Algorithm → hex digest, e.g. `{ adler32: "0a1b2c3d" }`. */
  readonly checksum: Readonly<Record<string, string>>;
}

export function isBlockReplicaComplete(br: BlockReplica): boolean {
  return br.fileIds === null;
}
