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
    add: (loader, [id, name, status, dataType, softwareVersion, lastUpdate, isOpen]) =>
      loader.addDataset({
        id: id as number,
        name: name as string,
        status: status as DatasetStatus,
        dataType: dataType as DataType,
        softwareVersion: softwareVersion as string | null,
        lastUpdate: lastUpdate as number,
        isOpen: isOpen as boolean,
      }),
  },
  {
    name: "blocks",
    keys: ["id"],
    columns: "id, dataset_id, name, size, num_files, is_open, last_update",
    add: (loader, [id, datasetId, name, size, numFiles, isOpen, lastUpdate]) =>
      loader.addBlock({
        id: id as number,
        datasetId: datasetId as number,
        name: name as string,
        size: size as number,
        numFiles: numFiles as number,
        isOpen: isOpen as boolean,
        lastUpdate: lastUpdate as number,
      }),
  },
  {
    name: "dataset_replicas",
    keys: ["dataset_id", "site_id"],
    columns: "dataset_id, site_id, growing, group_id",
    add: (loader, [datasetId, siteId, growing, groupId]) =>
      loader.addDatasetReplica(datasetId as number, siteId as number, growing as boolean, groupId as number),
  },
  {
    name: "block_replicas",
    keys: ["block_id", "site_id"],
    columns: "block_id, site_id, group_id, is_custodial, size, last_update, file_ids",
    add: (loader, [blockId, siteId, groupId, isCustodial, size, lastUpdate, fileIds]) =>
      loader.addBlockReplica({
        blockId: blockId as number,
        siteId: siteId as number,
        groupId: groupId as number,
        isCustodial: isCustodial as boolean,
        size: size as number,
        lastUpdate: lastUpdate as number,
        fileIds: fileIds === null ? null : Object.freeze(fileIds as number[]),
        partitions: 0,
      }),
  },
];
