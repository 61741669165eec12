import {
  catalogFromAnnex,
  COMMAND_VERSION,
  type CommandOutcome,
  fileNeeds,
  firstFailedPrecondition,
  type InventoryState,
  type JournalEntry,
  type PartitionDefinition,
  type Precondition,
  reduceBatch,
  replayEntry,
  Snapshot,
  type Submission,
  summarizeOutcomes,
} from "../../registry/inventory/mod.ts";
import type { InventoryStore, PreviousCommit } from "../../adapters/db/inventory_store_port.ts";
import type { InjectionQueue, InjectionSettlement } from "../../adapters/db/injection_queue_port.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryPublication } from "./publication.ts";

export type SubmitReply =
  /**
   * `alreadySettled`: the queued injection had been applied or rejected before; nothing was done.
   * `refused`: a precondition of the submission no longer held at apply time; nothing was applied
   * (every outcome is "aborted" with this reason).
   */
  | { ok: true; generation: number; outcomes: CommandOutcome[]; alreadySettled?: boolean; refused?: string }
  /** `cause`: the underlying error, for the log and the injection queue's record, never for an HTTP answer. */
  | { ok: false; error: string; cause?: string };

/**
 * What callers are told when a write fails: the database's own text (constraint names, types,
 * values) stays in the log; the client can do nothing about it but retry.
 */
export const WRITE_FAILED = "The inventory could not be written (the error is logged); retry later";

export type InventoryMsg =
  | {
    type: "submit";
    submission: Submission;
    replyTo: ActorRef<SubmitReply>;
    injectionId?: number;
    /** Written in the same transaction, if every command of the submission applies. */
    operations?: readonly NewReplicaOperation[];
    /** What a decision made elsewhere (a reader replica) relied on; re-checked here before applying. */
    guard?: SubmissionGuard;
  }
  | { type: "flush" }
  /**
   * The statements of commit `seq` are all answered (sent by its own continuation): the next batch
   * may be taken. `epoch` is the incarnation that started it; a later one ignores it.
   */
  | { type: "written"; seq: number; epoch: object }
  /** Commit `seq` is durable and published, and its `answered` submissions have their replies. */
  | { type: "published"; seq: number; epoch: object; answered: number }
  | { type: "commit_failed"; error: unknown; epoch: object };

export interface InventoryActorOptions {
  store: InventoryStore;
  injections: InjectionQueue;
  partitions: readonly PartitionDefinition[];
  publication: InventoryPublication;
  /** Upper bound of commands per transaction (group commit). */
  maxBatchCommands?: number;
  onLoadProgress?: (table: string, rows: number) => void;
}

/** The generation a command was decided on and the preconditions it relied on. */
export interface SubmissionGuard {
  readonly decidedAt: number;
  readonly preconditions: readonly Precondition[];
}

interface Pending {
  submission: Submission;
  replyTo: ActorRef<SubmitReply>;
  injectionId?: number;
  operations?: readonly NewReplicaOperation[];
  guard?: SubmissionGuard;
}

/** The commit in flight, and when it has handed all its statements to the database (`sent`). */
interface InflightCommit extends PreviousCommit {
  readonly sent: Promise<void>;
}

interface State {
  /** This incarnation: messages of commits an earlier one started are ignored. */
  epoch: object;
  /** The last reduced version; it may still be being committed. */
  head: InventoryState;
  /**
   * The last commit started, while it may be in flight: `published` settles after it and every
   * commit before it are durable and published.
   */
  inflight: InflightCommit | null;
  pending: Pending[];
  flushQueued: boolean;
  /** The commit whose statements are being written: its `written` message has not been handled yet. */
  writing: number | null;
  /** A flush waits (for `written`, a publication or arrivals), to take what arrives meanwhile into the same group. */
  flushDeferred: boolean;
  /** Where the commits stand, for `takeNow`. */
  progress: CommitProgress;
}

/**
 * The single writer of the inventory. Submissions queue up while a batch is
 * being written; the next flush takes them all (group commit): prefetch the
 * files they mention, reduce, write journal and tables in one transaction,
 * then publish and acknowledge.
 *
 * While a commit's statements are being written, submissions wait for them
 * and then go together into the next transaction (`takeNow`). A full batch
 * does not wait: it is reduced (in memory, on the not-yet-durable head) while
 * the previous one is being written.
 *
 * Commits are chained (`PreviousCommit`): the next one starts its statements
 * once the previous one's are all answered, while the previous COMMIT (the
 * WAL flush) is still in flight, and it sends its own COMMIT only once the
 * previous one is durable and published. So at most two transactions are
 * open, publication and acknowledgements follow the generations, and on the
 * server the next one's statements wait for the previous one to end (the
 * inventory_meta row, `SqlInventoryStore.commit`). Batches that must read the
 * database (files, queued injections) first wait for everything in flight to
 * be published, since the database does not have it yet.
 *
 * A failed write publishes nothing, answers its callers and every later
 * batch's with the error (a chained commit fails with the one it follows),
 * and restarts the actor, which reloads what is actually durable.
 */
