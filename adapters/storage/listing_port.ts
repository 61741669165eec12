/**
 * Listing a site for consistency checks (spec §6): a site's namespace read as
 * a stream of records, directory by directory or subtree by subtree, never
 * all in memory at once. Names a listing returns are hostile input: anything
 * that is not a plain, valid, confined path comes back as a `hostile` record
 * (shown escaped) and is never followed or acted on.
 */
export type ListingRecord =
  | { readonly type: "file"; readonly path: string; readonly size: number; readonly mtimeMs: number }
  | {
    readonly type: "dir";
    readonly path: string;
    readonly mtimeMs: number;
    /** true/false when the reader knows; undefined when it will be known when the directory is listed itself. */
    readonly empty?: boolean;
  }
  /** A name that was not followed: `path` is printable (JSON-escaped where needed). */
  | { readonly type: "hostile"; readonly path: string; readonly reason: string };

/** What a reader emits: listing records, and directories below the start it could not read. */
export type TreeRecord = ListingRecord | {
  readonly type: "unreadable";
  readonly path: string;
  readonly reason: string;
};

/** Reads one directory (flat) or a whole subtree (recursive) of a site. */
export interface TreeReader {
  /** How the reader lists: posix (find), xrootd (xrdfs) or the adapter's generic list(). */
  readonly kind: string;
  /** Whether `recursive: true` lists a whole subtree; if not, the walker goes directory by directory. */
  readonly recursive: boolean;
  /**
   * Records below `dir` (not `dir` itself), in batches. Throws (a StorageError) when `dir`
   * itself cannot be listed; a missing `dir` lists empty. Aborting `signal`
   * stops the listing.
   */
  listTree(dir: string, options: { recursive: boolean; signal: AbortSignal }): AsyncIterable<TreeRecord[]>;
}

/** A directory that could not be listed after its retries: nothing under it may be called missing. */
export interface ListingFailure {
  readonly dir: string;
  readonly reason: string;
  readonly attempts: number;
}

export interface WalkSettings {
  /** Directories (or subtrees) listed at the same time. */
  readonly concurrency: number;
  /** One subtree's recursive listing; past it the subtree is listed flat, its subdirectories queued. */
  readonly treeTimeoutMs: number;
  /** One directory's flat listing. */
  readonly dirTimeoutMs: number;
  /** Further tries of a directory whose flat listing failed. */
  readonly retries: number;
  /** Levels below each root listed flat (so that subtrees below them are listed in parallel). */
  readonly splitDepth: number;
}

export const DEFAULT_WALK_SETTINGS: WalkSettings = Object.freeze({
  concurrency: 4,
  treeTimeoutMs: 3600_000,
  dirTimeoutMs: 300_000,
  retries: 2,
  // One level: /store/data, /store/mc… are listed as subtrees in parallel. Deeper splits cost a
  // process per subtree (about 50 ms each on a loaded host), more than the parallelism gains.
  splitDepth: 1,
});

/** Progress of a walk, for a terminal or a metric. */
export interface WalkProgress {
  readonly files: number;
  readonly dirs: number;
  readonly queued: number;
  readonly failed: number;
}

/** A running walk: batches of records as an async iterator; failures once it has ended. */
export interface SiteWalk extends AsyncIterable<ListingRecord[]> {
  readonly failures: readonly ListingFailure[];
  /**
   * Directories listed again after a listing of them failed part way: a
   * subtree relisted flat after its recursive listing failed, or a directory
   * whose flat listing was retried. Records under them may have come twice.
   */
  readonly relisted: readonly string[];
  readonly progress: WalkProgress;
}

/** Starts walks over a site's adapter (implemented over the storage adapters). */
export interface SiteLister {
  walk(
    site: { name: string; backend: string; storageType: string },
    options: {
      roots: readonly string[];
      /** Directories never listed (e.g. ignored directories). */
      skip?: (dir: string) => boolean;
      settings?: Partial<WalkSettings>;
      signal?: AbortSignal;
    },
  ): Promise<SiteWalk>;
}
