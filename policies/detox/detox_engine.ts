/**
 * The Detox algorithm of spec §3.2, as a pure function of (image, policy,
 * options). Every replica is evaluated top-down against the policy stack;
 * Dismiss candidates at triggered sites are deleted one site at a time (the
 * site with the most protected data first), at most `deletionPerIteration` of
 * its quota per iteration, until its `Until` condition holds; then everything
 * a deletion can have changed is evaluated again. "Last copy" protection is
 * what that re-evaluation yields (§3.3).
 *
 * Re-evaluation is incremental: a replica's result depends only on its own
 * block replicas and on the other replicas of its dataset, so only replicas
 * of datasets that lost (or changed owners of) block replicas are evaluated
 * again, in the same order a full re-evaluation would use; for the same reason
 * a candidate's Order keys are computed once and kept until a deletion touches
 * its dataset. `incremental: false` re-evaluates everything, computes every
 * key at every sort, and gives the same decisions (tested).
 *
 * Long on purpose (~550 lines): the iteration, the incremental re-evaluation and the
 * per-site deletion order are one algorithm whose invariants (§3.3) hold only together.
 */
import { type CycleBudget, runPaced, runStraight } from "../cycle_budget.ts";
import type { DetoxPolicy, PolicyLine } from "./detox_policy.ts";
import { type ImageReplica, type ImageSite, PartitionImage } from "./partition_image.ts";

export interface DetoxOptions {
  /** Fraction of a site's quota deleted per iteration (default 0.01). */
  deletionPerIteration?: number;
  /** Re-evaluate only replicas a deletion can affect (default true). */
  incremental?: boolean;
  /**
   * Why deleting this block replica now would conflict with an operation in flight (e.g. it is the
   * only source of a copy), or null. `alongside`: the other sites this run already deletes the block
   * at. A block replica it names is kept, with the reason, like a protected one (issue 15).
   */
  holdBack?: HoldBack;
}

/** See `DetoxOptions.holdBack`. */
export type HoldBack = (
  q: { siteId: number; blockId: number; alongside: readonly number[] },
) => string | null;

/** A block replica the run chose to delete but kept because deleting it would conflict. */
export interface HeldBack {
  readonly siteId: number;
  readonly datasetId: number;
  readonly blockId: number;
  readonly size: number;
  readonly reason: string;
}

export type DecisionKind = "delete" | "keep" | "protect";

/** What happened to (some of) the block replicas of one dataset replica, and which line decided it. */
export interface ReplicaDecision {
  readonly siteId: number;
  readonly datasetId: number;
  readonly decision: DecisionKind;
  /** Line number of the policy line; the default decision's line for the default. */
  readonly line: number;
  readonly size: number;
  /** Block ids concerned, ascending. */
  readonly blockIds: readonly number[];
  /** Why a "keep" is not the deletion its line chose (the block replicas were held back). */
  readonly reason?: string;
}

export interface SiteOutcome {
  readonly siteId: number;
  readonly quota: number;
  readonly usedBefore: number;
  readonly usedAfter: number;
  readonly triggered: boolean;
  /** Still above its Until condition with nothing left to delete. */
  readonly stillTriggered: boolean;
  readonly protectedBytes: number;
  readonly deletedBytes: number;
  readonly keptBytes: number;
}

export interface Reassignment {
  readonly siteId: number;
  readonly datasetId: number;
  readonly blockIds: readonly number[];
  readonly groupId: number;
}

export interface DetoxResult {
  readonly decisions: readonly ReplicaDecision[];
  /** Block replicas to delete, per (site, dataset): what is committed. */
  readonly deletions: readonly {
    siteId: number;
    datasetId: number;
    blockIds: readonly number[];
    size: number;
  }[];
  /** Block replicas handed over to the dataset-level owner instead of being deleted (§3.6). */
  readonly reassignments: readonly Reassignment[];
  readonly sites: readonly SiteOutcome[];
  readonly iterations: number;
  readonly evaluations: number;
  /** Policy lines that matched nothing (worth a warning). */
  readonly unmatchedLines: readonly number[];
  /** Block replicas kept because deleting them would conflict (also in `decisions` as "keep"). */
  readonly heldBack: readonly HeldBack[];
}

/**
 * Block replicas are rows of their image replica's columns (`ImageReplica.rows`): the run keeps
 * numbers, never an object per block replica.
 */
