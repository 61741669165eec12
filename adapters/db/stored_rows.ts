/**
 * The rows of the large inventory tables as the loader takes them: each table's
 * columns in the order they are read, and what a row of them becomes. One
 * place for the store's load and for bench/detox_cycle.ts, which feeds the
 * loader the rows the bench would COPY (the same columns, in the same order).
 */
import type { DatasetStatus, DataType } from "../../registry/inventory/mod.ts";
import type { TableSink } from "./inventory_store_port.ts";

export interface StoredTable {
  readonly name: "datasets" | "blocks" | "dataset_replicas" | "block_replicas";
  /** The key columns, in load order. */
  readonly keys: readonly string[];
  readonly columns: string;
  /** Hands one row (its cells in `columns` order) to the loader. */
  add(loader: TableSink, row: unknown[]): void;
}

/** In load order: a block's dataset, a replica's block and dataset replica come first. */
export const STORED_TABLES: readonly StoredTable[] = [
  {
    name: "datasets",
    keys: ["id"],
    columns: "id, name, status, data_type, software_version, last_update, is_open",
    add: (loader, row) =>
      loader.addDataset({
        id: row[0] as number,
        name: row[1] as string,
        status: row[2] as DatasetStatus,
        dataType: row[3] as DataType,
        softwareVersion: row[4] as string | null,
        lastUpdate: row[5] as number,
        isOpen: row[6] as boolean,
      }),
  },
  {
    name: "blocks",
    keys: ["id"],
    columns: "id, dataset_id, name, size, num_files, is_open, last_update",
    add: (loader, row) =>
      loader.addBlock({
        id: row[0] as number,
        datasetId: row[1] as number,
        name: row[2] as string,
        size: row[3] as number,
        numFiles: row[4] as number,
        isOpen: row[5] as boolean,
        lastUpdate: row[6] as number,
      }),
  },
  {
    name: "dataset_replicas",
    keys: ["dataset_id", "site_id"],
    columns: "dataset_id, site_id, growing, group_id",
    add: (loader, row) =>
      loader.addDatasetReplica(row[0] as number, row[1] as number, row[2] as boolean, row[3] as number),
  },
  {
    name: "block_replicas",
    keys: ["block_id", "site_id"],
    columns: "block_id, site_id, group_id, is_custodial, size, last_update, file_ids",
    add: (loader, row) =>
      loader.addBlockReplica({
        blockId: row[0] as number,
        siteId: row[1] as number,
        groupId: row[2] as number,
        isCustodial: row[3] as boolean,
        size: row[4] as number,
        lastUpdate: row[5] as number,
        fileIds: row[6] === null ? null : Object.freeze(row[6] as number[]),
        partitions: 0,
      }),
  },
];
