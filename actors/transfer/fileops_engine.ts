/**
 * File operations (spec §5): turns the replica operations Detox, the Dealer
 * and requests recorded into per-file subscriptions, chooses sources, runs
 * the transfers and deletions on the sites' storage, and turns what finished
 * into inventory commands (the updater, §5.3). Decisions are the pure
 * functions of policies/fileops (plan.ts: what becomes of a subscription, and
 * the retry rule); the durable state is the FileOpsStore, so a
 * pass can stop anywhere (crash, kill -9) and the next one continues: a task
 * is claimed under a lease, and re-running a copy is harmless because a
 * verified file at the destination counts as done and writes go through a
 * temporary name.
 */
import type { FileOpsStore, PlanUpdate } from "../../adapters/db/fileops_store_port.ts";
import { planSubscription } from "../../policies/fileops/plan.ts";
import type { DrainReply } from "./file_worker.ts";
import type { Rng } from "../runtime/clock.ts";
import { type InventoryCommand, NULL_GROUP_ID, type Snapshot } from "../../registry/inventory/mod.ts";

export interface FileOpsLimits {
  /** Concurrent transfers on one link (source → destination). */
  linkParallelism: number;
  /** Concurrent transfers and deletions touching one site. */
  siteParallelism: number;
  /** Failed attempts before a file is held as all_failed. */
  maxAttempts: number;
  /** A claimed task not finished (or renewed) within this is given back. */
  leaseMs: number;
  /** How often a tape source is asked again whether a staged file is online. */
  stageCheckMs: number;
  /** Deletions a deletion actor claims at once. */
  deletionBatch: number;
}

export const DEFAULT_FILEOPS_LIMITS: FileOpsLimits = {
  linkParallelism: 4,
  siteParallelism: 8,
  maxAttempts: 10,
  leaseMs: 10 * 60_000,
  stageCheckMs: 60_000,
  deletionBatch: 50,
};

/** Who runs the tasks: the per-link transfer actors and per-site deletion actors. */
export interface FileOpsExecutor {
  drainLink(source: string, destination: string): Promise<DrainReply>;
  drainDeletions(site: string): Promise<DrainReply>;
}

export interface FileOpsDeps {
  store: FileOpsStore;
  executor: FileOpsExecutor;
  snapshot(): Snapshot;
  /** Applies updater commands (non-atomic: each stands alone); resolves when durable. */
  submit(commands: InventoryCommand[]): Promise<void>;
  nowMs(): number;
  /** Which of several untried sources a copy takes (seeded, a run is reproducible). */
  rng: Rng;
  limits?: Partial<FileOpsLimits>;
  /**
   * A cluster follower (docs/cluster.md): passes only run the transfer and deletion workers on
   * tasks claimed from the database; subscribing, planning and the updater are the leader's.
   */
  workersOnly?: boolean;
}

export interface FileOpsPassSummary {
  subscribed: number;
  recovered: number;
  planned: number;
  held: number;
  transfers_done: number;
  transfers_failed: number;
  staging: number;
  deletions_done: number;
  deletions_failed: number;
  /** Transfer or deletion actors that crashed (and were restarted) during the pass. */
  worker_crashes: number;
  inventory_commands: number;
  /** Files an incomplete replica lacked with nothing moving them, subscribed again. */
  resubscribed: number;
}

export class FileOpsEngine {
  readonly limits: FileOpsLimits;

  constructor(private readonly deps: FileOpsDeps) {
    this.limits = { ...DEFAULT_FILEOPS_LIMITS, ...deps.limits };
  }

  /** One complete pass: recover, subscribe, plan, execute until no task is claimable, reconcile. */
  async pass(): Promise<FileOpsPassSummary> {
    const summary: FileOpsPassSummary = {
      subscribed: 0,
      recovered: 0,
      planned: 0,
      held: 0,
      transfers_done: 0,
      transfers_failed: 0,
      staging: 0,
      deletions_done: 0,
      deletions_failed: 0,
      worker_crashes: 0,
      inventory_commands: 0,
      resubscribed: 0,
    };
    summary.recovered = await this.deps.store.recoverTasks(this.deps.nowMs());
    if (this.deps.workersOnly) {
      await this.execute(summary);
      return summary;
    }
    summary.subscribed = await this.subscribe();
    const planned = await this.plan();
    summary.planned = planned.queued;
    summary.held = planned.held;
    await this.execute(summary);
    summary.inventory_commands = await this.reconcile();
    summary.resubscribed = await this.resubscribeLost();
    await this.deps.store.settleOperations(this.deps.nowMs());
    return summary;
  }

