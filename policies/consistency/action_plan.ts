/**
 * What a consistency run does about its findings (spec §6), decided purely:
 * confirmed missing and corrupt files are copied again from another disk or
 * tape replica, or listed as unrecoverable when there is none; confirmed
 * orphans are deleted (unless the site never deletes orphans, or the file is
 * being copied there); empty directories (at most max_empty_dirs, deepest
 * first) and old leftovers in unmanaged areas are removed. An incomplete or
 * flagged run, or a dry run, acts on nothing and says why.
 */
import type { SiteConsistencyConfig } from "./consistency_config.ts";
import type { ComparisonResult, Problem } from "./compare.ts";
import type { Confirmed, SafetyVerdict } from "./safety.ts";

export interface Recopy {
  readonly problem: Problem;
  /** Sites holding another replica of the file (disk first, then tape). */
  readonly sources: readonly string[];
}

export interface ActionPlan {
  readonly recopy: readonly Recopy[];
  readonly unrecoverable: readonly Problem[];
  readonly deleteOrphans: readonly Problem[];
  readonly removeDirs: readonly string[];
  readonly deleteUnmanaged: readonly Problem[];
  /** Why the run acts on nothing (incomplete, flagged, dry run), or null. */
  readonly withheld: string | null;
}

export interface PlanInput {
  readonly result: ComparisonResult;
  readonly complete: boolean;
  readonly safety: SafetyVerdict;
  readonly confirmed: Confirmed;
  readonly config: SiteConsistencyConfig;
  readonly dryRun: boolean;
  /** Other sites holding a replica of a missing file's block. */
  readonly sourcesOf: (p: Problem) => readonly string[];
}

export function planActions(input: PlanInput): ActionPlan {
  const { result, config, confirmed } = input;
  const recopy: Recopy[] = [];
  const unrecoverable: Problem[] = [];
  for (const problem of confirmed.missing) {
    const sources = input.sourcesOf(problem);
    if (sources.length > 0) recopy.push({ problem, sources });
    else unrecoverable.push(problem);
  }
  const deleteOrphans = config.neverDeleteOrphans
    ? []
    : confirmed.orphan.filter((p) => p.protected === undefined);
  const missingDirs = new Set<string>();
  for (const p of [...result.missing, ...result.corrupt]) {
    for (let d = p.path; d.lastIndexOf("/") > 0;) {
      d = d.slice(0, d.lastIndexOf("/"));
      missingDirs.add(d);
    }
  }
  const removeDirs = result.emptyDirs.filter((d) => !missingDirs.has(d))
    .sort((a, b) => b.split("/").length - a.split("/").length || (a < b ? -1 : 1))
    .slice(0, config.maxEmptyDirs);
  const withheld = !input.complete
    ? "the listing is incomplete: nothing is acted on"
    : input.safety.flagged
    ? `flagged for investigation: ${input.safety.reasons.join("; ")}`
    : input.dryRun
    ? "dry run"
    : null;
  return {
    recopy,
    unrecoverable,
    deleteOrphans,
    removeDirs,
    deleteUnmanaged: result.unmanaged,
    withheld,
  };
}
