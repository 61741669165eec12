import type { Database } from "./database.ts";
import type {
  DeletionHistoryRow,
  FailureRecord,
  FileOpsStore,
  HoldReason,
  NewSubscription,
  PendingOperation,
  PlanUpdate,
  Subscription,
  SubscriptionKind,
  TaskOutcome,
  TransferHistoryRow,
} from "./fileops_store_port.ts";

const SUBSCRIPTION_COLUMNS =
  "id, kind, site, lfn, dataset, block, size, adler32, status, hold_reason, source, task_state, attempts, operation_id";

function toSubscription(r: unknown[]): Subscription {
  return {
    id: Number(r[0]),
    kind: r[1] as SubscriptionKind,
    site: r[2] as string,
    lfn: r[3] as string,
    dataset: r[4] as string,
    block: r[5] as string,
    size: Number(r[6]),
    adler32: r[7] as string | null,
    status: r[8] as Subscription["status"],
    holdReason: r[9] as HoldReason | null,
    source: r[10] as string | null,
    taskState: r[11] as Subscription["taskState"],
    attempts: Number(r[12]),
    operationId: r[13] === null ? null : Number(r[13]),
  };
}

export class SqlFileOpsStore implements FileOpsStore {
  constructor(private readonly db: Database) {}

  async pendingOperations(limit: number): Promise<PendingOperation[]> {
    const rows = await this.db.queryArrays(
      `SELECT id, kind, site, dataset, blocks FROM replica_operations WHERE status = 'new' ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: Number(r[0]),
      kind: r[1] as SubscriptionKind,
      site: r[2] as string,
      dataset: r[3] as string,
      blocks: r[4] === null ? null : (typeof r[4] === "string" ? JSON.parse(r[4]) : r[4]) as string[],
    }));
  }

  async blockFiles(dataset: string, blocks: string[]) {
    const rows = await this.db.queryArrays(
      `SELECT b.name, f.id, f.lfn, f.size, f.checksum->>'adler32'
         FROM files f JOIN blocks b ON b.id = f.block_id JOIN datasets d ON d.id = b.dataset_id
        WHERE d.name = $1 AND b.name = ANY($2::text[]) ORDER BY f.lfn`,
      [dataset, blocks],
    );
    const out = new Map<string, { id: number; lfn: string; size: number; adler32: string | null }[]>();
    for (const [block, id, lfn, size, adler32] of rows) {
      const list = out.get(block as string) ?? [];
      list.push({
        id: Number(id),
        lfn: lfn as string,
        size: Number(size),
        adler32: adler32 as string | null,
      });
      out.set(block as string, list);
    }
    return out;
  }

  async subscribe(op: PendingOperation, files: NewSubscription[], nowMs: number): Promise<number> {
    const opposite = op.kind === "copy" ? "deletion" : "copy";
    return await this.db.bulkTransaction(async (tx) => {
      const claimed = await tx.query(
        `UPDATE replica_operations SET status = $2, updated_ms = $3 WHERE id = $1 AND status = 'new' RETURNING id`,
        [op.id, files.length === 0 ? "done" : "active", nowMs],
      );
      if (claimed.length === 0 || files.length === 0) return 0; // another process took it
      const lfns = files.map((f) => f.lfn);
      await tx.query(
        `UPDATE file_subscriptions SET status = 'cancelled', task_state = NULL, updated_ms = $4
          WHERE kind = $1 AND site = $2 AND lfn = ANY($3::text[]) AND status NOT IN ('done', 'cancelled')`,
        [opposite, op.site, lfns, nowMs],
      );
      const rows = await tx.query(
        `INSERT INTO file_subscriptions
           (kind, site, lfn, dataset, block, size, adler32, operation_id, status, created_ms, updated_ms)
         SELECT $1, $2, l, d, b, z, c, $8, 'new', $9, $9
           FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[]) AS u(l, d, b, z, c)
         ON CONFLICT (lfn, site, kind) DO UPDATE SET
           status = 'new', hold_reason = NULL, source = NULL, task_state = NULL, worker = NULL,
           attempts = 0, next_attempt_ms = 0, operation_id = EXCLUDED.operation_id, updated_ms = EXCLUDED.updated_ms
           WHERE file_subscriptions.status IN ('done', 'cancelled')
         RETURNING id`,
        [
          op.kind,
          op.site,
          lfns,
          files.map((f) => f.dataset),
          files.map((f) => f.block),
          files.map((f) => f.size),
          files.map((f) => f.adler32),
          op.id,
          nowMs,
        ],
      );
      // Files already subscribed by an earlier operation now serve this one too.
      await tx.query(
        `UPDATE file_subscriptions SET operation_id = $1
          WHERE kind = $2 AND site = $3 AND lfn = ANY($4::text[]) AND status NOT IN ('done', 'cancelled')`,
        [op.id, op.kind, op.site, lfns],
      );
      return rows.length;
    });
  }

  async subscribeCopies(
    files: (NewSubscription & { site: string })[],
    options: { nowMs: number; renewFinished: boolean },
  ): Promise<number> {
    if (files.length === 0) return 0;
    const rows = await this.db.queryArrays(
      `INSERT INTO file_subscriptions (kind, site, lfn, dataset, block, size, adler32, status, created_ms, updated_ms)
       SELECT 'copy', s, l, d, b, z, c, 'new', $7, $7
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS u(s, l, d, b, z, c)
       ON CONFLICT (lfn, site, kind) DO UPDATE SET status = 'new', hold_reason = NULL, source = NULL,
         task_state = NULL, worker = NULL, lease_until_ms = NULL, attempts = 0, next_attempt_ms = 0,
         operation_id = NULL, updated_ms = EXCLUDED.updated_ms
         WHERE $8 AND file_subscriptions.status IN ('done', 'cancelled')
       RETURNING id`,
      [
        files.map((f) => f.site),
        files.map((f) => f.lfn),
        files.map((f) => f.dataset),
        files.map((f) => f.block),
        files.map((f) => f.size),
        files.map((f) => f.adler32),
        options.nowMs,
        options.renewFinished,
      ],
    );
    return rows.length;
  }

  async recoverTasks(nowMs: number, deadWorkerPrefix?: string): Promise<number> {
    const rows = await this.db.queryArrays(
      `UPDATE file_subscriptions SET status = 'new', task_state = NULL, worker = NULL, lease_until_ms = NULL,
              updated_ms = $1
        WHERE status = 'inbatch' AND task_state = 'active'
          AND (lease_until_ms < $1 OR ($2::text IS NOT NULL AND starts_with(worker, $2::text)))
        RETURNING id`,
      [nowMs, deadWorkerPrefix ?? null],
    );
    return rows.length;
  }

  async plannable(nowMs: number, limit: number) {
    const rows = await this.db.queryArrays(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM file_subscriptions
        WHERE (status IN ('new', 'retry') AND next_attempt_ms <= $1)
           OR (status = 'held' AND hold_reason = 'site_unavailable')
        ORDER BY site, block, id LIMIT $2`,
      [nowMs, limit],
    );
    const subs = rows.map(toSubscription);
    const failures = new Map<number, FailureRecord[]>();
    const retried = subs.filter((s) => s.attempts > 0).map((s) => s.id);
    if (retried.length > 0) {
      const frows = await this.db.queryArrays(
        `SELECT subscription_id, source, code, exit_code, recoverable, message, seq FROM file_failures
          WHERE subscription_id = ANY($1::bigint[]) ORDER BY seq`,
        [retried],
      );
      for (const f of frows) {
        const list = failures.get(Number(f[0])) ?? [];
        list.push({
          source: f[1] as string | null,
          code: f[2] as string,
          exitCode: Number(f[3]),
          recoverable: f[4] as boolean,
          message: f[5] as string,
          seq: Number(f[6]),
        });
        failures.set(Number(f[0]), list);
      }
    }
    return subs.map((subscription) => ({ subscription, failures: failures.get(subscription.id) ?? [] }));
  }

  async applyPlan(updates: PlanUpdate[], nowMs: number): Promise<void> {
    if (updates.length === 0) return;
    const status = updates.map((u) => u.status);
    await this.db.queryArrays(
      `UPDATE file_subscriptions s SET
              status = u.status, hold_reason = u.reason, source = u.source,
              task_state = CASE WHEN u.status = 'inbatch' THEN 'queued' ELSE NULL END,
              worker = NULL, lease_until_ms = NULL, updated_ms = $5
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, status, reason, source)
        WHERE s.id = u.id AND s.status IN ('new', 'retry', 'held')`,
      [
        updates.map((u) => u.id),
        status,
        updates.map((u) => (u.status === "held" ? u.reason : null)),
        updates.map((u) => (u.status === "inbatch" ? u.source : null)),
        nowMs,
      ],
    );
  }

  async claim(
    kind: SubscriptionKind,
    filter: { site?: string; source?: string },
    worker: string,
    limit: number,
    nowMs: number,
    leaseMs: number,
  ): Promise<Subscription[]> {
    const rows = await this.db.queryArrays(
      `UPDATE file_subscriptions SET task_state = 'active', worker = $5, lease_until_ms = $6, updated_ms = $7
        WHERE id IN (
          SELECT id FROM file_subscriptions
           WHERE status = 'inbatch' AND kind = $1
             AND ($2::text IS NULL OR site = $2::text) AND ($3::text IS NULL OR source = $3::text)
             AND (task_state = 'queued' OR (task_state = 'staging' AND next_attempt_ms <= $7))
           ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING ${SUBSCRIPTION_COLUMNS}`,
      [kind, filter.site ?? null, filter.source ?? null, limit, worker, nowMs + leaseMs, nowMs],
    );
    return rows.map(toSubscription).sort((a, b) => a.id - b.id);
  }

  async renewLeases(worker: string, ids: number[], untilMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.queryArrays(
      `UPDATE file_subscriptions SET lease_until_ms = $3 WHERE id = ANY($1::bigint[]) AND worker = $2
          AND task_state = 'active'`,
      [ids, worker, untilMs],
    );
  }

  async claimableWork(nowMs: number) {
    const rows = await this.db.queryArrays(
      `SELECT kind, source, site, count(*) FROM file_subscriptions
        WHERE status = 'inbatch' AND (task_state = 'queued' OR (task_state = 'staging' AND next_attempt_ms <= $1))
        GROUP BY kind, source, site ORDER BY kind, site, source`,
      [nowMs],
    );
    return {
      links: rows.filter((r) => r[0] === "copy").map((r) => ({
        source: r[1] as string,
        site: r[2] as string,
        count: Number(r[3]),
      })),
      deletionSites: rows.filter((r) => r[0] === "deletion").map((r) => ({
        site: r[2] as string,
        count: Number(r[3]),
      })),
    };
  }

  async markStaging(id: number, worker: string, checkAtMs: number, nowMs: number): Promise<void> {
    await this.db.queryArrays(
      `UPDATE file_subscriptions SET task_state = 'staging', worker = NULL, lease_until_ms = NULL,
              next_attempt_ms = $3, updated_ms = $4
        WHERE id = $1 AND worker = $2 AND status = 'inbatch'`,
      [id, worker, checkAtMs, nowMs],
    );
  }

  async finish(task: Subscription, worker: string, o: TaskOutcome): Promise<void> {
    await this.db.bulkTransaction(async (tx) => {
      if (task.kind === "copy") {
        await tx.query(
          `INSERT INTO file_transfers (lfn, source, destination, size, exit_code, code, message, started_ms, finished_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            task.lfn,
            task.source ?? "",
            task.site,
            task.size,
            o.ok ? 0 : o.exitCode ?? 5,
            o.ok ? null : o.code ?? null,
            o.ok ? null : o.message ?? null,
            o.startedMs,
            o.finishedMs,
          ],
        );
      } else {
        await tx.query(
          `INSERT INTO file_deletions (lfn, site, size, exit_code, code, message, started_ms, finished_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            task.lfn,
            task.site,
            task.size,
            o.ok ? 0 : o.exitCode ?? 5,
            o.ok ? null : o.code ?? null,
            o.ok ? null : o.message ?? null,
            o.startedMs,
            o.finishedMs,
          ],
        );
      }
      if (o.ok) {
        await tx.query(
          `UPDATE file_subscriptions SET status = 'done', task_state = NULL, worker = NULL, lease_until_ms = NULL,
                  updated_ms = $3
            WHERE id = $1 AND worker = $2 AND status = 'inbatch'`,
          [task.id, worker, o.finishedMs],
        );
        return;
      }
      await tx.query(
        `INSERT INTO file_failures (subscription_id, source, code, exit_code, recoverable, message, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          task.id,
          task.source,
          o.code ?? "EIO",
          o.exitCode ?? 5,
          o.recoverable ?? true,
          o.message ?? "",
          o.finishedMs,
        ],
      );
      const hold = o.retryAtMs === null;
      await tx.query(
        `UPDATE file_subscriptions SET status = $3, hold_reason = $4, task_state = NULL, worker = NULL,
                lease_until_ms = NULL, attempts = attempts + 1, next_attempt_ms = $5, updated_ms = $6
          WHERE id = $1 AND worker = $2 AND status = 'inbatch'`,
        [
          task.id,
          worker,
          hold ? "held" : "retry",
          hold ? "all_failed" : null,
          o.retryAtMs ?? 0,
          o.finishedMs,
        ],
      );
    });
  }

  async doneSubscriptions(limit: number): Promise<Subscription[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM file_subscriptions WHERE status IN ('done', 'cancelled')
        ORDER BY site, dataset, block, id LIMIT $1`,
      [limit],
    );
    return rows.map(toSubscription);
  }

  async openDeletionBlocks(): Promise<Set<string>> {
    const rows = await this.db.queryArrays(
      `SELECT DISTINCT site, dataset, block FROM file_subscriptions
        WHERE kind = 'deletion' AND status NOT IN ('done', 'cancelled')`,
    );
    return new Set(rows.map((r) => JSON.stringify(r)));
  }

  async removeSubscriptions(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.bulkTransaction(async (tx) => {
      await tx.query(`DELETE FROM file_failures WHERE subscription_id = ANY($1::bigint[])`, [ids]);
      await tx.query(`DELETE FROM file_subscriptions WHERE id = ANY($1::bigint[])`, [ids]);
    });
  }

  async settleOperations(nowMs: number): Promise<void> {
    await this.db.queryArrays(
      `UPDATE replica_operations o SET status = 'done', updated_ms = $1
        WHERE status IN ('active', 'failed') AND NOT EXISTS (
          SELECT 1 FROM file_subscriptions s WHERE s.operation_id = o.id AND s.status NOT IN ('done', 'cancelled'))`,
      [nowMs],
    );
    await this.db.queryArrays(
      `UPDATE replica_operations o SET status = 'failed', updated_ms = $1
        WHERE status = 'active'
          AND EXISTS (SELECT 1 FROM file_subscriptions s WHERE s.operation_id = o.id AND s.status = 'held'
                        AND s.hold_reason IN ('no_source', 'all_failed'))
          AND NOT EXISTS (SELECT 1 FROM file_subscriptions s WHERE s.operation_id = o.id
                            AND s.status IN ('new', 'inbatch', 'retry'))`,
      [nowMs],
    );
  }

  async release(ids: number[] | "all", nowMs: number): Promise<number> {
    return await this.db.bulkTransaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE file_subscriptions SET status = 'new', hold_reason = NULL, attempts = 0, next_attempt_ms = 0,
                updated_ms = $2
          WHERE status = 'held' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) RETURNING id, operation_id`,
        [ids === "all" ? null : ids, nowMs],
      );
      const released = rows.map((r) => Number(r[0]));
      if (released.length > 0) {
        await tx.query(`DELETE FROM file_failures WHERE subscription_id = ANY($1::bigint[])`, [released]);
        await tx.query(
          `UPDATE replica_operations SET status = 'active', updated_ms = $2 WHERE status = 'failed' AND id = ANY($1::bigint[])`,
          [rows.map((r) => r[1]).filter((x) => x !== null), nowMs],
        );
      }
      return released.length;
    });
  }

  async current(limit: number): Promise<Subscription[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM file_subscriptions WHERE status IN ('new', 'inbatch', 'retry')
        ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map(toSubscription);
  }

  async held(limit: number) {
    const rows = await this.db.queryArrays(
      `SELECT ${SUBSCRIPTION_COLUMNS.split(", ").map((c) => `s.${c}`).join(", ")},
              (SELECT f.code || ': ' || f.message FROM file_failures f WHERE f.subscription_id = s.id
                ORDER BY f.seq DESC LIMIT 1)
         FROM file_subscriptions s WHERE s.status = 'held' ORDER BY s.id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ ...toSubscription(r), lastError: r[14] as string | null }));
  }

  async filesOf(
    filter: { dataset: string; site?: string; kind?: SubscriptionKind; offset: number; limit: number },
  ) {
    const rows = await this.db.queryArrays(
      `SELECT ${SUBSCRIPTION_COLUMNS.split(", ").map((c) => `s.${c}`).join(", ")},
              (SELECT f.code || ': ' || f.message FROM file_failures f WHERE f.subscription_id = s.id
                ORDER BY f.seq DESC LIMIT 1)
         FROM file_subscriptions s WHERE s.dataset = $1 AND ($2::text IS NULL OR s.site = $2)
          AND ($3::text IS NULL OR s.kind = $3)
        ORDER BY s.site, s.block, s.lfn, s.kind LIMIT $4 OFFSET $5`,
      [filter.dataset, filter.site ?? null, filter.kind ?? null, filter.limit, filter.offset],
    );
    return rows.map((r) => ({ ...toSubscription(r), lastError: r[14] as string | null }));
  }

  async heldSummary() {
    const rows = await this.db.queryArrays(
      `SELECT site, kind, hold_reason, count(*), coalesce(sum(size), 0) FROM file_subscriptions
        WHERE status = 'held' GROUP BY site, kind, hold_reason ORDER BY site, kind, hold_reason`,
    );
    return rows.map((r) => ({
      site: r[0] as string,
      kind: r[1] as SubscriptionKind,
      reason: r[2] as HoldReason,
      files: Number(r[3]),
      bytes: Number(r[4]),
    }));
  }

  async transferHistory(limit: number, sinceMs = 0): Promise<TransferHistoryRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT id, lfn, source, destination, size, exit_code, code, message, started_ms, finished_ms
         FROM file_transfers WHERE finished_ms >= $2 ORDER BY id DESC LIMIT $1`,
      [limit, sinceMs],
    );
    return rows.map((r) => ({
      id: Number(r[0]),
      lfn: r[1] as string,
      source: r[2] as string,
      destination: r[3] as string,
      size: Number(r[4]),
      exitCode: Number(r[5]),
      code: r[6] as string | null,
      message: r[7] as string | null,
      startedMs: Number(r[8]),
      finishedMs: Number(r[9]),
    }));
  }

  async deletionHistory(limit: number, sinceMs = 0): Promise<DeletionHistoryRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT id, lfn, site, size, exit_code, code, message, started_ms, finished_ms
         FROM file_deletions WHERE finished_ms >= $2 ORDER BY id DESC LIMIT $1`,
      [limit, sinceMs],
    );
    return rows.map((r) => ({
      id: Number(r[0]),
      lfn: r[1] as string,
      site: r[2] as string,
      size: Number(r[3]),
      exitCode: Number(r[4]),
      code: r[5] as string | null,
      message: r[6] as string | null,
      startedMs: Number(r[7]),
      finishedMs: Number(r[8]),
    }));
  }
}