  /** Replica operations → file subscriptions (spec §5.1). */
  async subscribe(): Promise<number> {
    let total = 0;
    const emptied: InventoryCommand[] = [];
    for (;;) {
      const ops = await this.deps.store.pendingOperations(200);
      if (ops.length === 0) return total;
      const snapshot = this.deps.snapshot();
      for (const op of ops) {
        const dataset = snapshot.dataset(op.dataset);
        const site = snapshot.site(op.site);
        const dr = dataset && site ? snapshot.replica(dataset.id, site.id) : undefined;
        const blocks = dataset
          ? (op.blocks ?? snapshot.blocksOf(dataset).map((b) => b.name))
            .map((name) => snapshot.block(dataset.id, name))
            .filter((b) => b !== undefined)
          : [];
        const files = dr && blocks.length > 0
          ? await this.deps.store.blockFiles(op.dataset, blocks.map((b) => b.name))
          : new Map();
        const subs = [];
        for (const block of blocks) {
          const br = snapshot.blockReplica(dr!, block.id);
          if (!br) continue;
          if (op.kind === "deletion" && br.fileIds !== null && br.fileIds.length === 0) {
            emptied.push({
              op: "block_replica.delete",
              dataset: op.dataset,
              block: block.name,
              site: op.site,
            });
          }
          const present = br.fileIds === null ? null : new Set(br.fileIds);
          for (const f of files.get(block.name) ?? []) {
            const here = present === null || present.has(f.id);
            if (op.kind === "copy" ? here : !here) continue;
            subs.push({
              lfn: f.lfn,
              dataset: op.dataset,
              block: block.name,
              size: f.size,
              adler32: f.adler32,
            });
          }
        }
        total += await this.deps.store.subscribe(op, subs, this.deps.nowMs());
      }
      // Replicas being deleted that never received a file have nothing to wait for.
      if (emptied.length > 0) await this.deps.submit(emptied.splice(0));
    }
  }

  /** Sources, holds and cancellations for the subscriptions due now (spec §5.2 steps 4–7). */
  async plan(): Promise<{ queued: number; held: number }> {
    let queued = 0;
    let held = 0;
    const snapshot = this.deps.snapshot();
    const rows = await this.deps.store.plannable(this.deps.nowMs(), 100_000);
    const fileIds = new Map<string, number>();
    const byDataset = new Map<string, Set<string>>();
    for (const { subscription: s } of rows) {
      if (s.kind === "copy") byDataset.set(s.dataset, (byDataset.get(s.dataset) ?? new Set()).add(s.block));
    }
    for (const [dataset, blocks] of byDataset) {
      for (const list of (await this.deps.store.blockFiles(dataset, [...blocks])).values()) {
        for (const f of list) fileIds.set(f.lfn, f.id);
      }
    }
    const updates: PlanUpdate[] = [];
    for (const { subscription: s, failures } of rows) {
      const decision = planSubscription({
        snapshot,
        subscription: s,
        failures,
        fileId: s.kind === "copy" ? fileIds.get(s.lfn) : undefined,
        maxAttempts: this.limits.maxAttempts,
        random: () => this.deps.rng.next(),
      });
      switch (decision.kind) {
        case "cancel":
          updates.push({ id: s.id, status: "cancelled" });
          break;
        case "done":
          updates.push({ id: s.id, status: "done" });
          break;
        case "held":
          if (decision.changed) updates.push({ id: s.id, status: "held", reason: decision.reason });
          held++;
          break;
        case "queue":
          updates.push({ id: s.id, status: "inbatch", source: decision.source });
          queued++;
          break;
      }
    }
    await this.deps.store.applyPlan(updates, this.deps.nowMs());
    return { queued, held };
  }

