/**
 * The durable side of site consistency (spec §6): what a check reads of the
 * inventory and of the file operations under way, and the record of every run
 * with its findings and what was done about each.
 */
export interface InventoryFileRow {
  lfn: string;
  size: number;
  adler32: string | null;
  dataset: string;
  block: string;
  /** When the block replica at the site last changed (ms). */
  sinceMs: number;
}

export type FindingKind = "missing" | "orphan" | "corrupt" | "unmanaged" | "empty_dir" | "hostile";

/** What was done about a finding: recopy, unrecoverable, delete, rmdir; null = nothing (yet). */
export type FindingAction = "recopy" | "unrecoverable" | "delete" | "rmdir" | null;

export interface FindingRecord {
  kind: FindingKind;
  path: string;
  size: number | null;
  listedSize: number | null;
  lfn: string | null;
  dataset: string | null;
  block: string | null;
  detail: string | null;
  confirmed: boolean;
  action: FindingAction;
  /** pending, subscribed, deleted, removed, gone, invalidated, failed: …; null when no action. */
  outcome: string | null;
}

export interface RunRecord {
  site: string;
  startedMs: number;
  finishedMs: number;
  complete: boolean;
  dryRun: boolean;
  flagged: boolean;
  flagReasons: string[];
  withheld: string | null;
  filesListed: number;
  dirsListed: number;
  /** Unchanged directories whose comparison was skipped (their findings carried over). */
  dirsSkipped?: number;
  /** The settings the comparison depended on (unchanged_dirs.ts); null for runs before digests. */
  configFingerprint?: string | null;
  expected: number;
  missing: number;
  orphan: number;
  corrupt: number;
  unmanaged: number;
  emptyDirs: number;
  hostile: number;
  young: number;
  unlisted: number;
  beingDeleted: number;
  unrecoverable: number;
  confirmed: number;
  acted: number;
  failedDirs: { dir: string; reason: string; attempts: number }[];
}

export interface RunRow extends RunRecord {
  id: number;
  dirsSkipped: number;
  configFingerprint: string | null;
}

export interface FindingRow extends FindingRecord {
  id: number;
  runId: number;
}

export interface DeletionRecord {
  path: string;
  size: number;
  ok: boolean;
  code: string | null;
  message: string | null;
  startedMs: number;
  finishedMs: number;
}

/** One directory's digests, stored with a complete run (see policies/consistency/unchanged_dirs.ts). */
export interface DigestRecord {
  dir: string;
  listed: string;
  inventory: string;
  clean: boolean;
}

/**
 * The last complete run of a site as stored, for a re-run to skip unchanged
 * directories: read back untyped, since stored data is not trusted.
 */
export interface Baseline {
  runId: number;
  fingerprint: string | null;
  digests: { dir: unknown; listed: unknown; inventory: unknown; clean: unknown }[];
  findings: {
    kind: unknown;
    path: unknown;
    size: unknown;
    listedSize: unknown;
    lfn: unknown;
    dataset: unknown;
    block: unknown;
    action: unknown;
  }[];
}

export interface ConsistencyStore {
  /** The files the inventory places at a site (complete block replicas: every file of the block). */
  siteFiles(site: string): Promise<InventoryFileRow[]>;
  /** Datasets with a deletion from the site under way (operations or file subscriptions). */
  deletingDatasets(site: string): Promise<Set<string>>;
  /** LFNs being copied to the site (file subscriptions not finished, files of copy operations not started). */
  incomingLfns(site: string): Promise<string[]>;
  /** For each LFN, the other sites holding it (disk before tape), by site name. */
  otherReplicas(site: string, lfns: string[]): Promise<Map<string, string[]>>;
  /** The last complete run (not a dry run) of a site and the paths it found missing or corrupt, and orphan. */
  previousComplete(
    site: string,
  ): Promise<{ startedMs: number; missing: Set<string>; orphan: Set<string> } | null>;
  /**
   * A run and its findings, in one transaction; returns the run id. `digests`
   * (a complete run's) replace the site's earlier ones in the same transaction.
   */
  recordRun(
    run: RunRecord,
    findings: FindingRecord[],
    nowMs: number,
    digests?: DigestRecord[],
  ): Promise<number>;
  /**
   * The site's latest run that was not a dry run, with its directory digests
   * and its findings (missing, corrupt, orphan, and any acted on), when it was
   * complete; null otherwise. Rows are returned as stored: the caller trusts
   * none of them.
   */
  digestBaseline(site: string): Promise<Baseline | null>;
  /** How actions ended, by finding id. */
  recordOutcomes(
    outcomes: { id: number; outcome: string }[],
    acted: number,
    runId: number,
    nowMs: number,
  ): Promise<void>;
  /** Findings of a run that have an action, with their ids. */
  actionable(runId: number): Promise<FindingRow[]>;
  /** Deletions outside the inventory, in the file-operations deletion history. */
  recordDeletions(site: string, rows: DeletionRecord[]): Promise<void>;
  /** The latest run of every site (or one site). */
  latestRuns(site?: string): Promise<RunRow[]>;
  run(id: number): Promise<RunRow | null>;
  /** Runs recorded per site. */
  runCounts(): Promise<Map<string, number>>;
  findings(
    runId: number,
    filter: { kind?: FindingKind; offset: number; limit: number },
  ): Promise<{ total: number; rows: FindingRow[] }>;
  /** Unrecoverable files of the site's latest run that have not been invalidated yet. */
  unrecoverable(site: string): Promise<FindingRow[]>;
}
