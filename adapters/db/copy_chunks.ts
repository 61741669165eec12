/**
 * How many rows the next COPY of a PGlite bulk insert takes. PGlite runs in
 * the main thread: each chunk (building its rows and the COPY itself) is one
 * stretch without a turn of the event loop, so the chunk is sized by time, to
 * about `TARGET_MS` from what the previous chunk took.
 */
export const FIRST_CHUNK_ROWS = 1_000;
const MIN_ROWS = 200;
const MAX_ROWS = 10_000;
const TARGET_MS = 20;

export function nextChunkRows(rows: number, ms: number): number {
  const rate = rows / Math.max(ms, 1); // rows per ms; a chunk under 1 ms counts as 1 ms
  return Math.max(MIN_ROWS, Math.min(MAX_ROWS, Math.round(rate * TARGET_MS)));
}

/** The rows in arrays of `size()` rows (asked before each chunk). */
export function* inChunks<T>(rows: Iterable<T>, size: () => number): Generator<T[]> {
  let chunk: T[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length >= size()) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
