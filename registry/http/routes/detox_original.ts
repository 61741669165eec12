/**
 * The shapes the original Dynamo web monitor's Detox page (`web/js/detox/monitor.js`)
 * reads, built from our cycle records: site volumes in TB and dataset sizes in GB
 * (as the original's history module answered), a policy line number as the
 * `condition_id` with its text in `conditions`, and 0 for "no cycle" where the
 * page compares with 0.
 */
import { compileGlob } from "../../inventory/mod.ts";
import type { CycleView, DecisionView, SiteView } from "../detox_registry.ts";

const TB = 1e12;
const GB = 1e9;

/** The monitor greys out sites in these states (the original's `status` bit 0). */
const INACTIVE = new Set(["morgue", "waitroom"]);

/** One entry of `/data/detox/cycles` as the page reads it; cycle 0 means "no cycle recorded yet". */
export function originalCycleEntry(cycle: CycleView | null, partitionId: number) {
  return {
    cycle: cycle?.id ?? 0,
    partition_id: partitionId,
    comment: cycle?.comment ?? "",
    timestamp: cycle ? Math.floor(cycle.startedMs / 1000) : 0,
  };
}

/** The cycles the page shows: real (normal) runs that finished, as the original's finished `deletion` cycles. */
export function shownOnMonitor(c: CycleView): boolean {
  return c.mode === "normal" && c.status === "done";
}

/** `site_data` of the summary: the Total first, then each site by name (volumes in TB). */
export function originalSiteData(sites: readonly SiteView[], previous: ReadonlyMap<string, SiteView>) {
  const total = { name: "Total", quota: 0, protect: 0, keep: 0, delete: 0, protect_prev: 0, keep_prev: 0 };
  const rows = [...sites].sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0)).map((s) => {
    const before = previous.get(s.site);
    const row = {
      name: s.site,
      quota: s.quota > 0 ? s.quota / TB : 0,
      status: INACTIVE.has(s.status) ? 0 : 1,
      protect: s.protectedBytes / TB,
      keep: s.keptBytes / TB,
      delete: s.deletedBytes / TB,
      protect_prev: before ? before.protectedBytes / TB : 0,
      keep_prev: before ? before.keptBytes / TB : 0,
    };
    for (const k of ["quota", "protect", "keep", "delete", "protect_prev", "keep_prev"] as const) {
      total[k] += row[k];
    }
    return row;
  });
  return [total, ...rows];
}

type LineText = (line: number) => string;

/** Decisions as the page's tables read them; a dataset decided more than once at a site is marked ` *`. */
function datasetRows(rows: readonly DecisionView[], conditions: Record<number, string>, lineText: LineText) {
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.dataset, (seen.get(r.dataset) ?? 0) + 1);
  return rows.map((r) => {
    if (!(r.line in conditions)) conditions[r.line] = lineText(r.line);
    return {
      name: r.dataset,
      size: r.size / GB,
      decision: (seen.get(r.dataset)! > 1 ? `${r.decision} *` : r.decision) as string,
      condition_id: r.line,
    };
  });
}

/** `/data/detox/sitedetail`'s `content` and `conditions`. */
export function originalSiteDetail(site: string, rows: readonly DecisionView[], lineText: LineText) {
  const conditions: Record<number, string> = { 0: "No policy match" };
  return { content: { name: site, datasets: datasetRows(rows, conditions, lineText) }, conditions };
}

/** `/data/detox/datasets?datasets[]=…`: per pattern, the matching replicas by site, then a Total in GB. */
export function originalDatasetSearch(
  patterns: readonly string[],
  rows: readonly DecisionView[],
  lineText: LineText,
) {
  const conditions: Record<number, string> = { 0: "No policy match" };
  const results = patterns.map((pattern) => {
    const glob = compileGlob(pattern);
    const bySite = new Map<string, DecisionView[]>();
    const total = { name: "Total", protect: 0, keep: 0, delete: 0 };
    for (const r of rows) {
      if (!glob.test(r.dataset)) continue;
      const mine = bySite.get(r.site);
      if (mine) mine.push(r);
      else bySite.set(r.site, [r]);
      total[r.decision] += r.size / GB;
    }
    const siteData: ({ name: string; datasets: ReturnType<typeof datasetRows> } | typeof total)[] = [];
    for (const [name, mine] of bySite) {
      siteData.push({ name, datasets: datasetRows(mine, conditions, lineText) });
    }
    siteData.push(total);
    return { pattern, site_data: siteData };
  });
  return { results, conditions };
}

/** The deletion list download: `site<TAB>dataset<TAB>GB` per deleted replica. */
export function deletionDump(rows: readonly DecisionView[]): string {
  return rows.filter((r) => r.decision === "delete")
    .map((r) => `${r.site}\t${r.dataset}\t${(r.size / GB).toFixed(2)}\n`).join("");
}