  /**
   * Runs claimable tasks until none is left (staging ones wait): every link
   * and deletion site with work drains at once, through the executor (the
   * link and deletion actors); again while a round made progress.
   */
  async execute(summary: FileOpsPassSummary): Promise<void> {
    for (;;) {
      const work = await this.deps.store.claimableWork(this.deps.nowMs());
      if (work.links.length === 0 && work.deletionSites.length === 0) return;
      const replies = await Promise.all([
        ...work.links.map(async (l) =>
          ["copy", await this.deps.executor.drainLink(l.source, l.site)] as const
        ),
        ...work.deletionSites.map(async (d) =>
          ["deletion", await this.deps.executor.drainDeletions(d.site)] as const
        ),
      ]);
      let progress = 0;
      for (const [kind, reply] of replies) {
        if ("error" in reply) {
          // The restarted worker gives its tasks back; the next pass plans and re-runs them
          // (not this one: a worker that crashes on every task must not spin here).
          summary.worker_crashes++;
          continue;
        }
        progress += reply.done + reply.failed + reply.staging;
        summary.staging += reply.staging;
        if (kind === "copy") {
          summary.transfers_done += reply.done;
          summary.transfers_failed += reply.failed;
        } else {
          summary.deletions_done += reply.done;
          summary.deletions_failed += reply.failed;
        }
      }
      if (progress === 0) return; // another process holds what is left, the sites refuse, or a worker crashed
    }
  }

  /**
   * Updater step 3 (spec §5.3): an incomplete block replica that is not being
   * deleted (not owned by the null group) and whose missing files nothing is
   * copying (their subscriptions were lost, or the replica was injected
   * partial) gets them subscribed again; the next pass plans them. At most
   * `limit` block replicas a pass, so a large backlog is worked off in steps.
   */
  async resubscribeLost(limit = 2000): Promise<number> {
    const snapshot = this.deps.snapshot();
    const wanted = new Map<string, { site: string; block: string; present: Set<number> }[]>();
    let found = 0;
    scan: for (const site of snapshot.sites()) {
      if (site.status !== "ready") continue;
      for (const dr of snapshot.replicasAt(site.id)) {
        for (const br of dr.blockReplicas) {
          if (br.fileIds === null || br.groupId === NULL_GROUP_ID) continue;
          const block = snapshot.blockById(br.blockId)!;
          if (br.fileIds.length >= block.numFiles) continue;
          const dataset = snapshot.datasetById(dr.datasetId)!.name;
          wanted.set(dataset, [
            ...(wanted.get(dataset) ?? []),
            { site: site.name, block: block.name, present: new Set(br.fileIds) },
          ]);
          if (++found >= limit) break scan;
        }
      }
    }
    const files = [];
    for (const [dataset, replicas] of wanted) {
      const byBlock = await this.deps.store.blockFiles(dataset, [...new Set(replicas.map((r) => r.block))]);
      for (const r of replicas) {
        for (const f of byBlock.get(r.block) ?? []) {
          if (r.present.has(f.id)) continue;
          files.push({ site: r.site, lfn: f.lfn, dataset, block: r.block, size: f.size, adler32: f.adler32 });
        }
      }
    }
    // A finished subscription here is one whose file the updater has not recorded yet: not copied again.
    return await this.deps.store.subscribeCopies(files, { nowMs: this.deps.nowMs(), renewFinished: false });
  }

  /**
   * The updater (spec §5.3): done copies grow their block replicas (complete
   * when every file is there); a block replica being deleted leaves the
   * inventory once none of its deletions is pending.
   */
  async reconcile(): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.deps.store.doneSubscriptions(10_000);
      if (done.length === 0) return total;
      const snapshot = this.deps.snapshot();
      const open = await this.deps.store.openDeletionBlocks();
      const groups = Map.groupBy(
        done.filter((s) => s.status !== "cancelled"),
        (s) => JSON.stringify([s.kind, s.site, s.dataset, s.block]),
      );
      const commands: InventoryCommand[] = [];
      for (const [key, subs] of groups) {
        const [kind, siteName, datasetName, blockName] = JSON.parse(key) as string[];
        const dataset = snapshot.dataset(datasetName!);
        const site = snapshot.site(siteName!);
        const block = dataset ? snapshot.block(dataset.id, blockName!) : undefined;
        const dr = dataset && site ? snapshot.replica(dataset.id, site.id) : undefined;
        const br = dr && block ? snapshot.blockReplica(dr, block.id) : undefined;
        if (!br) continue;
        if (kind === "copy") {
          if (br.fileIds === null) continue;
          commands.push({
            op: "block_replica.upsert",
            dataset: datasetName!,
            block: blockName!,
            site: siteName!,
            files: subs.map((s) => s.lfn),
          });
        } else if (!open.has(JSON.stringify([siteName, datasetName, blockName]))) {
          commands.push({
            op: "block_replica.delete",
            dataset: datasetName!,
            block: blockName!,
            site: siteName!,
          });
        }
      }
      if (commands.length > 0) await this.deps.submit(commands);
      await this.deps.store.removeSubscriptions(done.map((s) => s.id));
      total += commands.length;
    }
  }
}
