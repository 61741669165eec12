/**
 * Which directories a consistency re-run may skip (spec §6: "per-directory
 * digests let a re-run skip unchanged subtrees"), decided purely.
 *
 * Every complete run stores, per listed directory, a digest of its listed
 * files (name and size) and one of the inventory's files mapped there (name,
 * size, LFN, dataset, block), and whether the directory was **clean**: no file
 * younger than `ignore_age` (listed or in the inventory), no deletion or copy
 * of a dataset there under way, not under a directory that failed or was
 * listed twice. A directory is **unchanged** — its comparison skipped and the
 * last complete run's findings there carried over — only when both digests
 * equal the last complete run's, it was clean then and is clean now, nothing
 * was acted on there, and the run's settings (roots, ignored directories,
 * ignore_age, unmanaged areas) are the same. Unmanaged areas are never
 * skipped (their leftovers age into findings without changing).
 *
 * The listing still reads every directory; the records of a candidate
 * directory are digested and held back from the comparison, kept in memory up
 * to a budget. A candidate that turns out changed is compared with its kept
 * records (`replay`); one with more files than before is known changed at
 * once and released; one whose records had to be let go (over the budget) is
 * listed again, flat, and compared (`relist`).
 */
import type { InventoryView, ListedRecord, Problem, Skipped } from "./compare.ts";
import { DirDigest, dirOf, within } from "./dir_digest.ts";

/** One stored directory digest of the baseline run, as read back (untrusted). */
export interface DigestRow {
  readonly dir: unknown;
  readonly listed: unknown;
  readonly inventory: unknown;
  readonly clean: unknown;
}

/** A stored finding of the baseline run, as read back (untrusted). */
export interface BaselineFinding {
  readonly kind: unknown;
  readonly path: unknown;
  readonly size: unknown;
  readonly listedSize: unknown;
  readonly lfn: unknown;
  readonly dataset: unknown;
  readonly block: unknown;
  readonly action: unknown;
}

/** The last complete run of a site with its digests; null when the latest run was not complete. */
export interface Baseline {
  readonly runId: number;
  readonly fingerprint: string | null;
  readonly digests: readonly DigestRow[];
  readonly findings: readonly BaselineFinding[];
}

/** What a run stores for the next one. */
export interface DigestRecord {
  readonly dir: string;
  readonly listed: string;
  readonly inventory: string;
  readonly clean: boolean;
}

export interface UnchangedContext {
  readonly baseline: Baseline | null;
  readonly fingerprint: string;
  readonly nowMs: number;
  readonly ignoreAgeMs: number;
  readonly roots: readonly string[];
  readonly before: InventoryView;
  readonly deletingDatasets: ReadonlySet<string>;
  readonly incomingPaths: ReadonlySet<string>;
  /** Whether a path is compared at all (under a root, under no ignored directory). */
  readonly compared: (path: string) => boolean;
  /** Whether a path lies in an unmanaged area. */
  readonly inArea: (path: string) => boolean;
}

interface Listed {
  digest: DirDigest;
  /** The held-back records, while within the budget; null once let go (the directory is relisted if changed). */
  kept: ListedRecord[] | null;
  newest: number;
  present: boolean;
  /** File records held back from the comparison (all of them, and the compared ones). */
  held: number;
  heldCompared: number;
}

const CARRIED = new Set(["missing", "corrupt", "orphan"]);
const EMPTY = new DirDigest().text;

export class UnchangedDirs {
  readonly #ctx: UnchangedContext;
  readonly #inventory = new Map<string, DirDigest>();
  /** Directories that cannot be clean this run whatever the listing says (young, deleting, incoming). */
  readonly #unsettled = new Set<string>();
  readonly #candidates = new Map<string, { listed: string; count: number; carried: Problem[] }>();
  readonly #budget: number;
  #kept = 0;
  readonly #listed = new Map<string, Listed>();
  // The directory of the last record, with its state: records come mostly a directory at a time.
  #lastDir = "";
  #last: Listed | null = null;
  #lastCandidate: { listed: string; count: number; carried: Problem[] } | undefined;
  #skipped: Skipped | null = null;
  #excluded: readonly string[] = [];