export function inventoryActor(options: InventoryActorOptions): Behavior<InventoryMsg, State> {
  const maxBatch = options.maxBatchCommands ?? 20_000;
  return {
    async init(ctx) {
      const started = ctx.clock.now();
      let state = await options.store.loadTables(
        options.partitions,
        (p) => options.onLoadProgress?.(p.table, p.rows),
      );
      const tablesAt = state.generation;
      for (;;) {
        const entries = await options.store.journalSince(state.generation, 1000);
        if (entries.length === 0) break;
        for (const entry of entries) state = replayEntry(state, entry);
      }
      options.publication.publishLoaded(state);
      ctx.log.info("Inventory loaded", {
        generation: state.generation,
        replayed: state.generation - tablesAt,
        datasets: state.counts.datasets,
        blockReplicas: state.counts.blockReplicas,
        ms: ctx.clock.now() - started,
      });
      return {
        epoch: {},
        head: state,
        inflight: null,
        pending: [],
        flushQueued: false,
        writing: null,
        flushDeferred: false,
        progress: { writing: false, unpublished: 0, answered: 0, arrived: 0 },
      };
    },

    async receive(state, msg, ctx) {
      switch (msg.type) {
        case "submit":
          state.pending.push({
            submission: msg.submission,
            replyTo: msg.replyTo,
            ...(msg.injectionId !== undefined ? { injectionId: msg.injectionId } : {}),
            ...(msg.operations ? { operations: msg.operations } : {}),
            ...(msg.guard ? { guard: msg.guard } : {}),
          });
          state.progress.arrived += 1;
          if (!state.flushQueued) {
            state.flushQueued = true;
            ctx.self.tell({ type: "flush" });
          } else if (state.flushDeferred && takeNow(state.progress, state.pending, maxBatch)) {
            // The callers answered by the last publication are back: their submissions join this batch.
            flushAgain(state, ctx.self);
          }
          return state;

        case "written":
          if (msg.epoch !== state.epoch || msg.seq !== state.writing) return state;
          state.writing = null;
          state.progress.writing = false;
          if (state.flushDeferred) flushAgain(state, ctx.self);
          return state;

        case "published":
          if (msg.epoch !== state.epoch) return state;
          state.progress.unpublished -= 1;
          state.progress.answered = msg.answered;
          state.progress.arrived = 0;
          if (state.flushDeferred) flushAgain(state, ctx.self);
          return state;

        case "commit_failed":
          // A commit chained to the failed one fails too: one reload is enough.
          if (msg.epoch !== state.epoch) return state;
          // Whether that transaction committed is unknown: reload durable state.
          throw msg.error;

        case "flush": {
          if (!takeNow(state.progress, state.pending, maxBatch)) {
            // flushQueued stays set: "written", "published" or an arrival sends this flush again.
            state.flushDeferred = true;
            return state;
          }
          state.flushQueued = false;
          const taken = takeBatch(state.pending, maxBatch);
          if (state.pending.length > 0) {
            state.flushQueued = true;
            ctx.self.tell({ type: "flush" });
          }
          if (taken.length === 0) return state;
          // A guarded submission heads its batch (takeBatch): its preconditions are checked on the
          // head it will be applied to, which includes every batch before it.
          const guard = taken[0]!.guard;
          if (guard) {
            const refused = firstFailedPrecondition(new Snapshot(state.head), guard.preconditions);
            if (refused) {
              const reason =
                `refused: decided on generation ${guard.decidedAt}, at generation ${state.head.generation} ${refused}`;
              ctx.log.info("Guarded submission refused", { reason });
              const b = taken.shift()!;
              b.replyTo.tell({
                ok: true,
                generation: state.head.generation,
                outcomes: b.submission.commands.map(() => ({ status: "aborted" as const, reason })),
                refused: reason,
              });
              if (taken.length === 0) return state;
            }
          }
          const fail = (error: unknown): never => {
            ctx.log.error("Inventory write failed: {error}", { error: String(error) });
            for (const b of taken) b.replyTo.tell({ ok: false, error: WRITE_FAILED, cause: String(error) });
            throw error;
          };
          /**
           * Until the last commit's statements are handed over (`sent`), answered (`written`), or it is
           * published.
           */
          const awaitInflight = async (stage: "sent" | "written" | "published") => {
            const inflight = state.inflight;
            if (!inflight) return;
            try {
              await inflight[stage];
            } catch (error) {
              fail(error);
            }
            if (stage === "published" && state.inflight === inflight) state.inflight = null;
          };
          const commands = taken.flatMap((b) => b.submission.commands);
          const needs = fileNeeds(state.head, commands);
          if (
            needs.lfns.size > 0 || needs.blockIds.size > 0 || taken.some((b) => b.injectionId !== undefined)
          ) {
            await awaitInflight("published");
          }
          const base = state.head;
          const atMs = ctx.clock.now();
          let batch = taken;
          let annex;
          try {
            batch = await dropSettledInjections(taken, options.injections, base.generation);
            annex = await options.store.prefetchFiles(needs);
          } catch (error) {
            fail(error);
          }
          // Not while the commit in flight is still handing its statements over: its COPY data needs this
          // thread when the server asks for it, and a reduction run meanwhile left the server idle for its
          // length. Once they are sent, the server works through them while this thread reduces.
          await awaitInflight("sent");
          const submissions = batch.map((b) => b.submission);
          const result = reduceBatch(base, submissions, catalogFromAnnex(annex!), atMs, base.generation + 1);
          const outcomes = result.outcomes;
          const injections = settlementsOf(batch, outcomes);
          if (result.applied.length === 0) {
            // Answered with the generation of the head: once that is published.
            await awaitInflight("published");
            try {
              await options.injections.settle(injections, atMs);
            } catch (error) {
              fail(error);
            }
            batch.forEach((b, i) =>
              b.replyTo.tell({ ok: true, generation: base.generation, outcomes: outcomes[i]! })
            );
            return state;
          }
          const next = result.state;
          const entry: JournalEntry = {
            seq: next.generation,
            atMs,
            version: COMMAND_VERSION,
            commands: result.applied,
            annex: annex!,
          };
          // Our statements' text and rows are built now, while the server works on the commit in flight:
          // then ours go out at once when its answers come, instead of after being built. A store that
          // fails to build them fails again in `commit`, whose failure path answers the batch.
          let prepared;
          try {
            prepared = options.store.prepare?.({ entry, base, state: next, changes: result.changes });
          } catch {
            prepared = undefined;
          }
          await awaitInflight("written");
          state.head = next;
          state.writing = next.generation;
          state.progress.writing = true;
          state.progress.unpublished += 1;
          const operations = batch.flatMap((b, i) =>
            b.operations && outcomes[i]!.every((o) => o.status === "applied") ? b.operations : []
          );
          const epoch = state.epoch;
          const sent = Promise.withResolvers<void>();
          const written = Promise.withResolvers<void>();
          const committed = options.store.commit({
            entry,
            base,
            state: next,
            changes: result.changes,
            injections,
            operations,
            idempotencyKeys: batch.flatMap((b) => b.submission.idempotencyKey ?? []),
            ...(state.inflight ? { after: state.inflight } : {}),
            ...(prepared ? { prepared } : {}),
            onSent: sent.resolve,
            onWritten: () => {
              sent.resolve(); // a store that does not report `sent` still releases the next batch here
              written.resolve();
              ctx.self.tell({ type: "written", seq: next.generation, epoch });
            },
          });
          // A failure before the statements were all handed over, or answered.
          committed.catch((error) => {
            sent.reject(error);
            written.reject(error);
          });
          // The callers are told the outcome is unknown, and the writer reloads what is durable.
          const commitFailed = (message: string, error: unknown): never => {
            ctx.log.error(message, { error: String(error) });
            for (const b of taken) b.replyTo.tell({ ok: false, error: WRITE_FAILED, cause: String(error) });
            ctx.self.tell({ type: "commit_failed", error, epoch });
            throw error;
          };
          const published = committed.then(() => {
            try {
              options.publication.publishCommitted(entry, next);
              batch.forEach((b, i) =>
                b.replyTo.tell({ ok: true, generation: next.generation, outcomes: outcomes[i]! })
              );
            } catch (error) {
              // Durable but not published (a fault of ours): small batches wait for this publication, so
              // the writer must reload instead (it finds the commit durable).
              commitFailed("Inventory commit not published: {error}", error);
            }
            ctx.self.tell({ type: "published", seq: next.generation, epoch, answered: batch.length });
          }, (error) => commitFailed("Inventory write failed: {error}", error));
          // Rejections are handled by the next flush or by commit_failed; keep them from being "unhandled".
          sent.promise.catch(() => {});
          written.promise.catch(() => {});
          published.catch(() => {});
          state.inflight = { seq: next.generation, sent: sent.promise, written: written.promise, published };
          return state;
        }
      }
    },

    async onStop(state) {
      // Let the write in flight finish (and answer its callers) before the actor goes.
      await state.inflight?.published.catch(() => {});
      for (const p of state.pending) p.replyTo.tell({ ok: false, error: "The inventory writer stopped" });
      state.pending = [];
    },
  };
}

