/**
 * The partition image of a Detox cycle (spec §3.1 step 2): the target sites,
 * and at each the dataset replicas with the block replicas that belong to the
 * partition. Detox deletes from this image as it goes, so derived variables
 * (copy counts, occupancy) follow its decisions; the inventory itself is
 * untouched until the decisions are committed.
 */
import {
  type Block,
  type BlockReplica,
  type BlockReplicaColumns,
  type Dataset,
  type Group,
  NULL_GROUP_ID,
  type Partition,
  type Site,
  type Snapshot,
} from "../../registry/inventory/mod.ts";
import type {
  BlockReplicaFields,
  DatasetAttributes,
  EvalBlockReplica,
  EvalReplica,
  EvalSite,
  EvalWorld,
} from "../language/mod.ts";
import type { DetoxPolicy } from "./detox_policy.ts";

/**
 * A block replica in the image. It carries the replica's own fields, read from
 * the packed columns, and is its own `br`: no record per block replica, so the
 * image allocates one object per block replica, as it did before the columns
 * (a record each would double that and push the cycle into major collections).
 */
export class ImageBlockReplica implements EvalBlockReplica, BlockReplicaFields {
  readonly br: BlockReplicaFields = this;
  readonly size: number;
  readonly lastUpdate: number;
  readonly isCustodial: boolean;
  readonly fileIds: readonly number[] | null;
  readonly partitions: number;
  /** The i-th replica of `columns`, or with `columns` null a zero-size complete placeholder. */
  constructor(
    readonly block: Block,
    columns: BlockReplicaColumns | null,
    i: number,
    public groupId: number,
    readonly replica: ImageReplica,
  ) {
    this.size = columns ? columns.sizeAt(i) : 0;
    this.lastUpdate = columns ? columns.lastUpdateAt(i) : 0;
    this.isCustodial = columns ? columns.isCustodialAt(i) : false;
    this.fileIds = columns ? columns.fileIdsAt(i) : null;
    this.partitions = columns ? columns.partitionsAt(i) : 0;
  }
}

export class ImageReplica implements EvalReplica {
  /** Current block replicas, by block id order. */
  blocks: ImageBlockReplica[] = [];
  /** Block replicas hidden from the condition being evaluated (matched by earlier block-level lines). */
  hidden: ReadonlySet<ImageBlockReplica> | null = null;
  /** Position in the deterministic evaluation order (dataset name, then site name). */
  index = 0;
  removed = false;

  constructor(
    readonly dataset: Dataset,
    readonly imageSite: ImageSite,
    readonly growing: boolean,
    readonly world: PartitionImage,
  ) {}

  get site(): Site {
    return this.imageSite.site;
  }

  visible(): readonly ImageBlockReplica[] {
    const hidden = this.hidden;
    return hidden === null || hidden.size === 0 ? this.blocks : this.blocks.filter((b) => !hidden.has(b));
  }
}

/** A target site and its partition's usage in the image. */
export class ImageSite implements EvalSite {
  triggered = false;
  /**
   * Bytes held for copies waiting for room (`room_for_requests.ts`): `site.occupancy` counts them
   * as if present, so that the policy's `When`/`Until` make room for them. Not in `used`.
   */
  reserved = 0;
  constructor(readonly site: Site, readonly quota: number, public used: number) {}

  get occupancy(): number {
    if (this.quota === 0) return Number.POSITIVE_INFINITY;
    if (this.quota < 0) return 0;
    return (this.used + this.reserved) / this.quota;
  }
}

/**
 * The image is the language's world: conditions see its replicas as they
 * are at the moment of evaluation.
 */
export class PartitionImage implements EvalWorld {
  readonly sites: ImageSite[] = [];
  readonly replicas: ImageReplica[] = [];
  readonly #byDataset = new Map<number, ImageReplica[]>();

  private constructor(
    readonly snapshot: Snapshot,
    readonly partition: Partition,
    readonly attrs: DatasetAttributes,
  ) {}

