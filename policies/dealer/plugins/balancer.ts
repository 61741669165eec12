/**
 * BalancingHandler (spec §4.3): spreads protected data. From the last Detox
 * cycle, each site's protected fraction (protected bytes / quota) and its
 * "last copies" (protected datasets whose protection reason is a configured
 * target reason and which have no more full disk copies than that reason
 * requires). While the fullest and emptiest site differ by 5 % or more and the
 * cycle volume allows, the fullest site's smallest last copy is proposed for
 * another copy (the Dealer picks the destination). Once the new copy is
 * complete, Detox may delete the old one: protected data moves.
 */
import type { Partition, Snapshot } from "../../../registry/inventory/mod.ts";
import type { BalancerConfig } from "../dealer_config.ts";
import type { DealerProposal } from "../proposal.ts";

export interface DetoxProtection {
  /** Per site of the last cycle: quota and protected bytes. */
  readonly sites: readonly { siteId: number; quota: number; protectedBytes: number }[];
  /** Protected dataset replicas with the policy line (text) that protected them. */
  readonly protectedReplicas: readonly { siteId: number; datasetId: number; size: number; reason: string }[];
}

export const BALANCE_SPREAD = 0.05;

export function balancerProposals(
  snapshot: Snapshot,
  name: string,
  config: BalancerConfig,
  partition: Partition,
  detox: DetoxProtection,
): DealerProposal[] {
  const fraction = new Map<number, number>();
  for (const s of detox.sites) if (s.quota > 0) fraction.set(s.siteId, s.protectedBytes / s.quota);
  const quota = new Map(detox.sites.map((s) => [s.siteId, s.quota]));
  const candidates = new Map<number, { datasetId: number; size: number; reason: string }[]>();
  for (const r of detox.protectedReplicas) {
    const required = config.targetReasons.get(r.reason.trim());
    if (required === undefined || r.size > config.maxDatasetSize || !fraction.has(r.siteId)) continue;
    if (fullDiskCopies(snapshot, r.datasetId, partition) > required) continue;
    let list = candidates.get(r.siteId);
    if (!list) candidates.set(r.siteId, list = []);
    list.push(r);
  }
  for (const list of candidates.values()) list.sort((a, b) => a.size - b.size || a.datasetId - b.datasetId);
  const out: DealerProposal[] = [];
  const proposed = new Set<number>();
  let volume = 0;
  while (volume < config.maxCycleVolume && fraction.size > 1) {
    const values = [...fraction.values()];
    const max = Math.max(...values);
    if (max - Math.min(...values) < BALANCE_SPREAD) break;
    const siteId = [...fraction].find(([, f]) => f === max)![0];
    const next = candidates.get(siteId)?.find((c) => !proposed.has(c.datasetId));
    if (!next) {
      // Nothing left to move from here: it stays as full, but no longer leads.
      fraction.delete(siteId);
      continue;
    }
    proposed.add(next.datasetId);
    volume += next.size;
    fraction.set(siteId, max - next.size / quota.get(siteId)!);
    out.push({
      plugin: name,
      datasetId: next.datasetId,
      blockIds: null,
      destination: null,
      group: null,
      why: `balance: ${snapshot.siteById(siteId)!.name} is ${
        (max * 100).toFixed(1)
      } % protected (${next.reason})`,
    });
  }
  return out;
}

/** Dataset replicas at disk sites that hold every block completely, inside the partition. */
function fullDiskCopies(snapshot: Snapshot, datasetId: number, partition: Partition): number {
  const d = snapshot.datasetById(datasetId);
  if (!d) return 0;
  const mask = snapshot.state.partitions.maskOf(partition);
  return snapshot.replicasOf(datasetId).filter((dr) =>
    snapshot.siteById(dr.siteId)!.storageType === "disk" &&
    dr.columns.length === d.blockIds.length && dr.columns.allComplete() &&
    dr.columns.allInMask(mask)
  ).length;
}
