/**
 * `locked_blocks` (spec §2.5, MySQLReplicaLock): from the active Detox locks,
 * which block replicas are locked at which site. A dataset whose every block
 * is locked at a site collapses to `null` (the whole replica).
 */
import { compileGlob, type Snapshot, splitBlockFullName } from "../../registry/inventory/mod.ts";
import { type DetoxLock, lockActive } from "../../registry/requests/detox_lock.ts";

/** dataset id → site id → locked block ids, or null for the whole replica. */
export type LockedBlocks = Map<number, Map<number, Set<number> | null>>;

export function lockedBlocks(snapshot: Snapshot, locks: readonly DetoxLock[], now: number): LockedBlocks {
  const out: LockedBlocks = new Map();
  for (const lock of locks) {
    if (!lockActive(lock, now)) continue;
    const parts = lock.item.includes("#") ? splitBlockFullName(lock.item) : null;
    const datasets = snapshot.datasetsMatching(parts ? parts[0] : lock.item);
    const siteRes = lock.sites.map(compileGlob);
    const groupRes = lock.groups.map(compileGlob);
    for (const d of datasets) {
      const blockRe = parts ? compileGlob(parts[1]) : null;
      for (const dr of snapshot.replicasOf(d.id)) {
        const site = snapshot.siteById(dr.siteId)!;
        if (siteRes.length > 0 && !siteRes.some((re) => re.test(site.name))) continue;
        let perSite = out.get(d.id);
        if (!perSite) out.set(d.id, perSite = new Map());
        if (perSite.get(dr.siteId) === null) continue; // already wholly locked
        const columns = dr.columns; // read in place: no record per block replica
        const blocks: number[] = [];
        for (let i = 0; i < columns.length; i++) {
          const blockId = columns.blockIdAt(i);
          if (blockRe && !blockRe.test(snapshot.blockById(blockId)!.name)) continue;
          if (groupRes.length > 0) {
            const owner = snapshot.groupById(columns.groupIdAt(i))?.name ?? "None";
            if (!groupRes.some((re) => re.test(owner))) continue;
          }
          blocks.push(blockId);
        }
        if (blocks.length === 0) continue;
        const set = perSite.get(dr.siteId) ?? new Set<number>();
        for (const blockId of blocks) set.add(blockId);
        perSite.set(dr.siteId, set.size === d.blockIds.length ? null : set);
      }
    }
  }
  return out;
}
