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
      const blocks = dr.blockReplicas.filter((br) => from.has(br.groupId)).map((br) => br.blockId);
      if (blocks.length === 0) continue;
      out.push({
        plugin: name,
        datasetId: d.id,
        blockIds: blocks,
        destination: dr.siteId,
        group: null,
        why: `owned by ${
          snapshot.groupById(dr.blockReplicas.find((br) => from.has(br.groupId))!.groupId)!.name
        }`,
      });
    }
  }
  return out;
}
