import { BlockNameIndex } from "./block_name_index.ts";
import type { PartitionTable } from "./partitions.ts";
import { PersistentIdSet } from "./persistent_id_set.ts";
import { PersistentVector } from "./persistent_vector.ts";
import type { Block, Dataset, DatasetReplica, Group, Site } from "./records.ts";
import { NULL_GROUP_ID } from "./records.ts";

/** Occupancy of one site, per basic partition (index = partition bit). Bytes. */
export interface SiteLedger {
  /** 0 = no quota (cannot host), < 0 = infinite, > 0 = bytes. */
  readonly quota: readonly number[];
  /** Σ bytes present of member block replicas. */
  readonly physical: readonly number[];
  /** Σ full block sizes of member block replicas (pending transfers counted as done). */
  readonly projected: readonly number[];
}

export interface Counters {
  readonly nextDatasetId: number;
  readonly nextBlockId: number;
  readonly nextSiteId: number;
  readonly nextGroupId: number;
  readonly nextFileId: number;
}

export interface Counts {
  readonly datasets: number;
  readonly blocks: number;
  readonly sites: number;
  readonly groups: number;
  readonly datasetReplicas: number;
  readonly blockReplicas: number;
}

/**
 * Name → id maps shared by every version of the state. They only grow: a name
 * keeps its id for the life of the process (a re-created dataset gets its old
 * id back), so an old snapshot resolving a name through the newest map still
 * finds its own record. Lookups always verify the record's name.
 */
export class NameIndex {
  readonly datasets = new Map<string, number>();
  readonly sites = new Map<string, number>();
  readonly groups = new Map<string, number>();
  /** (dataset id, block name) → block id: `blocks.get(datasetId)?.get(name)`, `blocks.add(…)` */
  readonly blocks = new BlockNameIndex();
}

/** One immutable version of the inventory. Everything reachable from it is frozen. */
export interface InventoryState {
  /** = the journal sequence number of the last applied batch. */
  readonly generation: number;
  readonly datasets: PersistentVector<Dataset>;
  readonly blocks: PersistentVector<Block>;
  readonly sites: PersistentVector<Site>;
  readonly groups: PersistentVector<Group>;
  /** dataset id → its replicas (few per dataset, sorted by site id). */
  readonly replicas: PersistentVector<readonly DatasetReplica[]>;
  /** site id → ids of the datasets with a replica there. */
  readonly siteDatasets: PersistentVector<PersistentIdSet>;
  /** site id → occupancy per basic partition. */
  readonly ledger: PersistentVector<SiteLedger>;
  readonly partitions: PartitionTable;
  readonly names: NameIndex;
  readonly counters: Counters;
  readonly counts: Counts;
}

export const NULL_GROUP: Group = Object.freeze({ id: NULL_GROUP_ID, name: null, olevel: "Block" });

/** A state with nothing but the null group. */
export function emptyState(partitions: PartitionTable): InventoryState {
  const groups = PersistentVector.empty<Group>().edit();
  groups.set(NULL_GROUP_ID, NULL_GROUP);
  return {
    generation: 0,
    datasets: PersistentVector.empty(),
    blocks: PersistentVector.empty(),
    sites: PersistentVector.empty(),
    groups: groups.build(),
    replicas: PersistentVector.empty(),
    siteDatasets: PersistentVector.empty(),
    ledger: PersistentVector.empty(),
    partitions,
    names: new NameIndex(),
    counters: { nextDatasetId: 1, nextBlockId: 1, nextSiteId: 1, nextGroupId: 1, nextFileId: 1 },
    counts: { datasets: 0, blocks: 0, sites: 0, groups: 1, datasetReplicas: 0, blockReplicas: 0 },
  };
}

export function emptyLedger(basicPartitions: number): SiteLedger {
  const zeros = Object.freeze(new Array<number>(basicPartitions).fill(0));
  return Object.freeze({ quota: zeros, physical: zeros, projected: zeros });
}

/** Occupancy fraction with the quota conventions: no quota → +∞, infinite quota → 0. */
export function occupancyFraction(used: number, quota: number): number {
  if (quota === 0) return Number.POSITIVE_INFINITY;
  if (quota < 0) return 0;
  return used / quota;
}

export { PersistentIdSet, PersistentVector };
