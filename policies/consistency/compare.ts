/**
 * The comparison of a site's listing with the inventory (spec §6), pure: fed
 * the listing's records as they stream in, it keeps only what it must report.
 *
 * Two inventory views bracket the listing: the one taken before it started
 * and the one taken after it ended. A file is **missing** only when both
 * place it at the site and the listing lacks it (a file deleted or copied
 * while the listing ran is neither); an **orphan** only when neither knows it
 * at the site; a listed file whose size differs from the inventory's is
 * **corrupt** (and is repaired like a missing one). Files younger than
 * `ignore_age`, files outside the roots or under ignored directories, and
 * everything under a directory the listing could not read are not compared.
 */
import type { SiteConsistencyConfig } from "./consistency_config.ts";
import { dirOf } from "./dir_digest.ts";

/** A file the inventory places at the site, by site path. */
export interface ExpectedFile {
  readonly lfn: string;
  readonly size: number;
  readonly dataset: string;
  readonly block: string;
  /** When the block replica at the site last changed: younger than ignore_age, the file is not compared. */
  readonly sinceMs: number;
}

export type InventoryView = ReadonlyMap<string, ExpectedFile>;

export type ProblemKind = "missing" | "orphan" | "corrupt" | "unmanaged";

export interface Problem {
  readonly kind: ProblemKind;
  readonly path: string;
  /** The inventory's size (missing, corrupt) or the listed size (orphan, unmanaged). */
  readonly size: number;
  readonly listedSize?: number;
  readonly lfn?: string;
  readonly dataset?: string;
  readonly block?: string;
  /** Reported, never acted on (an orphan of a file being copied to the site). */
  readonly protected?: string;
}

export interface ListedRecord {
  readonly type: "file" | "dir" | "hostile";
  readonly path: string;
  readonly size?: number;
  readonly mtimeMs?: number;
  readonly empty?: boolean;
  readonly reason?: string;
}

export interface ComparisonContext {
  readonly config: SiteConsistencyConfig;
  readonly nowMs: number;
  /** The inventory taken before the listing started (the one after it ended goes to finish()). */
  readonly before: InventoryView;
  /** Datasets with a deletion under way at the site: their files are not reported missing. */
  readonly deletingDatasets: ReadonlySet<string>;
  /** Site paths of files being copied to the site: as orphans they are reported, not deleted. */
  readonly incomingPaths: ReadonlySet<string>;
}

export interface ComparisonResult {
  readonly filesListed: number;
  readonly dirsListed: number;
  /** Inventory files (in both views, in the roots) the listing was compared with. */
  readonly expected: number;
  readonly missing: readonly Problem[];
  readonly orphan: readonly Problem[];
  readonly corrupt: readonly Problem[];
  readonly unmanaged: readonly Problem[];
  readonly emptyDirs: readonly string[];
  readonly hostile: readonly { path: string; reason: string }[];
  readonly hostileCount: number;
  /** Listed files too young to compare. */
  readonly young: number;
  /** Missing candidates not reported: their dataset is being deleted at the site. */
  readonly beingDeleted: number;
  /** Inventory files under directories that could not be listed: not compared. */
  readonly unlisted: number;
}

/** Unchanged directories a re-run did not compare (see unchanged_dirs.ts). */
export interface Skipped {
  readonly dirs: ReadonlySet<string>;
  /** Compared files listed in them. */
  readonly files: number;
  /** The last complete run's missing, corrupt and orphan findings in them. */
  readonly carried: readonly Problem[];
}

const MAX_HOSTILE_KEPT = 10_000;

export class SiteComparison {
  readonly #ctx: ComparisonContext;
  /** Inventory records (of `before`) listed: a set by identity, cheaper than hashing their paths again. */
  readonly #seen = new Set<ExpectedFile>();
  readonly #orphans = new Map<string, Problem>();
  readonly #corrupt = new Map<string, Problem>();
  readonly #unmanaged = new Map<string, Problem>();
  readonly #emptyDirs = new Set<string>();
  readonly #hostile: { path: string; reason: string }[] = [];
  readonly #hostileSeen = new Set<string>();
  readonly #dirs = new Set<string>();
  readonly #young = new Set<string>();
  readonly #roots: string[];
  readonly #ignored: string[];

  constructor(ctx: ComparisonContext) {
    this.#ctx = ctx;
    this.#roots = ctx.config.roots.map((r) => r.replace(/\/+$/, ""));
    this.#ignored = ctx.config.ignoreDirs.map((d) => d.replace(/\/+$/, ""));
  }

