/**
 * What the driver asks of every strategy, hour by hour, and the link model
 * they all share: a copy into a site occupies its inbound link for
 * size / bandwidth after the copies already queued there.
 */
import { HOUR, type SimSite, type Trace } from "./trace.ts";

export interface Strategy {
  readonly name: string;
  /** Start of an hour: production, copies that finished, the strategy's own cycles. */
  beginHour(hour: number): void;
  /** Whether a complete disk copy is readable at a site in service. */
  onDisk(dataset: number, hour: number): boolean;
  /** A job read the dataset (hit) at the hour. */
  accessed(dataset: number, hour: number): void;
  /** A job found no disk copy: the user asks for one. */
  missed(dataset: number, hour: number): void;
  /** Bytes at each disk site now (complete and in flight). */
  used(): Map<string, number>;
  readonly counters: Counters;
}

export interface Counters {
  bytesCopied: number;
  bytesDeleted: number;
  lastCopiesLost: number;
}

/** Per-site inbound links; same for every strategy. */
export class Links {
  readonly #freeAt = new Map<string, number>();
  constructor(readonly sites: readonly SimSite[], readonly instant = false) {}

  /** Hour (fractional) when a copy of `bytes` into `site`, started at `hour`, completes. */
  schedule(site: string, bytes: number, hour: number): number {
    if (this.instant) return hour;
    const s = this.sites.find((x) => x.name === site)!;
    const start = Math.max(hour, this.#freeAt.get(site) ?? 0);
    const end = start + bytes / s.bandwidth / HOUR;
    this.#freeAt.set(site, end);
    return end;
  }
}

export function emptyCounters(): Counters {
  return { bytesCopied: 0, bytesDeleted: 0, lastCopiesLost: 0 };
}

/** The next hour at which the dataset is read after `hour` (∞ when never): Belady's knowledge. */
export function nextUse(trace: Trace, dataset: number, hour: number): number {
  const uses = trace.uses[dataset]!;
  let lo = 0;
  let hi = uses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (uses[mid]! <= hour) lo = mid + 1;
    else hi = mid;
  }
  return lo < uses.length ? uses[lo]! : Number.POSITIVE_INFINITY;
}
