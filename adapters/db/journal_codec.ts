/**
 * The text of a journal row's commands. A batch's commands repeat themselves:
 * the same keys in the same order, and mostly the same values (2,000 block
 * replicas of one site, ten blocks of one dataset). As a JSON array of objects
 * every command spells out its keys and values (~165 bytes for a block
 * replica), and that text was half the cost of a commit: stringifying it,
 * encoding it into the statement, and the database compressing and logging it.
 *
 * Written now as `{"k":[keys],"s":[shapes],"r":[rows]}`:
 * - `k`: every key name, once;
 * - `s`: each distinct key list (a shape) as indexes into `k`;
 * - `r`: one array per command, `[shape, same, ...values]`, where bit i of
 *   `same` says that the shape's i-th key has the same primitive value as the
 *   last command that had that key (any op), and `values` are the others in
 *   key order.
 * A bench block replica is then `[1,11,"…block name…",[]]`, ~50 bytes.
 *
 * Decoding gives back objects equal to the originals, keys in the same
 * order. Journal rows written before this format (a plain JSON array) still
 * decode. Strings are JSON strings either way: quotes, backslashes, NUL and
 * any Unicode come back exactly.
 */

import { Buffer } from "node:buffer";
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from "node:zlib";

/**
 * The journal row formats (the row's `version` column): 1 was a plain JSON array (a few rows of 1
 * are compact too, written before this number moved), 2 is the compact format, 3 is format 2's text
 * packed (`packJournalText`). A binary reads every format up to the newest it knows and refuses a
 * newer one by name: no downgrade across a format (docs/performance.md).
 */
export const JOURNAL_FORMAT = 2;

/**
 * Format 2's text compressed with Brotli (quality 0) and base64-encoded, written where the database
 * itself would compress the row with pglz (no lz4): on PGlite that ran on our thread at ~60 MB/s
 * and kept the journal of block names (UUIDs) only 1.4 times smaller; Brotli's fastest level is
 * several times faster and smaller even as base64 (`SqlInventoryStore` and migration 014).
 */
export const PACKED_JOURNAL_FORMAT = 3;

/** The newest journal row format this binary reads. */
export const NEWEST_JOURNAL_FORMAT = PACKED_JOURNAL_FORMAT;

/** The commands of a journal row of `format`; a newer format than this binary knows is refused by name. */
export function decodeJournalRow(format: number, seq: number, text: string): unknown[] {
  if (!Number.isInteger(format) || format < 1 || format > NEWEST_JOURNAL_FORMAT) {
    throw new Error(
      `Journal row ${seq} is in format ${format}, this node reads formats 1 to ${NEWEST_JOURNAL_FORMAT}: ` +
        "it was written by a newer Dynamo; upgrade this node (no downgrade across a journal format)",
    );
  }
  return decodeCommands(format === PACKED_JOURNAL_FORMAT ? unpackJournalText(seq, text) : text);
}

/** Format 2's text as format 3 stores it. */
export function packJournalText(text: string): string {
  return brotliCompressSync(Buffer.from(text), BROTLI_FASTEST).toString("base64");
}

const BROTLI_FASTEST = {
  params: { [zlib.BROTLI_PARAM_QUALITY]: 0, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT },
};

/**
 * The most bytes a packed row may unpack to: a text column's own limit (1 GB). Brotli unpacks a few
 * hundred characters into hundreds of MB: a damaged or hostile row must fail, not take the memory.
 */
export const JOURNAL_TEXT_MAX_BYTES = 1 << 30;

/** Exported for tests (`max`); everything else goes through `decodeJournalRow`. */
export function unpackJournalText(seq: number, packed: string, max = JOURNAL_TEXT_MAX_BYTES): string {
  // Buffer.from skips what is not base64 rather than refuse it: a damaged row must not decode.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(packed)) {
    throw new SyntaxError(`Journal row ${seq} (format ${PACKED_JOURNAL_FORMAT}) is not base64`);
  }
  try {
    const bytes = brotliDecompressSync(Buffer.from(packed, "base64"), { maxOutputLength: max });
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SyntaxError(`Journal row ${seq} (format ${PACKED_JOURNAL_FORMAT}) does not unpack: ${error}`);
  }
}

/** Keys compared for `same` per command (bits of a small integer). */
const MASK_KEYS = 30;

interface Shape {
  index: number;
  keys: number[];
}

