/**
 * Shell wildcards as the original matched them (Python's `fnmatch`): `*` any
 * run of characters (including `/`), `?` one character, `[abc]`, `[a-z]` and
 * `[!abc]` one character of (not of) a set; a `[` without a closing `]` is a
 * plain character. The whole name must match.
 *
 * Never compiled into a backtracking regular expression: `*a*a*a*a*a*b`
 * against a long name made the old translation explore exponentially many
 * splits. Here a pattern is cut at its stars into fixed-length segments; the
 * first must match at the start, the last at the end, and each middle one is
 * placed at its leftmost position after the previous (leftmost is always
 * safe because a segment has a fixed length and a star can absorb whatever
 * lies between). Time is at most proportional to name length × pattern
 * length, with no backtracking.
 */

/** One position of a segment: a code point, any character, or a set. */
type Atom =
  | { readonly kind: "char"; readonly cp: number }
  | { readonly kind: "any" }
  | { readonly kind: "set"; readonly negate: boolean; readonly ranges: readonly number[] };

interface Segment {
  readonly atoms: readonly Atom[];
  /** The segment as a string when it is all literal characters (fast path with indexOf). */
  readonly literal: string | null;
}

export interface Glob {
  readonly source: string;
  /** Whether the whole name matches. */
  test(name: string): boolean;
}

/** Whether a name filter is a pattern rather than an exact name (as the registry decides it). */
export function hasWildcard(text: string): boolean {
  return text.includes("*") || text.includes("?");
}

const cache = new Map<string, Glob>();
const CACHE_SIZE = 1000;

/** Compiles a pattern; compiled patterns are cached (filters repeat: locks, policy lines, request sites). */
export function compileGlob(pattern: string): Glob {
  let glob = cache.get(pattern);
  if (glob) return glob;
  glob = build(pattern);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(pattern, glob);
  return glob;
}

/** `compileGlob(pattern).test(name)`. */
export function globMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

/**
 * A SQL `LIKE` pattern (escape character `\`) matching every name the glob matches, and
 * possibly more: a set becomes any one character. For the database to narrow a search
 * before the glob decides (a set is rare in a dataset pattern).
 */
export function globToLike(pattern: string): string {
  const cps = Array.from(pattern, (c) => c.codePointAt(0)!);
  let like = "";
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === STAR) like += "%";
    else if (c === QUESTION) like += "_";
    else if (c === OPEN && parseSet(cps, i)) {
      like += "_";
      i = parseSet(cps, i)!.end;
    } else {
      const ch = String.fromCodePoint(c);
      like += ch === "%" || ch === "_" || ch === "\\" ? `\\${ch}` : ch;
    }
  }
  return like;
}

function build(source: string): Glob {
  const segments: Segment[] = [];
  let atoms: Atom[] = [];
  let stars = 0;
  const cps = Array.from(source, (c) => c.codePointAt(0)!);
  const close = () => {
    const literal = atoms.every((a) => a.kind === "char")
      ? String.fromCodePoint(...atoms.map((a) => (a as { cp: number }).cp))
      : null;
    segments.push({ atoms, literal });
    atoms = [];
  };
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === STAR) {
      close();
      stars += 1;
      while (cps[i + 1] === STAR) i += 1;
    } else if (c === QUESTION) {
      atoms.push({ kind: "any" });
    } else if (c === OPEN) {
      const set = parseSet(cps, i);
      if (set) {
        atoms.push(set.atom);
        i = set.end;
      } else atoms.push({ kind: "char", cp: c });
    } else atoms.push({ kind: "char", cp: c });
  }
  close();
  if (stars === 0) return { source, test: (name) => exact(segments[0]!, name) };
  // Most names fail on a literal prefix or suffix: check those with string methods before anything else.
  const prefix = literalRun(segments[0]!.atoms);
  const suffix = literalRun([...segments[segments.length - 1]!.atoms].reverse(), true);
  const literalOnly = segments.every((s) => s.literal !== null);
  return {
    source,
    test(name) {
      if (!name.startsWith(prefix) || !name.endsWith(suffix)) return false;
      return literalOnly ? literalStarred(segments, name) : starred(segments, name);
    },
  };
}