type Rows = readonly number[];

type Action =
  | { kind: "ProtectBlock" | "DeleteBlock" | "DismissBlock"; line: number; blocks: Rows }
  | { kind: "Protect" | "Delete" | "Dismiss" | "Ignore"; line: number };

interface Entry {
  line: number;
  blocks: Rows;
}

/** The rows one policy line protected at one replica. */
interface Protected {
  line: number;
  rows: Rows;
}

/** A block replica kept because deleting it would conflict, with the line that chose it. */
interface Held {
  r: ImageReplica;
  row: number;
  line: number;
  reason: string;
}

export function runDetox(
  image: PartitionImage,
  policy: DetoxPolicy,
  options: DetoxOptions = {},
): DetoxResult {
  return runStraight(new DetoxRun(image, policy, options).steps());
}

/**
 * The same run, stopping at the budget's checkpoints (every few hundred
 * evaluations): other work runs meanwhile, and past the budget the run throws
 * `CycleBudgetExceeded`. Same decisions as `runDetox`.
 */
export function runDetoxPaced(
  image: PartitionImage,
  policy: DetoxPolicy,
  options: DetoxOptions,
  budget: CycleBudget,
): Promise<DetoxResult> {
  return runPaced(new DetoxRun(image, policy, options).steps(), budget);
}

/** Evaluations between two checkpoints of a paced run. */
const EVALUATIONS_PER_CHECKPOINT = 256;

/** One evaluation of the whole stack over every replica: the lower bound of a cycle (benchmarks). */
export function evaluateOnce(image: PartitionImage, policy: DetoxPolicy): number {
  const run = new DetoxRun(image, policy, {});
  for (const site of image.sites) {
    run.candidatesAt.set(site, new Set());
    run.protectedBytes.set(site, 0);
  }
  runStraight(run.pass(true));
  return run.evaluations;
}

class DetoxRun {
  readonly dpi: number;
  readonly incremental: boolean;
  readonly matched = new Set<number>();
  // Per-replica bookkeeping sits in arrays indexed by `ImageReplica.index`, not in maps keyed by
  // replica: with a million replicas, hashing into maps that large missed the cache at every step.
  // The result goes through them in index order; its lists are sorted, so the order is the same.
  /**
   * Protected rows per policy line, per replica: lines in the order they first protected, rows in
   * the order protected, each once. Lists, not a map of sets: most replicas are protected, once.
   */
  readonly protectedRows: (Protected[] | undefined)[];
  readonly protectedBytes = new Map<ImageSite, number>();
  /** Deleted rows per policy line, per replica. */
  readonly deleted: (Map<number, Set<number>> | undefined)[];
  /** Rows handed over to another owner, per replica (the replica's `owners`, in the order of the run). */
  readonly reowned = new Map<ImageReplica, Map<number, number>>();
  /** Latest Dismiss entries of each live replica. */
  readonly dismiss: (Entry[] | undefined)[];
  readonly candidatesAt = new Map<ImageSite, Set<ImageReplica>>();
  /** Replicas out of the run (protected, ignored or gone): 1 by index. */
  readonly dropped: Uint8Array;
  readonly usedBefore = new Map<ImageSite, number>();
  readonly triggeredAtStart = new Set<ImageSite>();
  readonly holdBack: HoldBack | null;
  /** Block replicas kept because deleting them would conflict, by `heldKey`, in the order held. */
  readonly held = new Map<string, Held>();
  /** The sites this run deletes each block at (block id to site ids). */
  readonly deletedAt = new Map<number, number[]>();
  /** Order key values of candidates (see `orderKey`). */
  readonly orderKeys = new Map<ImageReplica, number[]>();
  evaluations = 0;
  iterations = 0;
  /** Incremental bookkeeping for the current pass. */
  dirty = new Set<ImageReplica>();
  heap = new IndexHeap();
  position = -1;
  /** The pass goes through every replica in index order (no heap). */
  sequential = false;

  constructor(readonly image: PartitionImage, readonly policy: DetoxPolicy, options: DetoxOptions) {
    this.dpi = options.deletionPerIteration ?? 0.01;
    this.incremental = options.incremental ?? true;
    this.holdBack = options.holdBack ?? null;
    const n = image.replicas.length;
    this.protectedRows = slots(n);
    this.deleted = slots(n);
    this.dismiss = slots(n);
    this.dropped = new Uint8Array(n);
  }

