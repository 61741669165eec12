import { lazyRows } from "./lazy_rows.ts";
import type { Database } from "./database.ts";
import type {
  CycleEnd,
  CycleRecord,
  CycleStart,
  DecisionFilter,
  DecisionRow,
  DetoxHistory,
  DetoxMode,
  SiteRow,
} from "./detox_history_port.ts";

/** Detox cycles, their policy text, decisions and per-site outcomes. */
export class SqlDetoxHistory implements DetoxHistory {
  constructor(private readonly db: Database) {}

  async startCycle(s: CycleStart): Promise<number> {
    return await this.db.transaction(async (tx) => {
      await tx.insertInto("detox_policies").values({
        hash: s.policyHash,
        partition: s.partition,
        text: s.policyText,
        created_ms: s.startedMs,
      }).onConflict((oc) => oc.column("hash").doNothing()).execute();
      const row = await tx.insertInto("detox_cycles").values({
        partition: s.partition,
        mode: s.mode,
        policy_hash: s.policyHash,
        generation: s.generation,
        started_ms: s.startedMs,
        ended_ms: null,
        time_shift_days: s.timeShiftDays,
        comment: s.comment,
        status: "running",
        iterations: null,
        evaluations: null,
        deleted_bytes: null,
        committed_generation: null,
        unmatched_lines: null,
      }).returning("id").executeTakeFirstOrThrow();
      return row.id;
    });
  }

  async finishCycle(id: number, e: CycleEnd): Promise<void> {
    await this.db.bulkTransaction(async (tx) => {
      if (e.decisions.length > 0) {
        await tx.copyFrom(
          "detox_decisions",
          ["cycle_id", "site", "dataset", "decision", "line", "size", "num_blocks", "blocks", "reason"],
          lazyRows(e.decisions, (
            d,
          ) => [
            id,
            d.site,
            d.dataset,
            d.decision,
            d.line,
            d.size,
            d.blocks.length,
            JSON.stringify(d.blocks),
            d.reason ?? null,
          ]),
        );
      }
      if (e.sites.length > 0) {
        await tx.copyFrom(
          "detox_sites",
          [
            "cycle_id",
            "site",
            "status",
            "quota",
            "used_before",
            "used_after",
            "triggered",
            "still_triggered",
            "protected_bytes",
            "deleted_bytes",
            "kept_bytes",
          ],
          e.sites.map((s) => [
            id,
            s.site,
            s.status,
            s.quota,
            s.usedBefore,
            s.usedAfter,
            s.triggered,
            s.stillTriggered,
            s.protectedBytes,
            s.deletedBytes,
            s.keptBytes,
          ]),
        );
      }
      await tx.query(
        `UPDATE detox_cycles SET status = $1, ended_ms = $2, iterations = $3, evaluations = $4, deleted_bytes = $5,
           committed_generation = $6, unmatched_lines = $7::text::jsonb, budget = $9::text::jsonb WHERE id = $8`,
        [
          e.status,
          e.endedMs,
          e.iterations,
          e.evaluations,
          e.deletedBytes,
          e.committedGeneration,
          JSON.stringify(e.unmatchedLines),
          id,
          e.budget ? JSON.stringify(e.budget) : null,
        ],
      );
    });
  }

  async cycles(filter: { partition?: string; modes?: DetoxMode[]; limit?: number }): Promise<CycleRecord[]> {
    let q = this.db.kysely.selectFrom("detox_cycles").innerJoin(
      "detox_policies",
      "detox_policies.hash",
      "detox_cycles.policy_hash",
    )
      .selectAll("detox_cycles").select("detox_policies.text as policy_text").orderBy(
        "detox_cycles.id",
        "desc",
      )
      .limit(filter.limit ?? 100);
    if (filter.partition !== undefined) q = q.where("detox_cycles.partition", "=", filter.partition);
    if (filter.modes !== undefined) q = q.where("detox_cycles.mode", "in", filter.modes);
    return (await q.execute()).map(toCycle);
  }

  async cycle(id: number): Promise<CycleRecord | null> {
    const row = await this.db.kysely.selectFrom("detox_cycles").innerJoin(
      "detox_policies",
      "detox_policies.hash",
      "detox_cycles.policy_hash",
    )
      .selectAll("detox_cycles").select("detox_policies.text as policy_text").where(
        "detox_cycles.id",
        "=",
        id,
      )
      .executeTakeFirst();
    return row ? toCycle(row) : null;
  }

  async sites(cycleId: number): Promise<SiteRow[]> {
    const rows = await this.db.kysely.selectFrom("detox_sites").selectAll().where("cycle_id", "=", cycleId)
      .orderBy("site")
      .execute();
    return rows.map((r) => ({
      site: r.site,
      status: r.status,
      quota: r.quota,
      usedBefore: r.used_before,
      usedAfter: r.used_after,
      triggered: r.triggered,
      stillTriggered: r.still_triggered,
      protectedBytes: r.protected_bytes,
      deletedBytes: r.deleted_bytes,
      keptBytes: r.kept_bytes,
    }));
  }

  async decisions(
    cycleId: number,
    filter: DecisionFilter,
  ): Promise<DecisionRow[]> {
    let q = this.db.kysely.selectFrom("detox_decisions").selectAll().where("cycle_id", "=", cycleId)
      .orderBy("site").orderBy("dataset").orderBy("line").limit(filter.limit ?? 100_000);
    if (filter.site !== undefined) q = q.where("site", "=", filter.site);
    if (filter.dataset !== undefined) q = q.where("dataset", "=", filter.dataset);
    const like = filter.datasetLike;
    if (like !== undefined) q = q.where((eb) => eb.or(like.map((p) => eb("dataset", "like", p))));
    return (await q.execute()).map((r) => ({
      site: r.site,
      dataset: r.dataset,
      decision: r.decision as DecisionRow["decision"],
      line: r.line,
      size: r.size,
      blocks: r.blocks as string[],
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  }

  async policyText(hash: string): Promise<string | null> {
    const row = await this.db.kysely.selectFrom("detox_policies").select("text").where("hash", "=", hash)
      .executeTakeFirst();
    return row?.text ?? null;
  }
}

function toCycle(r: Record<string, unknown>): CycleRecord {
  return {
    id: r.id as number,
    partition: r.partition as string,
    mode: r.mode as DetoxMode,
    policyHash: r.policy_hash as string,
    policyText: r.policy_text as string,
    generation: r.generation as number,
    startedMs: r.started_ms as number,
    endedMs: r.ended_ms as number | null,
    timeShiftDays: r.time_shift_days as number,
    comment: r.comment as string | null,
    status: r.status as string,
    budget: (r.budget ?? null) as CycleRecord["budget"],
    iterations: r.iterations as number | null,
    evaluations: r.evaluations as number | null,
    deletedBytes: r.deleted_bytes as number | null,
    committedGeneration: r.committed_generation as number | null,
    unmatchedLines: (r.unmatched_lines as number[] | null) ?? [],
  };
}
