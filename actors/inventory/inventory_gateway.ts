import type { Snapshot, Submission } from "../../registry/inventory/mod.ts";
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

  /** Resolves once the writer acknowledged: the applied commands are durable. */
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
    const { injectionId, signal, operations, guard } = options;
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

  /** Where committed batches are published (followers subscribe here). */
  get committed(): InventoryPublication {
    return this.publication;
  }
}
