/**
 * Dealer target sites (spec §4.2 step 2): sites that may receive copies this
 * cycle, and the space ledger that decides when a site stops qualifying.
 * Occupancy is the partition's *projected* occupancy (copies in flight count
 * as present) plus what this cycle has already placed at the site.
 */
import type { Partition, Site, Snapshot } from "../../registry/inventory/mod.ts";
import { compileGlob } from "../../registry/inventory/mod.ts";
import type { DealerConfig } from "./dealer_config.ts";

/** fnmatch patterns in order, `!pattern` excludes; the last matching pattern decides. */
export function matchesSitePatterns(name: string, patterns: readonly string[]): boolean {
  let selected = false;
  for (const p of patterns) {
    const exclude = p.startsWith("!");
    if (compileGlob(exclude ? p.slice(1) : p).test(name)) selected = !exclude;
  }
  return selected;
}

export interface SiteSpace {
  readonly site: Site;
  /** 0 = cannot host, < 0 = no limit. */
  readonly quota: number;
  readonly physical: number;
  /** Projected usage including this cycle's placements. */
  projected: number;
}

/** The ledger of one Dealer cycle: where copies may still go and how much room is left. */
export class DealerLedger {
  readonly #spaces = new Map<number, SiteSpace>();
  readonly #targets = new Set<number>();
  /** Bytes placed this cycle, per site. */
  readonly placed = new Map<number, number>();
  total = 0;

  constructor(
    snapshot: Snapshot,
    readonly partition: Partition,
    readonly config: Pick<
      DealerConfig,
      "targetSites" | "targetSiteOccupancy" | "maxSitePendingFraction" | "maxTotalCycleVolume"
    >,
  ) {
    for (const site of snapshot.sites()) {
      const u = snapshot.sitePartition(site.id, partition)!;
      this.#spaces.set(site.id, { site, quota: u.quota, physical: u.physical, projected: u.projected });
      if (site.status === "ready" && matchesSitePatterns(site.name, config.targetSites)) {
        if (this.qualifies(site.id, 0)) this.#targets.add(site.id);
      }
    }
  }

  /** Current target site ids, in site id order. */
  targets(): number[] {
    return [...this.#targets].sort((a, b) => a - b);
  }

  isTarget(siteId: number): boolean {
    return this.#targets.has(siteId);
  }

  space(siteId: number): SiteSpace | undefined {
    return this.#spaces.get(siteId);
  }

  /** Projected occupancy if `bytes` more were placed (0 for an unlimited quota, ∞ for none). */
  occupancyAfter(siteId: number, bytes: number): number {
    const s = this.#spaces.get(siteId)!;
    if (s.quota < 0) return 0;
    if (s.quota === 0) return Number.POSITIVE_INFINITY;
    return (s.projected + bytes) / s.quota;
  }

  /**
   * Whether the site may take `bytes` more: projected occupancy stays at or
   * under the target, and the volume in flight under the pending fraction.
   */
  qualifies(siteId: number, bytes: number): boolean {
    const s = this.#spaces.get(siteId)!;
    if (s.quota < 0) return true;
    if (s.quota === 0) return false;
    if (this.occupancyAfter(siteId, bytes) > this.config.targetSiteOccupancy) return false;
    const pending = (s.projected + bytes - s.physical) / s.quota;
    return pending <= this.config.maxSitePendingFraction;
  }

  /** Whether the cycle may place `bytes` more in total. */
  cycleAllows(bytes: number): boolean {
    return this.total + bytes <= this.config.maxTotalCycleVolume;
  }

  /**
   * Books a placement (`bytes` transferred, `enters` more brought into the
   * partition by a change of owner); a site that no longer qualifies stops
   * being a target.
   */
  place(siteId: number, bytes: number, enters = 0): void {
    const s = this.#spaces.get(siteId)!;
    s.projected += bytes + enters;
    this.total += bytes;
    this.placed.set(siteId, (this.placed.get(siteId) ?? 0) + bytes);
    if (!this.qualifies(siteId, 0)) this.#targets.delete(siteId);
  }
}
