import type { InventoryLoader } from "./bulk_loader.ts";
import type { InventoryState } from "./state.ts";
import { type MappingChain, NULL_GROUP_ID } from "./records.ts";

/** The loader methods that take stored rows. */
export type RowSink = Pick<
  InventoryLoader,
  "addGroup" | "addSite" | "addQuota" | "addDataset" | "addBlock" | "addDatasetReplica" | "addBlockReplica"
>;

/** One stored row, as the loader method that takes it and its arguments. */
export type StateRow = { [K in keyof RowSink]: readonly [K, ...Parameters<RowSink[K]>] }[keyof RowSink];

/**
 * The rows the inventory tables hold for `state`, in the loader's order (groups, sites, quotas,
 * datasets, blocks, dataset replicas, block replicas; each by id): feeding them to an
 * `InventoryLoader` and finishing it at `state.generation` with `state.counters` builds the same
 * state as loading the tables written at that generation. Derived fields (dataset sizes, partition
 * membership, occupancy) are left to the loader, as for the tables. `state` is immutable, so the
 * rows are those of its generation however long the caller takes to read them.
 */
export function* stateRows(state: InventoryState): Generator<StateRow> {
  for (const g of state.groups.values()) {
    if (g.id !== NULL_GROUP_ID && g.name !== null) yield ["addGroup", g.id, g.name, g.olevel];
  }
  for (const s of state.sites.values()) {
    yield ["addSite", {
      id: s.id,
      name: s.name,
      host: s.host,
      storageType: s.storageType,
      backend: s.backend,
      status: s.status,
      filenameMappings: s.filenameMappings as Record<string, MappingChain[]>,
    }];
  }
  for (const [siteId, ledger] of state.ledger.entries()) {
    for (const p of state.partitions.basic) yield ["addQuota", siteId, p.id, ledger.quota[p.bit!]!];
  }
  for (const d of state.datasets.values()) {
    yield ["addDataset", {
      id: d.id,
      name: d.name,
      status: d.status,
      dataType: d.dataType,
      softwareVersion: d.softwareVersion,
      lastUpdate: d.lastUpdate,
      isOpen: d.isOpen,
    }];
  }
  for (const b of state.blocks.values()) yield ["addBlock", { ...b }];
  for (const list of state.replicas.values()) {
    for (const dr of list) yield ["addDatasetReplica", dr.datasetId, dr.siteId, dr.growing, dr.groupId];
  }
  for (const list of state.replicas.values()) {
    for (const dr of list) {
      for (const br of dr.blockReplicas) yield ["addBlockReplica", br];
    }
  }
}

/** Gives one row to the loader method it names. */
export function feedRow(sink: RowSink, row: StateRow): void {
  const [method, ...args] = row;
  (sink[method] as (...a: unknown[]) => void).apply(sink, args);
}
