/**
 * Simple dataset flags (spec §2.5): `on_protected_site` (ProtectedSiteTagger:
 * a replica at one of the configured sites) and `unhandled_copy_exists`
 * (UnhandledCopyExists: the dataset is the object of a copy request not yet
 * acted upon).
 */
import { compileGlob, type Snapshot, splitBlockFullName } from "../../registry/inventory/mod.ts";

export function onProtectedSite(snapshot: Snapshot, sitePatterns: readonly string[]): Set<number> {
  const out = new Set<number>();
  if (sitePatterns.length === 0) return out;
  const res = sitePatterns.map(compileGlob);
  for (const site of snapshot.sites()) {
    if (!res.some((re) => re.test(site.name))) continue;
    for (const dr of snapshot.replicasAt(site.id)) out.add(dr.datasetId);
  }
  return out;
}

/** @param items dataset names, dataset wildcards or `dataset#block` of copy requests still to handle */
export function unhandledCopies(snapshot: Snapshot, items: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const item of items) {
    const dataset = item.includes("#") ? splitBlockFullName(item)?.[0] : item;
    if (!dataset) continue;
    for (const d of snapshot.datasetsMatching(dataset)) out.add(d.id);
  }
  return out;
}
