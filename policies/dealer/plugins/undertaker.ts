/**
 * Undertaker (spec §4.3): evacuates sites that are not READY (morgue,
 * waitroom) and configured extra sites. Every block of the partition there
 * that has no copy outside such sites is proposed for a copy elsewhere: the
 * whole dataset when all its blocks are unique there, else the block list.
 * Unlike the original it does not read the last Detox cycle's decisions: it
 * looks at the inventory itself, so nothing unique is missed or stale.
 */
import type { Partition, Snapshot } from "../../../registry/inventory/mod.ts";
import { matchesSitePatterns } from "../target_sites.ts";
import type { UndertakerConfig } from "../dealer_config.ts";
import type { DealerProposal } from "../proposal.ts";

export function undertakerProposals(
  snapshot: Snapshot,
  name: string,
  config: UndertakerConfig,
  partition: Partition,
): DealerProposal[] {
  const bad = new Set(
    snapshot.sites()
      .filter((s) => s.status !== "ready" || matchesSitePatterns(s.name, config.additionalSites))
      .map((s) => s.id),
  );
  const mask = snapshot.state.partitions.maskOf(partition);
  const out: DealerProposal[] = [];
  for (const siteId of [...bad].sort((a, b) => a - b)) {
    const site = snapshot.siteById(siteId)!;
    for (const dr of snapshot.replicasAt(siteId)) {
      const unique: number[] = [];
      const columns = dr.columns;
      for (let i = 0; i < columns.length; i++) {
        if ((columns.partitionsAt(i) & mask) === 0) continue;
        const blockId = columns.blockIdAt(i);
        const elsewhere = snapshot.replicasOf(dr.datasetId).some((o) =>
          !bad.has(o.siteId) && o.columns.has(blockId)
        );
        if (!elsewhere) unique.push(blockId);
      }
      if (unique.length === 0) continue;
      const dataset = snapshot.datasetById(dr.datasetId)!;
      const whole = unique.length === dataset.blockIds.length;
      out.push({
        plugin: name,
        datasetId: dataset.id,
        blockIds: whole ? null : unique,
        destination: null,
        group: null,
        why: `${whole ? "only copy" : `${unique.length} block(s) only`} at ${site.name} (${site.status})`,
      });
    }
  }
  return out;
}
