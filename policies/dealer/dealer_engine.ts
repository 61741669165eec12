/**
 * The Dealer cycle (spec §4.2 steps 4–7), pure: the plugins' proposals are
 * interleaved by priority, validated (dataset, group, sources down to files),
 * placed (the given destination is checked; otherwise one is drawn among the
 * target sites weighted by free projected space × the site's transfer
 * reliability), booked in the cycle's ledger, and finally merged per
 * (site, dataset). A copy is admitted only if the destination's projected
 * occupancy stays at or under the target occupancy and the cycle stays under
 * its volume cap: unlike the original, nothing overshoots.
 */
import {
  admitOperation,
  type Block,
  type DatasetOperation,
  NULL_GROUP_ID,
  operationsInFlight,
  type Snapshot,
} from "../../registry/inventory/mod.ts";
import type { DealerConfig } from "./dealer_config.ts";
import { interleave, type RandomSource, weightedChoice } from "./interleave.ts";
import type { DealerCopy, DealerDecision, DealerProposal, RejectReason } from "./proposal.ts";
import { DealerLedger } from "./target_sites.ts";

export interface DealerInput {
  readonly snapshot: Snapshot;
  readonly config: DealerConfig;
  /** Proposals by plugin name, each list in the plugin's order of preference. */
  readonly proposals: ReadonlyMap<string, readonly DealerProposal[]>;
  readonly rng: RandomSource;
  /** Recent transfer success rate of a site in [0, 1]; 1 (neutral) when unknown. */
  readonly reliability?: (siteId: number) => number;
}

export interface DealerResult {
  readonly partition: string;
  /** Target sites at the start of the cycle. */
  readonly targets: readonly number[];
  readonly decisions: readonly DealerDecision[];
  readonly copies: readonly DealerCopy[];
  /** Bytes placed per site. */
  readonly placed: ReadonlyMap<number, number>;
  readonly totalBytes: number;
  readonly rejections: ReadonlyMap<string, number>;
}

const COPYABLE = new Set(["valid", "production"]);

interface Planned {
  siteId: number;
  datasetId: number;
  blocks: Set<number>;
  flips: Set<number>;
  whole: boolean;
  /** The accepted proposals, in acceptance order. */
  proposals: DealerProposal[];
  groupIds: number[];
  bytes: number;
}

