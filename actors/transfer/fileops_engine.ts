/**
 * File operations (spec §5): turns the replica operations Detox, the Dealer
 * and requests recorded into per-file subscriptions, chooses sources, runs
 * the transfers and deletions on the sites' storage, and turns what finished
 * into inventory commands (the updater, §5.3). Decisions are the pure
 * functions of policies/fileops; the durable state is the FileOpsStore, so a
 * pass can stop anywhere (crash, kill -9) and the next one continues: a task
 * is claimed under a lease, and re-running a copy is harmless because a
 * verified file at the destination counts as done and writes go through a
 * temporary name.
 */
import type { FileOpsStore, PlanUpdate, Subscription } from "../../adapters/db/fileops_port.ts";
import {
  mappingProtocol,
  parentOf,
  sameAdler32,
  type SiteStorageResolver,
  type StorageAdapter,
} from "../../adapters/storage/storage_port.ts";
import { classifyFailure } from "../../policies/fileops/error_classes.ts";
import {
  chooseSource,
  retryDelaySeconds,
  type SourceCandidate,
} from "../../policies/fileops/source_selection.ts";
import { type InventoryCommand, mapLfn, type Site, type Snapshot } from "../../registry/inventory/mod.ts";

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
}

export const DEFAULT_FILEOPS_LIMITS: FileOpsLimits = {
  linkParallelism: 4,
  siteParallelism: 8,
  maxAttempts: 10,
  leaseMs: 10 * 60_000,
  stageCheckMs: 60_000,
};

export interface FileOpsDeps {
  store: FileOpsStore;
  storage: SiteStorageResolver;
  snapshot(): Snapshot;
  /** Applies updater commands (non-atomic: each stands alone); resolves when durable. */
  submit(commands: InventoryCommand[]): Promise<void>;
  nowMs(): number;
  random(): number;
  /** This process's worker id; tasks it claims carry it. */
  worker: string;
  limits?: Partial<FileOpsLimits>;
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
  inventory_commands: number;
}

