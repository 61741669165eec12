/**
 * Order-free digests of a directory's entries, so that a consistency re-run
 * can tell a directory that has not changed since the last complete run.
 *
 * Each entry is hashed to 64 bits (two 32-bit lanes, cyrb53-style mixing)
 * and the hashes are added (mod 2^32 per lane) with a count: addition is
 * commutative, so the listing's order does not matter, and unlike XOR a
 * repeated entry changes the digest rather than cancelling out. The text form
 * `v1:COUNT:HI:LO` is what the database stores; anything else read back
 * (garbage, another version) simply never equals a digest computed now.
 */

export const DIGEST_VERSION = "v1";

/** A running digest: add entries in any order, read `text` when done. */
export class DirDigest {
  count = 0;
  #hi = 0;
  #lo = 0;

  /** Adds one entry made of the given fields (strings and whole numbers). */
  add(...fields: readonly (string | number)[]): void {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (const field of fields) {
      const s = typeof field === "number" ? String(field) : field;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 2654435761);
        h2 = Math.imul(h2 ^ c, 1597334677);
      }
      // A separator no name can hold (a NUL is hostile), so ("ab", "c") and ("a", "bc") differ.
      h1 = Math.imul(h1 ^ 0x10000, 2654435761);
      h2 = Math.imul(h2 ^ 0x10000, 1597334677);
    }
    this.#sum(h1, h2);
  }

  /**
   * Adds a listed file: the name is `path` from `from` on, the size a whole
   * number (the hot path of a listing: no string is made for either).
   */
  addFile(path: string, from: number, size: number): void {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = from; i < path.length; i++) {
      const c = path.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0x10000, 2654435761);
    h2 = Math.imul(h2 ^ 0x10000, 1597334677);
    // The size as its low and high 32 bits, each marked so that they never read as a character.
    h1 = Math.imul(h1 ^ (size >>> 0), 2654435761);
    h2 = Math.imul(h2 ^ Math.floor(size / 4294967296), 1597334677);
    h1 = Math.imul(h1 ^ 0x20000, 2654435761);
    h2 = Math.imul(h2 ^ 0x20000, 1597334677);
    this.#sum(h1, h2);
  }

  /**
   * Adds an inventory file: its name (`path` from `from` on), size, LFN,
   * dataset and block, hashed in place like addFile.
   */
  addInventoryFile(
    path: string,
    from: number,
    f: { size: number; lfn: string; dataset: string; block: string },
  ) {
    let h1 = 0x85ebca6b;
    let h2 = 0xc2b2ae35;
    for (let i = from; i < path.length; i++) {
      const c = path.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (f.size >>> 0), 2654435761);
    h2 = Math.imul(h2 ^ Math.floor(f.size / 4294967296), 1597334677);
    for (const s of [f.lfn, f.dataset, f.block]) {
      h1 = Math.imul(h1 ^ 0x10000, 2654435761);
      h2 = Math.imul(h2 ^ 0x10000, 1597334677);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 2654435761);
        h2 = Math.imul(h2 ^ c, 1597334677);
      }
    }
    this.#sum(h1, h2);
  }

  #sum(h1: number, h2: number): void {
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.#hi = (this.#hi + (h2 >>> 0)) >>> 0;
    this.#lo = (this.#lo + (h1 >>> 0)) >>> 0;
    this.count++;
  }

  get text(): string {
    return `${DIGEST_VERSION}:${this.count}:${this.#hi.toString(16)}:${this.#lo.toString(16)}`;
  }
}

/** The directory part of a site path ("/store/a/f" → "/store/a"; "/f" → "/"). */
export function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Whether `path` is `dir` or below it. */
export function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : dir + "/");
}

/**
 * The settings that decide what a directory's comparison finds, apart from
 * its entries: a run under other settings never reuses an earlier run's
 * findings. (Thresholds and confirm_after act after the comparison, on the
 * findings, so they are not part of it.)
 */
export function configFingerprint(config: {
  readonly roots: readonly string[];
  readonly ignoreDirs: readonly string[];
  readonly ignoreAgeMs: number;
  readonly unmanaged: readonly { readonly path: string; readonly minAgeMs: number }[];
}): string {
  const d = new DirDigest();
  d.add(
    JSON.stringify({
      roots: config.roots,
      ignoreDirs: config.ignoreDirs,
      ignoreAgeMs: config.ignoreAgeMs,
      unmanaged: config.unmanaged.map((a) => [a.path, a.minAgeMs]),
    }),
  );
  return d.text;
}
