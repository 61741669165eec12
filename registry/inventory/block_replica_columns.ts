import type { BlockReplica } from "./records.ts";

/**
 * The block replicas of one dataset replica (one site), packed column-wise
 * into a single array of numbers, sorted by block id.
 *
 * Why: block replicas are two thirds of the inventory's objects. As frozen
 * records each costs ~117 bytes of heap (an 8-field object, a boxed double for
 * the size, an array slot); here it costs 5 unboxed numbers (40 bytes), and
 * the file list of an incomplete replica sits in a side array that exists only
 * for the dataset replicas that have one. Records are materialised on read:
 * `at(i)` returns a fresh plain object each call, so identity means nothing.
 *
 * Sealed columns are immutable and shared between inventory versions; the
 * state builder edits an unsealed `copy()` and seals it when it publishes.
 */
const STRIDE = 5;
const BLOCK = 0;
/**
 * groupId * 2 + (custodial ? 1 : 0): stays a small integer (no boxing), below 2^31, so that `>> 1`
 * and `& 1` read it as an int32 (the cells are doubles: `% 2` on them is a floating-point remainder).
 */
const OWNER = 1;
const SIZE = 2;
const UPDATE = 3;
const PARTITIONS = 4;

/** Ids are below 2^30 so that packed cells stay small integers; sizes and times are any finite number. */
export const MAX_COLUMN_ID = 2 ** 30 - 1;

type Files = (readonly number[] | undefined)[];

export class BlockReplicaColumns {
  /** An empty, sealed list at a site. */
  static empty(siteId: number): BlockReplicaColumns {
    return new BlockReplicaColumns(checkId("siteId", siteId), [], null, true);
  }

  /** A sealed list of the given replicas (any order; one per block; all at `siteId`). */
  static of(siteId: number, replicas: Iterable<BlockReplica>): BlockReplicaColumns {
    const columns = BlockReplicaColumns.empty(siteId).copy();
    for (const br of replicas) {
      if (columns.indexOf(br.blockId) >= 0) {
        throw new RangeError(`Block replica of block id ${br.blockId} is listed twice`);
      }
      columns.put(br);
    }
    return columns.seal();
  }

  readonly siteId: number;
  #cells: number[];
  #files: Files | null;
  #sealed: boolean;
  // Summaries of the rows, computed when sealed (sealed columns never change, so they stay exact,
  // deletions included: a deletion seals a new copy). Readers that need one figure per dataset
  // replica (popularity's newest update, the Detox image's partition test and usage) read these
  // instead of walking every block replica each cycle.
  #newest = Number.NEGATIVE_INFINITY;
  #total = 0;
  #allBits = 0;
  #anyBits = 0;

  private constructor(siteId: number, cells: number[], files: Files | null, sealed: boolean) {
    this.siteId = siteId;
    this.#cells = cells;
    this.#files = files;
    this.#sealed = sealed;
    if (sealed) this.#summarise();
  }

  get length(): number {
    return this.#cells.length / STRIDE;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  blockIdAt(i: number): number {
    return this.#cells[i * STRIDE + BLOCK]!;
  }

  /** Every block id, ascending (a new array). */
  blockIds(): number[] {
    const c = this.#cells;
    const ids = new Array<number>(c.length / STRIDE);
    for (let i = 0, o = BLOCK; o < c.length; i++, o += STRIDE) ids[i] = c[o]!;
    return ids;
  }

  // Field readers by index (0 <= i < length, unchecked): hot readers scan the
  // columns with these instead of materialising a record per replica.

  groupIdAt(i: number): number {
    const owner = this.#cells[i * STRIDE + OWNER]!;
    return owner >> 1;
  }

