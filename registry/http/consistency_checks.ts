/**
 * What the consistency routes need (implemented by the composition root over
 * the consistency store and agent). Rows are already in their JSON shape:
 * snake_case, times in Unix seconds.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export const FINDING_KINDS = ["missing", "orphan", "corrupt", "unmanaged", "empty_dir", "hostile"] as const;
export type FindingKindParam = typeof FINDING_KINDS[number];

export interface ConsistencyChecks {
  /** false: no consistency configuration on this server (reads still work, checks are refused). */
  configured(): boolean;
  /** Whether the inventory knows the site. */
  knownSite(site: string): boolean;
  /** The latest run of every site. */
  summary(): Promise<JsonObject[]>;
  /** The site's latest run and a page of its findings; null when it was never checked. */
  site(
    site: string,
    page: { kind?: FindingKindParam; offset: number; limit: number },
  ): Promise<{ run: JsonObject; total: number; findings: JsonObject[] } | null>;
  /** Runs a check now and answers when it has ended. */
  check(site: string, dryRun: boolean): Promise<JsonObject | { error: string }>;
  /** How far the site's running check has listed (files, dirs, queued, failed, started); null when none runs. */
  progress(site: string): Promise<JsonObject | null>;
  /** Cancels the site's running or queued check; nothing of it is recorded. */
  cancel(site: string): Promise<{ cancelled: boolean }>;
  /** Marks the unrecoverable files of the site's last complete run invalid. */
  invalidate(site: string): Promise<JsonObject | { error: string }>;
}
