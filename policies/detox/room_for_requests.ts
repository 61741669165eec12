/**
 * Room for copies that wait (issue 19): a copy request the Dealer could not
 * place for want of room stays `new` with `waiting: <reason>` (or its action
 * does). Detox counts the bytes of each such copy at one target site, as if
 * they were there: the site's `site.occupancy` includes them, so the policy's
 * own `When`/`Until` lines delete (with every protection of the policy, never
 * a last copy) down to a level that leaves room for them, and the next Dealer
 * cycle can place the copy. Pure: the agent and the simulator wire it.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import { expandSites, resolveItem } from "../../registry/requests/request_item.ts";
import type { ImageSite, PartitionImage } from "./partition_image.ts";

/** One copy waiting for room: the item, where it may go (names or patterns, empty = anywhere), how many copies. */
export interface WaitingCopy {
  readonly item: string;
  readonly sites: readonly string[];
  /** Copies wanted; 0 = one at every listed site. */
  readonly copies: number;
  /** Unix seconds: the oldest wait first. */
  readonly since: number;
}

const WAITING = "waiting: ";

/** The copies of open requests that wait to be placed: `new` requests and `new` actions with a waiting reason. */
export function waitingCopies(open: readonly CopyRequest[]): WaitingCopy[] {
  const out: WaitingCopy[] = [];
  for (const r of open) {
    if (r.status === "new" && r.reason?.startsWith(WAITING)) {
      for (const item of r.items) out.push({ item, sites: r.sites, copies: r.n, since: r.createdAt });
    } else if (r.status === "activated") {
      for (const a of r.actions) {
        if (a.status === "new" && a.reason?.startsWith(WAITING)) {
          out.push({ item: a.item, sites: [a.site], copies: 1, since: r.createdAt });
        }
      }
    }
  }
  return out.sort((a, b) => a.since - b.since);
}

/**
 * Bytes to hold per target site of the image for the waiting copies, oldest
 * first: each copy at the ready disk site (among those it may go to, that do
 * not hold the item yet) where the site's occupancy with it is lowest, as long
 * as a site holds at most `maxFraction` of its quota this way. A copy that fits
 * nowhere under that cap is left out (it would make Detox delete for nothing).
 */
export function roomForWaiting(
  snapshot: Snapshot,
  image: PartitionImage,
  waiting: readonly WaitingCopy[],
  maxFraction: number,
): Map<ImageSite, number> {
  const reserved = new Map<ImageSite, number>();
  if (!(maxFraction > 0) || waiting.length === 0) return reserved;
  const disks = image.sites.filter((s) =>
    s.site.storageType === "disk" && s.site.status === "ready" && s.quota > 0
  );
  for (const w of waiting) {
    const item = resolveItem(snapshot, w.item);
    if (typeof item === "string" || item.bytes <= 0) continue;
    const allowed = w.sites.length === 0 ? null : new Set(expandSites(snapshot, w.sites).map((s) => s.id));
    const candidates = disks.filter((s) =>
      (allowed === null || allowed.has(s.site.id)) && !snapshot.replica(item.datasetId, s.site.id)
    );
    let wanted = w.copies === 0 ? candidates.length : w.copies;
    while (wanted > 0) {
      let best: ImageSite | null = null;
      let bestOccupancy = Number.POSITIVE_INFINITY;
      for (const s of candidates) {
        const held = (reserved.get(s) ?? 0) + item.bytes;
        if (held > maxFraction * s.quota) continue;
        const occupancy = (s.used + held) / s.quota;
        if (occupancy < bestOccupancy) [best, bestOccupancy] = [s, occupancy];
      }
      if (best === null) break;
      reserved.set(best, (reserved.get(best) ?? 0) + item.bytes);
      candidates.splice(candidates.indexOf(best), 1);
      wanted -= 1;
    }
  }
  return reserved;
}

/**
 * Whether copies waiting for room call for a Detox cycle now rather than at
 * its schedule: some copy waits, and the last cycle called this way is at
 * least `intervalMs` ago (null: none yet). The interval bounds the rate: copies
 * that wait for room Detox cannot make (only protected data left) cost one
 * cycle per interval, not a storm.
 */
export function earlyCycleDue(
  q: { waiting: number; nowMs: number; lastMs: number | null; intervalMs: number },
): boolean {
  if (!(q.waiting > 0) || !(q.intervalMs > 0)) return false;
  return q.lastMs === null || q.nowMs - q.lastMs >= q.intervalMs || q.nowMs < q.lastMs;
}
