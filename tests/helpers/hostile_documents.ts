/**
 * Random, garbage and hostile injection documents for fuzz tests: a valid
 * document mutated at the value, key, structure or byte level. Deterministic
 * for a seed. Names carry a per-document tag so that documents do not collide
 * with each other when several are applied to one inventory.
 */
import { SeededRng } from "../../actors/runtime/mod.ts";

const MAX = Number.MAX_SAFE_INTEGER;

export function validDocument(tag: string): Record<string, unknown> {
  const ds = `/Fuzz${tag}/Run-v1/AOD`;
  return {
    site: [{ name: `T2_F${tag}`, host: "se.example.org", storage_type: "disk", status: "ready" }],
    group: [{ name: `G${tag}`, olevel: "Dataset" }],
    dataset: [{
      name: ds,
      status: "valid",
      data_type: "production",
      blocks: [
        {
          name: "b1",
          files: [
            { name: `/store/f${tag}/b1/1.root`, size: 100, adler32: "0000abcd" },
            {
              name: `/store/f${tag}/b1/2.root`,
              size: 200,
              checksum: { md5: "d41d8cd98f00b204e9800998ecf8427e" },
            },
          ],
        },
        { name: `${ds}#b2`, files: [{ name: `/store/f${tag}/b2/1.root`, size: 0 }] },
      ],
    }],
    datasetreplica: [{
      dataset: ds,
      site: `T2_F${tag}`,
      group: `G${tag}`,
      blockreplicas: [{ block: "b1" }, { block: "b2", files: [`/store/f${tag}/b2/1.root`] }],
    }],
  };
}

const HOSTILE_VALUES: unknown[] = [
  "\ud800",
  "/S\ud800/B/C",
  "/store/\udfff.root",
  "/Cafe\u0301/B/C",
  "",
  "/",
  "//",
  "/store//x.root",
  "/store/x.root/",
  "/store/../../etc/passwd",
  "../..",
  "#",
  "a#b#c",
  "a".repeat(600),
  "/" + "a/".repeat(2100) + "x",
  "\u0000",
  "x\u0085y",
  "T2_A\n",
  " padded ",
  "constructor",
  "__proto__",
  "toString",
  "0000abcde",
  -1,
  -0,
  1.5,
  2 ** 53,
  2 ** 63,
  1e308,
  MAX,
  0,
  null,
  true,
  false,
  [],
  {},
  [[[[[[[[[[]]]]]]]]]],
  { __proto__: null, evil: 1 },
  { adler32: "0000abcd", rot13: "x" },
];

const KEYS = ["name", "size", "site", "group", "files", "blocks", "dataset", "block", "adler32", "checksum"];

/** A mutated document as the body text (or bytes, for encoding garbage). */
export function hostileBody(seed: number, tag: string): string | Uint8Array<ArrayBuffer> {
  const rng = new SeededRng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
  const doc = validDocument(tag);
  const mutations = 1 + Math.floor(rng.next() * 3);
  for (let m = 0; m < mutations; m++) {
    const kind = Math.floor(rng.next() * 10);
    const [holder, key] = randomSlot(doc, rng);
    if (kind <= 4) holder[key] = structuredClone(pick(HOSTILE_VALUES));
    else if (kind === 5) delete holder[key];
    else if (kind === 6) holder[pick(["evil", "__proto__", "constructor", "Name", "name "])] = 1;
    else if (kind === 7 && Array.isArray(holder[key])) {
      // Many copies of one element: duplicates, and large sums.
      const list = holder[key] as unknown[];
      if (list.length > 0) holder[key] = Array.from({ length: 1100 }, () => structuredClone(list[0]));
    } else if (kind === 8) holder[key] = pick(KEYS);
    else holder[key] = MAX;
  }
  let text = JSON.stringify(doc);
  const textual = rng.next();
  if (textual < 0.1) {
    // A duplicated key: the same key again at the start of some object.
    const at = nthIndex(text, "{", Math.floor(rng.next() * 8));
    if (at >= 0) {
      text = `${text.slice(0, at + 1)}"${pick(KEYS)}":${JSON.stringify(pick(HOSTILE_VALUES))},${
        text.slice(at + 1)
      }`;
    }
  } else if (textual < 0.15) {
    text = text.slice(0, Math.floor(rng.next() * text.length)); // truncated
  } else if (textual < 0.2) {
    const bytes = new TextEncoder().encode(text);
    bytes[Math.floor(rng.next() * bytes.length)] = pick([0xff, 0xc3, 0x80, 0xed]); // not UTF-8 (mostly)
    return bytes;
  } else if (textual < 0.23) {
    text = pick(["", "null", "[]", "42", '"doc"', "{", "{}", '{"dataset":{}}', "\u0000", "[".repeat(5000)]);
  }
  return text;
}

function nthIndex(text: string, needle: string, n: number): number {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) return -1;
  }
  return at;
}

/** A random (container, key) inside the document, at any depth. */
function randomSlot(doc: Record<string, unknown>, rng: SeededRng): [Record<string, unknown>, string] {
  let holder: Record<string, unknown> = doc;
  let key = Object.keys(doc)[Math.floor(rng.next() * Object.keys(doc).length)] ?? "dataset";
  for (let depth = 0; depth < 6 && rng.next() < 0.75; depth++) {
    const value = holder[key];
    if (typeof value !== "object" || value === null) break;
    const keys = Object.keys(value);
    if (keys.length === 0) break;
    holder = value as Record<string, unknown>;
    key = keys[Math.floor(rng.next() * keys.length)]!;
  }
  return [holder, key];
}
