/**
 * The safety rules of a consistency run (spec §6): above a threshold the run
 * only reports and flags the site for an operator; a file is acted on only
 * when two consecutive complete runs, at least `confirm_after` apart, both saw
 * the problem. A site listed empty while the inventory expects files is above
 * every threshold: a dead mount must never read as "everything is lost".
 */
import type { SiteConsistencyConfig, Threshold } from "./consistency_config.ts";
import type { ComparisonResult, Problem } from "./compare.ts";

export interface SafetyVerdict {
  readonly flagged: boolean;
  readonly reasons: readonly string[];
}

export function exceeds(n: number, t: Threshold, siteFiles: number): boolean {
  if (n > t.count) return true;
  if (t.fraction === Infinity || n === 0) return false;
  return siteFiles === 0 ? true : n / siteFiles > t.fraction;
}

function limit(t: Threshold): string {
  const parts = [];
  if (t.count !== Infinity) parts.push(`${t.count} files`);
  if (t.fraction !== Infinity) parts.push(`${+(t.fraction * 100).toFixed(4)} % of the site's files`);
  return parts.join(" or ");
}

/** `siteFiles`: the files the inventory places at the site. */
export function assessSafety(
  result: ComparisonResult,
  config: SiteConsistencyConfig,
  siteFiles: number,
): SafetyVerdict {
  const reasons: string[] = [];
  if (result.expected > 0 && result.filesListed === 0) {
    reasons.push(
      `the site was listed empty while the inventory expects ${result.expected} files: above every threshold`,
    );
  }
  const missing = result.missing.length + result.corrupt.length;
  if (exceeds(missing, config.maxMissing, siteFiles)) {
    reasons.push(`${missing} missing or corrupt files are above max_missing (${limit(config.maxMissing)})`);
  }
  if (exceeds(result.orphan.length, config.maxOrphan, siteFiles)) {
    reasons.push(`${result.orphan.length} orphan files are above max_orphan (${limit(config.maxOrphan)})`);
  }
  return { flagged: reasons.length > 0, reasons };
}

/** What the previous complete run of the site saw. */
export interface PreviousObservation {
  readonly startedMs: number;
  /** Paths seen missing or corrupt. */
  readonly missing: ReadonlySet<string>;
  readonly orphan: ReadonlySet<string>;
}

export interface Confirmed {
  /** Missing and corrupt files seen by both runs. */
  readonly missing: readonly Problem[];
  readonly orphan: readonly Problem[];
  /** Why nothing is confirmed, when nothing can be. */
  readonly why: string | null;
}

export function confirm(
  result: ComparisonResult,
  previous: PreviousObservation | null,
  startedMs: number,
  confirmAfterMs: number,
): Confirmed {
  if (previous === null) {
    return { missing: [], orphan: [], why: "no earlier complete run to confirm the findings" };
  }
  if (startedMs - previous.startedMs < confirmAfterMs) {
    return {
      missing: [],
      orphan: [],
      why: `the previous complete run is less than confirm_after (${confirmAfterMs / 1000} s) old`,
    };
  }
  return {
    missing: [...result.missing, ...result.corrupt].filter((p) => previous.missing.has(p.path)),
    orphan: result.orphan.filter((p) => previous.orphan.has(p.path)),
    why: null,
  };
}