  *steps(): Generator<string, DetoxResult> {
    for (const site of this.image.sites) {
      site.triggered = this.policy.triggers.some((c) => c.match(site));
      if (site.triggered) this.triggeredAtStart.add(site);
      this.usedBefore.set(site, site.used);
      this.protectedBytes.set(site, 0);
      this.candidatesAt.set(site, new Set());
    }
    let first = true;
    for (;;) {
      this.iterations += 1;
      yield* this.pass(first);
      first = false;
      yield "deletion";
      const sites = this.image.sites.filter((s) => s.triggered && this.candidatesAt.get(s)!.size > 0);
      if (sites.length === 0) break;
      if (this.policy.iterative) this.deleteAtOneSite(sites);
      else this.deleteEverywhere(sites);
    }
    return this.result();
  }

  // ---- evaluation ---------------------------------------------------------------

  /** One evaluation pass in index order: everything, or only what changed. */
  *pass(first: boolean): Generator<string, void> {
    const live = (r: ImageReplica) => !r.removed && this.dropped[r.index] === 0;
    if (first || !this.incremental) {
      // Everything, in index order: the replicas are already in that order, and a
      // replica touched ahead of the position is evaluated when the pass reaches it.
      this.dirty.clear();
      this.sequential = true;
      for (const r of this.image.replicas) {
        if (!live(r)) continue;
        this.position = r.index;
        this.process(r, this.evaluate(r));
        if (this.evaluations % EVALUATIONS_PER_CHECKPOINT === 0) yield "evaluation";
      }
      this.sequential = false;
      this.position = -1;
      return;
    }
    for (const r of this.dirty) if (live(r)) this.heap.push(r);
    this.dirty.clear();
    for (let r = this.heap.pop(); r; r = this.heap.pop()) {
      if (!live(r)) continue;
      this.position = r.index;
      this.process(r, this.evaluate(r));
      if (this.evaluations % EVALUATIONS_PER_CHECKPOINT === 0) yield "evaluation";
    }
    this.position = -1;
  }

  /** The policy stack top-down (spec §3.2 step 1); block-level matches hide their blocks from later lines. */
  evaluate(r: ImageReplica): Action[] {
    this.evaluations += 1;
    const actions: Action[] = [];
    // Created when a block-level line first hides blocks (most replicas never need it).
    let hidden: Set<number> | null = null;
    r.hidden = null;
    try {
      for (const line of this.policy.lines) {
        if (!line.condition.match(r)) continue;
        this.matched.add(line.line);
        if (isBlockLine(line)) {
          // The visible block replicas through one cursor (no view per block replica).
          const matching: number[] = [];
          let visible = 0;
          r.someVisible((b) => {
            visible += 1;
            if (line.condition.match(b)) matching.push(b.row);
            return false;
          });
          if (matching.length === visible) {
            actions.push({ kind: datasetLevel(line.action), line: line.line });
            return actions;
          }
          actions.push({
            kind: line.action as "ProtectBlock" | "DeleteBlock" | "DismissBlock",
            line: line.line,
            blocks: matching,
          });
          if (hidden === null) r.hidden = hidden = new Set();
          for (const row of matching) hidden.add(row);
          continue;
        }
        actions.push({ kind: line.action as "Protect" | "Delete" | "Dismiss" | "Ignore", line: line.line });
        return actions;
      }
      actions.push({ kind: this.policy.defaultAction, line: this.policy.defaultLine });
      return actions;
    } finally {
      r.hidden = null;
      // The views the conditions made die with the evaluation.
      this.image.releaseViews();
    }
  }

