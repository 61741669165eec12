/**
 * What the consistency routes need (implemented in service/ over the
 * consistency store and agent). The routes shape the JSON
 * (routes/consistency.ts: snake_case, times in Unix seconds).
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export const FINDING_KINDS = ["missing", "orphan", "corrupt", "unmanaged", "empty_dir", "hostile"] as const;
export type FindingKindParam = typeof FINDING_KINDS[number];

type FailedDir = { dir: string; reason: string; attempts: number };

/** A recorded check of a site. */
export interface ConsistencyRun {
  id: number;
  site: string;
  startedMs: number;
  finishedMs: number;
  complete: boolean;
  dryRun: boolean;
  flagged: boolean;
  flagReasons: readonly string[];
  withheld: string | null;
  filesListed: number;
  dirsListed: number;
  /** Unchanged directories the run did not compare again (their findings carried over). */
  dirsSkipped?: number;
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
  failedDirs: readonly FailedDir[];
}

/** One finding of a run. */
export interface ConsistencyFinding {
  kind: string;
  path: string;
  size: number | null;
  listedSize: number | null;
  lfn: string | null;
  dataset: string | null;
  block: string | null;
  detail: string | null;
  confirmed: boolean;
  action: string | null;
  outcome: string | null;
}

/** What a check that has just ended reports. */
export interface CheckResult {
  readonly runId: number;
  readonly site: string;
  readonly complete: boolean;
  readonly dryRun: boolean;
  readonly flagged: boolean;
  readonly flagReasons: readonly string[];
  readonly withheld: string | null;
  readonly durationMs: number;
  readonly filesListed: number;
  readonly dirsSkipped?: number;
  readonly missing: number;
  readonly orphan: number;
  readonly corrupt: number;
  readonly unmanaged: number;
  readonly emptyDirs: number;
  readonly hostile: number;
  readonly unrecoverable: number;
  readonly confirmed: number;
  readonly acted: number;
  readonly failedDirs: readonly FailedDir[];
}

/** How far a running check has listed. */
export interface CheckProgressRow {
  readonly startedMs: number;
  readonly files: number;
  readonly dirs: number;
  readonly queued: number;
  readonly failed: number;
}

export interface InvalidationResult {
  invalidated: number;
  failed: { path: string; error: string }[];
}

export interface ConsistencyChecks {
  /** false: no consistency configuration on this server (reads still work, checks are refused). */
  configured(): boolean;
  /** Whether the inventory knows the site. */
  knownSite(site: string): boolean;
  /** The latest run of every site. */
  summary(): Promise<ConsistencyRun[]>;
  /** The site's latest run and a page of its findings; null when it was never checked. */
  site(
    site: string,
    page: { kind?: FindingKindParam; offset: number; limit: number },
  ): Promise<{ run: ConsistencyRun; total: number; findings: ConsistencyFinding[] } | null>;
  /** Runs a check now and answers when it has ended. */
  check(site: string, dryRun: boolean): Promise<CheckResult | { error: string }>;
  /** How far the site's running check has listed (files, dirs, queued, failed, started); null when none runs. */
  progress(site: string): Promise<CheckProgressRow | null>;
  /** Cancels the site's running or queued check; nothing of it is recorded. */
  cancel(site: string): Promise<{ cancelled: boolean }>;
  /** Marks the unrecoverable files of the site's last complete run invalid. */
  invalidate(site: string): Promise<InvalidationResult | { error: string }>;
}