  isCustodialAt(i: number): boolean {
    return (this.#cells[i * STRIDE + OWNER]! & 1) === 1;
  }

  sizeAt(i: number): number {
    return this.#cells[i * STRIDE + SIZE]!;
  }

  lastUpdateAt(i: number): number {
    return this.#cells[i * STRIDE + UPDATE]!;
  }

  partitionsAt(i: number): number {
    return this.#cells[i * STRIDE + PARTITIONS]!;
  }

  /** The file list of the i-th replica if it is incomplete, else null. */
  fileIdsAt(i: number): readonly number[] | null {
    return this.#files?.[i] ?? null;
  }

  /** Whether the i-th replica is complete (has no file list). */
  isCompleteAt(i: number): boolean {
    return this.#files === null || this.#files[i] === undefined;
  }

  /** Whether every replica's partition bits intersect `mask`. */
  allInMask(mask: number): boolean {
    const c = this.#cells;
    for (let o = PARTITIONS; o < c.length; o += STRIDE) if ((c[o]! & mask) === 0) return false;
    return true;
  }

  /** Whether any replica is owned by one of the groups. */
  anyOwnedBy(groupIds: ReadonlySet<number>): boolean {
    for (let i = 0; i < this.length; i++) if (groupIds.has(this.groupIdAt(i))) return true;
    return false;
  }

  /** Whether every replica is owned by the group. */
  allOwnedBy(groupId: number): boolean {
    const c = this.#cells;
    for (let o = OWNER; o < c.length; o += STRIDE) if (c[o]! >> 1 !== groupId) return false;
    return true;
  }

  /** A fresh record of the i-th replica (block id order), or undefined out of range. */
  at(i: number): BlockReplica | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    const c = this.#cells;
    const o = i * STRIDE;
    const owner = c[o + OWNER]!;
    return {
      blockId: c[o + BLOCK]!,
      siteId: this.siteId,
      groupId: owner >> 1,
      isCustodial: (owner & 1) === 1,
      size: c[o + SIZE]!,
      lastUpdate: c[o + UPDATE]!,
      fileIds: this.#files?.[i] ?? null,
      partitions: c[o + PARTITIONS]!,
    };
  }

