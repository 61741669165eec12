import { invalidationConflicts, type Snapshot, type Submission } from "../../registry/inventory/mod.ts";
import { type ActorRef, type ActorSystem, ask } from "../runtime/mod.ts";
import type { InventoryMsg, SubmissionGuard, SubmitReply } from "./inventory_actor.ts";
import type { InventoryPublication } from "./publication.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";

/** The writer is too busy: callers should retry later (HTTP 503). */
export class InventoryBusyError extends Error {
  constructor(readonly queued: number) {
    super(`The inventory writer has ${queued} batches queued; retry later`);
    this.name = "InventoryBusyError";
  }
}

export interface InventoryGatewayOptions {
  timeoutMs?: number;
  /** Above this many queued messages new submissions are refused (backpressure at the edge). */
  highWaterMark?: number;
}

/** Reads and writes of the inventory for code outside the actor tree (HTTP, CLI, agents). */
export class InventoryGateway {
  readonly #timeoutMs: number;
  readonly #highWater: number;

  constructor(
    private readonly system: ActorSystem,
    private readonly writer: ActorRef<InventoryMsg>,
    private readonly publication: InventoryPublication,
    options: InventoryGatewayOptions = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#highWater = options.highWaterMark ?? 1_000;
  }

  snapshot(): Snapshot {
    return this.publication.snapshot();
  }

  get isReady(): boolean {
    return this.publication.isReady;
  }

  /** Queued messages at the writer (a metric, and the backpressure signal). */
  get queueDepth(): number {
    return this.system.mailboxDepth(this.writer.address);
  }

  /**
   * Resolves once the writer acknowledged: the applied commands are durable. A submission that
   * invalidates files, blocks or datasets (from any caller: REST, the injection queue, the
   * consistency agent) is guarded by its `no_conflict` preconditions unless it brings its own guard:
   * the writer refuses it while a deletion of such a dataset is in flight (docs/actors.md).
   */
  async submit(
    submission: Submission,
    options: {
      signal?: AbortSignal;
      injectionId?: number;
      operations?: readonly NewReplicaOperation[];
      /** A decision made on a replica: the writer re-checks its preconditions and may refuse it. */
      guard?: SubmissionGuard;
    } = {},
  ): Promise<SubmitReply> {
    const depth = this.queueDepth;
    if (depth >= this.#highWater && options.injectionId === undefined) throw new InventoryBusyError(depth);
    const { injectionId, signal, operations } = options;
    const guard = options.guard ?? this.#invalidationGuard(submission);
    return await ask<InventoryMsg, SubmitReply>(
      this.system,
      this.writer,
      (replyTo) => ({
        type: "submit",
        submission,
        replyTo,
        ...(injectionId !== undefined ? { injectionId } : {}),
        ...(operations ? { operations } : {}),
        ...(guard ? { guard } : {}),
      }),
      { timeoutMs: this.#timeoutMs, ...(signal ? { signal } : {}) },
    );
  }

  #invalidationGuard(submission: Submission): SubmissionGuard | undefined {
    const preconditions = invalidationConflicts(submission.commands);
    if (preconditions.length === 0) return undefined;
    return { decidedAt: this.publication.isReady ? this.snapshot().generation : 0, preconditions };
  }

  /** Where committed batches are published (followers subscribe here). */
  get committed(): InventoryPublication {
    return this.publication;
  }
}
