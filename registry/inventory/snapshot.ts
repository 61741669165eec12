import type { Block, BlockReplica, Dataset, DatasetReplica, Group, Partition, Site } from "./records.ts";
import { compileGlob } from "./glob.ts";
import { type Counts, type InventoryState, NULL_GROUP, occupancyFraction } from "./state.ts";
import { indexOfBlock } from "./state_builder.ts";

/** Usage of one partition at one site. Bytes. */
export interface SitePartitionUsage {
  readonly site: Site;
  readonly partition: Partition;
  /** 0 = no quota, < 0 = infinite; a superpartition's quota is the sum of its subpartitions'. */
  readonly quota: number;
  readonly physical: number;
  readonly projected: number;
  /** physical / quota with the quota conventions (0 → +∞, < 0 → 0). */
  readonly occupancy: number;
  readonly projectedOccupancy: number;
}

/**
 * A read-only view of one inventory version. Obtaining it is O(1) and it never
 * changes while held; readers never block the writer nor each other.
 */
export class Snapshot {
  #sites: Site[] | undefined;
  constructor(readonly state: InventoryState) {}

  get generation(): number {
    return this.state.generation;
  }

  get counts(): Counts {
    return this.state.counts;
  }

  // ---- datasets and blocks ---------------------------------------------------

  dataset(name: string): Dataset | undefined {
    const id = this.state.names.datasets.get(name);
    const d = id === undefined ? undefined : this.state.datasets.get(id);
    return d?.name === name ? d : undefined;
  }

  datasetById(id: number): Dataset | undefined {
    return this.state.datasets.get(id);
  }

  datasets(): IterableIterator<Dataset> {
    return this.state.datasets.values();
  }

