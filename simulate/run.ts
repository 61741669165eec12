/**
 * Runs strategies over one trace, hour by hour, and scores them: job hit rate
 * (the input has a complete disk copy at a site in service when the job
 * starts), byte hit rate, the wait of a missed job until a disk copy exists,
 * bytes copied and deleted, each site's maximum occupancy and every hour a
 * site rose above its quota (blamed on production when it wrote there that
 * hour, else on the strategy), last copies lost.
 */
import { producedAt, productionSite, type Trace } from "./trace.ts";
import type { Strategy } from "./strategy.ts";

export interface StrategyScore {
  name: string;
  jobs: number;
  hitRate: number;
  byteHitRate: number;
  meanWaitHours: number;
  p95WaitHours: number;
  /** Missed jobs still waiting at the end (counted with their wait so far). */
  unresolved: number;
  bytesCopied: number;
  bytesDeleted: number;
  maxOccupancy: Record<string, number>;
  quotaViolations: { byStrategy: number; byProduction: number };
  lastCopiesLost: number;
  /** Bytes copied per Dealer plugin (ours only). */
  copiedBy?: Record<string, number>;
  /** Hit rate per day. */
  daily: number[];
}

export function score(trace: Trace, strategies: readonly Strategy[]): StrategyScore[] {
  const produced = producedAt(trace);
  return strategies.map((s) => {
    let jobs = 0;
    let hits = 0;
    let bytes = 0;
    let hitBytes = 0;
    const waits: number[] = [];
    const pending = new Map<number, number[]>();
    const maxOcc: Record<string, number> = {};
    const over = { byStrategy: 0, byProduction: 0 };
    const wasOver = new Map<string, boolean>();
    const daily: number[] = [];
    let dayJobs = 0;
    let dayHits = 0;
    const hours = trace.jobs.length;
    for (let h = 0; h < hours; h++) {
      s.beginHour(h);
      for (const [d, misses] of pending) {
        if (!s.onDisk(d, h)) continue;
        for (const m of misses) waits.push(h - m);
        pending.delete(d);
      }
      for (const d of trace.jobs[h]!) {
        const size = trace.datasets[d]!.bytes;
        jobs++;
        dayJobs++;
        bytes += size;
        if (s.onDisk(d, h)) {
          hits++;
          dayHits++;
          hitBytes += size;
          s.accessed(d, h);
        } else {
          const waiting = pending.get(d);
          if (waiting) waiting.push(h);
          else pending.set(d, [h]);
          s.missed(d, h);
        }
      }
      const used = s.used();
      const wrote = new Set((produced.get(h) ?? []).map((d) => productionSite(trace, d, h)));
      for (const site of trace.sites) {
        const occ = (used.get(site.name) ?? 0) / site.quota;
        maxOcc[site.name] = Math.max(maxOcc[site.name] ?? 0, occ);
        const isOver = occ > 1 + 1e-9;
        if (isOver && !wasOver.get(site.name)) {
          // Hour 0: the initial placement is production's too.
          if (wrote.has(site.name) || h === 0) over.byProduction++;
          else over.byStrategy++;
        }
        wasOver.set(site.name, isOver);
      }
      if (h % 24 === 23) {
        daily.push(dayJobs ? dayHits / dayJobs : 1);
        dayJobs = dayHits = 0;
      }
    }
    let unresolved = 0;
    for (const misses of pending.values()) {
      for (const m of misses) {
        waits.push(hours - m);
        unresolved++;
      }
    }
    waits.sort((a, b) => a - b);
    return {
      name: s.name,
      jobs,
      hitRate: jobs ? hits / jobs : 1,
      byteHitRate: bytes ? hitBytes / bytes : 1,
      meanWaitHours: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : 0,
      p95WaitHours: waits.length ? waits[Math.min(waits.length - 1, Math.floor(waits.length * 0.95))]! : 0,
      unresolved,
      bytesCopied: s.counters.bytesCopied,
      bytesDeleted: s.counters.bytesDeleted,
      maxOccupancy: Object.fromEntries(Object.entries(maxOcc).map(([k, v]) => [k, round(v)])),
      quotaViolations: over,
      lastCopiesLost: s.counters.lastCopiesLost,
      ...("copiedBy" in s ? { copiedBy: { ...(s.copiedBy as Record<string, number>) } } : {}),
      daily,
    };
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
