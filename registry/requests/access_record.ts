/**
 * A dataset access record (spec §2.5 popularity): how often a dataset was
 * read at a site on a day, as ingested through `/data/popularity/accesses`
 * or `dynamo popularity import`.
 */
import { describeType, InventoryValidationError, nameProblem } from "../inventory/mod.ts";

export interface AccessRecord {
  readonly dataset: string;
  readonly site: string;
  /** Unix seconds of the day (UTC midnight). */
  readonly day: number;
  readonly accesses: number;
}

/**
 * Parses `{dataset, site, date: "YYYY-MM-DD", accesses}` records; errors name
 * the record index and field. Dates may not be in the future.
 */
export function parseAccessRecords(input: unknown, nowSeconds: number): AccessRecord[] {
  if (!Array.isArray(input)) {
    throw new InventoryValidationError(
      "accesses",
      null,
      `expected a list of records, got ${describeType(input)}`,
    );
  }
  if (input.length > 1_000_000) {
    throw new InventoryValidationError("accesses", null, "at most 1,000,000 records at once");
  }
  return input.map((raw, i) => {
    const at = `accesses[${i}]`;
    const fail = (field: string | null, reason: string): never => {
      throw new InventoryValidationError(at, field, reason);
    };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      fail(null, `expected an object, got ${describeType(raw)}`);
    }
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!["dataset", "site", "date", "accesses"].includes(key)) fail(key, "unknown field");
    }
    const dp = nameProblem("dataset", r.dataset);
    if (dp) fail("dataset", dp);
    const sp = nameProblem("site", r.site);
    if (sp) fail("site", sp);
    const m = typeof r.date === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(r.date) : null;
    if (!m) fail("date", `expected YYYY-MM-DD, got ${describeType(r.date)}`);
    const ms = Date.UTC(Number(m![1]), Number(m![2]) - 1, Number(m![3]));
    const d = new Date(ms);
    if (d.getUTCMonth() !== Number(m![2]) - 1 || d.getUTCDate() !== Number(m![3])) {
      fail("date", `no such date ${JSON.stringify(r.date)}`);
    }
    if (ms / 1000 > nowSeconds) fail("date", `${JSON.stringify(r.date)} is in the future`);
    if (!Number.isSafeInteger(r.accesses) || (r.accesses as number) < 0) {
      fail("accesses", `expected a non-negative integer, got ${describeType(r.accesses)}`);
    }
    return {
      dataset: r.dataset as string,
      site: r.site as string,
      day: ms / 1000,
      accesses: r.accesses as number,
    };
  });
}