  /** Exact name, or a shell wildcard (`*` also matches `/`); sorted by name. */
  datasetsMatching(pattern: string): Dataset[] {
    if (!pattern.includes("*") && !pattern.includes("?")) {
      const d = this.dataset(pattern);
      return d ? [d] : [];
    }
    const re = compileGlob(pattern);
    const out: Dataset[] = [];
    for (const d of this.state.datasets.values()) if (re.test(d.name)) out.push(d);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  block(datasetId: number, name: string): Block | undefined {
    const id = this.state.names.blocks.get(datasetId)?.get(name);
    const b = id === undefined ? undefined : this.state.blocks.get(id);
    return b?.name === name && b.datasetId === datasetId ? b : undefined;
  }

  blockById(id: number): Block | undefined {
    return this.state.blocks.get(id);
  }

  blocksOf(d: Dataset): Block[] {
    return d.blockIds.map((id) => this.state.blocks.get(id)!);
  }

  blockFullName(b: Block): string {
    return `${this.state.datasets.get(b.datasetId)?.name}#${b.name}`;
  }

  // ---- sites, groups, partitions ------------------------------------------------

  site(name: string): Site | undefined {
    const id = this.state.names.sites.get(name);
    const s = id === undefined ? undefined : this.state.sites.get(id);
    return s?.name === name ? s : undefined;
  }

  siteById(id: number): Site | undefined {
    return this.state.sites.get(id);
  }

  /** Sorted by name. */
  sites(): Site[] {
    // Sorted once per snapshot (it never changes): the Dealer asks for every request it activates.
    this.#sites ??= [...this.state.sites.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    return this.#sites.slice();
  }

  group(name: string | null): Group | undefined {
    if (name === null) return NULL_GROUP;
    const id = this.state.names.groups.get(name);
    const g = id === undefined ? undefined : this.state.groups.get(id);
    return g?.name === name ? g : undefined;
  }

  groupById(id: number): Group | undefined {
    return this.state.groups.get(id);
  }

  /** The null group first, then by name. */
  groups(): Group[] {
    return [...this.state.groups.values()].sort((a, b) =>
      a.name === null ? -1 : b.name === null ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  partitions(): Partition[] {
    return this.state.partitions.all();
  }

  partition(name: string): Partition | undefined {
    return this.state.partitions.byName.get(name);
  }

  // ---- replicas -------------------------------------------------------------------

  replicasOf(datasetId: number): readonly DatasetReplica[] {
    return this.state.replicas.get(datasetId) ?? [];
  }

  replica(datasetId: number, siteId: number): DatasetReplica | undefined {
    return this.replicasOf(datasetId).find((r) => r.siteId === siteId);
  }

  /** Every dataset replica at a site. */
  replicasAt(siteId: number): DatasetReplica[] {
    // A list, not a generator: Detox and the Dealer walk every site each cycle.
    const out: DatasetReplica[] = [];
    const ids = this.state.siteDatasets.get(siteId);
    if (!ids) return out;
    ids.forEach((datasetId) => {
      const dr = this.replica(datasetId, siteId);
      if (dr) out.push(dr);
    });
    return out;
  }

  /** Number of dataset replicas at a site. */
  replicaCountAt(siteId: number): number {
    return this.state.siteDatasets.get(siteId)?.size ?? 0;
  }

  blockReplica(dr: DatasetReplica, blockId: number): BlockReplica | undefined {
    const i = indexOfBlock(dr.blockReplicas, blockId);
    return i >= 0 ? dr.blockReplicas[i] : undefined;
  }

  /** All replicas of a block, in site id order. */
  blockReplicasOf(block: Block): BlockReplica[] {
    const out: BlockReplica[] = [];
    for (const dr of this.replicasOf(block.datasetId)) {
      const br = this.blockReplica(dr, block.id);
      if (br) out.push(br);
    }
    return out;
  }

  // ---- occupancy ----------------------------------------------------------------

  /** Usage of a partition at a site (a superpartition sums its subpartitions). */
  sitePartition(siteId: number, partition: Partition): SitePartitionUsage | undefined {
    const site = this.state.sites.get(siteId);
    const ledger = this.state.ledger.get(siteId);
    if (!site || !ledger) return undefined;
    const mask = this.state.partitions.maskOf(partition);
    let quota = 0;
    let physical = 0;
    let projected = 0;
    for (let bit = 0, m = mask; m !== 0; bit++, m >>>= 1) {
      if ((m & 1) === 0) continue;
      quota += ledger.quota[bit]!;
      physical += ledger.physical[bit]!;
      projected += ledger.projected[bit]!;
    }
    return {
      site,
      partition,
      quota,
      physical,
      projected,
      occupancy: occupancyFraction(physical, quota),
      projectedOccupancy: occupancyFraction(projected, quota),
    };
  }

  /** The partition → site partitions index: one entry per site, sorted by site name. */
  sitePartitionsOf(partition: Partition): SitePartitionUsage[] {
    return this.sites().map((s) => this.sitePartition(s.id, partition)!);
  }

  /**
   * Whether a complete replica of a block at a site, owned by a group, would
   * belong to a partition: where a new copy may go (the Dealer's placement rule).
   */
  wouldBelong(partition: Partition, blockId: number, siteId: number, groupId: number): boolean {
    const block = this.state.blocks.get(blockId);
    const site = this.state.sites.get(siteId);
    const group = this.state.groups.get(groupId);
    if (!block || !site || !group) return false;
    const dataset = this.state.datasets.get(block.datasetId)!;
    const mask = this.state.partitions.membership({
      blockReplica: {
        blockId,
        siteId,
        groupId,
        isCustodial: false,
        size: block.size,
        lastUpdate: 0,
        fileIds: null,
        partitions: 0,
      },
      block,
      dataset,
      datasetReplica: this.replica(dataset.id, siteId),
      site,
      group,
    });
    return (mask & this.state.partitions.maskOf(partition)) !== 0;
  }

  /** Whether a block replica belongs to a partition. */
  inPartition(br: BlockReplica, partition: Partition): boolean {
    return (br.partitions & this.state.partitions.maskOf(partition)) !== 0;
  }
}