  /**
   * Builds the image for a policy: target sites are those whose site
   * partition matches an `On` condition.
   */
  static build(snapshot: Snapshot, policy: DetoxPolicy, attrs: DatasetAttributes): PartitionImage {
    const partition = snapshot.partition(policy.partition);
    if (!partition) throw new RangeError(`Unknown partition "${policy.partition}"`);
    const image = new PartitionImage(snapshot, partition, attrs);
    const mask = snapshot.state.partitions.maskOf(partition);
    const entries: ImageReplica[] = [];
    for (const site of snapshot.sites()) {
      const usage = snapshot.sitePartition(site.id, partition)!;
      const target = { site, quota: usage.quota, occupancy: usage.occupancy };
      if (!policy.targets.some((c) => c.match(target))) continue;
      const imageSite = new ImageSite(site, usage.quota, 0);
      image.sites.push(imageSite);
      for (const dr of snapshot.replicasAt(site.id)) {
        const dataset = snapshot.datasetById(dr.datasetId)!;
        const r = new ImageReplica(dataset, imageSite, dr.growing, image);
        const columns = dr.columns;
        for (let i = 0; i < columns.length; i++) {
          // Test the partition in place: records only for the replicas the image keeps.
          if ((columns.partitionsAt(i) & mask) === 0) continue;
          const b = new ImageBlockReplica(
            snapshot.blockById(columns.blockIdAt(i))!,
            columns,
            i,
            columns.groupIdAt(i),
            r,
          );
          r.blocks.push(b);
          imageSite.used += b.size;
        }
        if (r.blocks.length === 0 && dr.columns.length === 0 && site.storageType === "mss") {
          // Safety measure of the original: an empty tape replica gets zero-size placeholders
          // so that it can be evaluated; they are never reported back.
          for (const block of snapshot.blocksOf(dataset)) {
            r.blocks.push(new ImageBlockReplica(block, null, 0, NULL_GROUP_ID, r));
          }
        }
        if (r.blocks.length > 0) entries.push(r);
      }
    }
    entries.sort((a, b) =>
      a.dataset.name < b.dataset.name
        ? -1
        : a.dataset.name > b.dataset.name
        ? 1
        : a.site.name < b.site.name
        ? -1
        : 1
    );
    entries.forEach((r, i) => {
      r.index = i;
      image.replicas.push(r);
      let list = image.#byDataset.get(r.dataset.id);
      if (!list) image.#byDataset.set(r.dataset.id, list = []);
      list.push(r);
    });
    return image;
  }

  replicasOf(datasetId: number): readonly EvalReplica[] {
    return this.#byDataset.get(datasetId) ?? [];
  }

  imageReplicasOf(datasetId: number): readonly ImageReplica[] {
    return this.#byDataset.get(datasetId) ?? [];
  }

  group(groupId: number): Group {
    return this.snapshot.groupById(groupId) ?? this.snapshot.group(null)!;
  }

  /** Whether a block replica with this owner would still belong to the partition. */
  stillInPartition(b: ImageBlockReplica, groupId: number): boolean {
    const state = this.snapshot.state;
    const br: BlockReplica = {
      blockId: b.block.id,
      siteId: b.replica.site.id,
      groupId,
      isCustodial: b.isCustodial,
      size: b.size,
      lastUpdate: b.lastUpdate,
      fileIds: b.fileIds,
      partitions: b.partitions,
    };
    const mask = state.partitions.membership({
      blockReplica: br,
      block: b.block,
      dataset: b.replica.dataset,
      datasetReplica: this.snapshot.replica(b.replica.dataset.id, b.replica.site.id),
      site: b.replica.site,
      group: this.group(groupId),
    });
    return (mask & state.partitions.maskOf(this.partition)) !== 0;
  }

  /** Removes block replicas from the image (they are being deleted, or left the partition). */
  unlink(r: ImageReplica, blocks: readonly ImageBlockReplica[]): void {
    if (blocks.length === 0) return;
    const gone = new Set(blocks);
    r.blocks = r.blocks.filter((b) => !gone.has(b));
    for (const b of blocks) r.imageSite.used -= b.br.size;
    if (r.blocks.length === 0) {
      r.removed = true;
      const list = this.#byDataset.get(r.dataset.id)!;
      list.splice(list.indexOf(r), 1);
    }
  }
}
