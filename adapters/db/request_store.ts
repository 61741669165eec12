import type { Kysely, Selectable } from "kysely";
import type { CopyAction, CopyRequest, CopySubmission } from "../../registry/requests/copy_request.ts";
import type {
  DeletionAction,
  DeletionRequest,
  DeletionSubmission,
} from "../../registry/requests/deletion_request.ts";
import { compileGlob } from "../../registry/inventory/mod.ts";
import { mergeRepeatedCopy, mergeRepeatedDeletion } from "../../registry/requests/request_merge.ts";
import { type Database, jsonb } from "./database.ts";
import type { Created, RequestFilter, RequestStore } from "./request_store_port.ts";
import type { DB } from "./schema.ts";

const OPEN = ["new", "activated"];

export class SqlRequestStore implements RequestStore {
  constructor(private readonly db: Database) {}

  async submitCopy(user: string, s: CopySubmission, nowMs: number): Promise<Created<CopyRequest>> {
    return await this.db.transaction(async (tx) => {
      const open = (await openRows(tx, "copy_requests", user)).map(toCopyRequest);
      const merge = mergeRepeatedCopy({ open, user, submission: s, nowMs });
      if (merge) {
        const row = await tx.updateTable("copy_requests").set({
          request_count: merge.requestCount,
          last_request_ms: merge.lastRequestMs,
          ...(merge.edit
            ? { group_name: merge.edit.group, n: merge.edit.n, updated_ms: merge.edit.updatedMs }
            : {}),
        }).where("id", "=", merge.id).returningAll().executeTakeFirstOrThrow();
        return { request: toCopyRequest(row), created: false };
      }
      const row = await tx.insertInto("copy_requests").values({
        ...newRequestRow(user, s, nowMs),
        group_name: s.group,
        n: s.n,
      }).returningAll().executeTakeFirstOrThrow();
      return { request: toCopyRequest(row), created: true };
    });
  }

  async submitDeletion(
    user: string,
    s: DeletionSubmission,
    nowMs: number,
  ): Promise<Created<DeletionRequest>> {
    return await this.db.transaction(async (tx) => {
      const open = (await openRows(tx, "deletion_requests", user)).map(toDeletionRequest);
      const merge = mergeRepeatedDeletion({ open, user, submission: s, nowMs });
      if (merge) {
        const row = await tx.updateTable("deletion_requests").set({
          request_count: merge.requestCount,
          last_request_ms: merge.lastRequestMs,
        }).where("id", "=", merge.id).returningAll().executeTakeFirstOrThrow();
        return { request: toDeletionRequest(row), created: false };
      }
      const row = await tx.insertInto("deletion_requests").values(newRequestRow(user, s, nowMs))
        .returningAll().executeTakeFirstOrThrow();
      return { request: toDeletionRequest(row), created: true };
    });
  }

  async openCopyRequests(): Promise<CopyRequest[]> {
    return (await openRows(this.db.kysely, "copy_requests")).map(toCopyRequest);
  }

  async openDeletionRequests(): Promise<DeletionRequest[]> {
    return (await openRows(this.db.kysely, "deletion_requests")).map(toDeletionRequest);
  }

  async saveCopyRequests(changes: readonly { before: CopyRequest; after: CopyRequest }[]): Promise<number> {
    return await this.save("copy_requests", changes);
  }

  async saveDeletionRequests(
    changes: readonly { before: DeletionRequest; after: DeletionRequest }[],
  ): Promise<number> {
    return await this.save("deletion_requests", changes);
  }