/** Answers (and drops) submissions of injections that were settled by an earlier batch. */
async function dropSettledInjections(
  batch: Pending[],
  queue: InjectionQueue,
  generation: number,
): Promise<Pending[]> {
  const ids = batch.flatMap((b) => (b.injectionId !== undefined ? [b.injectionId] : []));
  if (ids.length === 0) return batch;
  const settled = await queue.settled(ids);
  return batch.filter((b) => {
    if (b.injectionId === undefined || !settled.has(b.injectionId)) return true;
    b.replyTo.tell({ ok: true, generation, outcomes: [], alreadySettled: true });
    return false;
  });
}

function settlementsOf(batch: Pending[], outcomes: CommandOutcome[][]): InjectionSettlement[] {
  return batch.flatMap((b, i) => {
    if (b.injectionId === undefined) return [];
    const o = outcomes[i]!;
    return [{
      id: b.injectionId,
      status: o.every((x) => x.status === "applied") ? "applied" as const : "rejected" as const,
      result: summarizeOutcomes(b.submission.commands, o),
    }];
  });
}

/** Where the writer's commits stand, as `takeNow` needs it. */
export interface CommitProgress {
  /** A commit's statements are being written: its `written` has not been handled. */
  writing: boolean;
  /** Commits started and not yet published. */
  unpublished: number;
  /** Submissions answered by the last publication. */
  answered: number;
  /** Submissions received since the last publication. */
  arrived: number;
}