  /** Applies one replica's actions (main loop body of spec §3.2). */
  process(r: ImageReplica, actions: Action[]): void {
    // The rows no block-level line took, in their order (r.rows is replaced, never edited, on unlink).
    const initial = r.rows;
    let taken: Set<number> | null = null;
    const take = (rows: Rows) => {
      taken ??= new Set();
      for (const row of rows) taken.add(row);
    };
    // Lists of rows are never edited (type `Rows`): the replica's own list is passed when nothing was taken.
    const remaining = () => (taken === null ? initial : initial.filter((row) => !taken!.has(row)));
    const dismiss: Entry[] = [];
    let drop = false;
    for (const a of actions) {
      switch (a.kind) {
        case "ProtectBlock":
          this.protect(r, a.line, a.blocks);
          take(a.blocks);
          break;
        case "DeleteBlock":
          take(this.delete(r, a.line, a.blocks));
          break;
        case "DismissBlock":
          if (a.blocks.length > 0) dismiss.push({ line: a.line, blocks: a.blocks });
          take(a.blocks);
          break;
        case "Ignore":
          drop = true;
          break;
        case "Protect":
          this.protect(r, a.line, remaining());
          drop = true;
          break;
        case "Delete":
          this.delete(r, a.line, remaining());
          break;
        case "Dismiss": {
          const rest = remaining();
          if (rest.length > 0) dismiss.push({ line: a.line, blocks: rest });
          break;
        }
      }
    }
    if (drop || r.removed) {
      this.dropped[r.index] = 1;
      this.setDismiss(r, []);
    } else {
      this.setDismiss(r, dismiss);
    }
  }

  setDismiss(r: ImageReplica, entries: Entry[]): void {
    if (this.held.size > 0) {
      // A held-back block replica stays, as a protected one does: it is no candidate any more.
      entries = entries.map((e) => ({
        line: e.line,
        blocks: e.blocks.filter((row) => !this.held.has(heldKey(r, row))),
      })).filter((e) => e.blocks.length > 0);
    }
    // The site's candidate set changes only when the replica comes or goes (its order is kept).
    const was = this.dismiss[r.index] !== undefined;
    if (entries.length === 0) {
      if (!was) return;
      this.dismiss[r.index] = undefined;
      this.candidatesAt.get(r.imageSite)!.delete(r);
    } else {
      this.dismiss[r.index] = entries;
      if (!was) this.candidatesAt.get(r.imageSite)!.add(r);
    }
  }

  /** Protects rows (distinct, as every caller's are: they come from one replica's `rows`; kept, not copied). */
  protect(r: ImageReplica, line: number, rows: Rows): void {
    let lines = this.protectedRows[r.index];
    if (lines === undefined) this.protectedRows[r.index] = lines = [];
    const entry = lines.find((e) => e.line === line);
    let added = 0;
    if (entry === undefined) {
      lines.push({ line, rows });
      const total = wholeSize(r, rows);
      if (!Number.isNaN(total)) added = total;
      else for (const row of rows) added += r.sizeAt(row);
    } else {
      // Protected again (a re-evaluation): only the rows not yet protected by this line count.
      const have = new Set(entry.rows);
      const more: number[] = [];
      for (const row of rows) {
        if (have.has(row)) continue;
        have.add(row);
        more.push(row);
        added += r.sizeAt(row);
      }
      if (more.length > 0) entry.rows = [...entry.rows, ...more];
    }
    this.protectedBytes.set(r.imageSite, this.protectedBytes.get(r.imageSite)! + added);
  }

  /**
   * Deletes block replicas from the image, handing over to the dataset-level
   * owner what a Block-level owner holds in a dataset owned at Dataset level
   * (spec §3.6). Returns the block replicas that left the image.
   */
  delete(r: ImageReplica, line: number, rows: Rows): Rows {
    if (this.holdBack !== null) rows = this.withoutHeld(r, line, rows);
    if (rows.length === 0) return [];
    const unlinked: number[] = [];
    const handedOver: number[] = [];
    if (rows.length === r.rows.length) {
      unlinked.push(...rows);
    } else {
      const ownerRow = this.datasetLevelOwnerRow(r);
      if (ownerRow === undefined) {
        unlinked.push(...rows);
      } else {
        const ownerId = r.groupIdAt(ownerRow);
        for (const row of rows) {
          if (this.image.group(r.groupIdAt(row)).olevel === "Dataset") {
            unlinked.push(row);
            continue;
          }
          r.setOwner(row, ownerId);
          handedOver.push(row);
          let reowned = this.reowned.get(r);
          if (!reowned) this.reowned.set(r, reowned = new Map());
          reowned.set(row, ownerId);
          if (!this.image.stillInPartition(r, row, ownerId)) unlinked.push(row);
        }
      }
    }
    const handed = new Set(handedOver);
    const set = nested(this.deleted, r, line);
    for (const row of unlinked) {
      if (handed.has(row)) continue;
      set.add(row);
      const blockId = r.blockIdAt(row);
      const sites = this.deletedAt.get(blockId);
      if (sites) sites.push(r.site.id);
      else this.deletedAt.set(blockId, [r.site.id]);
    }
    this.image.unlink(r, unlinked);
    this.orderKeys.delete(r); // gone from its dataset's list if it lost its last row
    if (unlinked.length > 0 || handedOver.length > 0) this.touch(r.dataset.id);
    return unlinked;
  }

