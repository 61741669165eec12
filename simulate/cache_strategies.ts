/**
 * The strategies we score ours against, on a plain replica table:
 * - static: the initial placement, and a copy on request (a miss) to the site
 *   with most free space when it fits; nothing is ever deleted;
 * - lru: Rucio's reaper: a copy on a miss to the site with most free space,
 *   and least-recently-used replicas deleted whenever a site's free space is
 *   under one threshold (and to make room for a copy);
 * - oracle: Belady's rule: to make room (for a copy, or when production
 *   wrote above the quota), delete the replica next used furthest in the
 *   future (it knows the trace); same capacity and delays.
 * None deletes a replica that is the last copy anywhere (disk or tape).
 */
import { producedAt, productionSite, siteUp, type Trace } from "./trace.ts";
import { type Counters, emptyCounters, Links, nextUse, type Strategy } from "./strategy.ts";

export type CacheKind = "static" | "lru" | "oracle";

interface Replica {
  /** Fractional hour the copy completes (≤ now: complete). */
  readyAt: number;
  lastUse: number;
}

/** LRU: delete when free space drops under this fraction of the quota. */
export const LRU_FREE_THRESHOLD = 0.1;

export class CacheStrategy implements Strategy {
  readonly counters: Counters = emptyCounters();
  readonly #at = new Map<string, Map<number, Replica>>();
  readonly #used = new Map<string, number>();
  readonly #produced: Map<number, import("./trace.ts").SimDataset[]>;
  readonly #waiting = new Set<number>();
  #hour = 0;

  constructor(readonly name: CacheKind, readonly trace: Trace, readonly links: Links) {
    for (const s of trace.sites) {
      this.#at.set(s.name, new Map());
      this.#used.set(s.name, 0);
    }
    this.#produced = producedAt(trace);
    for (const d of trace.datasets) if (d.hour < 0) this.#add(d.origin, d.index, d.hour);
  }

  beginHour(hour: number): void {
    this.#hour = hour;
    for (const d of this.#produced.get(hour) ?? []) {
      const site = productionSite(this.trace, d, hour);
      this.#add(site, d.index, hour);
    }
    if (this.name === "lru") {
      for (const s of this.trace.sites) {
        if (siteUp(this.trace, s.name, hour)) this.#makeRoom(s.name, s.quota * LRU_FREE_THRESHOLD);
      }
    }
    // The oracle has the same capacity: what production writes above the quota it evicts at once.
    if (this.name === "oracle") { for (const s of this.trace.sites) this.#makeRoom(s.name, 0); }
    for (const d of [...this.#waiting]) this.#copy(d);
  }

  onDisk(dataset: number, hour: number): boolean {
    for (const [site, replicas] of this.#at) {
      const r = replicas.get(dataset);
      if (r && r.readyAt <= hour && siteUp(this.trace, site, hour)) return true;
    }
    return false;
  }

  accessed(dataset: number, hour: number): void {
    for (const replicas of this.#at.values()) {
      const r = replicas.get(dataset);
      if (r) r.lastUse = hour;
    }
  }

  missed(dataset: number, _hour: number): void {
    this.#copy(dataset);
  }

  used(): Map<string, number> {
    return new Map(this.#used);
  }

  #add(site: string, dataset: number, hour: number, readyAt = hour): void {
    this.#at.get(site)!.set(dataset, { readyAt, lastUse: hour });
    this.#used.set(site, this.#used.get(site)! + this.trace.datasets[dataset]!.bytes);
  }

  /** A copy to the up site with most free space, room made as the strategy does; else it waits. */
  #copy(dataset: number): void {
    const hour = this.#hour;
    const bytes = this.trace.datasets[dataset]!.bytes;
    const inFlight = [...this.#at.values()].some((m) => m.has(dataset) && m.get(dataset)!.readyAt > hour);
    const up = this.trace.sites.filter((s) => siteUp(this.trace, s.name, hour));
    if (inFlight || up.some((s) => this.#at.get(s.name)!.get(dataset)?.readyAt! <= hour)) {
      this.#waiting.delete(dataset);
      return;
    }
    if (!this.#hasSource(dataset)) return void this.#waiting.add(dataset);
    const best =
      [...up].sort((a, b) =>
        (b.quota - this.#used.get(b.name)!) - (a.quota - this.#used.get(a.name)!) ||
        a.name.localeCompare(b.name)
      )[0];
    if (!best) return void this.#waiting.add(dataset);
    if (this.name !== "static") this.#makeRoom(best.name, bytes, dataset);
    if (best.quota - this.#used.get(best.name)! < bytes) return void this.#waiting.add(dataset);
    this.#waiting.delete(dataset);
    this.#add(best.name, dataset, hour, this.links.schedule(best.name, bytes, hour));
    this.counters.bytesCopied += bytes;
  }

  #hasSource(dataset: number): boolean {
    if (this.trace.datasets[dataset]!.onTape) return true;
    return [...this.#at.values()].some((m) => (m.get(dataset)?.readyAt ?? Infinity) <= this.#hour);
  }

  /** Deletes replicas at the site (LRU or furthest next use first) until `free` bytes are free. */
  #makeRoom(site: string, free: number, incoming = -1): void {
    const quota = this.trace.sites.find((s) => s.name === site)!.quota;
    if (quota - this.#used.get(site)! >= free) return;
    const replicas = this.#at.get(site)!;
    const hour = this.#hour;
    const candidates = [...replicas.entries()].filter(([d, r]) =>
      r.readyAt <= hour && this.#deletable(d, site)
    );
    const key = (d: number, r: Replica) => this.name === "oracle" ? -nextUse(this.trace, d, hour) : r.lastUse;
    candidates.sort((a, b) => key(a[0], a[1]) - key(b[0], b[1]) || a[0] - b[0]);
    const incomingNext = incoming >= 0 ? nextUse(this.trace, incoming, hour) : -Infinity;
    for (const [d] of candidates) {
      if (quota - this.#used.get(site)! >= free) break;
      // Belady never evicts what is needed before the data it makes room for.
      if (this.name === "oracle" && nextUse(this.trace, d, hour) < incomingNext) break;
      replicas.delete(d);
      const bytes = this.trace.datasets[d]!.bytes;
      this.#used.set(site, this.#used.get(site)! - bytes);
      this.counters.bytesDeleted += bytes;
    }
  }

  /** Another complete copy exists (tape, or disk elsewhere). */
  #deletable(dataset: number, site: string): boolean {
    if (this.trace.datasets[dataset]!.onTape) return true;
    for (const [other, m] of this.#at) {
      if (other !== site && (m.get(dataset)?.readyAt ?? Infinity) <= this.#hour) return true;
    }
    return false;
  }
}
