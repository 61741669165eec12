/**
 * Strict reading of request bodies: bytes that are not UTF-8 and JSON objects
 * with a key given twice are refused instead of being read as U+FFFD or with
 * the last value winning (which would let a proxy or a log see one document
 * and Dynamo apply another).
 */

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const LENIENT = new TextDecoder("utf-8");

/** Decodes a body; `null` when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  // The fatal decoder is ~50 times slower than the lenient one on a large body: decode leniently,
  // and only when a U+FFFD appears (an invalid sequence, or a genuine U+FFFD) decode again strictly.
  const text = LENIENT.decode(bytes);
  if (!text.includes("\ufffd")) return text;
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** A key given twice in one JSON object; `path` locates the object (`dataset[0].blocks[2]`). */
export interface DuplicateKey {
  key: string;
  path: string;
}

/** An open object (keys seen so far) or array (index of the current element). */
interface Frame {
  keys: string[] | Set<string> | null;
  index: number;
  parent: Frame | undefined;
  /** Where this container sits in its parent: a key, or an index. */
  at: string | number;
}

/**
 * Finds the first duplicated key in `text`, which must already be valid JSON
 * (JSON.parse succeeded), in one linear pass. Keys are compared after escapes
 * are decoded (`"a"` and `"\u0061"` are the same key).
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  let top: Frame | undefined;
  let expectKey = false;
  let lastKey = "";
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) { // a string: jump to its closing quote
      let end = text.indexOf('"', i + 1);
      for (;;) {
        let k = end - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break; // an even run of backslashes: the quote is not escaped
        end = text.indexOf('"', end + 1);
      }
      if (expectKey && top !== undefined && top.keys !== null) {
        let key = text.slice(i + 1, end);
        if (key.includes("\\")) key = JSON.parse(text.slice(i, end + 1)) as string;
        if (Array.isArray(top.keys)) {
          if (top.keys.includes(key)) return { key, path: pathOf(top) };
          top.keys.push(key);
          // Small objects (a file's three fields) are searched linearly; large ones get a set.
          if (top.keys.length > 16) top.keys = new Set(top.keys);
        } else {
          if (top.keys.has(key)) return { key, path: pathOf(top) };
          top.keys.add(key);
        }
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (ch === 0x2c) { // ,
      if (top === undefined) continue;
      if (top.keys === null) top.index += 1;
      else expectKey = true;
    } else if (ch === 0x7b || ch === 0x5b) { // { [
      const at = top === undefined ? "" : top.keys === null ? top.index : lastKey;
      top = { keys: ch === 0x7b ? [] : null, index: 0, parent: top, at };
      expectKey = ch === 0x7b;
    } else if (ch === 0x7d || ch === 0x5d) { // } ]
      top = top?.parent;
      expectKey = false;
    }
  }
  return null;
}

/** `dataset[0].blocks[2]`, built only when a duplicate is found. */
function pathOf(frame: Frame): string {
  const parts: (string | number)[] = [];
  for (let f: Frame | undefined = frame; f?.parent !== undefined; f = f.parent) parts.push(f.at);
  return parts.reverse().reduce<string>(
    (label, at) => typeof at === "number" ? `${label}[${at}]` : dot(label, at),
    "",
  );
}

/**
 * Why a URL-encoded text (a query string or a form body) is not valid: a
 * percent-escape that does not decode as UTF-8 (`%FF`) would otherwise become
 * U+FFFD silently. Returns the offending component, or `null`.
 */
export function badPercentEncoding(encoded: string): string | null {
  if (!encoded.includes("%")) return null;
  for (const part of encoded.replace(/^\?/, "").split(/[&=]/)) {
    if (!part.includes("%")) continue;
    try {
      decodeURIComponent(part.replaceAll("+", " "));
    } catch {
      return part.length > 64 ? `${part.slice(0, 64)}…` : part;
    }
  }
  return null;
}

/** The parameter name a duplicated key is reported under: its full path in the document. */
export function duplicateKeyParameter(d: DuplicateKey): string {
  return dot(d.path, d.key);
}

function dot(label: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${label}[${JSON.stringify(key)}]`;
  return label ? `${label}.${key}` : key;
}

// A JSON escape of a surrogate or of NUL: the only way either gets into a body that is valid UTF-8.
const SUSPECT_ESCAPE = /\\u(?:[dD][89a-fA-F]|0000)/;

/** A string the database cannot store as sent: PostgreSQL text and jsonb hold neither. */
function unstorable(s: string): string | null {
  if (!s.isWellFormed()) return "must be well-formed Unicode (no lone surrogates)";
  if (s.includes("\u0000")) return "must not contain control characters (NUL)";
  return null;
}

/**
 * The first string (key or value) in a parsed body that is not well-formed
 * Unicode or holds a NUL, with its path, or `null`. The walk happens only when
 * the text has such an escape at all, so ordinary bodies cost one regex scan.
 */
export function unstorableString(text: string, doc: unknown): { path: string; reason: string } | null {
  if (!SUSPECT_ESCAPE.test(text)) return null;
  const stack: { value: unknown; path: string }[] = [{ value: doc, path: "" }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      const reason = unstorable(value);
      if (reason) return { path: path || "body", reason };
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: `${path}[${i}]` }));
    } else if (typeof value === "object" && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        const reason = unstorable(k);
        if (reason) return { path: dot(path, k), reason };
        stack.push({ value: v, path: dot(path, k) });
      }
    }
  }
  return null;
}
