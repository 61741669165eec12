/**
 * The findings a consistency run records: every problem of the comparison
 * with the action the plan gives it (pending, or withheld with the reason
 * the run acts on nothing), or why none (not confirmed yet, protected).
 */
import type { FindingRecord } from "../../adapters/db/consistency_store_port.ts";
import type { ActionPlan } from "../../policies/consistency/action_plan.ts";
import type { ComparisonResult, Problem } from "../../policies/consistency/compare.ts";
import type { Confirmed } from "../../policies/consistency/safety.ts";

const MAX_HOSTILE_RECORDED = 1000;

export function findingsOf(
  result: ComparisonResult,
  confirmed: Confirmed,
  plan: ActionPlan,
): FindingRecord[] {
  const pending = plan.withheld === null ? "pending" : "withheld";
  const confirmedPaths = new Set([...confirmed.missing, ...confirmed.orphan].map((p) => p.path));
  const recopy = new Map(plan.recopy.map((r) => [r.problem.path, r.sources]));
  const unrecoverable = new Set(plan.unrecoverable.map((p) => p.path));
  const deleting = new Set(plan.deleteOrphans.map((p) => p.path));
  const removing = new Set(plan.removeDirs);
  const row = (
    p: Problem,
    action: FindingRecord["action"],
    outcome: string | null,
    detail: string | null,
  ) => ({
    kind: p.kind,
    path: p.path,
    size: p.size,
    listedSize: p.listedSize ?? null,
    lfn: p.lfn ?? null,
    dataset: p.dataset ?? null,
    block: p.block ?? null,
    detail,
    confirmed: confirmedPaths.has(p.path),
    action,
    outcome,
  });
  const out: FindingRecord[] = [];
  for (const p of [...result.missing, ...result.corrupt]) {
    const sources = recopy.get(p.path);
    if (sources) out.push(row(p, "recopy", pending, `sources: ${sources.join(", ")}`));
    else if (unrecoverable.has(p.path)) {
      out.push(row(p, "unrecoverable", "listed", "no other disk or tape replica"));
    } else out.push(row(p, null, null, confirmedPaths.has(p.path) ? null : "not confirmed yet"));
  }
  for (const p of result.orphan) {
    if (deleting.has(p.path)) out.push(row(p, "delete", pending, null));
    else {out.push(
        row(
          p,
          null,
          null,
          p.protected ?? (confirmedPaths.has(p.path) ? "never_delete_orphans" : "not confirmed yet"),
        ),
      );}
  }
  for (const p of result.unmanaged) out.push(row(p, "delete", pending, "old leftover in an unmanaged area"));
  for (const d of result.emptyDirs) {
    out.push({
      kind: "empty_dir",
      path: d,
      size: null,
      listedSize: null,
      lfn: null,
      dataset: null,
      block: null,
      detail: removing.has(d) ? null : "above max_empty_dirs or above a missing file",
      confirmed: false,
      action: removing.has(d) ? "rmdir" : null,
      outcome: removing.has(d) ? pending : null,
    });
  }
  for (const h of result.hostile.slice(0, MAX_HOSTILE_RECORDED)) {
    out.push({
      kind: "hostile",
      path: h.path,
      size: null,
      listedSize: null,
      lfn: null,
      dataset: null,
      block: null,
      detail: h.reason,
      confirmed: false,
      action: null,
      outcome: null,
    });
  }
  return out;
}
