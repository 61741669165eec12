/**
 * `enforcer_protected_replicas` (spec §2.5, EnforcedProtectionTagger): for
 * enforcer rules with `protect: true`, the replicas of matching datasets at
 * the rule's destination sites are protected while there are no more of them
 * than `num_copies` (they are the copies the rule exists to keep).
 */
import type { Block, BlockReplicaColumns, Snapshot } from "../../registry/inventory/mod.ts";
import type { EnforcerRules } from "../enforcer_rules.ts";
import type {
  BlockReplicaFields,
  EvalBlockReplica,
  EvalReplica,
  EvalSite,
  EvalWorld,
} from "../language/mod.ts";
import { NO_ATTRIBUTES } from "../language/mod.ts";

/** dataset id → protected site ids */
export type EnforcerProtected = Map<number, Set<number>>;

export function enforcerProtection(snapshot: Snapshot, rules: EnforcerRules): EnforcerProtected {
  const out: EnforcerProtected = new Map();
  const partition = snapshot.partition(rules.partition);
  if (!partition) throw new RangeError(`Enforcer rules refer to unknown partition "${rules.partition}"`);
  const siteView = (siteId: number): EvalSite => {
    const usage = snapshot.sitePartition(siteId, partition)!;
    return { site: usage.site, quota: usage.quota, occupancy: usage.occupancy };
  };
  const world = snapshotWorld(snapshot);
  for (const rule of rules.rules.filter((r) => r.protect)) {
    for (const d of snapshot.datasets()) {
      const replicas = world.replicasOf(d.id);
      if (!replicas.some((r) => rule.replicas.some((c) => c.match(r)))) continue;
      const atDestinations = replicas.filter((r) =>
        rule.destinations.some((c) => c.match(siteView(r.site.id)))
      );
      if (atDestinations.length === 0 || atDestinations.length > rule.numCopies) continue;
      let set = out.get(d.id);
      if (!set) out.set(d.id, set = new Set());
      for (const r of atDestinations) set.add(r.site.id);
    }
  }
  return out;
}

/** The whole inventory as evaluation targets (no attributes: rules look at names and sites). */
export function snapshotWorld(snapshot: Snapshot): EvalWorld {
  const cache = new Map<number, EvalReplica[]>();
  const world: EvalWorld = {
    replicasOf(datasetId) {
      let list = cache.get(datasetId);
      if (list) return list;
      const dataset = snapshot.datasetById(datasetId)!;
      list = snapshot.replicasOf(datasetId).map((dr) => {
        // Built on first look (rules mostly test dataset and site names), one object per block
        // replica that carries its fields from the columns and is its own `br` (no records).
        let blocks: EvalBlockReplica[] | null = null;
        const replica: EvalReplica = {
          dataset,
          site: snapshot.siteById(dr.siteId)!,
          growing: dr.growing,
          world,
          visible: () => {
            if (blocks) return blocks;
            blocks = [];
            for (let i = 0; i < dr.columns.length; i++) {
              blocks.push(
                new WorldBlockReplica(snapshot.blockById(dr.columns.blockIdAt(i))!, dr.columns, i, replica),
              );
            }
            return blocks;
          },
        };
        return replica;
      });
      cache.set(datasetId, list);
      return list;
    },
    group: (id) => snapshot.groupById(id) ?? snapshot.group(null)!,
    attrs: NO_ATTRIBUTES,
  };
  return world;
}

/** A block replica of the world: its fields read from the columns; it is its own `br`. */
class WorldBlockReplica implements EvalBlockReplica, BlockReplicaFields {
  readonly br: BlockReplicaFields = this;
  readonly blockId: number;
  readonly groupId: number;
  readonly size: number;
  readonly lastUpdate: number;
  readonly isCustodial: boolean;
  readonly fileIds: readonly number[] | null;
  constructor(readonly block: Block, columns: BlockReplicaColumns, i: number, readonly replica: EvalReplica) {
    this.blockId = block.id;
    this.groupId = columns.groupIdAt(i);
    this.size = columns.sizeAt(i);
    this.lastUpdate = columns.lastUpdateAt(i);
    this.isCustodial = columns.isCustodialAt(i);
    this.fileIds = columns.fileIdsAt(i);
  }
}
