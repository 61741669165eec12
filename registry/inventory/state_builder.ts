/**
 * Long on purpose (~550 lines): the one writable view of the persistent state that the
 * reducer changes, with its indexes and occupancy ledger kept consistent in each put/remove; a split
 * would expose those indexes between files.
 */
import { BlockReplicaColumns } from "./block_replica_columns.ts";
import { PackedDatasetReplica } from "./dataset_replica.ts";
import { InventoryValidationError } from "./errors.ts";
import type { FileCatalog } from "./file_catalog.ts";
import type { IdSetBuilder } from "./persistent_id_set.ts";
import { PersistentIdSet } from "./persistent_id_set.ts";
import type { VectorBuilder } from "./persistent_vector.ts";
import type { Block, BlockReplica, Dataset, DatasetReplica, FileRecord, Group, Site } from "./records.ts";
import { NULL_GROUP_ID } from "./records.ts";
import {
  type Counters,
  type Counts,
  emptyLedger,
  type InventoryState,
  NULL_GROUP,
  type SiteLedger,
} from "./state.ts";

/** What a batch changed, for the store to persist (rows are read from the final state). */
export interface InventoryChanges {
  readonly datasets: Set<number>;
  readonly blocks: Set<number>;
  readonly sites: Set<number>;
  readonly groups: Set<number>;
  /** Sites whose quotas changed (or that were created or removed). */
  readonly quotaSites: Set<number>;
  /** `pairKey(datasetId, siteId)` of changed dataset replicas */
  readonly datasetReplicas: Set<number>;
  /** `pairKey(blockId, siteId)` of changed block replicas */
  readonly blockReplicas: Set<number>;
  readonly newFiles: Map<number, FileRecord>;
  readonly deletedFileIds: Set<number>;
  /** Blocks whose files were all removed from the store (block deleted). */
  readonly purgedBlockIds: Set<number>;
}

function newChanges(): InventoryChanges {
  return {
    datasets: new Set(),
    blocks: new Set(),
    sites: new Set(),
    groups: new Set(),
    quotaSites: new Set(),
    datasetReplicas: new Set(),
    blockReplicas: new Set(),
    newFiles: new Map(),
    deletedFileIds: new Set(),
    purgedBlockIds: new Set(),
  };
}

/** Site ids stay below 2^21; the pair fits a safe integer without allocating. */
const SITE_SPAN = 2 ** 21;

export function pairKey(id: number, siteId: number): number {
  return id * SITE_SPAN + siteId;
}

