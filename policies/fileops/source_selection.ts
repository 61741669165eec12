/**
 * Source choice for one file copy (spec §5.2 step 7): disk before tape; within
 * a kind, a random source not tried yet; when all were tried, the one with the
 * fewest failures among those whose last failure was recoverable. When every
 * source has failed and each one's last failure was irrecoverable, the file
 * is hopeless from here: held as all_failed.
 */
export interface SourceCandidate {
  readonly site: string;
  readonly tape: boolean;
}

export interface PastFailure {
  readonly source: string;
  readonly recoverable: boolean;
  /** Later failures have larger values. */
  readonly order: number;
}

export type SourceChoice =
  | { kind: "source"; site: string; tape: boolean }
  | { kind: "held"; reason: "no_source" | "all_failed" };

export function chooseSource(
  candidates: readonly SourceCandidate[],
  failures: readonly PastFailure[],
  random: () => number,
): SourceChoice {
  if (candidates.length === 0) return { kind: "held", reason: "no_source" };
  const stats = new Map<string, { count: number; last: PastFailure }>();
  for (const f of failures) {
    const s = stats.get(f.source);
    if (!s) stats.set(f.source, { count: 1, last: f });
    else {
      s.count++;
      if (f.order > s.last.order) s.last = f;
    }
  }
  for (const tape of [false, true]) {
    const pool = candidates.filter((c) => c.tape === tape);
    const untried = pool.filter((c) => !stats.has(c.site));
    if (untried.length > 0) {
      const pick = untried[Math.min(untried.length - 1, Math.floor(random() * untried.length))]!;
      return { kind: "source", site: pick.site, tape };
    }
    const retryable = pool
      .filter((c) => stats.get(c.site)!.last.recoverable)
      .sort((a, b) => stats.get(a.site)!.count - stats.get(b.site)!.count || (a.site < b.site ? -1 : 1));
    if (retryable.length > 0) return { kind: "source", site: retryable[0]!.site, tape };
  }
  return { kind: "held", reason: "all_failed" };
}
