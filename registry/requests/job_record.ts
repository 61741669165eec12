/**
 * Job demand (spec §2.5 GlobalQueueRequestHistory): jobs queued on a dataset
 * at a time, as ingested through `/data/demand/jobs` or `dynamo demand
 * import`. The Dealer's popularity plugin turns them into `request_weight`.
 */
import { describeType, InventoryValidationError, nameProblem } from "../inventory/mod.ts";

export interface JobRecord {
  readonly dataset: string;
  /** Unix seconds when the jobs were queued. */
  readonly queued: number;
  readonly jobs: number;
}

/** How far back demand counts: older records are refused (and dropped from the store). */
export const JOB_HISTORY_SECONDS = 365 * 86400;

/**
 * Parses `{dataset, queued, jobs}` records: `queued` is Unix seconds or an
 * ISO 8601 time with a zone (`2026-11-24T10:00:00Z`). Errors name the record
 * index and field; times may not be in the future nor older than a year.
 */
export function parseJobRecords(input: unknown, nowSeconds: number): JobRecord[] {
  if (!Array.isArray(input)) {
    throw new InventoryValidationError(
      "jobs",
      null,
      `expected a list of records, got ${describeType(input)}`,
    );
  }
  if (input.length > 1_000_000) {
    throw new InventoryValidationError("jobs", null, "at most 1,000,000 records at once");
  }
  return input.map((raw, i) => {
    const fail = (field: string | null, reason: string): never => {
      throw new InventoryValidationError(`jobs[${i}]`, field, reason);
    };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      fail(null, `expected an object, got ${describeType(raw)}`);
    }
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!["dataset", "queued", "jobs"].includes(key)) fail(key, "unknown field");
    }
    const dp = nameProblem("dataset", r.dataset);
    if (dp) fail("dataset", dp);
    const queued = parseTime(r.queued);
    if (queued === null) {
      fail("queued", `expected Unix seconds or an ISO time with a zone, got ${describeType(r.queued)}`);
    }
    if (queued! > nowSeconds) fail("queued", "is in the future");
    if (queued! < nowSeconds - JOB_HISTORY_SECONDS) fail("queued", "is more than a year ago");
    if (!Number.isSafeInteger(r.jobs) || (r.jobs as number) < 1) {
      fail("jobs", `expected a positive integer, got ${describeType(r.jobs)}`);
    }
    return { dataset: r.dataset as string, queued: queued!, jobs: r.jobs as number };
  });
}

function parseTime(x: unknown): number | null {
  if (typeof x === "number") return Number.isSafeInteger(x) && x >= 0 ? x : null;
  if (typeof x !== "string") return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(x)) return null;
  const ms = Date.parse(x);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}