/**
 * Whether a flush takes its batch now or waits (group commit). A batch of a tenth of the maximum or
 * more (a full one included) is taken at once and reduced while the commit in flight is written: it is
 * not worth holding back for a few more submissions (as the last 10,000 of a 50,000-command burst, it
 * waited ~40 ms for the previous commit's answers with this thread idle). A smaller one waits:
 *
 * - While the statements of a commit are being written, every submission that arrives joins the
 *   next transaction, instead of only those that came before the flush: with few concurrent
 *   callers (HTTP clients, each waiting for its answer), taking early made transactions of one or
 *   two submissions.
 * - Then, while a commit before the last one is unpublished, and, once only the last one is, until
 *   as many submissions have arrived as the last publication answered, or the last one is
 *   published. The last commit's statements are then waiting on the server for the one before it to
 *   end, and so would ours: taking the batch later costs the server nothing, while the callers just
 *   answered (each waiting for its answer before sending again) come back in time to join it
 *   instead of the transaction after. With 8 HTTP clients a caller's round trip spanned three
 *   commits instead of two.
 */
export function takeNow(
  progress: CommitProgress,
  pending: readonly { submission: Submission }[],
  maxCommands: number,
): boolean {
  let count = 0;
  for (const p of pending) {
    count += p.submission.commands.length;
    if (count >= maxCommands / 10) return true;
  }
  if (progress.writing) return false;
  if (progress.unpublished === 0) return true;
  return progress.unpublished === 1 && progress.arrived >= progress.answered;
}

/** A flush that waited (`flushDeferred`) is sent again. */
function flushAgain(state: State, self: ActorRef<InventoryMsg>): void {
  state.flushDeferred = false;
  self.tell({ type: "flush" });
}

/**
 * Takes whole submissions from the front until the command budget is used (at least one). A guarded
 * submission only ever comes first, so that its preconditions are checked on the state it applies to.
 */
function takeBatch<T extends { submission: Submission; guard?: SubmissionGuard }>(
  pending: T[],
  maxCommands: number,
): T[] {
  let n = 0;
  let count = 0;
  while (n < pending.length) {
    if (n > 0 && pending[n]!.guard) break;
    const size = pending[n]!.submission.commands.length;
    if (n > 0 && count + size > maxCommands) break;
    count += size;
    n += 1;
  }
  return pending.splice(0, n);
}