export class FileOpsEngine {
  readonly limits: FileOpsLimits;
  readonly #siteSlots = new Map<string, number>();

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
      inventory_commands: 0,
    };
    summary.recovered = await this.deps.store.recoverTasks(this.deps.nowMs());
    summary.subscribed = await this.subscribe();
    const planned = await this.plan();
    summary.planned = planned.queued;
    summary.held = planned.held;
    await this.execute(summary);
    summary.inventory_commands = await this.reconcile();
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
      const site = snapshot.site(s.site);
      if (!site) {
        updates.push({ id: s.id, status: "cancelled" });
        continue;
      }
      if (site.status !== "ready") {
        if (s.status !== "held") updates.push({ id: s.id, status: "held", reason: "site_unavailable" });
        held++;
        continue;
      }
      if (s.kind === "deletion") {
        updates.push({ id: s.id, status: "inbatch", source: null });
        queued++;
        continue;
      }
      const dataset = snapshot.dataset(s.dataset);
      const block = dataset ? snapshot.block(dataset.id, s.block) : undefined;
      const dr = dataset ? snapshot.replica(dataset.id, site.id) : undefined;
      const br = dr && block ? snapshot.blockReplica(dr, block.id) : undefined;
      const fileId = fileIds.get(s.lfn);
      if (!br || fileId === undefined) {
        updates.push({ id: s.id, status: "cancelled" }); // the destination replica or the file went away
        continue;
      }
      if (br.fileIds === null || br.fileIds.includes(fileId)) {
        updates.push({ id: s.id, status: "done" });
        continue;
      }
      const candidates: SourceCandidate[] = [];
      for (const other of snapshot.blockReplicasOf(block!)) {
        const source = snapshot.siteById(other.siteId)!;
        if (source.id === site.id || source.status !== "ready") continue;
        if (other.fileIds !== null && !other.fileIds.includes(fileId)) continue;
        candidates.push({ site: source.name, tape: source.storageType === "mss" });
      }
      const choice = s.attempts >= this.limits.maxAttempts
        ? { kind: "held" as const, reason: "all_failed" as const }
        : chooseSource(
          candidates,
          failures.filter((f) => f.source !== null).map((f) => ({
            source: f.source!,
            recoverable: f.recoverable,
            order: f.seq,
          })),
          this.deps.random,
        );
      if (choice.kind === "held") {
        if (s.status !== "held" || s.holdReason !== choice.reason) {
          updates.push({ id: s.id, status: "held", reason: choice.reason });
        }
        held++;
      } else {
        updates.push({ id: s.id, status: "inbatch", source: choice.site });
        queued++;
      }
    }
    await this.deps.store.applyPlan(updates, this.deps.nowMs());
    return { queued, held };
  }

  /** Runs claimable tasks, link by link and site by site, until none is left (staging ones wait). */
  async execute(summary: FileOpsPassSummary): Promise<void> {
    for (;;) {
      const work = await this.deps.store.claimableWork(this.deps.nowMs());
      if (work.links.length === 0 && work.deletionSites.length === 0) return;
      const before = summary.transfers_done + summary.transfers_failed + summary.deletions_done +
        summary.deletions_failed + summary.staging;
      await Promise.all([
        ...work.links.map((l) => this.#drain("copy", { source: l.source, site: l.site }, summary)),
        ...work.deletionSites.map((d) => this.#drain("deletion", { site: d.site }, summary)),
      ]);
      const after = summary.transfers_done + summary.transfers_failed + summary.deletions_done +
        summary.deletions_failed + summary.staging;
      if (after === before) return; // another process holds what is left
    }
  }

  /** One link (or deletion site): `linkParallelism` lanes claiming one task at a time. */
  async #drain(
    kind: "copy" | "deletion",
    filter: { site: string; source?: string },
    summary: FileOpsPassSummary,
  ) {
    const lane = async () => {
      for (;;) {
        const sites = [filter.site, ...(filter.source ? [filter.source] : [])];
        const granted = sites.map((s) => this.#acquire(s));
        if (!granted.every((g) => g)) {
          for (const s of sites) this.#release(s);
          return;
        }
        try {
          const [task] = await this.deps.store.claim(
            kind,
            filter,
            this.deps.worker,
            1,
            this.deps.nowMs(),
            this.limits.leaseMs,
          );
          if (!task) return;
          const result = kind === "copy" ? await this.#copy(task) : await this.#delete(task);
          if (result === "staging") summary.staging++;
          else if (kind === "copy") result ? summary.transfers_done++ : summary.transfers_failed++;
          else result ? summary.deletions_done++ : summary.deletions_failed++;
        } finally {
          for (const s of sites) this.#release(s);
        }
      }
    };
    await Promise.all(Array.from({ length: this.limits.linkParallelism }, lane));
  }

  #acquire(site: string): boolean {
    const used = this.#siteSlots.get(site) ?? 0;
    this.#siteSlots.set(site, used + 1);
    return used < this.limits.siteParallelism;
  }

  #release(site: string): void {
    this.#siteSlots.set(site, (this.#siteSlots.get(site) ?? 1) - 1);
  }

  async #copy(task: Subscription): Promise<boolean | "staging"> {
    const started = this.deps.nowMs();
    try {
      const snapshot = this.deps.snapshot();
      const [source, destination] = [
        this.#readySite(snapshot, task.source!),
        this.#readySite(snapshot, task.site),
      ];
      const [from, to] = await Promise.all([this.#adapter(source), this.#adapter(destination)]);
      const fromPath = mapLfn(source, task.lfn, mappingProtocol(from));
      const toPath = mapLfn(destination, task.lfn, mappingProtocol(to));
      if (from.capabilities.stage && !(await from.isStaged!(fromPath))) {
        await from.stage!(fromPath);
        await this.deps.store.markStaging(
          task.id,
          this.deps.worker,
          this.deps.nowMs() + this.limits.stageCheckMs,
          this.deps.nowMs(),
        );
        return "staging";
      }
      const expect = { size: task.size, ...(task.adler32 ? { adler32: task.adler32 } : {}) };
      if (!(await this.#alreadyThere(to, toPath, expect))) {
        await to.copyFrom(from, fromPath, toPath, expect);
      }
      await this.deps.store.finish(task, this.deps.worker, {
        ok: true,
        startedMs: started,
        finishedMs: this.deps.nowMs(),
      });
      return true;
    } catch (e) {
      await this.#fail(task, e, started);
      return false;
    }
  }

  async #delete(task: Subscription): Promise<boolean> {
    const started = this.deps.nowMs();
    try {
      const site = this.#readySite(this.deps.snapshot(), task.site);
      const storage = await this.#adapter(site);
      const path = mapLfn(site, task.lfn, mappingProtocol(storage));
      await storage.delete(path); // a file already gone counts as deleted (spec §5.2)
      await storage.rmdir(parentOf(path)).catch(() => {}); // empty directories go with their last file
      await this.deps.store.finish(task, this.deps.worker, {
        ok: true,
        startedMs: started,
        finishedMs: this.deps.nowMs(),
      });
      return true;
    } catch (e) {
      await this.#fail(task, e, started);
      return false;
    }
  }

  /** A re-run after a crash finds the verified file in place: EEXIST is success (spec §5.2). */
  async #alreadyThere(to: StorageAdapter, path: string, expect: { size: number; adler32?: string }) {
    const stat = await to.stat(path);
    if (!stat || stat.isDirectory || stat.size !== expect.size) return false;
    return expect.adler32 === undefined || sameAdler32(await to.checksum(path), expect.adler32);
  }

  #readySite(snapshot: Snapshot, name: string): Site {
    const site = snapshot.site(name);
    if (!site) throw Object.assign(new Error(`site ${name} is not in the inventory`), { code: "EINVAL" });
    if (site.status !== "ready") {
      throw Object.assign(new Error(`site ${name} is ${site.status}`), { code: "ECONNREFUSED" });
    }
    return site;
  }

  #adapter(site: Site): Promise<StorageAdapter> {
    return this.deps.storage.adapter({
      name: site.name,
      backend: site.backend,
      storageType: site.storageType,
    });
  }

  async #fail(task: Subscription, e: unknown, started: number): Promise<void> {
    const code = typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : null;
    const message = e instanceof Error ? e.message : String(e);
    const failure = classifyFailure(code, message);
    const now = this.deps.nowMs();
    await this.deps.store.finish(task, this.deps.worker, {
      ok: false,
      code: failure.name,
      exitCode: failure.exitCode,
      recoverable: failure.recoverable,
      message,
      startedMs: started,
      finishedMs: now,
      retryAtMs: task.attempts + 1 >= this.limits.maxAttempts
        ? null
        : now + retryDelaySeconds(task.attempts + 1) * 1000,
    });
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
      const groups = new Map<string, Subscription[]>();
      for (const s of done) {
        if (s.status === "cancelled") continue;
        const key = JSON.stringify([s.kind, s.site, s.dataset, s.block]);
        groups.set(key, [...(groups.get(key) ?? []), s]);
      }
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
