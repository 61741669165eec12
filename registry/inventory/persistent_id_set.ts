/**
 * An immutable set of integer ids split into hash shards; editing copies only
 * the touched shards. Used for per-site indexes whose size varies from a
 * handful to tens of thousands of entries.
 */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
const SHARD_MASK = SHARDS - 1;

const EMPTY_SHARD: ReadonlySet<number> = new Set<number>();

export class PersistentIdSet {
  static readonly EMPTY = new PersistentIdSet(new Array(SHARDS).fill(EMPTY_SHARD), 0);

  private constructor(private readonly shards: readonly ReadonlySet<number>[], readonly size: number) {}

  has(id: number): boolean {
    return this.shards[id & SHARD_MASK]!.has(id);
  }

  *values(): IterableIterator<number> {
    for (const shard of this.shards) yield* shard;
  }

  /** Calls `f` with every id, in the order of `values()` (without a generator's cost). */
  forEach(f: (id: number) => void): void {
    for (const shard of this.shards) shard.forEach((id) => f(id));
  }

  /** Ids in ascending order (stable output for listings). */
  sorted(): number[] {
    return [...this.values()].sort((a, b) => a - b);
  }

  edit(): IdSetBuilder {
    return new IdSetBuilder(this.shards, this.size);
  }

  /** @internal */
  static fromParts(shards: ReadonlySet<number>[], size: number): PersistentIdSet {
    return size === 0 ? PersistentIdSet.EMPTY : new PersistentIdSet(shards, size);
  }
}

export class IdSetBuilder {
  #shards: Set<number>[] | null = null;
  #owned = new Set<number>();
  #size: number;

  constructor(private readonly base: readonly ReadonlySet<number>[], size: number) {
    this.#size = size;
  }

  has(id: number): boolean {
    return (this.#shards ?? this.base)[id & SHARD_MASK]!.has(id);
  }

  *values(): IterableIterator<number> {
    for (const shard of this.#shards ?? this.base) yield* [...shard];
  }

  add(id: number): void {
    if (this.has(id)) return;
    this.#writable(id & SHARD_MASK).add(id);
    this.#size += 1;
  }

  delete(id: number): void {
    if (!this.has(id)) return;
    this.#writable(id & SHARD_MASK).delete(id);
    this.#size -= 1;
  }

  #writable(s: number): Set<number> {
    const shards = this.#shards ??= [...this.base] as Set<number>[];
    if (!this.#owned.has(s)) {
      shards[s] = new Set(shards[s]);
      this.#owned.add(s);
    }
    return shards[s]!;
  }

  build(): PersistentIdSet {
    if (!this.#shards) return PersistentIdSet.fromParts([...this.base], this.#size);
    return PersistentIdSet.fromParts(this.#shards, this.#size);
  }
}