  private async save(
    table: "copy_requests" | "deletion_requests",
    changes: readonly { before: CopyRequest | DeletionRequest; after: CopyRequest | DeletionRequest }[],
  ): Promise<number> {
    const changed = changes.filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after));
    if (changed.length === 0) return 0;
    return await this.db.transaction(async (tx) => {
      let written = 0;
      for (const { before, after } of changed) {
        // Optimistic: a request cancelled or re-submitted meanwhile is left as it is now.
        const r = await tx.updateTable(table).set({
          status: after.status,
          reason: after.reason,
          actions: jsonb(after.actions),
          updated_ms: after.updatedAt * 1000,
        }).where("id", "=", after.id).where("status", "=", before.status)
          .where("request_count", "=", before.requestCount).executeTakeFirst();
        written += Number(r.numUpdatedRows);
      }
      return written;
    });
  }

  async copyRequests(filter: RequestFilter): Promise<CopyRequest[]> {
    return latestOnly(filter, (await filtered(this.db.kysely, "copy_requests", filter)).map(toCopyRequest));
  }

  async deletionRequests(filter: RequestFilter): Promise<DeletionRequest[]> {
    return latestOnly(
      filter,
      (await filtered(this.db.kysely, "deletion_requests", filter)).map(toDeletionRequest),
    );
  }

  async cancelCopy(id: number, user: string | null, nowMs: number): Promise<CopyRequest | string> {
    return await this.db.transaction(async (tx) => {
      const row = await tx.selectFrom("copy_requests").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return `no copy request ${id}`;
      if (user !== null && row.user_name !== user) return `request ${id} belongs to ${row.user_name}`;
      if (row.status !== "new") return `request ${id} is ${row.status}; only new requests can be cancelled`;
      const updated = await tx.updateTable("copy_requests").set({
        status: "cancelled",
        reason: `cancelled by ${user ?? "an administrator"}`,
        updated_ms: nowMs,
      }).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
      return toCopyRequest(updated);
    });
  }
}

type RequestTable = "copy_requests" | "deletion_requests";

/** The columns every new request starts with. */
function newRequestRow(user: string, s: { items: string[]; sites: string[] }, nowMs: number) {
  return {
    user_name: user,
    items: jsonb(s.items),
    sites: jsonb(s.sites),
    status: "new",
    reason: null,
    actions: jsonb([]),
    created_ms: nowMs,
    updated_ms: nowMs,
    last_request_ms: nowMs,
    request_count: 1,
  };
}

async function openRows<T extends RequestTable>(db: Kysely<DB>, table: T, user?: string) {
  let q = db.selectFrom(table as RequestTable).selectAll().where("status", "in", OPEN).orderBy("id");
  if (user !== undefined) q = q.where("user_name", "=", user);
  return await q.execute() as Selectable<DB[T]>[];
}

async function filtered<T extends RequestTable>(db: Kysely<DB>, table: T, f: RequestFilter) {
  let q = db.selectFrom(table as RequestTable).selectAll().orderBy("id", "desc");
  if (f.ids) q = q.where("id", "in", f.ids.length ? f.ids : [-1]);
  if (f.user) q = q.where("user_name", "=", f.user);
  if (f.statuses) q = q.where("status", "in", f.statuses.length ? f.statuses : [""]);
  const rows = await q.limit(Math.min(f.limit ?? 1000, 10_000) * (f.item || f.site ? 20 : 1))
    .execute() as Selectable<
      DB[T]
    >[];
  return rows.filter((row) => {
    const r = row as { items: unknown; sites: unknown };
    if (f.item && !(r.items as string[]).includes(f.item)) return false;
    if (f.site && !(r.sites as string[]).some((p) => p === f.site || compileGlob(p).test(f.site!))) {
      return false;
    }
    return true;
  }).slice(0, f.limit ?? 1000);
}

/** Without `all`, a poll by item and site shows only the newest request (as the original). */
function latestOnly<T extends { id: number }>(f: RequestFilter, rows: T[]): T[] {
  return f.all || !(f.item && f.site) ? rows : rows.slice(0, 1);
}

function toCopyRequest(row: Selectable<DB["copy_requests"]>): CopyRequest {
  return {
    id: row.id,
    user: row.user_name,
    group: row.group_name,
    n: row.n,
    items: row.items as string[],
    sites: row.sites as string[],
    status: row.status as CopyRequest["status"],
    reason: row.reason,
    createdAt: Math.floor(row.created_ms / 1000),
    updatedAt: Math.floor(row.updated_ms / 1000),
    lastRequestAt: Math.floor(row.last_request_ms / 1000),
    requestCount: row.request_count,
    actions: row.actions as CopyAction[],
  };
}

function toDeletionRequest(row: Selectable<DB["deletion_requests"]>): DeletionRequest {
  return {
    id: row.id,
    user: row.user_name,
    items: row.items as string[],
    sites: row.sites as string[],
    status: row.status as DeletionRequest["status"],
    reason: row.reason,
    createdAt: Math.floor(row.created_ms / 1000),
    updatedAt: Math.floor(row.updated_ms / 1000),
    lastRequestAt: Math.floor(row.last_request_ms / 1000),
    requestCount: row.request_count,
    actions: row.actions as DeletionAction[],
  };
}