export function runDealer(input: DealerInput): DealerResult {
  const { snapshot, config, rng } = input;
  const partition = snapshot.partition(config.partition);
  if (!partition) throw new RangeError(`The Dealer's partition "${config.partition}" is not defined`);
  const priorityOf = new Map(config.plugins.map((p) => [p.name, p.priority]));
  const reliability = input.reliability ?? (() => 1);
  const ledger = new DealerLedger(snapshot, partition, config);
  const targets = ledger.targets();
  const planned = new Map<string, Planned>();
  const decisions: DealerDecision[] = [];
  const rejections = new Map<string, number>();

  // The operations in flight of a dataset, looked at only when a copy meets a deletion (conflictOf).
  const inFlight = new Map<string, readonly DatasetOperation[]>();
  /**
   * Why copying `blocks` to the site conflicts with a deletion in flight there (dataset_conflicts.ts),
   * or null: the rule is asked for each block the site holds in the null group (being deleted).
   */
  const conflictOf = (datasetName: string, deleting: readonly Block[], siteId: number): string | null => {
    if (deleting.length === 0) return null;
    let ops = inFlight.get(datasetName);
    if (!ops) inFlight.set(datasetName, ops = operationsInFlight(snapshot, datasetName));
    const site = snapshot.siteById(siteId)!.name;
    for (const b of deleting) {
      const admission = admitOperation(datasetName, ops, { kind: "copy", block: b.name, site, sources: [] });
      if (admission.verdict !== "allow") return admission.reason;
    }
    return null;
  };

  const ordered = interleave(
    config.plugins
      .filter((p) => input.proposals.has(p.name))
      .map((p) => ({ priority: p.priority, items: input.proposals.get(p.name)! })),
    rng,
  );

  for (const proposal of ordered) {
    const d = decide(proposal);
    decisions.push(d);
    if (!d.accepted) rejections.set(d.reason, (rejections.get(d.reason) ?? 0) + 1);
  }

  function decide(p: DealerProposal): DealerDecision {
    const reject = (reason: RejectReason, siteId: number | null = null, detail?: string): DealerDecision => ({
      proposal: p,
      accepted: false,
      reason,
      siteId,
      bytes: 0,
      ...(detail !== undefined ? { detail } : {}),
    });
    const dataset = snapshot.datasetById(p.datasetId);
    if (!dataset) return reject("Dataset not found");
    if (!COPYABLE.has(dataset.status)) return reject("Dataset is not valid");
    const group = snapshot.group(p.group ?? config.defaultGroup);
    if (!group || group.name === null) return reject("Unknown group");
    const blocks = (p.blockIds ?? dataset.blockIds).map((id) => snapshot.blockById(id)).filter((b) =>
      b !== undefined && b.datasetId === dataset.id
    ) as Block[];
    if (blocks.length === 0 || snapshot.replicasOf(dataset.id).length === 0) {
      return reject("No replica anywhere");
    }
    if (!blocks.every((b) => sourcesCover(snapshot, b))) return reject("Source files missing");

    /** What a copy to a site involves: blocks to transfer, owners to change, bytes. */
    const at = (siteId: number, withFlips: boolean) => {
      const key = `${siteId}:${dataset.id}`;
      const plan = planned.get(key);
      const dr = snapshot.replica(dataset.id, siteId);
      const missing: Block[] = [];
      const flips: number[] = [];
      /** Blocks the site holds in the null group: being deleted there. */
      const deleting: Block[] = [];
      // Bytes a change of owner brings into the partition: they take room as a transfer would.
      let enters = 0;
      let inProgress = false;
      let alreadyPlanned = false;
      for (const b of blocks) {
        // Read the columns in place: no record per block replica.
        const i = dr ? dr.columns.indexOf(b.id) : -1;
        if (i >= 0) {
          const columns = dr!.columns;
          if (!columns.isCompleteAt(i)) inProgress = true;
          const owner = columns.groupIdAt(i);
          if (owner === NULL_GROUP_ID) {
            deleting.push(b);
            continue;
          }
          if (withFlips && owner !== group.id && !plan?.flips.has(b.id)) {
            flips.push(b.id);
            if (!snapshot.wouldBelong(partition!, b.id, siteId, owner)) enters += b.size;
          }
        } else if (plan?.blocks.has(b.id)) alreadyPlanned = true;
        else missing.push(b);
      }
      return {
        key,
        missing,
        flips,
        deleting,
        inProgress,
        alreadyPlanned,
        enters,
        bytes: missing.reduce((s, b) => s + b.size, 0),
      };
    };

    let siteId: number;
    let plan: ReturnType<typeof at>;
    if (p.destination !== null) {
      siteId = p.destination;
      if (!ledger.isTarget(siteId)) return reject("Not a target site", siteId);
      if (!snapshot.wouldBelong(partition!, blocks[0]!.id, siteId, group.id)) {
        return reject("Not in the partition", siteId);
      }
      plan = at(siteId, true);
      const conflict = conflictOf(dataset.name, plan.deleting, siteId);
      if (conflict !== null) return reject("Conflicting operation in flight", siteId, conflict);
      if (plan.missing.length === 0 && plan.flips.length === 0 && !plan.alreadyPlanned) {
        return reject(plan.inProgress ? "Copy in progress" : "Replica exists", siteId);
      }
      if (plan.bytes + plan.enters > 0 && !ledger.qualifies(siteId, plan.bytes + plan.enters)) {
        return reject("Destination is full", siteId);
      }
      if (!ledger.cycleAllows(plan.bytes)) return reject("Cycle volume limit reached", siteId);
    } else {
      const candidates: { siteId: number; plan: ReturnType<typeof at>; weight: number }[] = [];
      /** The first site passed over for a conflict, and why. */
      let conflicted: { siteId: number; reason: string } | null = null;
      for (const s of ledger.targets()) {
        const c = at(s, false);
        if (c.missing.length === 0) continue;
        const conflict = conflictOf(dataset.name, c.deleting, s);
        if (conflict !== null) {
          conflicted ??= { siteId: s, reason: conflict };
          continue;
        }
        if (!ledger.qualifies(s, c.bytes)) continue;
        if (!snapshot.wouldBelong(partition!, blocks[0]!.id, s, group.id)) continue;
        const free = Math.max(0, 1 - ledger.occupancyAfter(s, c.bytes));
        candidates.push({ siteId: s, plan: c, weight: free * clamp01(reliability(s)) });
      }
      if (candidates.length === 0) {
        return conflicted
          ? reject("Conflicting operation in flight", conflicted.siteId, conflicted.reason)
          : reject("No destination available");
      }
      const smallest = Math.min(...candidates.map((c) => c.plan.bytes));
      if (!ledger.cycleAllows(smallest)) return reject("Cycle volume limit reached");
      const affordable = candidates.filter((c) => ledger.cycleAllows(c.plan.bytes));
      let i = weightedChoice(affordable.map((c) => c.weight), rng);
      // Every candidate full to the byte (weight 0) but still admissible: draw uniformly.
      if (i < 0) i = Math.floor(rng.next() * affordable.length);
      siteId = affordable[i]!.siteId;
      plan = affordable[i]!.plan;
    }

    ledger.place(siteId, plan.bytes, plan.enters);
    let entry = planned.get(plan.key);
    if (!entry) {
      entry = {
        siteId,
        datasetId: dataset.id,
        blocks: new Set(),
        flips: new Set(),
        whole: false,
        proposals: [],
        groupIds: [],
        bytes: 0,
      };
      planned.set(plan.key, entry);
    }
    for (const b of plan.missing) entry.blocks.add(b.id);
    for (const id of plan.flips) entry.flips.add(id);
    entry.whole ||= p.blockIds === null;
    entry.proposals.push(p);
    entry.groupIds.push(group.id);
    entry.bytes += plan.bytes;
    return { proposal: p, accepted: true, reason: "", siteId, bytes: plan.bytes };
  }

  // Merge (step 7): the most urgent plugin's proposal gives the owner.
  const copies: DealerCopy[] = [...planned.values()].map((e) => {
    let best = 0;
    for (let i = 1; i < e.proposals.length; i++) {
      if (priorityOf.get(e.proposals[i]!.plugin)! < priorityOf.get(e.proposals[best]!.plugin)!) best = i;
    }
    return {
      siteId: e.siteId,
      datasetId: e.datasetId,
      newBlockIds: [...e.blocks].sort((a, b) => a - b),
      flipBlockIds: [...e.flips].filter((id) => !e.blocks.has(id)).sort((a, b) => a - b),
      whole: e.whole,
      groupId: e.groupIds[best]!,
      plugin: e.proposals[best]!.plugin,
      plugins: [...new Set(e.proposals.map((p) => p.plugin))],
      requestIds: [...new Set(e.proposals.flatMap((p) => (p.requestId === undefined ? [] : [p.requestId])))],
      bytes: e.bytes,
    };
  }).sort((a, b) =>
    snapshot.siteById(a.siteId)!.name.localeCompare(snapshot.siteById(b.siteId)!.name) ||
    a.datasetId - b.datasetId
  );

  return {
    partition: partition.name,
    targets,
    decisions,
    copies,
    placed: ledger.placed,
    totalBytes: ledger.total,
    rejections,
  };
}

/** Every file of the block exists somewhere: a complete replica, or partial ones that together hold all. */
export function sourcesCover(snapshot: Snapshot, block: Block): boolean {
  // Read the columns in place: no record per block replica.
  const partial: (readonly number[])[] = [];
  for (const dr of snapshot.replicasOf(block.datasetId)) {
    const i = dr.columns.indexOf(block.id);
    if (i < 0) continue;
    const fileIds = dr.columns.fileIdsAt(i);
    if (fileIds === null) return true;
    partial.push(fileIds);
  }
  if (block.numFiles === 0) return partial.length > 0;
  const files = new Set<number>();
  for (const ids of partial) for (const id of ids) files.add(id);
  return files.size >= block.numFiles;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1;
}