/** The literal characters at the start of a segment (reversed: at its end). */
function literalRun(atoms: readonly Atom[], reversed = false): string {
  const cps: number[] = [];
  for (const a of atoms) {
    if (a.kind !== "char") break;
    cps.push(a.cp);
  }
  return String.fromCodePoint(...(reversed ? cps.reverse() : cps));
}

/**
 * Only literal segments: code units and code points give the same answer
 * (a well-formed literal matches whole characters), so plain string search.
 */
function literalStarred(segments: readonly Segment[], name: string): boolean {
  const first = segments[0]!.literal!;
  const last = segments[segments.length - 1]!.literal!;
  const end = name.length - last.length;
  if (first.length > end) return false;
  let pos = first.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const lit = segments[s]!.literal!;
    const at = name.indexOf(lit, pos);
    if (at < 0 || at + lit.length > end) return false;
    pos = at + lit.length;
  }
  return true;
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BANG = 0x21;
const DASH = 0x2d;

/** `[` at `start`: the set up to the matching `]` (fnmatch's rules), or null when it is a plain `[`. */
function parseSet(cps: number[], start: number): { atom: Atom; end: number } | null {
  let j = start + 1;
  if (cps[j] === BANG) j += 1;
  if (cps[j] === CLOSE) j += 1;
  while (j < cps.length && cps[j] !== CLOSE) j += 1;
  if (j >= cps.length) return null;
  let body = cps.slice(start + 1, j);
  const negate = body[0] === BANG;
  if (negate) body = body.slice(1);
  const ranges: number[] = [];
  for (let k = 0; k < body.length; k++) {
    const lo = body[k]!;
    if (body[k + 1] === DASH && k + 2 < body.length) {
      const hi = body[k + 2]!;
      if (lo <= hi) ranges.push(lo, hi); // a reversed range matches nothing (as Python 3's fnmatch)
      k += 2;
    } else ranges.push(lo, lo);
  }
  return { atom: { kind: "set", negate, ranges }, end: j };
}

/** The name as code points only when it has surrogates; otherwise UTF-16 units are code points. */
function units(name: string): { length: number; at: (i: number) => number; plain: boolean } {
  if (!/[\uD800-\uDFFF]/.test(name)) {
    return { length: name.length, at: (i) => name.charCodeAt(i), plain: true };
  }
  const cps = Array.from(name, (c) => c.codePointAt(0)!);
  return { length: cps.length, at: (i) => cps[i]!, plain: false };
}

function atomMatches(a: Atom, cp: number): boolean {
  switch (a.kind) {
    case "char":
      return a.cp === cp;
    case "any":
      return true;
    case "set": {
      let inside = false;
      for (let r = 0; r < a.ranges.length; r += 2) {
        if (cp >= a.ranges[r]! && cp <= a.ranges[r + 1]!) {
          inside = true;
          break;
        }
      }
      return inside !== a.negate;
    }
  }
}

function segmentAt(seg: Segment, u: ReturnType<typeof units>, pos: number): boolean {
  for (let k = 0; k < seg.atoms.length; k++) if (!atomMatches(seg.atoms[k]!, u.at(pos + k))) return false;
  return true;
}

function exact(seg: Segment, name: string): boolean {
  if (seg.literal !== null) return seg.literal === name;
  const u = units(name);
  return u.length === seg.atoms.length && segmentAt(seg, u, 0);
}

function starred(segments: readonly Segment[], name: string): boolean {
  const u = units(name);
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const end = u.length - last.atoms.length;
  if (first.atoms.length > end) return false;
  if (!segmentAt(first, u, 0) || !segmentAt(last, u, end)) return false;
  let pos = first.atoms.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const seg = segments[s]!;
    const found = find(seg, u, name, pos, end);
    if (found < 0) return false;
    pos = found + seg.atoms.length;
  }
  return true;
}

/** Leftmost position ≥ from where the segment fits entirely before `end`, or -1. */
function find(seg: Segment, u: ReturnType<typeof units>, name: string, from: number, end: number): number {
  const n = seg.atoms.length;
  if (seg.literal !== null && u.plain) {
    const at = name.indexOf(seg.literal, from);
    return at >= 0 && at + n <= end ? at : -1;
  }
  for (let p = from; p + n <= end; p++) if (segmentAt(seg, u, p)) return p;
  return -1;
}