  /** Whether a path is compared at all: under a root, and under no ignored directory. */
  compared(path: string): boolean {
    if (!this.#roots.some((r) => path === r || path.startsWith(r + "/"))) return false;
    for (const d of this.#ignored) if (`${path}/`.includes(`${d}/`)) return false;
    return true;
  }

  #area(path: string) {
    return this.#ctx.config.unmanaged.find((a) => path === a.path || path.startsWith(a.path + "/"));
  }

  add(records: Iterable<ListedRecord>): void {
    const { before, nowMs, config } = this.#ctx;
    for (const r of records) {
      if (r.type === "hostile") {
        if (this.#hostileSeen.has(r.path)) continue;
        this.#hostileSeen.add(r.path);
        if (this.#hostile.length < MAX_HOSTILE_KEPT) {
          this.#hostile.push({ path: r.path, reason: r.reason ?? "" });
        }
        continue;
      }
      if (r.type === "dir") {
        this.#dirs.add(r.path);
        if (
          r.empty === true && this.compared(r.path) && !this.#roots.includes(r.path) &&
          nowMs - (r.mtimeMs ?? nowMs) >= config.ignoreAgeMs
        ) this.#emptyDirs.add(r.path);
        continue;
      }
      const path = r.path;
      const size = r.size ?? 0;
      const young = nowMs - (r.mtimeMs ?? nowMs) < config.ignoreAgeMs;
      const area = this.#area(path);
      const known = before.get(path);
      if (area) {
        // Production leftovers: removed when old enough and unknown to the inventory; never "orphans".
        if (!known && nowMs - (r.mtimeMs ?? nowMs) >= area.minAgeMs && !this.#unmanaged.has(path)) {
          this.#unmanaged.set(path, { kind: "unmanaged", path, size, listedSize: size });
        }
        continue;
      }
      if (!this.compared(path)) continue;
      if (known) {
        if (this.#seen.has(known)) continue;
        this.#seen.add(known);
        if (size !== known.size && !young) {
          this.#corrupt.set(path, {
            kind: "corrupt",
            path,
            size: known.size,
            listedSize: size,
            lfn: known.lfn,
            dataset: known.dataset,
            block: known.block,
          });
        }
        continue;
      }
      if (this.#orphans.has(path)) continue;
      if (young) {
        this.#young.add(path);
        continue;
      }
      const incoming = this.#ctx.incomingPaths.has(path);
      this.#orphans.set(path, {
        kind: "orphan",
        path,
        size,
        listedSize: size,
        ...(incoming ? { protected: "a copy of this file to the site is under way" } : {}),
      });
    }
  }

  /** Whether a path lies in an unmanaged area. */
  inArea(path: string): boolean {
    return this.#area(path) !== undefined;
  }

  /**
   * The result, once the listing has ended: `after` is the inventory taken
   * then, `failedDirs` the directories the listing could not read, `skipped`
   * the unchanged directories whose comparison was skipped: their files count
   * as listed and expected, and the last complete run's findings there are
   * carried over, as long as the inventory taken after the listing still
   * agrees with them (the same rules as for the findings made now).
   */
  finish(after: InventoryView, failedDirs: readonly string[], skipped?: Skipped): ComparisonResult {
    const { before, nowMs, config, deletingDatasets } = this.#ctx;
    const underFailed = (path: string) => failedDirs.some((d) => path.startsWith(d === "/" ? "/" : d + "/"));
    const missing: Problem[] = [];
    let expected = 0;
    let beingDeleted = 0;
    let unlisted = 0;
    const skippedDirs = skipped && skipped.dirs.size > 0 ? skipped.dirs : null;
    for (const [path, b] of before) {
      const a = after.get(path);
      if (!a || !this.compared(path) || this.#area(path)) continue;
      expected++;
      if (this.#seen.has(b) || skippedDirs?.has(dirOf(path))) continue;
      if (underFailed(path)) {
        unlisted++;
        continue;
      }
      if (nowMs - Math.max(a.sinceMs, b.sinceMs) < config.ignoreAgeMs) continue;
      if (deletingDatasets.has(b.dataset)) {
        beingDeleted++;
        continue;
      }
      missing.push({ kind: "missing", path, size: b.size, lfn: b.lfn, dataset: b.dataset, block: b.block });
    }
    const filesListed = this.#seen.size + this.#orphans.size + this.#young.size + (skipped?.files ?? 0);
    for (const p of skipped?.carried ?? []) {
      if (p.kind === "missing") {
        const a = after.get(p.path);
        if (a && nowMs - a.sinceMs >= config.ignoreAgeMs && !deletingDatasets.has(a.dataset)) missing.push(p);
      } else if (p.kind === "orphan") this.#orphans.set(p.path, p);
      else if (p.kind === "corrupt") this.#corrupt.set(p.path, p);
    }
    // An empty directory holding inventory files is not empty to us (a parent of a missing file).
    const emptyDirs = [...this.#emptyDirs].filter((d) => !underFailed(d + "/x"));
    return {
      filesListed,
      dirsListed: this.#dirs.size,
      expected,
      missing: missing.sort(byPath),
      // Registered at the site while the listing ran: not an orphan.
      orphan: [...this.#orphans.values()].filter((p) => !after.has(p.path)).sort(byPath),
      // Only a size both inventories agree on makes a listed size wrong.
      corrupt: [...this.#corrupt.values()].filter((p) => after.get(p.path)?.size === p.size).sort(byPath),
      unmanaged: [...this.#unmanaged.values()].filter((p) => !after.has(p.path)).sort(byPath),
      emptyDirs: emptyDirs.sort(),
      hostile: this.#hostile,
      hostileCount: this.#hostileSeen.size,
      young: this.#young.size,
      beingDeleted,
      unlisted,
    };
  }
}

function byPath(a: Problem, b: Problem): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
