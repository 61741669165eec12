import { type BulkTransaction, type Database, jsonb } from "./database.ts";
import {
  INJECTION_CHANNEL,
  type InjectionFilter,
  type InjectionKind,
  type InjectionQueue,
  type InjectionRecord,
  type InjectionSettlement,
  type InjectionStatus,
  type QueuedInjection,
} from "./injection_queue_port.ts";

export class SqlInjectionQueue implements InjectionQueue {
  constructor(private readonly db: Database) {}

  async enqueue(kind: InjectionKind, payload: unknown, user: string, nowMs: number): Promise<number> {
    // Writes here are in transactions, so that a cluster leader's are fenced (adapters/db/fenced_database.ts).
    const row = await this.db.transaction((tx) =>
      tx.insertInto("data_injections").values({
        created_ms: nowMs,
        updated_ms: nowMs,
        user_name: user,
        kind,
        payload: jsonb(payload),
        status: "queued",
        result: null,
        applied_seq: null,
      }).returning("id").executeTakeFirstOrThrow()
    );
    await this.db.notify(INJECTION_CHANNEL, String(row.id));
    return row.id;
  }

  async queued(afterId: number, limit: number): Promise<QueuedInjection[]> {
    const rows = await this.db.kysely.selectFrom("data_injections")
      .select(["id", "kind", "payload", "attempts", "last_error"])
      .where("status", "=", "queued").where("id", ">", afterId).orderBy("id").limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as InjectionKind,
      payload: r.payload,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  async get(id: number): Promise<InjectionRecord | null> {
    const r = await this.#records().where("id", "=", id).executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async list(filter: InjectionFilter): Promise<InjectionRecord[]> {
    let q = this.#records();
    if (filter.status !== undefined) q = q.where("status", "=", filter.status);
    if (filter.beforeId !== undefined) q = q.where("id", "<", filter.beforeId);
    const rows = await q.orderBy("id", "desc").limit(filter.limit).execute();
    return rows.map(toRecord);
  }

  #records() {
    return this.db.kysely.selectFrom("data_injections").select([
      "id",
      "kind",
      "user_name",
      "created_ms",
      "updated_ms",
      "status",
      "result",
      "applied_seq",
      "attempts",
      "last_error",
    ]);
  }

  async beginAttempt(id: number, nowMs: number): Promise<void> {
    await this.db.transaction((tx) =>
      tx.updateTable("data_injections")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), updated_ms: nowMs }))
        .where("id", "=", id).where("status", "=", "queued").execute()
    );
  }

  async recordFailure(id: number, error: string, moveAside: boolean, nowMs: number): Promise<void> {
    await this.db.transaction((tx) =>
      tx.updateTable("data_injections")
        .set({
          last_error: error,
          updated_ms: nowMs,
          ...(moveAside ? { status: "failed", result: jsonb({ error }) } : {}),
        })
        .where("id", "=", id).where("status", "=", "queued").execute()
    );
  }

  async settled(ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.kysely.selectFrom("data_injections").select("id")
      .where("id", "in", ids).where("status", "<>", "queued").execute();
    return new Set(rows.map((r) => r.id));
  }

  async settle(settlements: InjectionSettlement[], nowMs: number): Promise<void> {
    if (settlements.length === 0) return;
    await this.db.bulkTransaction((tx) => settleInjections(tx, settlements, nowMs, null));
  }
}

function toRecord(r: {
  id: number;
  kind: string;
  user_name: string;
  created_ms: number;
  updated_ms: number;
  status: string;
  result: unknown;
  applied_seq: number | null;
  attempts: number;
  last_error: string | null;
}): InjectionRecord {
  return {
    id: r.id,
    kind: r.kind as InjectionKind,
    user: r.user_name,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
    status: r.status as InjectionStatus,
    result: r.result,
    appliedSeq: r.applied_seq,
    attempts: r.attempts,
    lastError: r.last_error,
  };
}

/** Marks injections settled; shared with the inventory commit so both happen in one transaction. */
export async function settleInjections(
  tx: BulkTransaction,
  settlements: readonly InjectionSettlement[],
  nowMs: number,
  appliedSeq: number | null,
): Promise<void> {
  for (const s of settlements) {
    await tx.query(
      `UPDATE data_injections SET status = $1, result = $2::text::jsonb, applied_seq = $3, updated_ms = $4
       WHERE id = $5 AND status = 'queued'`,
      // `?? null`: JSON.stringify(undefined) is undefined, a parameter the driver refuses (the whole commit fails).
      [s.status, JSON.stringify(s.result ?? null), s.status === "applied" ? appliedSeq : null, nowMs, s.id],
    );
  }
}
