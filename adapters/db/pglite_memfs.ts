/**
 * In-memory PGlite keeps every file of the database in Emscripten's MEMFS, one
 * Uint8Array per file. PostgreSQL extends a relation with `fallocate` (which
 * MEMFS runs as a truncate to the new size), and MEMFS resizes for a truncate
 * to exactly the new size: a new array and a copy of the whole file every time
 * a table grows by a few pages. Growing a table was quadratic in its size; in
 * the journal bench, four tenths of the time went into these copies.
 *
 * `growFilesGeometrically` makes a truncate that lengthens a file grow its
 * array the way MEMFS's own writes do (capacity doubling below 1 MiB, then by
 * an eighth), zero-filling the new length. A truncate that shortens a file
 * keeps MEMFS's own behaviour (an exact copy: shrinking is rare, and gives the
 * memory back). Files on disk (a data directory) do not go through MEMFS.
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

/** Idempotent; returns whether this call changed it. */
export function growFilesGeometrically(memfs: Memfs): boolean {
  const marked = memfs as Memfs & { [PATCHED]?: true };
  if (marked[PATCHED]) return false;
  const exact = memfs.resizeFileStorage.bind(memfs);
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