  /**
   * `blocks` without those whose deletion would conflict (recorded in `held`). Only what `delete`
   * would really delete is asked about: a block handed over to the dataset-level owner stays.
   * Holding back is final for the run: the sites deleted alongside only grow, so a conflict stays.
   */
  withoutHeld(r: ImageReplica, line: number, rows: Rows): number[] {
    const whole = rows.length === r.rows.length;
    const owner = whole ? undefined : this.datasetLevelOwnerRow(r);
    const kept: number[] = [];
    for (const row of rows) {
      const key = heldKey(r, row);
      if (this.held.has(key)) continue;
      const deletes = owner === undefined || this.image.group(r.groupIdAt(row)).olevel === "Dataset";
      const blockId = r.blockIdAt(row);
      const reason = deletes
        ? this.holdBack!({ siteId: r.site.id, blockId, alongside: this.deletedAt.get(blockId) ?? [] })
        : null;
      if (reason === null) kept.push(row);
      else this.held.set(key, { r, row, line, reason });
    }
    return kept;
  }

  /** The first row owned by a Dataset-level group (who takes over what is deleted, §3.6), if any. */
  datasetLevelOwnerRow(r: ImageReplica): number | undefined {
    return r.rows.find((row) => this.image.group(r.groupIdAt(row)).olevel === "Dataset");
  }

  /** The replicas of a dataset must be evaluated again: later in this pass if they come after us. */
  touch(datasetId: number): void {
    for (const other of this.image.imageReplicasOf(datasetId)) {
      this.orderKeys.delete(other);
      if (this.dropped[other.index] === 1) continue;
      if (this.position >= 0 && other.index > this.position && this.sequential) continue;
      if (this.position >= 0 && other.index > this.position && this.incremental) this.heap.push(other);
      else this.dirty.add(other);
    }
  }

  // ---- deletion -------------------------------------------------------------------

  protectedFraction(site: ImageSite): number {
    if (site.quota <= 0) return 1;
    return this.protectedBytes.get(site)! / site.quota;
  }

  deleteAtOneSite(sites: ImageSite[]): void {
    const site = sites.reduce((best, s) => {
      const d = this.protectedFraction(s) - this.protectedFraction(best);
      return d > 0 || (d === 0 && s.site.name < best.site.name) ? s : best;
    });
    const list = this.sorted([...this.candidatesAt.get(site)!]);
    let volume = 0;
    for (const r of list) {
      if (!site.triggered) break;
      if (site.quota > 0 && volume / site.quota > this.dpi) break;
      volume += this.deleteCandidate(r);
    }
  }

  deleteEverywhere(sites: ImageSite[]): void {
    const list = this.sorted(sites.flatMap((s) => [...this.candidatesAt.get(s)!]));
    for (const r of list) {
      if (!r.imageSite.triggered) continue;
      this.deleteCandidate(r);
    }
  }

  /** Deletes a candidate's dismissed blocks and checks its site's stop condition. */
  deleteCandidate(r: ImageReplica): number {
    const entries = this.dismiss[r.index] ?? [];
    let size = 0;
    for (const e of entries) {
      const current = new Set(r.rows);
      const present = e.blocks.filter((row) => current.has(row));
      const gone = this.delete(r, e.line, present);
      const handed = this.reowned.get(r);
      for (const row of gone) if (!handed?.has(row)) size += r.sizeAt(row);
    }
    this.setDismiss(r, []);
    const site = r.imageSite;
    if (this.policy.stops.some((c) => c.match(site))) site.triggered = false;
    return size;
  }

