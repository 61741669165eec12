/**
 * The partition image of a Detox cycle (spec §3.1 step 2): the target sites,
 * and at each the dataset replicas with the block replicas that belong to the
 * partition. Detox deletes from this image as it goes, so derived variables
 * (copy counts, occupancy) follow its decisions; the inventory itself is
 * untouched until the decisions are committed.
 *
 * The image holds no object per block replica: a dataset replica's block
 * replicas are rows of its (immutable, shared) columns, and the image keeps
 * only which rows are still in it and the owners this run changed. Conditions
 * see block replicas as short-lived views, made when a condition first asks for
 * a replica's blocks and dropped when the evaluation is over (`releaseViews`).
 */
import {
  type Block,
  type BlockReplica,
  BlockReplicaColumns,
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
 * A view of one row of an image replica, for conditions; it is its own `br`. Identity means nothing:
 * `someVisible` moves one view over the rows (`moveTo`) instead of making one per row.
 */
export class ImageBlockReplica implements EvalBlockReplica, BlockReplicaFields {
  readonly br: BlockReplicaFields = this;
  #block: Block | null = null;
  #row: number;
  constructor(
    readonly replica: ImageReplica,
    /** Row in the replica's columns. */
    row: number,
  ) {
    this.#row = row;
  }

  get row(): number {
    return this.#row;
  }

  /** Points the view at another row of its replica. */
  moveTo(row: number): this {
    this.#row = row;
    this.#block = null;
    return this;
  }

  /** The current owner (the replica's, which Detox may have changed). */
  get groupId(): number {
    return this.replica.groupIdAt(this.#row);
  }

  /** Looked up on first ask: most conditions read the owner or the replica's fields, not the block. */
  get block(): Block {
    return this.#block ??= this.replica.world.snapshot.blockById(this.replica.columns.blockIdAt(this.#row))!;
  }

  get blockId(): number {
    return this.replica.columns.blockIdAt(this.row);
  }
  get size(): number {
    return this.replica.columns.sizeAt(this.row);
  }
  get lastUpdate(): number {
    return this.replica.columns.lastUpdateAt(this.row);
  }
  get isCustodial(): boolean {
    return this.replica.columns.isCustodialAt(this.row);
  }
  get fileIds(): readonly number[] | null {
    return this.replica.columns.fileIdsAt(this.row);
  }
}

export class ImageReplica implements EvalReplica {
  /** Rows of `columns` still in the image, ascending (block id order; `someVisibleOfBlock` searches them). Replaced, never edited. */
  rows: readonly number[];
  /** Rows hidden from the condition being evaluated (matched by earlier block-level lines). */
  hidden: ReadonlySet<number> | null = null;
  /** Owners this run handed rows over to (row to group id); null while none. */
  owners: Map<number, number> | null = null;
  /** Position in the deterministic evaluation order (dataset name, then site name). */
  index = 0;
  removed = false;
  #views: ImageBlockReplica[] | null = null;

  constructor(
    readonly dataset: Dataset,
    readonly imageSite: ImageSite,
    readonly growing: boolean,
    readonly world: PartitionImage,
    /** The dataset replica's block replicas (zero-size placeholders for an empty tape replica). */
    readonly columns: BlockReplicaColumns,
    rows: readonly number[],
  ) {
    this.rows = rows;
  }

  get site(): Site {
    return this.imageSite.site;
  }

  sizeAt(row: number): number {
    return this.columns.sizeAt(row);
  }

  blockIdAt(row: number): number {
    return this.columns.blockIdAt(row);
  }

  /** The current owner of a row. */
  groupIdAt(row: number): number {
    return this.owners?.get(row) ?? this.columns.groupIdAt(row);
  }

  /** Hands a row over to another owner. */
  setOwner(row: number, groupId: number): void {
    (this.owners ??= new Map()).set(row, groupId);
    this.#views = null;
  }

  /** Replaces the rows (block replicas left the image). */
  setRows(rows: readonly number[]): void {
    this.rows = rows;
    this.#views = null;
  }

  /** Views of the current rows, made on first ask until the world releases them. */
  views(): readonly ImageBlockReplica[] {
    if (this.#views !== null) return this.#views;
    const views = new Array<ImageBlockReplica>(this.rows.length);
    for (let i = 0; i < views.length; i++) views[i] = new ImageBlockReplica(this, this.rows[i]!);
    this.world.viewed(this);
    return this.#views = views;
  }

  visible(): readonly ImageBlockReplica[] {
    const views = this.views();
    const hidden = this.hidden;
    return hidden === null || hidden.size === 0 ? views : views.filter((b) => !hidden.has(b.row));
  }

  /** `visible().some(test)` with one view moved over the rows (the language's cursor). */
  someVisible(test: (b: ImageBlockReplica) => boolean): boolean {
    const rows = this.rows;
    const hidden = this.hidden;
    const cursor = new ImageBlockReplica(this, 0);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (hidden !== null && hidden.has(row)) continue;
      if (test(cursor.moveTo(row))) return true;
    }
    return false;
  }

  /** `someVisible` over the block's row alone: found by binary search in the columns, then in `rows`. */
  someVisibleOfBlock(blockId: number, test: (b: ImageBlockReplica) => boolean): boolean {
    const row = this.columns.indexOf(blockId);
    if (row < 0 || !hasRow(this.rows, row) || (this.hidden !== null && this.hidden.has(row))) return false;
    return test(new ImageBlockReplica(this, row));
  }

  visibleCount(): number {
    const hidden = this.hidden;
    if (hidden === null || hidden.size === 0) return this.rows.length;
    let n = 0;
    for (const row of this.rows) if (!hidden.has(row)) n++;
    return n;
  }

  /** Drops the views (the world's `releaseViews`). */
  forgetViews(): void {
    this.#views = null;
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
  /** Replicas holding views since the last `releaseViews`. */
  #viewed: ImageReplica[] = [];
  /** The list `imageReplicasOf` found last, and its dataset id. */
  #lastDataset = -1;
  #lastList: ImageReplica[] = [];

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
    // The target sites, in name order; by site id, each with its place in that order.
    const targetAt: (ImageSite | undefined)[] = [];
    const place: number[] = [];
    for (const site of snapshot.sites()) {
      const usage = snapshot.sitePartition(site.id, partition)!;
      const target = { site, quota: usage.quota, occupancy: usage.occupancy };
      if (!policy.targets.some((c) => c.match(target))) continue;
      const imageSite = new ImageSite(site, usage.quota, 0);
      targetAt[site.id] = imageSite;
      place[site.id] = image.sites.length;
      image.sites.push(imageSite);
    }
    // Dataset by dataset (each list of replicas read once, no lookup per replica), each dataset's
    // image replicas put in site name order. A site's usage is summed in dataset order: exact, so
    // the same as in its own order, when every size is a non-negative integer and the sum is safe;
    // otherwise it is summed again below in the site's own order.
    const byDataset = image.#byDataset;
    const lists: ImageReplica[][] = [];
    const names: string[] = [];
    let inexact = false;
    for (const dataset of snapshot.datasets()) {
      let list: ImageReplica[] | null = null;
      for (const dr of snapshot.replicasOf(dataset.id)) {
        const imageSite = targetAt[dr.siteId];
        if (imageSite === undefined) continue;
        let columns = dr.columns;
        const length = columns.length;
        // The partition tested in place: the image keeps row numbers, no record. The columns'
        // summaries settle most replicas without reading their rows (all in the partition, or none).
        let rows: readonly number[];
        const total = columns.exactTotalSize;
        if ((columns.partitionsOfAny & mask) === 0) {
          rows = NO_ROWS;
        } else if ((columns.partitionsOfAll & mask) !== 0 && !Number.isNaN(total)) {
          rows = allRows(length);
          imageSite.used += total;
        } else {
          const some: number[] = [];
          for (let i = 0; i < length; i++) {
            if ((columns.partitionsAt(i) & mask) === 0) continue;
            some.push(i);
            const size = columns.sizeAt(i);
            if (!(size >= 0 && Number.isSafeInteger(size))) inexact = true;
            imageSite.used += size;
          }
          rows = some;
        }
        if (rows.length === 0 && length === 0 && imageSite.site.storageType === "mss") {
          // Safety measure of the original: an empty tape replica gets zero-size placeholders
          // so that it can be evaluated; they are never reported back.
          columns = placeholders(dr.siteId, dataset);
          rows = allRows(columns.length);
        }
        if (rows.length === 0) continue;
        const r = new ImageReplica(dataset, imageSite, dr.growing, image, columns, rows);
        if (list === null) list = [r];
        else list.push(r);
      }
      if (list === null) continue;
      // A dataset's replicas come in site id order; the image lists them in site name order.
      if (list.length > 1) list.sort((a, b) => place[a.site.id]! - place[b.site.id]!);
      byDataset.set(dataset.id, list);
      lists.push(list);
      names.push(dataset.name);
    }
    for (const imageSite of image.sites) {
      if (inexact || !Number.isSafeInteger(imageSite.used)) {
        imageSite.used = usedInOrder(snapshot, imageSite, mask);
      }
    }
    // Evaluation order: dataset name, then site name (one sort of the datasets, not of every replica).
    // The sort compares names taken out into one array, by position: comparing through each list's
    // replica and dataset records missed the cache on every step (15 s of 1 M datasets at atlas scale).
    const order = Array.from(names, (_, i) => i).sort((a, b) => {
      const x = names[a]!, y = names[b]!;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (const i of order) {
      for (const r of lists[i]!) {
        r.index = image.replicas.length;
        image.replicas.push(r);
      }
    }
    return image;
  }

  replicasOf(datasetId: number): readonly EvalReplica[] {
    return this.imageReplicasOf(datasetId);
  }

  imageReplicasOf(datasetId: number): readonly ImageReplica[] {
    // An evaluation asks for its dataset's list many times (per block, per variable): the last
    // list found is kept. A dataset's list is one array for the image's life (edited in place).
    if (datasetId === this.#lastDataset) return this.#lastList;
    const list = this.#byDataset.get(datasetId);
    if (list === undefined) return [];
    this.#lastDataset = datasetId;
    this.#lastList = list;
    return list;
  }

  group(groupId: number): Group {
    return this.snapshot.groupById(groupId) ?? this.snapshot.group(null)!;
  }

  /** Records that a replica made views (see `releaseViews`). */
  viewed(r: ImageReplica): void {
    this.#viewed.push(r);
  }

  /** Drops every view made since the last call: the image keeps no object per block replica. */
  releaseViews(): void {
    for (const r of this.#viewed) r.forgetViews();
    this.#viewed = [];
  }

  /** Whether a row of a replica with this owner would still belong to the partition. */
  stillInPartition(r: ImageReplica, row: number, groupId: number): boolean {
    const state = this.snapshot.state;
    const block = this.snapshot.blockById(r.blockIdAt(row))!;
    const br: BlockReplica = {
      blockId: block.id,
      siteId: r.site.id,
      groupId,
      isCustodial: r.columns.isCustodialAt(row),
      size: r.columns.sizeAt(row),
      lastUpdate: r.columns.lastUpdateAt(row),
      fileIds: r.columns.fileIdsAt(row),
      partitions: r.columns.partitionsAt(row),
    };
    const mask = state.partitions.membership({
      blockReplica: br,
      block,
      dataset: r.dataset,
      datasetReplica: this.snapshot.replica(r.dataset.id, r.site.id),
      site: r.site,
      group: this.group(groupId),
    });
    return (mask & state.partitions.maskOf(this.partition)) !== 0;
  }

  /** Removes rows from the image (their block replicas are being deleted, or left the partition). */
  unlink(r: ImageReplica, rows: readonly number[]): void {
    if (rows.length === 0) return;
    const gone = new Set(rows);
    r.setRows(r.rows.filter((row) => !gone.has(row)));
    for (const row of rows) r.imageSite.used -= r.sizeAt(row);
    if (r.rows.length === 0) {
      r.removed = true;
      const list = this.#byDataset.get(r.dataset.id)!;
      list.splice(list.indexOf(r), 1);
    }
  }
}

/** A site's bytes in the partition, summed in the site's own order of replicas (and rows). */
function usedInOrder(snapshot: Snapshot, imageSite: ImageSite, mask: number): number {
  let used = 0;
  for (const dr of snapshot.replicasAt(imageSite.site.id)) {
    const columns = dr.columns;
    for (let i = 0; i < columns.length; i++) {
      if ((columns.partitionsAt(i) & mask) !== 0) used += columns.sizeAt(i);
    }
  }
  return used;
}

/** Whether ascending `rows` holds `row` (binary search). */
function hasRow(rows: readonly number[], row: number): boolean {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = rows[mid]!;
    if (at === row) return true;
    if (at < row) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const NO_ROWS: readonly number[] = Object.freeze([]);
/** Shared lists 0, 1, …, n - 1 by n: an image replica's rows are replaced, never edited. */
const ALL_ROWS = new Map<number, readonly number[]>();

/** The rows 0 … n - 1 (one shared frozen list per length). */
function allRows(n: number): readonly number[] {
  let rows = ALL_ROWS.get(n);
  if (rows === undefined) {
    const list = new Array<number>(n);
    for (let i = 0; i < n; i++) list[i] = i;
    ALL_ROWS.set(n, rows = Object.freeze(list));
  }
  return rows;
}

/** Zero-size complete block replicas of every block of a dataset, owned by nobody, in no partition. */
function placeholders(siteId: number, dataset: Dataset): BlockReplicaColumns {
  return BlockReplicaColumns.of(
    siteId,
    dataset.blockIds.map((blockId) => ({
      blockId,
      siteId,
      groupId: NULL_GROUP_ID,
      isCustodial: false,
      size: 0,
      lastUpdate: 0,
      fileIds: null,
      partitions: 0,
    })),
  );
}
