/**
 * GroupReassigner (spec §4.3): block replicas owned by listed legacy groups
 * pass to the Dealer's default group, by proposing the same blocks at the
 * same site (an ownership change, no transfer).
 */
import type { Snapshot } from "../../../registry/inventory/mod.ts";
import type { GroupReassignerConfig } from "../dealer_config.ts";
import type { DealerProposal } from "../proposal.ts";

export function groupReassignerProposals(
  snapshot: Snapshot,
  name: string,
  config: GroupReassignerConfig,
): DealerProposal[] {
  const from = new Set(config.fromGroups.map((g) => snapshot.group(g)?.id).filter((id) => id !== undefined));
  const out: DealerProposal[] = [];
  if (from.size === 0) return out;
  for (const d of snapshot.datasets()) {
    for (const dr of snapshot.replicasOf(d.id)) {
      // Read the columns: no record per block replica.
      const columns = dr.columns;
      const blocks: number[] = [];
      let firstGroup = -1;
      for (let i = 0; i < columns.length; i++) {
        if (!from.has(columns.groupIdAt(i))) continue;
        if (blocks.length === 0) firstGroup = columns.groupIdAt(i);
        blocks.push(columns.blockIdAt(i));
      }
      if (blocks.length === 0) continue;
      out.push({
        plugin: name,
        datasetId: d.id,
        blockIds: blocks,
        destination: dr.siteId,
        group: null,
        why: `owned by ${snapshot.groupById(firstGroup)!.name}`,
      });
    }
  }
  return out;
}
