/**
 * The shapes the original web monitor reads from the file-operations
 * listings (`web/js/transfers/monitor.js`, `web/js/transfers/held.js`), added
 * beside ours so that both keep working.
 */
import type { JsonRow } from "./file_operations.ts";

export const HOLD_REASONS = ["no_source", "all_failed", "site_unavailable", "unknown"] as const;

/** A current subscription with the monitor's `from`, `to`, `start`, `finish` (times not tracked: empty, as the original's unknown). */
export function currentRow(r: JsonRow): JsonRow {
  return { ...r, from: r.source ?? "", to: r.site ?? "", start: "", finish: "" };
}

/** A held subscription with the monitor's `file`, `destination`, `reason`. */
export function heldDetailRow(r: JsonRow): JsonRow {
  return { ...r, file: r.lfn ?? null, destination: r.site ?? null, reason: r.hold_reason ?? "unknown" };
}

export interface HeldSite {
  site: string;
  /** Held copies per reason, as the monitor's table shows them. */
  counts: Record<typeof HOLD_REASONS[number], number>;
  /** Every held kind and reason with files and bytes (ours). */
  held: JsonRow[];
}

/** Held subscriptions grouped per site, in site order. */
export function heldBySite(rows: readonly JsonRow[]): HeldSite[] {
  const sites = new Map<string, HeldSite>();
  for (const r of rows) {
    const name = String(r.site);
    let s = sites.get(name);
    if (!s) {
      s = { site: name, counts: { no_source: 0, all_failed: 0, site_unavailable: 0, unknown: 0 }, held: [] };
      sites.set(name, s);
    }
    const { site: _, ...rest } = r;
    s.held.push(rest);
    if (r.kind === "copy") {
      const reason = HOLD_REASONS.find((x) => x === r.reason) ?? "unknown";
      s.counts[reason] += Number(r.files);
    }
  }
  return [...sites.values()].sort((a, b) => a.site.localeCompare(b.site));
}