export function pairOf(key: number): [id: number, siteId: number] {
  return [Math.floor(key / SITE_SPAN), key % SITE_SPAN];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A transient, mutable view of a new inventory version. The primitives keep
 * the secondary indexes, the occupancy ledger, the counts and the change set
 * consistent; domain rules (validation, cascades) live in the reducer.
 * Objects created by this builder are mutated in place until `build()`
 * freezes them; objects from the base are always copied first.
 */
export class StateBuilder {
  readonly base: InventoryState;
  readonly now: number;
  readonly changes = newChanges();
  readonly #datasets: VectorBuilder<Dataset>;
  readonly #blocks: VectorBuilder<Block>;
  readonly #sites: VectorBuilder<Site>;
  readonly #groups: VectorBuilder<Group>;
  readonly #replicas: VectorBuilder<readonly DatasetReplica[]>;
  readonly #siteDatasets: VectorBuilder<PersistentIdSet>;
  readonly #siteDatasetBuilders = new Map<number, IdSetBuilder>();
  readonly #ledger: VectorBuilder<SiteLedger>;
  readonly #counters: Mutable<Counters>;
  readonly #counts: Mutable<Counts>;
  /** Arrays and records created in this batch: safe to mutate in place. */
  readonly #owned = new Set<object>();
  readonly #catalog: FileCatalog;
  readonly #filesAdded = new Map<string, FileRecord>();
  readonly #baseFilesDeleted = new Set<string>();
  readonly #purgedBlocks = new Set<number>();
  readonly #blockFiles = new Map<number, number[]>();
  #built = false;

  constructor(base: InventoryState, catalog: FileCatalog, nowSeconds: number) {
    this.base = base;
    this.now = nowSeconds;
    this.#catalog = catalog;
    this.#datasets = base.datasets.edit();
    this.#blocks = base.blocks.edit();
    this.#sites = base.sites.edit();
    this.#groups = base.groups.edit();
    this.#replicas = base.replicas.edit();
    this.#siteDatasets = base.siteDatasets.edit();
    this.#ledger = base.ledger.edit();
    this.#counters = { ...base.counters };
    this.#counts = { ...base.counts };
  }

  get partitions() {
    return this.base.partitions;
  }

  // ---- reads ----------------------------------------------------------------

  dataset(id: number): Dataset | undefined {
    return this.#datasets.get(id);
  }
  datasetByName(name: string): Dataset | undefined {
    const id = this.base.names.datasets.get(name);
    const d = id === undefined ? undefined : this.#datasets.get(id);
    return d?.name === name ? d : undefined;
  }
  block(id: number): Block | undefined {
    return this.#blocks.get(id);
  }
  blockByName(datasetId: number, name: string): Block | undefined {
    const id = this.base.names.blocks.lookup(datasetId, name);
    const b = id === undefined ? undefined : this.#blocks.get(id);
    return b?.name === name && b.datasetId === datasetId ? b : undefined;
  }
  site(id: number): Site | undefined {
    return this.#sites.get(id);
  }
  siteByName(name: string): Site | undefined {
    const id = this.base.names.sites.get(name);
    const s = id === undefined ? undefined : this.#sites.get(id);
    return s?.name === name ? s : undefined;
  }
  *allSites(): IterableIterator<Site> {
    yield* this.#sites.values();
  }
  group(id: number): Group | undefined {
    return this.#groups.get(id);
  }
  groupByName(name: string | null): Group | undefined {
    if (name === null) return NULL_GROUP;
    const id = this.base.names.groups.get(name);
    const g = id === undefined ? undefined : this.#groups.get(id);
    return g?.name === name ? g : undefined;
  }
  *allGroups(): IterableIterator<Group> {
    yield* this.#groups.values();
  }
  replicasOf(datasetId: number): readonly DatasetReplica[] {
    return this.#replicas.get(datasetId) ?? [];
  }
  replica(datasetId: number, siteId: number): DatasetReplica | undefined {
    // A loop, not `find` with a closure: called several times for every block replica a batch writes.
    const list = this.#replicas.get(datasetId);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i]!.siteId === siteId) return list[i];
    return undefined;
  }
  blockReplica(dr: DatasetReplica, blockId: number): BlockReplica | undefined {
    return dr.columns.get(blockId);
  }
  /** Ids of the datasets with a replica at the site. */
  datasetIdsAt(siteId: number): Iterable<number> {
    return this.#siteDatasetBuilders.get(siteId)?.values() ?? this.#siteDatasets.get(siteId)?.values() ?? [];
  }
  ledgerOf(siteId: number): SiteLedger | undefined {
    return this.#ledger.get(siteId);
  }

  // ---- id allocation ---------------------------------------------------------

  /**
   * A name keeps its id across delete and re-create; otherwise a fresh id.
   * Reuse requires the id to be below the counter: an id handed out by a
   * discarded (rolled back) builder may be in the shared name map but is free.
   */
  datasetIdFor(name: string): number {
    const known = this.base.names.datasets.get(name);
    if (reusable(known, this.#counters.nextDatasetId, this.#datasets)) return known!;
    return this.#counters.nextDatasetId++;
  }
  blockIdFor(datasetId: number, name: string): number {
    const known = this.base.names.blocks.lookup(datasetId, name);
    if (reusable(known, this.#counters.nextBlockId, this.#blocks)) return known!;
    return this.#counters.nextBlockId++;
  }
  siteIdFor(name: string): number {
    const known = this.base.names.sites.get(name);
    if (reusable(known, this.#counters.nextSiteId, this.#sites)) return known!;
    if (this.#counters.nextSiteId >= SITE_SPAN) {
      throw new InventoryValidationError(
        `site ${JSON.stringify(name)}`,
        null,
        `at most ${SITE_SPAN - 1} sites can ever be created`,
      );
    }
    return this.#counters.nextSiteId++;
  }
  groupIdFor(name: string): number {
    const known = this.base.names.groups.get(name);
    if (reusable(known, this.#counters.nextGroupId, this.#groups)) return known!;
    return this.#counters.nextGroupId++;
  }
  fileId(): number {
    return this.#counters.nextFileId++;
  }

  // ---- datasets and blocks -----------------------------------------------------

  putDataset(d: Dataset): void {
    const old = this.#datasets.get(d.id);
    this.#datasets.set(d.id, d);
    this.base.names.datasets.set(d.name, d.id);
    this.changes.datasets.add(d.id);
    if (!old) this.#counts.datasets += 1;
  }

  /** The dataset must have no blocks and no replicas left. */
  removeDataset(id: number): void {
    if (!this.#datasets.get(id)) return;
    this.#datasets.delete(id);
    this.#replicas.delete(id);
    this.changes.datasets.add(id);
    this.#counts.datasets -= 1;
  }

  /**
   * Inserts or replaces a block. A size change moves the projected usage of
   * every replica of the block (complete replicas are handled by the caller).
   */
  putBlock(b: Block): void {
    const old = this.#blocks.get(b.id);
    this.#blocks.set(b.id, b);
    this.base.names.blocks.add(b.datasetId, b.name, b.id);
    this.changes.blocks.add(b.id);
    if (!old) {
      this.#counts.blocks += 1;
      return;
    }
    const delta = b.size - old.size;
    if (delta === 0) return;
    for (const dr of this.replicasOf(b.datasetId)) {
      const br = this.blockReplica(dr, b.id);
      if (br && br.partitions !== 0) this.#addToLedger(dr.siteId, br.partitions, 0, delta);
    }
  }

  /** The block must have no replicas left. */
  removeBlock(id: number): void {
    if (!this.#blocks.get(id)) return;
    this.#blocks.delete(id);
    this.changes.blocks.add(id);
    this.#counts.blocks -= 1;
  }

  // ---- sites, groups, quotas -------------------------------------------------

  putSite(s: Site): void {
    const old = this.#sites.get(s.id);
    this.#sites.set(s.id, s);
    this.base.names.sites.set(s.name, s.id);
    this.changes.sites.add(s.id);
    if (!old) {
      this.#counts.sites += 1;
      this.#ledger.set(s.id, emptyLedger(this.partitions.basic.length));
      this.#siteDatasets.set(s.id, PersistentIdSet.EMPTY);
      this.changes.quotaSites.add(s.id);
    }
  }

  /** The site must have no replicas left. */
  removeSite(id: number): void {
    if (!this.#sites.get(id)) return;
    this.#sites.delete(id);
    this.#ledger.delete(id);
    this.#siteDatasets.delete(id);
    this.#siteDatasetBuilders.delete(id);
    this.changes.sites.add(id);
    this.changes.quotaSites.add(id);
    this.#counts.sites -= 1;
  }

  putGroup(g: Group): void {
    const old = this.#groups.get(g.id);
    this.#groups.set(g.id, g);
    if (g.name !== null) this.base.names.groups.set(g.name, g.id);
    this.changes.groups.add(g.id);
    if (!old) this.#counts.groups += 1;
  }

  removeGroup(id: number): void {
    if (id === NULL_GROUP_ID || !this.#groups.get(id)) return;
    this.#groups.delete(id);
    this.changes.groups.add(id);
    this.#counts.groups -= 1;
  }

  setQuota(siteId: number, bit: number, bytes: number): void {
    const ledger = this.#writableLedger(siteId);
    (ledger.quota as number[])[bit] = bytes;
    this.changes.quotaSites.add(siteId);
  }

  // ---- replicas ----------------------------------------------------------------

  /** Creates an empty dataset replica or updates the fields of an existing one. */
  putDatasetReplicaFields(
    datasetId: number,
    siteId: number,
    fields: { growing: boolean; groupId: number },
  ): void {
    const list = this.replicasOf(datasetId);
    const i = list.findIndex((r) => r.siteId === siteId);
    const old = i >= 0 ? list[i] : undefined;
    if (old && old.growing === fields.growing && old.groupId === fields.groupId) return;
    const next = old
      ? new PackedDatasetReplica(datasetId, siteId, fields.growing, fields.groupId, old.columns)
      : PackedDatasetReplica.empty(datasetId, siteId, fields.growing, fields.groupId);
    this.#owned.add(next);
    this.#setReplicaInList(datasetId, next);
    this.changes.datasetReplicas.add(pairKey(datasetId, siteId));
    if (!old) {
      this.#counts.datasetReplicas += 1;
      this.#siteSet(siteId).add(datasetId);
    }
  }

  /** The dataset replica must have no block replicas left. */
  removeDatasetReplica(datasetId: number, siteId: number): void {
    const list = this.replicasOf(datasetId);
    if (!list.some((r) => r.siteId === siteId)) return;
    const next = list.filter((r) => r.siteId !== siteId);
    this.#replicas.set(datasetId, next.length > 0 ? next : undefined);
    this.#siteSet(siteId).delete(datasetId);
    this.changes.datasetReplicas.add(pairKey(datasetId, siteId));
    this.#counts.datasetReplicas -= 1;
  }

  /**
   * Inserts, replaces (br given) or removes (br undefined) one block replica of
   * an existing dataset replica, moving its contribution in the ledger.
   */
  setBlockReplica(
    datasetId: number,
    siteId: number,
    blockId: number,
    br: BlockReplica | undefined,
    options?: { persist?: boolean },
  ): void {
    const current = this.replica(datasetId, siteId);
    if (!current) throw new Error(`No dataset replica of dataset id ${datasetId} at site id ${siteId}`);
    const old = current.columns.get(blockId);
    if (br && br.blockId !== blockId) {
      throw new RangeError(`Block replica of block id ${br.blockId} put as ${blockId}`);
    }
    if (old === undefined && br === undefined) return;
    // An unchanged replica is still recorded as changed (callers expect a write), but nothing is copied.
    if (!old || !br || !sameReplica(old, br)) {
      const columns = this.#writableReplica(datasetId, siteId).columns;
      if (br) columns.put(br);
      else columns.remove(blockId);
      const blockSize = this.#blocks.get(blockId)?.size ?? 0;
      if (old && old.partitions !== 0) this.#addToLedger(siteId, old.partitions, -old.size, -blockSize);
      if (br && br.partitions !== 0) this.#addToLedger(siteId, br.partitions, br.size, blockSize);
    }
    if (!old && br) this.#counts.blockReplicas += 1;
    if (old && !br) this.#counts.blockReplicas -= 1;
    if (options?.persist !== false) this.changes.blockReplicas.add(pairKey(blockId, siteId));
  }

  /** Removes every block replica of a dataset replica at once (cascades of big replicas). */
  clearBlockReplicas(datasetId: number, siteId: number): void {
    const current = this.replica(datasetId, siteId);
    if (!current || current.columns.length === 0) return;
    for (const br of current.columns) {
      const blockSize = this.#blocks.get(br.blockId)?.size ?? 0;
      if (br.partitions !== 0) this.#addToLedger(siteId, br.partitions, -br.size, -blockSize);
      this.changes.blockReplicas.add(pairKey(br.blockId, siteId));
    }
    this.#counts.blockReplicas -= current.columns.length;
    const columns = BlockReplicaColumns.empty(siteId).copy();
    const next = new PackedDatasetReplica(datasetId, siteId, current.growing, current.groupId, columns);
    this.#owned.add(next);
    this.#owned.add(columns);
    this.#setReplicaInList(datasetId, next);
  }

  /** The dataset replica with columns this batch may edit in place (copied once per batch). */
  #writableReplica(datasetId: number, siteId: number): DatasetReplica {
    const current = this.replica(datasetId, siteId);
    if (!current) throw new Error(`No dataset replica of dataset id ${datasetId} at site id ${siteId}`);
    if (this.#owned.has(current) && this.#owned.has(current.columns)) return current;
    const columns = this.#owned.has(current.columns) ? current.columns : current.columns.copy();
    const next = new PackedDatasetReplica(datasetId, siteId, current.growing, current.groupId, columns);
    this.#owned.add(next);
    this.#owned.add(columns);
    this.#setReplicaInList(datasetId, next);
    return next;
  }

  #setReplicaInList(datasetId: number, dr: DatasetReplica): void {
    const list = this.replicasOf(datasetId);
    const i = list.findIndex((r) => r.siteId === dr.siteId);
    let next: DatasetReplica[];
    if (this.#owned.has(list)) {
      next = list as DatasetReplica[];
    } else {
      next = [...list];
      this.#owned.add(next);
    }
    if (i >= 0) next[i] = dr;
    else {
      next.push(dr);
      next.sort((a, b) => a.siteId - b.siteId);
    }
    this.#replicas.set(datasetId, next);
  }

  #siteSet(siteId: number): IdSetBuilder {
    let b = this.#siteDatasetBuilders.get(siteId);
    if (!b) {
      b = (this.#siteDatasets.get(siteId) ?? PersistentIdSet.EMPTY).edit();
      this.#siteDatasetBuilders.set(siteId, b);
    }
    return b;
  }

  #writableLedger(siteId: number): SiteLedger {
    const current = this.#ledger.get(siteId) ?? emptyLedger(this.partitions.basic.length);
    if (this.#owned.has(current)) return current;
    const next: SiteLedger = {
      quota: [...current.quota],
      physical: [...current.physical],
      projected: [...current.projected],
    };
    this.#owned.add(next);
    this.#ledger.set(siteId, next);
    return next;
  }

  #addToLedger(siteId: number, mask: number, physical: number, projected: number): void {
    if (!this.#sites.get(siteId)) return;
    const ledger = this.#writableLedger(siteId);
    const phys = ledger.physical as number[];
    const proj = ledger.projected as number[];
    for (let bit = 0; mask !== 0; bit++, mask >>>= 1) {
      if ((mask & 1) === 0) continue;
      phys[bit] = phys[bit]! + physical;
      proj[bit] = proj[bit]! + projected;
    }
  }

  // ---- files (prefetched catalog + this batch's changes) --------------------------

  fileByLfn(lfn: string): FileRecord | undefined {
    const added = this.#filesAdded.get(lfn);
    if (added) return added;
    if (this.#baseFilesDeleted.has(lfn)) return undefined;
    const f = this.#catalog.file(lfn);
    if (!f || this.#purgedBlocks.has(f.blockId)) return undefined;
    return f;
  }

  /** Current ids of all files of a block. */
  blockFileIds(blockId: number): readonly number[] {
    let ids = this.#blockFiles.get(blockId);
    if (ids) return ids;
    if (this.#purgedBlocks.has(blockId) || !this.base.blocks.has(blockId)) {
      ids = [];
    } else {
      const prefetched = this.#catalog.blockFileIds(blockId);
      if (!prefetched) throw new Error(`File ids of block id ${blockId} were not prefetched`);
      ids = [...prefetched];
    }
    this.#blockFiles.set(blockId, ids);
    return ids;
  }

  addFile(f: FileRecord): void {
    (this.blockFileIds(f.blockId) as number[]).push(f.id);
    this.#filesAdded.set(f.lfn, f);
    this.changes.newFiles.set(f.id, f);
  }

  deleteFile(f: FileRecord): void {
    const ids = this.blockFileIds(f.blockId) as number[];
    const i = ids.indexOf(f.id);
    if (i >= 0) ids.splice(i, 1);
    if (this.#filesAdded.get(f.lfn) === f) {
      this.#filesAdded.delete(f.lfn);
      this.changes.newFiles.delete(f.id);
    } else {
      this.#baseFilesDeleted.add(f.lfn);
      this.changes.deletedFileIds.add(f.id);
    }
  }

  /** Forgets every file of a block (the block is being deleted). */
  purgeBlockFiles(blockId: number): void {
    this.#purgedBlocks.add(blockId);
    this.#blockFiles.set(blockId, []);
    for (const [lfn, f] of this.#filesAdded) {
      if (f.blockId !== blockId) continue;
      this.#filesAdded.delete(lfn);
      this.changes.newFiles.delete(f.id);
    }
    this.changes.purgedBlockIds.add(blockId);
  }

  // ---- finishing -------------------------------------------------------------

  build(generation: number): InventoryState {
    if (this.#built) throw new Error("StateBuilder.build() called twice");
    this.#built = true;
    for (const [siteId, b] of this.#siteDatasetBuilders) {
      if (this.#sites.get(siteId)) this.#siteDatasets.set(siteId, b.build());
    }
    // Records are frozen; arrays stay mutable-but-unshared (see records.ts).
    for (const o of this.#owned) {
      if (o instanceof BlockReplicaColumns) o.seal();
      else if (!Array.isArray(o)) Object.freeze(o);
    }
    return {
      generation,
      datasets: this.#datasets.build(),
      blocks: this.#blocks.build(),
      sites: this.#sites.build(),
      groups: this.#groups.build(),
      replicas: this.#replicas.build(),
      siteDatasets: this.#siteDatasets.build(),
      ledger: this.#ledger.build(),
      partitions: this.base.partitions,
      names: this.base.names,
      counters: Object.freeze({ ...this.#counters }),
      counts: Object.freeze({ ...this.#counts }),
    };
  }
}

// deno-lint-ignore no-explicit-any
function reusable(known: number | undefined, next: number, vec: VectorBuilder<any>): boolean {
  return known !== undefined && known < next && vec.get(known) === undefined;
}

function sameReplica(a: BlockReplica, b: BlockReplica): boolean {
  return a.groupId === b.groupId && a.isCustodial === b.isCustodial && a.size === b.size &&
    a.lastUpdate === b.lastUpdate && a.partitions === b.partitions && a.siteId === b.siteId &&
    (a.fileIds === b.fileIds ||
      (a.fileIds !== null && b.fileIds !== null && a.fileIds.length === b.fileIds.length &&
        a.fileIds.every((id, i) => id === b.fileIds![i])));
}

/** Binary search by block id; returns the index, or -(insertion point) - 1. */
export function indexOfBlock(brs: readonly BlockReplica[], blockId: number): number {
  let lo = 0;
  let hi = brs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const id = brs[mid]!.blockId;
    if (id === blockId) return mid;
    if (id < blockId) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}
