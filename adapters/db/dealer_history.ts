import { lazyRows } from "./lazy_rows.ts";
import type { Selectable } from "kysely";
import type { Database } from "./database.ts";
import type {
  DealerCycleEnd,
  DealerCycleRecord,
  DealerCycleStart,
  DealerDecisionRow,
  DealerHistory,
} from "./dealer_history_port.ts";
import type { DB } from "./schema.ts";

/** Dealer cycles with every proposal's fate, and the copy outcomes that make site reliability. */
export class SqlDealerHistory implements DealerHistory {
  constructor(private readonly db: Database) {}

  async startCycle(s: DealerCycleStart): Promise<number> {
    const row = await this.db.kysely.insertInto("dealer_cycles").values({
      partition: s.partition,
      mode: s.mode,
      status: "running",
      generation: s.generation,
      committed_generation: null,
      started_ms: s.startedMs,
      ended_ms: null,
      targets: null,
      accepted: null,
      rejected: null,
      bytes: null,
      rejections: null,
      comment: s.comment,
      error: null,
    }).returning("id").executeTakeFirstOrThrow();
    return row.id;
  }

  async finishCycle(id: number, e: DealerCycleEnd): Promise<void> {
    await this.db.bulkTransaction(async (tx) => {
      if (e.decisions.length > 0) {
        await tx.copyFrom(
          "dealer_decisions",
          [
            "cycle_id",
            "seq",
            "plugin",
            "dataset",
            "blocks",
            "site",
            "accepted",
            "reason",
            "why",
            "bytes",
            "request_id",
          ],
          lazyRows(e.decisions, (d, i) => [
            id,
            i,
            d.plugin,
            d.dataset,
            d.blocks === null ? null : JSON.stringify(d.blocks),
            d.site,
            d.accepted,
            d.reason,
            d.why,
            d.bytes,
            d.requestId,
          ]),
        );
      }
      await tx.query(
        `UPDATE dealer_cycles SET status = $1, ended_ms = $2, committed_generation = $3, targets = $4, accepted = $5,
           rejected = $6, bytes = $7, rejections = $8::text::jsonb, error = $9, budget = $11::text::jsonb WHERE id = $10`,
        [
          e.status,
          e.endedMs,
          e.committedGeneration,
          e.targets,
          e.accepted,
          e.rejected,
          e.bytes,
          JSON.stringify(e.rejections),
          e.error,
          id,
          e.budget ? JSON.stringify(e.budget) : null,
        ],
      );
    });
  }

  async cycles(filter: { limit?: number; modes?: string[] }): Promise<DealerCycleRecord[]> {
    let q = this.db.kysely.selectFrom("dealer_cycles").selectAll().orderBy("id", "desc")
      .limit(Math.min(filter.limit ?? 100, 10_000));
    if (filter.modes) q = q.where("mode", "in", filter.modes.length ? filter.modes : [""]);
    return (await q.execute()).map(toCycle);
  }

  async cycle(id: number): Promise<DealerCycleRecord | null> {
    const row = await this.db.kysely.selectFrom("dealer_cycles").selectAll().where("id", "=", id)
      .executeTakeFirst();
    return row ? toCycle(row) : null;
  }

  async decisions(filter: { cycleId?: number; dataset?: string; limit?: number }) {
    let q = this.db.kysely.selectFrom("dealer_decisions").selectAll().orderBy("cycle_id", "desc").orderBy(
      "seq",
    )
      .limit(Math.min(filter.limit ?? 1000, 100_000));
    if (filter.cycleId !== undefined) q = q.where("cycle_id", "=", filter.cycleId);
    if (filter.dataset !== undefined) q = q.where("dataset", "=", filter.dataset);
    return (await q.execute()).map((r): DealerDecisionRow & { cycleId: number } => ({
      cycleId: r.cycle_id,
      plugin: r.plugin,
      dataset: r.dataset,
      blocks: r.blocks as string[] | null,
      site: r.site,
      accepted: r.accepted,
      reason: r.reason,
      why: r.why,
      bytes: r.bytes,
      requestId: r.request_id,
    }));
  }

  async transferOutcomes(sinceMs: number): Promise<Map<string, { done: number; failed: number }>> {
    const rows = await this.db.queryArrays(
      `SELECT site, count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed')
         FROM replica_operations WHERE kind = 'copy' AND updated_ms >= $1 GROUP BY site`,
      [sinceMs],
    );
    return new Map(
      rows.map(([site, done, failed]) => [site as string, { done: Number(done), failed: Number(failed) }]),
    );
  }
}

function toCycle(r: Selectable<DB["dealer_cycles"]>): DealerCycleRecord {
  return {
    id: r.id,
    partition: r.partition,
    mode: r.mode,
    status: r.status,
    generation: r.generation,
    committedGeneration: r.committed_generation,
    startedMs: r.started_ms,
    endedMs: r.ended_ms,
    targets: r.targets,
    accepted: r.accepted,
    rejected: r.rejected,
    bytes: r.bytes,
    rejections: (r.rejections as Record<string, number> | null) ?? {},
    comment: r.comment,
    error: r.error,
    budget: (r.budget ?? null) as DealerCycleRecord["budget"],
  };
}