  /** Candidate order: the policy's Order keys, then evaluation order (deterministic). */
  sorted(list: ImageReplica[]): ImageReplica[] {
    if (this.policy.order.length === 0) return list.sort((a, b) => a.index - b.index);
    // Pairs in the list's order, so that the sort makes the same comparisons on the same values.
    const pairs = list.map((r) => ({ r, key: this.orderKey(r) }));
    this.image.releaseViews();
    pairs.sort((a, b) => {
      const va = a.key;
      const vb = b.key;
      for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) return va[i]! < vb[i]! ? -1 : 1;
      return a.r.index - b.r.index;
    });
    for (let i = 0; i < pairs.length; i++) list[i] = pairs[i]!.r;
    return list;
  }

  /**
   * A candidate's Order key values (signed by direction), remembered until a deletion touches its
   * dataset. Replica variables read only the replicas of the replica's dataset (rows, owners, which
   * replicas are left), the attributes and site records, none of which change during the run, and
   * every change to the replicas of a dataset goes through `delete`, which calls `touch`: so a
   * remembered key is the one `k.get` would compute now. (Site usage, which deletions do change,
   * is no replica variable.)
   */
  orderKey(r: ImageReplica): number[] {
    let key = this.orderKeys.get(r);
    if (key === undefined) {
      key = this.policy.order.map((k) => (k.direction === "decreasing" ? -1 : 1) * k.get(r));
      // `incremental: false`, the reference the tests compare with, computes every key at every sort.
      if (this.incremental) this.orderKeys.set(r, key);
    }
    return key;
  }

  // ---- the result -------------------------------------------------------------------

  result(): DetoxResult {
    const decisions: ReplicaDecision[] = [];
    const replicas = this.image.replicas;
    const deletedBlocks = new Map<ImageReplica, Set<number>>();
    for (let i = 0; i < replicas.length; i++) {
      const byLine = this.deleted[i];
      if (byLine === undefined) continue;
      const r = replicas[i]!;
      const all = new Set<number>();
      for (const [line, set] of byLine) {
        if (set.size === 0) continue;
        for (const row of set) all.add(row);
        decisions.push(decision(r, "delete", line, [...set]));
      }
      deletedBlocks.set(r, all);
    }
    for (let i = 0; i < replicas.length; i++) {
      const lines = this.protectedRows[i];
      if (lines === undefined) continue;
      const r = replicas[i]!;
      const gone = deletedBlocks.get(r);
      for (const { line, rows: protectedRows } of lines) {
        const rows = gone === undefined ? protectedRows : protectedRows.filter((row) => !gone.has(row));
        if (rows.length > 0) decisions.push(decision(r, "protect", line, rows));
      }
    }
    for (let i = 0; i < replicas.length; i++) {
      const entries = this.dismiss[i];
      if (entries === undefined) continue;
      for (const e of entries) decisions.push(decision(replicas[i]!, "keep", e.line, e.blocks));
    }
    const heldBack: HeldBack[] = [];
    const heldRows = new Map<string, { r: ImageReplica; line: number; reason: string; blocks: number[] }>();
    for (const { r, row, line, reason } of this.held.values()) {
      heldBack.push({
        siteId: r.site.id,
        datasetId: r.dataset.id,
        blockId: r.blockIdAt(row),
        size: r.sizeAt(row),
        reason,
      });
      // One "keep" row per (replica, line, reason): the reason says why this keep is not a deletion.
      const key = `${r.index} ${line} ${reason}`;
      const entry = heldRows.get(key);
      if (entry) entry.blocks.push(row);
      else heldRows.set(key, { r, line, reason, blocks: [row] });
    }
    for (const { r, line, reason, blocks } of heldRows.values()) {
      decisions.push({ ...decision(r, "keep", line, blocks), reason });
    }
    heldBack.sort((a, b) => a.siteId - b.siteId || a.datasetId - b.datasetId || a.blockId - b.blockId);
    decisions.sort((a, b) => a.siteId - b.siteId || a.datasetId - b.datasetId || a.line - b.line);
    // Bytes per (decision, site), in one pass over the decisions (sorted, so summed in the same order).
    // Keyed by number (site id and kind), not by a string made per decision.
    const KIND = { delete: 0, keep: 1, protect: 2 } as const;
    const totals = new Map<number, number>();
    for (const x of decisions) {
      const key = x.siteId * 3 + KIND[x.decision];
      totals.set(key, (totals.get(key) ?? 0) + x.size);
    }
    const sum = (d: DecisionKind, site: ImageSite) => totals.get(site.site.id * 3 + KIND[d]) ?? 0;
    const deletions = [...deletedBlocks].filter(([, set]) => set.size > 0).map(([r, set]) => ({
      siteId: r.site.id,
      datasetId: r.dataset.id,
      blockIds: [...set].map((row) => r.blockIdAt(row)).sort((a, b) => a - b),
      size: [...set].reduce((s, row) => s + r.sizeAt(row), 0),
    })).sort((a, b) => a.siteId - b.siteId || a.datasetId - b.datasetId);
    const reassignments: Reassignment[] = [];
    for (const [r, map] of this.reowned) {
      const byGroup = new Map<number, number[]>();
      for (const [row, groupId] of map) {
        byGroup.set(groupId, [...byGroup.get(groupId) ?? [], r.blockIdAt(row)]);
      }
      for (const [groupId, blockIds] of byGroup) {
        reassignments.push({
          siteId: r.site.id,
          datasetId: r.dataset.id,
          blockIds: blockIds.sort((a, b) => a - b),
          groupId,
        });
      }
    }
    return {
      decisions,
      deletions,
      reassignments,
      sites: this.image.sites.map((s) => ({
        siteId: s.site.id,
        quota: s.quota,
        usedBefore: this.usedBefore.get(s)!,
        usedAfter: s.used,
        triggered: this.triggeredAtStart.has(s),
        stillTriggered: s.triggered,
        protectedBytes: sum("protect", s),
        deletedBytes: sum("delete", s),
        keptBytes: sum("keep", s),
      })),
      iterations: this.iterations,
      evaluations: this.evaluations,
      unmatchedLines: this.policy.lines.map((l) => l.line).filter((l) => !this.matched.has(l)),
      heldBack,
    };
  }
}

