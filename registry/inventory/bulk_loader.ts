import { BlockReplicaColumns } from "./block_replica_columns.ts";
import { PackedDatasetReplica } from "./dataset_replica.ts";
import type { DatasetStatus, DataType, OwnershipLevel, SiteStatus, StorageType } from "./enums.ts";
import type { PartitionTable } from "./partitions.ts";
import { PersistentIdSet } from "./persistent_id_set.ts";
import { PersistentVector } from "./persistent_vector.ts";
import type { Block, BlockReplica, Dataset, DatasetReplica, Group, MappingChain, Site } from "./records.ts";
import {
  type Counters,
  emptyLedger,
  type InventoryState,
  NameIndex,
  NULL_GROUP,
  type SiteLedger,
} from "./state.ts";
import { NULL_GROUP_ID } from "./records.ts";

/**
 * Builds a state straight from stored rows (start-up load), much faster than
 * replaying commands: rows are appended in key order, then partition
 * membership and the ledger are computed in one pass. Rows must arrive in
 * this order: groups, sites, quotas, datasets, blocks (by id), dataset
 * replicas, block replicas (by block id).
 */
export class InventoryLoader {
  readonly #datasets = PersistentVector.empty<Dataset>().edit();
  readonly #blocks = PersistentVector.empty<Block>().edit();
  readonly #sites = PersistentVector.empty<Site>().edit();
  readonly #groups = PersistentVector.empty<Group>().edit();
  readonly #replicas = PersistentVector.empty<readonly DatasetReplica[]>().edit();
  readonly #names = new NameIndex();
  readonly #quotas = new Map<number, number[]>();
  #datasetReplicas = 0;
  #blockReplicas = 0;

  constructor(readonly partitions: PartitionTable) {
    this.#groups.set(NULL_GROUP_ID, NULL_GROUP);
  }

  /** A hint: about this many blocks are coming (their name index is sized once). */
  expectBlocks(count: number): void {
    this.#names.blocks.reserve(count);
  }

  addGroup(id: number, name: string, olevel: OwnershipLevel): void {
    this.#groups.set(id, Object.freeze({ id, name, olevel }));
    this.#names.groups.set(name, id);
  }

  addSite(row: {
    id: number;
    name: string;
    host: string;
    storageType: StorageType;
    backend: string;
    status: SiteStatus;
    filenameMappings: Record<string, MappingChain[]>;
  }): void {
    this.#sites.set(row.id, Object.freeze({ ...row, filenameMappings: Object.freeze(row.filenameMappings) }));
    this.#names.sites.set(row.name, row.id);
  }

  /** A quota for a partition id that is not configured any more is ignored. */
  addQuota(siteId: number, partitionId: number, quota: number): void {
    const bit = this.partitions.byId.get(partitionId)?.bit;
    if (bit === undefined || bit === null) return;
    let q = this.#quotas.get(siteId);
    if (!q) this.#quotas.set(siteId, q = new Array(this.partitions.basic.length).fill(0));
    q[bit] = quota;
  }