  /** `keptRecords`: how many held-back records may be kept in memory (about 100 bytes each). */
  constructor(ctx: UnchangedContext, options: { keptRecords?: number } = {}) {
    this.#ctx = ctx;
    this.#budget = options.keptRecords ?? 500_000;
    const old = ctx.nowMs - ctx.ignoreAgeMs;
    let dir = "";
    let d: DirDigest | undefined;
    for (const [path, f] of ctx.before) {
      // Inventory files come a block at a time: mostly in the last file's directory.
      const same = d !== undefined && path.length > dir.length + 1 && path.charCodeAt(dir.length) === 47 &&
        path.startsWith(dir) && path.indexOf("/", dir.length + 1) === -1;
      if (!same) {
        dir = dirOf(path);
        d = this.#inventory.get(dir);
        if (!d) this.#inventory.set(dir, d = new DirDigest());
      }
      d!.addInventoryFile(path, dir === "/" ? 1 : dir.length + 1, f);
      if (f.sinceMs > old || ctx.deletingDatasets.has(f.dataset)) this.#unsettled.add(dir);
    }
    for (const path of ctx.incomingPaths) this.#unsettled.add(dirOf(path));
    this.#chooseCandidates();
  }

  /** Candidates: clean in the baseline, same inventory digest, nothing acted on, settled now. */
  #chooseCandidates() {
    const { baseline, fingerprint } = this.#ctx;
    if (baseline === null || baseline.fingerprint !== fingerprint) return;
    const rows = new Map<string, DigestRow | null>();
    for (const row of baseline.digests) {
      if (typeof row.dir !== "string") continue;
      rows.set(row.dir, rows.has(row.dir) ? null : row); // a directory stored twice is not trusted
    }
    const carried = new Map<string, Problem[]>();
    const spoiled = new Set<string>();
    for (const f of baseline.findings) {
      if (typeof f.path !== "string") continue;
      const dir = dirOf(f.path);
      const problem = f.action === null ? carriedProblem(f) : null;
      // Acted on (or withheld): the directory has changed or must be looked at again.
      if (problem === null) {
        spoiled.add(dir).add(f.path);
        continue;
      }
      if (problem === "other") continue;
      const known = carried.get(dir);
      if (known) known.push(problem);
      else carried.set(dir, [problem]);
    }
    for (const [dir, row] of rows) {
      if (row === null || row.clean !== true || typeof row.listed !== "string") continue;
      if (spoiled.has(dir) || this.#unsettled.has(dir) || !this.#ctx.compared(dir)) continue;
      if (this.#ctx.inArea(dir)) continue;
      if ((this.#inventory.get(dir)?.text ?? EMPTY) !== row.inventory) continue;
      const count = Number(row.listed.split(":")[1]);
      if (!Number.isSafeInteger(count)) continue;
      this.#candidates.set(dir, { listed: row.listed, count, carried: carried.get(dir) ?? [] });
    }
  }

  #entry(dir: string): Listed {
    if (dir === this.#lastDir && this.#last) return this.#last;
    let l = this.#listed.get(dir);
    if (!l) {
      l = { digest: new DirDigest(), kept: [], newest: -Infinity, present: false, held: 0, heldCompared: 0 };
      this.#listed.set(dir, l);
    }
    this.#lastDir = dir;
    this.#last = l;
    this.#lastCandidate = this.#candidates.get(dir);
    return l;
  }

  /** Digests a batch of the listing; returns the records the comparison must still see. */
  take(records: readonly ListedRecord[]): ListedRecord[] {
    const out: ListedRecord[] = [];
    for (const r of records) {
      if (r.type === "dir") {
        this.#entry(r.path).present = true;
        out.push(r); // directories (and empty ones) are always compared: cheap, and never carried
        continue;
      }
      if (r.type === "hostile") {
        out.push(r);
        continue;
      }
      const path = r.path;
      const last = this.#lastDir;
      // In the last record's directory (no new string, no lookup), or another one.
      const same = this.#last !== null && path.length > last.length + 1 &&
        path.charCodeAt(last.length) === 47 &&
        path.startsWith(last) && path.indexOf("/", last.length + 1) === -1;
      const dir = same ? last : dirOf(path);
      const l = same ? this.#last! : this.#entry(dir);
      l.digest.addFile(path, dir === "/" ? 1 : dir.length + 1, r.size ?? 0);
      const mtime = r.mtimeMs ?? Infinity;
      if (mtime > l.newest) l.newest = mtime;
      const candidate = this.#lastCandidate;
      if (candidate === undefined) {
        out.push(r);
        continue;
      }
      l.held++;
      if (this.#ctx.compared(r.path)) l.heldCompared++;
      if (l.kept !== null && l.digest.count > candidate.count) {
        // More files than before: changed for sure. Compared from now on, its kept records first.
        this.#candidates.delete(dir);
        this.#lastCandidate = undefined;
        out.push(...l.kept, r);
        this.#kept -= l.kept.length;
        l.kept = [];
        l.held = l.heldCompared = 0;
      } else if (l.kept !== null && this.#kept < this.#budget) {
        l.kept.push(r);
        this.#kept++;
      } else if (l.kept !== null) {
        this.#kept -= l.kept.length;
        l.kept = null;
      }
    }
    return out;
  }

  /**
   * Once the listing has ended: which candidates are unchanged (skipped), and
   * which must be listed again (flat) and compared because their records were
   * held back. `excluded`: directories that failed, and subtrees whose records
   * may repeat (listed again after a failure); nothing in them is skipped.
   */
  decide(excluded: readonly string[]): { skipped: number; replay: ListedRecord[]; relist: string[] } {
    this.#excluded = excluded;
    const old = this.#ctx.nowMs - this.#ctx.ignoreAgeMs;
    const dirs = new Set<string>();
    const carried: Problem[] = [];
    const relist: string[] = [];
    const replay: ListedRecord[] = [];
    let files = 0;
    for (const [dir, c] of this.#candidates) {
      const l = this.#listed.get(dir);
      const present = l?.present === true || this.#ctx.roots.includes(dir);
      const listed = l?.digest.text ?? EMPTY;
      if (
        present && listed === c.listed && (l?.newest ?? -Infinity) <= old &&
        !excluded.some((e) => within(dir, e))
      ) {
        dirs.add(dir);
        files += l?.heldCompared ?? 0;
        carried.push(...c.carried);
        continue;
      }
      if (l && l.held > 0 && l.kept !== null) replay.push(...l.kept);
      else if (l && l.held > 0) {
        // Its records were let go: listed again, its digest made anew from that listing.
        relist.push(dir);
        l.digest = new DirDigest();
        l.newest = -Infinity;
      }
      if (l) {
        l.kept = [];
        l.held = l.heldCompared = 0;
      }
    }
    this.#candidates.clear(); // from now on every record goes to the comparison
    this.#lastCandidate = undefined;
    this.#kept = 0;
    this.#skipped = { dirs, files, carried };
    return { skipped: dirs.size, replay, relist: relist.sort() };
  }

  /** The skipped directories, for the comparison's finish(); decide() must have run. */
  get skipped(): Skipped {
    if (this.#skipped === null) throw new Error("UnchangedDirs.decide() has not run");
    return this.#skipped;
  }

  /** The digests to store with a complete run: every listed, compared directory outside unmanaged areas. */
  records(alsoExcluded: readonly string[] = []): DigestRecord[] {
    const excluded = [...this.#excluded, ...alsoExcluded];
    const old = this.#ctx.nowMs - this.#ctx.ignoreAgeMs;
    const out: DigestRecord[] = [];
    const dirs = new Set([...this.#listed.keys(), ...this.#ctx.roots]);
    for (const dir of dirs) {
      const l = this.#listed.get(dir);
      if (!(l?.present === true || this.#ctx.roots.includes(dir))) continue;
      if (!this.#ctx.compared(dir) || this.#ctx.inArea(dir)) continue;
      out.push({
        dir,
        listed: l?.digest.text ?? EMPTY,
        inventory: this.#inventory.get(dir)?.text ?? EMPTY,
        clean: (l?.newest ?? -Infinity) <= old && !this.#unsettled.has(dir) &&
          !excluded.some((e) => within(dir, e)),
      });
    }
    return out;
  }
}

/** A stored finding as a Problem to carry; "other" for kinds never carried; null when it cannot be trusted. */
function carriedProblem(f: BaselineFinding): Problem | "other" | null {
  if (typeof f.kind !== "string" || !CARRIED.has(f.kind)) {
    return f.kind === "empty_dir" || f.kind === "hostile" || f.kind === "unmanaged" ? "other" : null;
  }
  const kind = f.kind as Problem["kind"];
  const size = wholeNumber(f.size);
  const listedSize = f.listedSize === null ? undefined : wholeNumber(f.listedSize);
  if (size === null || listedSize === null || typeof f.path !== "string") return null;
  const strings = [f.lfn, f.dataset, f.block];
  if (kind === "orphan") {
    if (strings.some((s) => s !== null)) return null;
    return { kind, path: f.path, size, ...(listedSize === undefined ? {} : { listedSize }) };
  }
  if (!strings.every((s) => typeof s === "string")) return null;
  if (kind === "corrupt" && listedSize === undefined) return null;
  return {
    kind,
    path: f.path,
    size,
    ...(listedSize === undefined ? {} : { listedSize }),
    lfn: f.lfn as string,
    dataset: f.dataset as string,
    block: f.block as string,
  };
}

function wholeNumber(v: unknown): number | null {
  const n = typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : null;
}
