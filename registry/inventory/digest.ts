import type { InventoryState } from "./state.ts";

/**
 * A canonical, order-independent description of an inventory (names, not ids,
 * except file ids which are global). Two states with equal digests hold the
 * same data; used to prove that journal replay and reader replicas reach the
 * same state as the writer.
 */
export function canonicalInventory(state: InventoryState): unknown {
  const datasetName = (id: number) => state.datasets.get(id)?.name ?? `?${id}`;
  const siteName = (id: number) => state.sites.get(id)?.name ?? `?${id}`;
  const groupName = (id: number) => state.groups.get(id)?.name ?? null;
  const blockName = (id: number) => {
    const b = state.blocks.get(id);
    return b ? `${datasetName(b.datasetId)}#${b.name}` : `?${id}`;
  };
  const byKey = <T>(rows: T[], key: (t: T) => string) =>
    rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return {
    datasets: byKey(
      [...state.datasets.values()].map((d) => ({
        name: d.name,
        status: d.status,
        dataType: d.dataType,
        softwareVersion: d.softwareVersion,
        lastUpdate: d.lastUpdate,
        isOpen: d.isOpen,
        size: d.size,
        numFiles: d.numFiles,
        blocks: d.blockIds.map(blockName).sort(),
      })),
      (d) => d.name,
    ),
    blocks: byKey(
      [...state.blocks.values()].map((b) => ({
        name: blockName(b.id),
        size: b.size,
        numFiles: b.numFiles,
        isOpen: b.isOpen,
        lastUpdate: b.lastUpdate,
      })),
      (b) => b.name,
    ),
    sites: byKey([...state.sites.values()].map((s) => ({ ...s, id: undefined })), (s) => s.name),
    groups: byKey(
      [...state.groups.values()].map((g) => ({ name: g.name, olevel: g.olevel })),
      (g) => String(g.name),
    ),
    replicas: byKey(
      [...state.replicas.values()].flat().map((dr) => ({
        key: `${datasetName(dr.datasetId)}@${siteName(dr.siteId)}`,
        growing: dr.growing,
        group: groupName(dr.groupId),
        blocks: byKey(
          dr.blockReplicas.map((br) => ({
            block: blockName(br.blockId),
            group: groupName(br.groupId),
            isCustodial: br.isCustodial,
            size: br.size,
            lastUpdate: br.lastUpdate,
            fileIds: br.fileIds === null ? null : [...br.fileIds].sort((a, b) => a - b),
            partitions: br.partitions,
          })),
          (x) => x.block,
        ),
      })),
      (r) => r.key,
    ),
    ledger: byKey(
      [...state.ledger.entries()].map(([id, l]) => ({ site: siteName(id), ...l })),
      (l) => l.site,
    ),
    counts: state.counts,
    nextFileId: state.counters.nextFileId,
  };
}

/** A short hash of the canonical form (cyrb53 over its JSON). */
export function inventoryDigest(state: InventoryState): string {
  const text = JSON.stringify(canonicalInventory(state));
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0") + `-${text.length}`;
}

/**
 * The occupancy ledger computed by a full scan, to check the incrementally
 * maintained one (site id → physical and projected bytes per basic partition).
 */
export function recomputeLedger(
  state: InventoryState,
): Map<number, { physical: number[]; projected: number[] }> {
  const n = state.partitions.basic.length;
  const out = new Map<number, { physical: number[]; projected: number[] }>();
  for (const site of state.sites.values()) {
    out.set(site.id, { physical: new Array(n).fill(0), projected: new Array(n).fill(0) });
  }
  for (const list of state.replicas.values()) {
    for (const dr of list) {
      const row = out.get(dr.siteId)!;
      for (const br of dr.blockReplicas) {
        const blockSize = state.blocks.get(br.blockId)!.size;
        for (let bit = 0; bit < n; bit++) {
          if ((br.partitions & (1 << bit)) === 0) continue;
          row.physical[bit]! += br.size;
          row.projected[bit]! += blockSize;
        }
      }
    }
  }
  return out;
}