  /** Binary search: the index of the block's replica, or -(insertion point) - 1. */
  indexOf(blockId: number): number {
    const c = this.#cells;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const id = c[mid * STRIDE]!;
      if (id === blockId) return mid;
      if (id < blockId) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  get(blockId: number): BlockReplica | undefined {
    const i = this.indexOf(blockId);
    return i >= 0 ? this.at(i) : undefined;
  }

  has(blockId: number): boolean {
    return this.indexOf(blockId) >= 0;
  }

  /** Whether every replica is complete (no file list), without materialising records. */
  allComplete(): boolean {
    return this.#files === null || this.#files.every((f) => f === undefined);
  }

  toArray(): BlockReplica[] {
    const out = new Array<BlockReplica>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.at(i)!;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<BlockReplica> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  // ---- editing (unsealed copies only) -------------------------------------------

  /** An unsealed copy: O(length), for a builder that will edit it. */
  copy(): BlockReplicaColumns {
    return new BlockReplicaColumns(this.siteId, this.#cells.slice(), this.#files?.slice() ?? null, false);
  }

  seal(): this {
    if (!this.#sealed) this.#summarise();
    this.#sealed = true;
    return this;
  }

  /** The newest `lastUpdate` of the rows; -Infinity when there are none. Sealed columns only. */
  get newestUpdate(): number {
    this.#summarised();
    return this.#newest;
  }

  /**
   * The sum of the sizes in row order when every size is a non-negative safe integer and so is the
   * sum (then any order of adding them gives it exactly); NaN otherwise. Sealed columns only.
   */
  get exactTotalSize(): number {
    this.#summarised();
    return this.#total;
  }

  /** Partition bits every row has (0x7fffffff when there are no rows). Sealed columns only. */
  get partitionsOfAll(): number {
    this.#summarised();
    return this.#allBits;
  }

  /** Partition bits some row has. Sealed columns only. */
  get partitionsOfAny(): number {
    this.#summarised();
    return this.#anyBits;
  }

  #summarise(): void {
    const c = this.#cells;
    let newest = Number.NEGATIVE_INFINITY;
    let total = 0;
    let integral = true;
    let all = 0x7fffffff;
    let any = 0;
    for (let o = 0; o < c.length; o += STRIDE) {
      const size = c[o + SIZE]!;
      if (!(size >= 0 && Number.isSafeInteger(size))) integral = false;
      total += size;
      if (c[o + UPDATE]! > newest) newest = c[o + UPDATE]!;
      all &= c[o + PARTITIONS]!;
      any |= c[o + PARTITIONS]!;
    }
    this.#newest = newest;
    this.#total = integral && Number.isSafeInteger(total) ? total : Number.NaN;
    this.#allBits = all;
    this.#anyBits = any;
  }

  #summarised(): void {
    if (!this.#sealed) throw new Error("BlockReplicaColumns summaries are read on sealed columns only");
  }

  /** Inserts or replaces the replica of `br.blockId`. Garbage is refused and changes nothing. */
  put(br: BlockReplica): void {
    this.#writable();
    checkReplica(br, this.siteId);
    const c = this.#cells;
    // The loader appends in block id order: a block after the last one needs no binary search.
    const i = c.length === 0 || c[c.length - STRIDE + BLOCK]! < br.blockId
      ? -this.length - 1
      : this.indexOf(br.blockId);
    const at = i >= 0 ? i : -i - 1;
    const owner = br.groupId * 2 + (br.isCustodial ? 1 : 0);
    if (i < 0 && at === this.length) {
      // Appending in block id order (the loader): no search-and-shift.
      c.push(br.blockId, owner, br.size, br.lastUpdate, br.partitions);
      this.#files?.push(undefined);
    } else {
      if (i < 0) {
        c.splice(at * STRIDE, 0, 0, 0, 0, 0, 0);
        this.#files?.splice(at, 0, undefined);
      }
      const o = at * STRIDE;
      c[o + BLOCK] = br.blockId;
      c[o + OWNER] = owner;
      c[o + SIZE] = br.size;
      c[o + UPDATE] = br.lastUpdate;
      c[o + PARTITIONS] = br.partitions;
    }
    if (br.fileIds !== null) {
      this.#files ??= new Array<readonly number[] | undefined>(this.length).fill(undefined);
      this.#files[at] = Object.isFrozen(br.fileIds) ? br.fileIds : Object.freeze([...br.fileIds]);
    } else if (this.#files) {
      this.#files[at] = undefined;
    }
  }

  /** Removes the replica of a block; false if there was none. */
  remove(blockId: number): boolean {
    this.#writable();
    const i = this.indexOf(blockId);
    if (i < 0) return false;
    this.#cells.splice(i * STRIDE, STRIDE);
    this.#files?.splice(i, 1);
    if (this.#files && this.allComplete()) this.#files = null;
    return true;
  }

  clear(): void {
    this.#writable();
    this.#cells = [];
    this.#files = null;
  }

  #writable(): void {
    if (this.#sealed) throw new Error("BlockReplicaColumns are sealed: edit a copy()");
  }
}

function checkId(what: string, id: unknown): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > MAX_COLUMN_ID) {
    throw new RangeError(`${what} must be an integer in [0, ${MAX_COLUMN_ID}], got ${String(id)}`);
  }
  return id;
}

function checkReplica(br: BlockReplica, siteId: number): void {
  if (typeof br !== "object" || br === null) throw new TypeError("A block replica must be an object");
  checkId("blockId", br.blockId);
  checkId("groupId", br.groupId);
  if (br.siteId !== siteId) {
    throw new RangeError(`Block replica at site id ${br.siteId} put in site id ${siteId}`);
  }
  if (typeof br.isCustodial !== "boolean") throw new TypeError("isCustodial must be a boolean");
  // One call each, not a loop over the two keys (an array per replica at load).
  checkFinite("size", br.size);
  checkFinite("lastUpdate", br.lastUpdate);
  if (!Number.isInteger(br.partitions) || br.partitions < 0 || br.partitions > 0x7fffffff) {
    throw new RangeError(`partitions must be a 31-bit mask, got ${String(br.partitions)}`);
  }
  if (br.fileIds !== null && !(Array.isArray(br.fileIds) && br.fileIds.every(Number.isInteger))) {
    throw new TypeError("fileIds must be null or an array of integers");
  }
}

function checkFinite(key: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new RangeError(`${key} must be a finite number, got ${String(v)}`);
  }
}
