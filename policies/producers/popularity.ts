/**
 * Popularity (spec §2.5, CRABAccessHistory): from daily access records of the
 * last two years, per dataset the last access, the number of accesses, and
 * the usage rank
 *
 *   rank = days since max(last access, last update, newest block replica)
 *          − accesses / (dataset size in GB)
 *
 * Higher means less popular (Physics dismisses rank > 100).
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import type { AccessRecord } from "../../registry/requests/access_record.ts";

export type { AccessRecord };

export interface Popularity {
  lastAccess: Map<number, number>;
  numAccess: Map<number, number>;
  usageRank: Map<number, number>;
}

export const ACCESS_HISTORY_SECONDS = 2 * 365 * 86400;

export function popularity(snapshot: Snapshot, records: readonly AccessRecord[], now: number): Popularity {
  const lastAccess = new Map<number, number>();
  const numAccess = new Map<number, number>();
  for (const r of records) {
    if (r.day < now - ACCESS_HISTORY_SECONDS || r.day > now) continue;
    const d = snapshot.dataset(r.dataset);
    if (!d) continue;
    lastAccess.set(d.id, Math.max(lastAccess.get(d.id) ?? 0, r.day));
    numAccess.set(d.id, (numAccess.get(d.id) ?? 0) + r.accesses);
  }
  const usageRank = new Map<number, number>();
  for (const d of snapshot.datasets()) {
    let newest = Math.max(lastAccess.get(d.id) ?? 0, d.lastUpdate);
    // The newest block replica of each dataset replica, kept by its (sealed) columns: one read per
    // dataset replica, not a walk over every block replica each cycle.
    for (const dr of snapshot.replicasOf(d.id)) newest = Math.max(newest, dr.columns.newestUpdate);
    const idleDays = Math.max(0, (now - newest) / 86400);
    const gb = d.size / 1e9;
    usageRank.set(d.id, idleDays - (gb > 0 ? (numAccess.get(d.id) ?? 0) / gb : 0));
  }
  return { lastAccess, numAccess, usageRank };
}
