/**
 * PopularityHandler (spec §4.3): datasets with demand get more copies.
 * Target copies = min(max_replication, ceil(weight / threshold)); what is
 * missing is proposed round-robin, most wanted first (one copy per dataset
 * per round), with the destination left to the Dealer.
 */
import type { Snapshot } from "../../../registry/inventory/mod.ts";
import type { PopularityConfig } from "../dealer_config.ts";
import type { DealerProposal } from "../proposal.ts";

export function popularityProposals(
  snapshot: Snapshot,
  name: string,
  config: PopularityConfig,
  weights: ReadonlyMap<number, number>,
): DealerProposal[] {
  const sourceGroups = new Set(
    config.sourceGroups.map((g) => snapshot.group(g)?.id).filter((id) => id !== undefined),
  );
  const wanted: { datasetId: number; weight: number; missing: number; target: number }[] = [];
  for (const [datasetId, weight] of weights) {
    if (!(weight > 0)) continue;
    const d = snapshot.datasetById(datasetId);
    if (!d || d.size > config.maxDatasetSize) continue;
    const replicas = snapshot.replicasOf(datasetId).filter((dr) =>
      snapshot.siteById(dr.siteId)!.storageType === "disk"
    );
    if (
      config.sourceGroups.length > 0 &&
      !replicas.some((dr) => dr.columns.anyOwnedBy(sourceGroups))
    ) continue;
    const target = Math.min(config.maxReplication, Math.ceil(weight / config.requestToReplicaThreshold));
    const missing = target - replicas.length;
    if (missing > 0) wanted.push({ datasetId, weight, missing, target });
  }
  wanted.sort((a, b) => b.weight - a.weight || a.datasetId - b.datasetId);
  const out: DealerProposal[] = [];
  for (let round = 0; wanted.some((w) => w.missing > round); round++) {
    for (const w of wanted) {
      if (w.missing <= round) continue;
      out.push({
        plugin: name,
        datasetId: w.datasetId,
        blockIds: null,
        destination: null,
        group: null,
        why: `demand ${w.weight.toFixed(2)} wants ${w.target} copies`,
      });
    }
  }
  return out;
}