/**
 * A node of the key-list trie: the shape of the key list that ends here, and the nodes one key
 * longer. Looking a command's key list up key by key costs a map lookup per key and allocates
 * nothing; keying a map by the list's text built a string per command (a third of the encoding).
 */
interface ShapeNode {
  shape: Shape | null;
  readonly next: Map<string, ShapeNode>;
}

/** JSON.stringify leaves out undefined (and functions, symbols) in an object: so does the journal. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

export function encodeCommands(commands: readonly object[]): string {
  const keyIndex = new Map<string, number>();
  const keys: string[] = [];
  const root: ShapeNode = { shape: null, next: new Map() };
  const shapeKeys: number[][] = [];
  const last: unknown[] = [];
  const rows: unknown[][] = new Array(commands.length);
  for (let c = 0; c < commands.length; c++) {
    const record = commands[c] as Record<string, unknown>;
    const names = Object.keys(record);
    let node = root;
    for (let i = 0; i < names.length; i++) {
      if (omitted(record[names[i]!])) continue;
      let child = node.next.get(names[i]!);
      if (!child) {
        child = { shape: null, next: new Map() };
        node.next.set(names[i]!, child);
      }
      node = child;
    }
    let shape = node.shape;
    if (!shape) {
      const indexes: number[] = [];
      for (const name of names) {
        if (omitted(record[name])) continue;
        let i = keyIndex.get(name);
        if (i === undefined) {
          i = keys.length;
          keys.push(name);
          keyIndex.set(name, i);
        }
        indexes.push(i);
      }
      shape = node.shape = { index: shapeKeys.length, keys: indexes };
      shapeKeys.push(indexes);
    }
    const row: unknown[] = [shape.index, 0];
    let same = 0;
    for (let n = 0, i = 0; n < names.length; n++) {
      const v = record[names[n]!];
      if (omitted(v)) continue;
      const k = shape.keys[i]!;
      if (i < MASK_KEYS && (v === null || typeof v !== "object") && last[k] === v) {
        same |= 1 << i;
      } else {
        row.push(v);
      }
      last[k] = v;
      i++;
    }
    row[1] = same;
    rows[c] = row;
  }
  return JSON.stringify({ k: keys, s: shapeKeys, r: rows });
}

/** The commands of a journal row, in either format. Throws on text that is neither. */
export function decodeCommands(text: string): unknown[] {
  const parsed: unknown = JSON.parse(text);
  if (Array.isArray(parsed)) return parsed; // written before the compact format
  if (!isCompact(parsed)) throw new SyntaxError("Journal commands are neither an array nor compact");
  const { k: keys, s: shapes, r: rows } = parsed;
  const last: unknown[] = [];
  const out: unknown[] = new Array(rows.length);
  for (let n = 0; n < rows.length; n++) {
    const row = rows[n]!;
    const shape = shapes[row[0] as number];
    const same = row[1];
    if (!Array.isArray(shape) || typeof same !== "number") {
      throw new SyntaxError(`Journal command ${n} has no valid shape`);
    }
    const command: Record<string, unknown> = {};
    let next = 2;
    for (let i = 0; i < shape.length; i++) {
      const k = shape[i];
      if (!Number.isInteger(k)) throw new SyntaxError(`Journal command ${n} has an unknown key`);
      const name = keys[k as number];
      if (typeof name !== "string") throw new SyntaxError(`Journal command ${n} has an unknown key`);
      let v: unknown;
      if (i < MASK_KEYS && (same & (1 << i)) !== 0) {
        // Never undefined once given: JSON has no undefined.
        if (last[k as number] === undefined) {
          throw new SyntaxError(`Journal command ${n} repeats a value never given`);
        }
        v = last[k as number];
      } else {
        if (next >= row.length) throw new SyntaxError(`Journal command ${n} is short of values`);
        v = row[next++];
      }
      last[k as number] = v;
      if (name === "__proto__") {
        // An own property, as JSON.parse makes it, not the object's prototype.
        Object.defineProperty(command, name, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        command[name] = v;
      }
    }
    if (next !== row.length) throw new SyntaxError(`Journal command ${n} has values left over`);
    out[n] = command;
  }
  return out;
}

function isCompact(v: unknown): v is { k: unknown[]; s: unknown[][]; r: unknown[][] } {
  if (v === null || typeof v !== "object") return false;
  const { k, s, r } = v as Record<string, unknown>;
  return Array.isArray(k) && Array.isArray(s) && Array.isArray(r) && r.every(Array.isArray);
}