/**
 * The size of `rows` read off the columns' summary when they are every row of the replica (rows are
 * distinct, so as many as the columns have) and the sizes are integral, so that any order of summing
 * gives it exactly; NaN otherwise (then they are summed in row order).
 */
function wholeSize(r: ImageReplica, rows: Rows): number {
  return rows.length === r.columns.length ? r.columns.exactTotalSize : Number.NaN;
}

function decision(r: ImageReplica, kind: DecisionKind, line: number, rows: Rows): ReplicaDecision {
  const whole = wholeSize(r, rows);
  if (!Number.isNaN(whole)) {
    // Every row, integral sizes: every block id, in order.
    return {
      siteId: r.site.id,
      datasetId: r.dataset.id,
      decision: kind,
      line,
      size: whole,
      blockIds: r.columns.blockIds(),
    };
  }
  // One walk over the rows (sizes summed in row order); rows mostly come in block id order already.
  let size = 0;
  let ascending = true;
  const blockIds = new Array<number>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    size += r.sizeAt(rows[i]!);
    blockIds[i] = r.blockIdAt(rows[i]!);
    if (i > 0 && blockIds[i]! < blockIds[i - 1]!) ascending = false;
  }
  if (!ascending) blockIds.sort((a, b) => a - b);
  return { siteId: r.site.id, datasetId: r.dataset.id, decision: kind, line, size, blockIds };
}

/** The key of a block replica in `held`: its replica's place in the evaluation order, and its row. */
function heldKey(r: ImageReplica, row: number): string {
  return `${r.index}:${row}`;
}

function isBlockLine(line: PolicyLine): boolean {
  return line.action.endsWith("Block");
}

function datasetLevel(action: string): "Protect" | "Delete" | "Dismiss" {
  return action.slice(0, -"Block".length) as "Protect" | "Delete" | "Dismiss";
}

function nested<T>(slots: (Map<number, Set<T>> | undefined)[], r: ImageReplica, line: number): Set<T> {
  let byLine = slots[r.index];
  if (!byLine) slots[r.index] = byLine = new Map();
  let set = byLine.get(line);
  if (!set) byLine.set(line, set = new Set());
  return set;
}

/** An empty slot per replica (a packed array: `new Array(n)` would be a dictionary at this size). */
function slots<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

/** A min-heap of replicas by evaluation index, without duplicates. */
class IndexHeap {
  #items: ImageReplica[] = [];
  #members = new Set<ImageReplica>();

  push(r: ImageReplica): void {
    if (this.#members.has(r)) return;
    this.#members.add(r);
    const a = this.#items;
    a.push(r);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]!.index <= a[i]!.index) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): ImageReplica | undefined {
    const a = this.#items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.index < a[m]!.index) m = l;
        if (r < a.length && a[r]!.index < a[m]!.index) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    this.#members.delete(top);
    return top;
  }
}

export { PartitionImage };
