/**
 * `request_weight` (spec §2.5 GlobalQueueRequestHistory): per dataset,
 * w = Σ jobs · exp(−(now − queued)/τ) with τ = half-life / ln 2, over the
 * last year. Demand that is three half-lives old counts an eighth.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import { JOB_HISTORY_SECONDS, type JobRecord } from "../../registry/requests/job_record.ts";

export type { JobRecord };

export function requestWeights(
  snapshot: Snapshot,
  records: readonly JobRecord[],
  now: number,
  halfLifeDays: number,
): Map<number, number> {
  const tau = (halfLifeDays * 86400) / Math.LN2;
  const weights = new Map<number, number>();
  // Records come in batches queued at the same time: the decay is computed once per distinct time in a row.
  let lastQueued = Number.NaN;
  let decay = 0;
  for (const r of records) {
    if (r.queued > now || r.queued < now - JOB_HISTORY_SECONDS) continue;
    const d = snapshot.dataset(r.dataset);
    if (!d) continue;
    if (r.queued !== lastQueued) {
      lastQueued = r.queued;
      decay = Math.exp(-(now - r.queued) / tau);
    }
    weights.set(d.id, (weights.get(d.id) ?? 0) + r.jobs * decay);
  }
  return weights;
}