  addDataset(row: {
    id: number;
    name: string;
    status: DatasetStatus;
    dataType: DataType;
    softwareVersion: string | null;
    lastUpdate: number;
    isOpen: boolean;
  }): void {
    // Written out rather than `{ ...row, … }`: the spread built the record field by field (millions at load).
    this.#datasets.set(row.id, {
      id: row.id,
      name: row.name,
      status: row.status,
      dataType: row.dataType,
      softwareVersion: row.softwareVersion,
      lastUpdate: row.lastUpdate,
      isOpen: row.isOpen,
      size: 0,
      numFiles: 0,
      blockIds: [],
    });
    this.#names.datasets.set(row.name, row.id);
  }

  /** The loader keeps `row` (frozen) as the block's record: pass a fresh object. */
  addBlock(row: Block): void {
    const d = this.#datasets.get(row.datasetId) as
      | { size: number; numFiles: number; blockIds: number[] }
      | undefined;
    if (!d) throw new Error(`Block ${row.id} refers to unknown dataset ${row.datasetId}`);
    this.#blocks.set(row.id, Object.freeze(row));
    d.size += row.size;
    d.numFiles += row.numFiles;
    d.blockIds.push(row.id);
    this.#names.blocks.add(row.datasetId, row.name, row.id);
  }

  addDatasetReplica(datasetId: number, siteId: number, growing: boolean, groupId: number): void {
    const list = (this.#replicas.get(datasetId) as DatasetReplica[] | undefined) ?? [];
    const columns = BlockReplicaColumns.empty(siteId).copy(); // sealed in finish()
    list.push(new PackedDatasetReplica(datasetId, siteId, growing, groupId, columns));
    this.#replicas.set(datasetId, list);
    this.#datasetReplicas += 1;
  }

  // The block of the last block replica, its dataset and dataset replicas: the rows come in block id
  // order, a block's replicas together, so these are looked up once per block instead of once per row.
  #replicaBlock: Block | undefined;
  #replicaDataset: Dataset | undefined;
  #replicaList: readonly DatasetReplica[] | undefined;

  /** `row.partitions` is ignored: membership is computed here from the configured partitions. */
  addBlockReplica(row: BlockReplica): void {
    let block = this.#replicaBlock;
    if (block === undefined || block.id !== row.blockId) {
      block = this.#blocks.get(row.blockId);
      if (!block) throw new Error(`Block replica refers to unknown block ${row.blockId}`);
      this.#replicaBlock = block;
      this.#replicaDataset = this.#datasets.get(block.datasetId)!;
      this.#replicaList = this.#replicas.get(block.datasetId);
    }
    const dr = replicaAt(this.#replicaList, row.siteId);
    if (!dr) throw new Error(`Block replica ${row.blockId}@${row.siteId} has no dataset replica`);
    const site = this.#sites.get(row.siteId)!;
    const group = this.#groups.get(row.groupId) ?? NULL_GROUP;
    const mask = this.partitions.siteOwnerMembership(site, group) ?? this.partitions.membership({
      blockReplica: row,
      block,
      dataset: this.#replicaDataset!,
      datasetReplica: dr,
      site,
      group,
    });
    (row as { partitions: number }).partitions = mask;
    dr.columns.put(row);
    this.#blockReplicas += 1;
    if (mask === 0) return;
    const usage = this.#usage(row.siteId);
    for (let bit = 0, m = mask; m !== 0; bit++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      usage.physical[bit] = usage.physical[bit]! + row.size;
      usage.projected[bit] = usage.projected[bit]! + block.size;
    }
  }

  /** By site id (an array, not a Map: it is looked up for every block replica). */
  readonly #siteUsage: ({ physical: number[]; projected: number[] } | undefined)[] = [];

  #usage(siteId: number): { physical: number[]; projected: number[] } {
    let u = this.#siteUsage[siteId];
    if (!u) {
      const n = this.partitions.basic.length;
      this.#siteUsage[siteId] = u = { physical: new Array(n).fill(0), projected: new Array(n).fill(0) };
    }
    return u;
  }

  /** Freezes everything and returns the state. */
  finish(generation: number, counters: Counters): InventoryState {
    const n = this.partitions.basic.length;
    const ledger = PersistentVector.empty<SiteLedger>().edit();
    const siteDatasets = new Map<number, number[]>();
    for (const site of this.#sites.values()) siteDatasets.set(site.id, []);
    // Four passes, each a small loop. As one loop (the sort with a closure per dataset, the site's list,
    // the seal and its summary loop, the freeze) it cost a process's first CMS-scale load 0.55-0.64 CPU s,
    // optimised late; apart, 0.30-0.55 (later loads 0.17-0.30 either way; docs/performance.md, `load3`).
    for (const list of this.#replicas.values()) (list as DatasetReplica[]).sort(bySiteId);
    for (const list of this.#replicas.values()) {
      for (const dr of list) siteDatasets.get(dr.siteId)!.push(dr.datasetId);
    }
    for (const list of this.#replicas.values()) for (const dr of list) dr.columns.seal();
    for (const list of this.#replicas.values()) for (const dr of list) Object.freeze(dr);
    for (const site of this.#sites.values()) {
      const usage = this.#usage(site.id);
      const quota = this.#quotas.get(site.id) ?? [...emptyLedger(n).quota];
      ledger.set(
        site.id,
        Object.freeze({
          quota,
          physical: usage.physical,
          projected: usage.projected,
        }),
      );
    }
    const siteSets = PersistentVector.empty<PersistentIdSet>().edit();
    for (const [siteId, ids] of siteDatasets) {
      const b = PersistentIdSet.EMPTY.edit();
      for (const id of ids) b.add(id);
      siteSets.set(siteId, b.build());
    }
    for (const d of this.#datasets.values()) {
      // Block id lists grew by appending (with spare capacity): keep exact-size copies.
      (d as { blockIds: readonly number[] }).blockIds = d.blockIds.slice();
      Object.freeze(d);
    }
    return {
      generation,
      datasets: this.#datasets.build(),
      blocks: this.#blocks.build(),
      sites: this.#sites.build(),
      groups: this.#groups.build(),
      replicas: this.#replicas.build(),
      siteDatasets: siteSets.build(),
      ledger: ledger.build(),
      partitions: this.partitions,
      names: this.#names,
      counters: Object.freeze({ ...counters }),
      counts: Object.freeze({
        datasets: this.#datasets.size,
        blocks: this.#blocks.size,
        sites: this.#sites.size,
        groups: this.#groups.size,
        datasetReplicas: this.#datasetReplicas,
        blockReplicas: this.#blockReplicas,
      }),
    };
  }
}

function bySiteId(a: DatasetReplica, b: DatasetReplica): number {
  return a.siteId - b.siteId;
}

/** The replica at a site in a dataset's short list (a loop: `find` made a closure per block replica). */
function replicaAt(list: readonly DatasetReplica[] | undefined, siteId: number): DatasetReplica | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i++) if (list[i]!.siteId === siteId) return list[i];
  return undefined;
}
