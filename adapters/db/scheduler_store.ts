import type { Selectable } from "kysely";
import { type Database, jsonb } from "./database.ts";
import type { DB } from "./schema.ts";
import type {
  ApplicationRun,
  ApplicationStatus,
  SchedulerStore,
  SequenceState,
} from "./scheduler_store_port.ts";

export class SqlSchedulerStore implements SchedulerStore {
  constructor(private readonly db: Database) {}

  async sequenceStates(): Promise<SequenceState[]> {
    const rows = await this.db.kysely.selectFrom("scheduler_sequences").selectAll().orderBy("name").execute();
    return rows.map((r) => ({ name: r.name, enabled: r.enabled, position: r.position }));
  }

  async saveSequence(state: SequenceState, nowMs: number): Promise<void> {
    await this.db.kysely.insertInto("scheduler_sequences")
      .values({ name: state.name, enabled: state.enabled, position: state.position, updated_ms: nowMs })
      .onConflict((oc) =>
        oc.column("name").doUpdateSet({ enabled: state.enabled, position: state.position, updated_ms: nowMs })
      )
      .execute();
  }

  async createRun(
    run: { title: string; args: string[]; write: boolean; sequence: string | null; user: string | null },
    nowMs: number,
  ): Promise<number> {
    const row = await this.db.kysely.insertInto("applications").values({
      title: run.title,
      args: jsonb(run.args),
      write: run.write,
      sequence: run.sequence,
      user_name: run.user,
      status: "new",
      message: null,
      created_ms: nowMs,
      started_ms: null,
      finished_ms: null,
    }).returning("id").executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async startRun(id: number, nowMs: number): Promise<void> {
    await this.db.kysely.updateTable("applications").set({ status: "run", started_ms: nowMs })
      .where("id", "=", id).execute();
  }

  async finishRun(
    id: number,
    status: ApplicationStatus,
    message: string | null,
    nowMs: number,
  ): Promise<void> {
    await this.db.kysely.updateTable("applications").set({ status, message, finished_ms: nowMs })
      .where("id", "=", id).execute();
  }

  async runs(limit: number): Promise<ApplicationRun[]> {
    const rows = await this.db.kysely.selectFrom("applications").selectAll().orderBy("id", "desc")
      .limit(limit).execute();
    return rows.map(toRun);
  }

  async queuedRuns(): Promise<ApplicationRun[]> {
    const rows = await this.db.kysely.selectFrom("applications").selectAll()
      .where("status", "=", "new").where("sequence", "is", null).orderBy("id").execute();
    return rows.map(toRun);
  }

  async failInterrupted(nowMs: number): Promise<number> {
    const result = await this.db.kysely.updateTable("applications")
      .set({
        status: "failed",
        message: "interrupted: the scheduler stopped while it ran",
        finished_ms: nowMs,
      })
      .where((eb) =>
        eb.or([eb("status", "=", "run"), eb.and([eb("status", "=", "new"), eb("sequence", "is not", null)])])
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function toRun(row: Selectable<DB["applications"]>): ApplicationRun {
  return {
    id: Number(row.id),
    title: row.title,
    args: Array.isArray(row.args) ? row.args.map(String) : [],
    write: row.write,
    sequence: row.sequence,
    user: row.user_name,
    status: row.status as ApplicationStatus,
    message: row.message,
    createdMs: Number(row.created_ms),
    startedMs: row.started_ms === null ? null : Number(row.started_ms),
    finishedMs: row.finished_ms === null ? null : Number(row.finished_ms),
  };
}
