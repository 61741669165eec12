/**
 * EnforcerHandler (spec §4.3): "keep N copies of datasets matching X at sites
 * matching Y". For each rule and each dataset with a matching replica at a
 * source site, the full copies owned by the rule's group at destination sites
 * are counted (complete or on their way); when fewer than N (capped at the
 * number of destination sites), copies are proposed: first where another
 * group's replica can change owner, then at unused destination sites drawn at
 * random. The output is shuffled, as in the original.
 */
import type { Partition, Snapshot } from "../../../registry/inventory/mod.ts";
import type { EnforcerRules } from "../../enforcer_rules.ts";
import type { EvalSite } from "../../language/mod.ts";
import { snapshotWorld } from "../../producers/enforcer_protection.ts";
import type { EnforcerConfig } from "../dealer_config.ts";
import type { RandomSource } from "../interleave.ts";
import type { DealerProposal } from "../proposal.ts";

export function enforcerProposals(
  snapshot: Snapshot,
  name: string,
  config: EnforcerConfig,
  rules: EnforcerRules,
  partition: Partition,
  rng: RandomSource,
): DealerProposal[] {
  const siteViews = new Map<number, EvalSite>();
  for (const site of snapshot.sites()) {
    const u = snapshot.sitePartition(site.id, partition)!;
    siteViews.set(site.id, { site, quota: u.quota, occupancy: u.occupancy });
  }
  const world = snapshotWorld(snapshot);
  const out: DealerProposal[] = [];
  for (const rule of rules.rules) {
    const groupName = rule.destinationGroup ?? rules.defaultDestinationGroup;
    const group = snapshot.group(groupName);
    if (!group) continue;
    const sources = new Set(
      [...siteViews].filter(([, v]) => rule.sources.some((c) => c.match(v))).map(([id]) => id),
    );
    const destinations = [...siteViews].filter(([, v]) => rule.destinations.some((c) => c.match(v))).map((
      [id],
    ) => id);
    const wantedCopies = Math.min(rule.numCopies, destinations.length);
    for (const d of snapshot.datasets()) {
      if (d.size > config.maxDatasetSize) continue;
      const replicas = world.replicasOf(d.id);
      if (!replicas.some((r) => sources.has(r.site.id) && rule.replicas.some((c) => c.match(r)))) continue;
      let held = 0;
      const flippable: number[] = [];
      const used = new Set<number>();
      for (const siteId of destinations) {
        const dr = snapshot.replica(d.id, siteId);
        if (!dr) continue;
        used.add(siteId);
        const full = dr.columns.length === d.blockIds.length &&
          dr.columns.allInMask(snapshot.state.partitions.maskOf(partition));
        const owned = dr.columns.allOwnedBy(group.id);
        if (full && owned) held += 1;
        else flippable.push(siteId);
      }
      let needed = wantedCopies - held;
      if (needed <= 0) continue;
      const propose = (siteId: number, how: string) =>
        out.push({
          plugin: name,
          datasetId: d.id,
          blockIds: null,
          destination: siteId,
          group: groupName,
          why: `rule ${rule.name}: ${held} of ${wantedCopies} copies; ${how}`,
        });
      for (const siteId of flippable) {
        if (needed-- <= 0) break;
        propose(siteId, "take over the replica there");
      }
      const unused = shuffle(destinations.filter((id) => !used.has(id)), rng);
      for (const siteId of unused) {
        if (needed-- <= 0) break;
        propose(siteId, "new copy");
      }
    }
  }
  return shuffle(out, rng);
}

/** Fisher–Yates with the injected random source. */
export function shuffle<T>(items: T[], rng: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
