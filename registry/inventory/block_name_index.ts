/**
 * (dataset id, block name) → block id, for every block ever named.
 *
 * Why not a Map per dataset: at a million blocks that costs ~80 bytes a block
 * (a Map object and hash table per dataset of ~10 blocks). Here one
 * open-addressing table holds block ids (linear probing, at most 3/4 full) and
 * two arrays indexed by block id hold each id's key: ~22 bytes a block, the
 * name string itself being shared with the block record. The table is an
 * Int32Array: 4 bytes a slot instead of 8, and nothing in it for the garbage
 * collector to visit (a JavaScript array of 2 M small integers is scanned
 * whole at every full collection, and the load triggers several).
 *
 * Like the other name maps it only grows and is shared by every inventory
 * version: an id keeps its key until another key is set for it (an id handed
 * out by a rolled-back batch can be handed out again), and a lookup answers
 * only an id whose current key is exactly the one asked for. A slot whose id
 * got another key stays as a tombstone until the table grows.
 */
const EMPTY = 0; // slots hold blockId + 1
const MIN_CAPACITY = 16;

export class BlockNameIndex {
  #slots = new Int32Array(MIN_CAPACITY); // EMPTY everywhere
  #used = 0;
  /** block id → its name and dataset id */
  #names: (string | undefined)[] = [];
  #datasets: number[] = [];

  /** Block ids with a key (some may be stale: see the class comment). */
  get size(): number {
    return this.#used;
  }

  lookup(datasetId: number, name: string): number | undefined {
    if (typeof name !== "string" || !Number.isInteger(datasetId)) return undefined;
    const mask = this.#slots.length - 1;
    for (let s = hashKey(datasetId, name) & mask;; s = (s + 1) & mask) {
      const slot = this.#slots[s]!;
      if (slot === EMPTY) return undefined;
      const id = slot - 1;
      if (this.#datasets[id] === datasetId && this.#names[id] === name) return id;
    }
  }

  /** The Map-like view of one dataset's block names (`names.blocks.get(datasetId)?.get(name)`). */
  get(datasetId: number): { get(name: string): number | undefined } {
    return { get: (name: string) => this.lookup(datasetId, name) };
  }

  /**
   * Makes room for `count` keys in all, so that adding them never rehashes (the loader knows how
   * many blocks are coming; growing by doubling hashed every name again twice over on average).
   */
  reserve(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > 2 ** 28) return; // a hint, not a promise
    let capacity = this.#slots.length;
    while (count * 4 > capacity * 3) capacity *= 2;
    if (capacity > this.#slots.length) this.#rehash(capacity);
  }

  /** Sets the id of a key (replacing the key's previous id, and the id's previous key). */
  add(datasetId: number, name: string, blockId: number): void {
    if (typeof name !== "string") throw new TypeError("A block name must be a string");
    // Checked one by one: a loop over pairs allocated three arrays per block at load.
    checkId("dataset id", datasetId);
    checkId("block id", blockId);
    // The length first: a new id (every block at load) would read past the arrays' end.
    if (
      blockId < this.#datasets.length && this.#datasets[blockId] === datasetId &&
      this.#names[blockId] === name
    ) {
      return;
    }
    if ((this.#used + 1) * 4 > this.#slots.length * 3) this.#grow();
    const mask = this.#slots.length - 1;
    let s = hashKey(datasetId, name) & mask;
    for (;; s = (s + 1) & mask) {
      const slot = this.#slots[s]!;
      if (slot === EMPTY) {
        this.#used += 1;
        break;
      }
      const id = slot - 1;
      if (this.#datasets[id] === datasetId && this.#names[id] === name) break; // the key's old id
    }
    this.#slots[s] = blockId + 1;
    while (this.#datasets.length < blockId) {
      this.#datasets.push(-1);
      this.#names.push(undefined);
    }
    this.#datasets[blockId] = datasetId;
    this.#names[blockId] = name;
  }

  #grow(): void {
    this.#rehash(this.#slots.length * 2);
  }

  #rehash(capacity: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(capacity); // EMPTY everywhere
    this.#used = 0;
    const mask = this.#slots.length - 1;
    for (const slot of old) {
      if (slot === EMPTY) continue;
      const id = slot - 1;
      const name = this.#names[id];
      if (name === undefined) continue;
      let s = hashKey(this.#datasets[id]!, name) & mask;
      while (this.#slots[s] !== EMPTY) {
        if (this.#slots[s] === slot) break; // the same id twice (a stale copy): keep one
        s = (s + 1) & mask;
      }
      if (this.#slots[s] === EMPTY) this.#used += 1;
      this.#slots[s] = slot;
    }
  }
}

function checkId(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 31 - 1) {
    throw new RangeError(`${what} must be a non-negative 31-bit integer, got ${String(v)}`);
  }
}

/** FNV-1a over the dataset id and the name's UTF-16 code units. */
function hashKey(datasetId: number, name: string): number {
  let h = 0x811c9dc5 ^ datasetId;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ (h >>> 15)) >>> 0;
}
