/**
 * In-memory PGlite keeps every file of the database in Emscripten's MEMFS, one
 * Uint8Array per file, and a file that outgrows its array gets a new one and a
 * copy of its contents. Two ways this made writing quadratic:
 *
 * - PostgreSQL extends a relation with `fallocate` (which MEMFS runs as a
 *   truncate to the new size), and MEMFS resizes for a truncate to exactly the
 *   new size: a new array and a copy of the whole file every time a table grew
 *   by a few pages. In the journal bench, four tenths of the time went into
 *   these copies. A truncate that lengthens a file now grows its array the way
 *   writes do, zero-filling the new length. A truncate that shortens a file
 *   keeps MEMFS's own behaviour (an exact copy: shrinking is rare, and gives the
 *   memory back).
 * - MEMFS's own growth for writes doubles an array below 1 MiB and then adds an
 *   eighth: a table file of a few hundred MB was copied whole for every eighth
 *   it grew (each byte ~8 times over its life), and a new 16 MB WAL segment,
 *   written full of zeros 8 KB at a time, was copied ~23 times while it was
 *   made (`wal_init_zero`). In the CMS journal bench that was 5-14 % of the
 *   writer's thread. Arrays now double below `DOUBLING_MAX` and then grow by
 *   half: each byte is copied about twice, for at most half a file of spare
 *   capacity.
 *
 * Files on disk (a data directory) do not go through MEMFS.
 */

/** The part of an Emscripten MEMFS file node this touches. */
export interface MemfsNode {
  contents: Uint8Array;
  usedBytes: number;
}

export interface Memfs {
  expandFileStorage(node: MemfsNode, newCapacity: number): void;
  resizeFileStorage(node: MemfsNode, newSize: number): void;
}

const PATCHED = Symbol.for("dynamo.memfs.geometric");

/** Below this an array doubles as it grows; above it, it grows by half. */
export const DOUBLING_MAX = 64 * 1024 * 1024;

/** The capacity a file's array grows to when `needed` bytes no longer fit in `capacity`. */
export function grownCapacity(capacity: number, needed: number): number {
  const grown = capacity < DOUBLING_MAX ? capacity * 2 : capacity + Math.floor(capacity / 2);
  return Math.max(needed, grown, 256);
}

/** Idempotent; returns whether this call changed it. */
export function growFilesGeometrically(memfs: Memfs): boolean {
  const marked = memfs as Memfs & { [PATCHED]?: true };
  if (marked[PATCHED]) return false;
  const exact = memfs.resizeFileStorage.bind(memfs);
  memfs.expandFileStorage = (node, newCapacity) => {
    const capacity = node.contents.length;
    if (capacity >= newCapacity) return;
    const old = node.contents.subarray(0, node.usedBytes);
    node.contents = new Uint8Array(grownCapacity(capacity, newCapacity));
    node.contents.set(old);
  };
  memfs.resizeFileStorage = (node, newSize) => {
    if (newSize <= node.usedBytes) return exact(node, newSize);
    memfs.expandFileStorage(node, newSize);
    // Beyond usedBytes MEMFS keeps zeros; filled anyway, a truncate must read back as zeros.
    node.contents.fill(0, node.usedBytes, newSize);
    node.usedBytes = newSize;
  };
  marked[PATCHED] = true;
  return true;
}
