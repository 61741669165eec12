/**
 * An immutable vector indexed by small non-negative integer ids, stored as
 * fixed-size chunks. Editing copies only the touched chunks (and the chunk
 * table), so publishing a change costs O(chunks touched), not O(size), and
 * every earlier version stays valid for whoever holds it.
 */
const CHUNK_BITS = 10;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;

type Chunk<T> = readonly (T | undefined)[];

export class PersistentVector<T> {
  static empty<T>(): PersistentVector<T> {
    return new PersistentVector<T>([], 0);
  }

  private constructor(readonly chunks: readonly (Chunk<T> | undefined)[], readonly size: number) {}

  get(id: number): T | undefined {
    return this.chunks[id >>> CHUNK_BITS]?.[id & CHUNK_MASK];
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Values in id order. */
  *values(): IterableIterator<T> {
    for (const chunk of this.chunks) {
      if (!chunk) continue;
      for (const v of chunk) if (v !== undefined) yield v;
    }
  }

  /** [id, value] pairs in id order. */
  *entries(): IterableIterator<[number, T]> {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      if (!chunk) continue;
      for (let i = 0; i < chunk.length; i++) {
        const v = chunk[i];
        if (v !== undefined) yield [(c << CHUNK_BITS) | i, v];
      }
    }
  }

  edit(): VectorBuilder<T> {
    return new VectorBuilder<T>(this.chunks, this.size);
  }

  /** @internal used by the builder */
  static fromParts<T>(chunks: (Chunk<T> | undefined)[], size: number): PersistentVector<T> {
    return new PersistentVector<T>(chunks, size);
  }
}

/**
 * A transient view over a vector: reads see the edits, the base is never
 * touched, and each chunk is copied at most once per builder.
 */
export class VectorBuilder<T> {
  #chunks: (Chunk<T> | undefined)[] | null = null; // copied on first write
  #owned = new Set<number>();
  /** The chunk written last, known owned: the loader writes ids in order, and skips the Set's lookup. */
  #lastOwned = -1;
  #size: number;
  #done = false;

  constructor(private readonly base: readonly (Chunk<T> | undefined)[], size: number) {
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    return (this.#chunks ?? this.base)[id >>> CHUNK_BITS]?.[id & CHUNK_MASK];
  }

  set(id: number, value: T | undefined): void {
    if (this.#done) throw new Error("VectorBuilder used after build()");
    if (!Number.isInteger(id) || id < 0) {
      throw new RangeError(`Vector id must be a non-negative integer, got ${id}`);
    }
    const c = id >>> CHUNK_BITS;
    const i = id & CHUNK_MASK;
    const chunks = this.#chunks ??= [...this.base];
    let chunk = chunks[c] as (T | undefined)[] | undefined;
    const previous = chunk?.[i];
    if (previous === value) return;
    if (c !== this.#lastOwned && !this.#owned.has(c)) {
      if (value === undefined && !chunk) return;
      chunk = chunk ? chunk.slice() : new Array<T | undefined>(CHUNK_SIZE).fill(undefined);
      while (chunks.length <= c) chunks.push(undefined);
      chunks[c] = chunk;
      this.#owned.add(c);
    }
    this.#lastOwned = c;
    chunk![i] = value;
    if (previous === undefined && value !== undefined) this.#size += 1;
    else if (previous !== undefined && value === undefined) this.#size -= 1;
  }

  delete(id: number): void {
    this.set(id, undefined);
  }

  *values(): IterableIterator<T> {
    for (const chunk of this.#chunks ?? this.base) {
      if (!chunk) continue;
      for (const v of chunk) if (v !== undefined) yield v;
    }
  }

  build(): PersistentVector<T> {
    this.#done = true;
    // Chunks are not frozen: V8 copies frozen arrays about 40× slower, and every
    // write copies a chunk first. They are private and readonly by type.
    if (!this.#chunks) return PersistentVector.fromParts([...this.base], this.#size);
    return PersistentVector.fromParts(this.#chunks, this.#size);
  }
}
