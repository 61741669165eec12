import { type DetoxLock, type LockRequest, sameLockTarget } from "../../registry/requests/detox_lock.ts";
import { compileGlob } from "../../registry/inventory/mod.ts";
import type { Kysely, Selectable } from "kysely";
import { type Database, jsonb } from "./database.ts";
import type { DB } from "./schema.ts";
import type { LockFilter, LockStore } from "./lock_store_port.ts";

export class SqlLockStore implements LockStore {
  constructor(private readonly db: Database) {}

  async listLocks(filter: LockFilter): Promise<DetoxLock[]> {
    let q = this.db.kysely.selectFrom("detox_locks").selectAll().orderBy("id");
    if (filter.activeAt !== undefined) {
      q = q.where("unlocked_ms", "is", null).where("expires_ms", ">", filter.activeAt * 1000);
    }
    if (filter.user !== undefined) q = q.where("user_name", "=", filter.user);
    if (filter.ids !== undefined) q = q.where("id", "in", filter.ids.length ? filter.ids : [-1]);
    const rows = (await q.execute()).map(toLock);
    if (filter.item === undefined) return rows;
    const re = compileGlob(filter.item);
    return rows.filter((l) => re.test(l.item));
  }

  async lock(user: string, r: LockRequest, nowMs: number): Promise<DetoxLock> {
    return await this.db.transaction((tx) => lockIn(tx, user, r, nowMs));
  }

  async unlock(user: string | null, ids: number[], nowMs: number): Promise<number> {
    // In a transaction, so that a cluster leader's write is fenced (adapters/db/fenced_database.ts).
    return await this.db.transaction((tx) => unlockIn(tx, user, ids, nowMs));
  }

  /** Makes the user's active locks exactly `requests`, all or nothing. */
  async setLocks(user: string, requests: LockRequest[], nowMs: number) {
    return await this.db.transaction(async (tx) => {
      const mine = (await activeLocks(tx, nowMs).where("user_name", "=", user).execute()).map(toLock);
      let created = 0;
      let updated = 0;
      for (const r of requests) {
        if (mine.some((l) => sameLockTarget(l, r))) updated += 1;
        else created += 1;
        await lockIn(tx, user, r, nowMs);
      }
      const stale = mine.filter((l) => !requests.some((r) => sameLockTarget(l, r))).map((l) => l.id);
      const unlocked = await unlockIn(tx, user, stale, nowMs);
      return { created, updated, unlocked };
    });
  }
}

function activeLocks(db: Kysely<DB>, nowMs: number) {
  return db.selectFrom("detox_locks").selectAll().where("unlocked_ms", "is", null).where(
    "expires_ms",
    ">",
    nowMs,
  );
}

async function lockIn(tx: Kysely<DB>, user: string, r: LockRequest, nowMs: number): Promise<DetoxLock> {
  const mine = (await tx.selectFrom("detox_locks").selectAll().where("user_name", "=", user)
    .where("unlocked_ms", "is", null).execute()).map(toLock);
  const existing = mine.find((l) => sameLockTarget(l, r));
  if (existing) {
    await tx.updateTable("detox_locks").set({
      expires_ms: r.expiresAt * 1000,
      service: r.service,
      comment: r.comment,
    }).where("id", "=", existing.id).execute();
    return { ...existing, expiresAt: r.expiresAt, service: r.service, comment: r.comment };
  }
  const row = await tx.insertInto("detox_locks").values({
    item: r.item,
    sites: jsonb(r.sites),
    groups: jsonb(r.groups),
    user_name: user,
    service: r.service,
    comment: r.comment,
    created_ms: nowMs,
    expires_ms: r.expiresAt * 1000,
    unlocked_ms: null,
  }).returningAll().executeTakeFirstOrThrow();
  return toLock(row);
}

async function unlockIn(db: Kysely<DB>, user: string | null, ids: number[], nowMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  let q = db.updateTable("detox_locks").set({ unlocked_ms: nowMs }).where("id", "in", ids)
    .where("unlocked_ms", "is", null);
  if (user !== null) q = q.where("user_name", "=", user);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

function toLock(row: Selectable<DB["detox_locks"]>): DetoxLock {
  return {
    id: row.id,
    item: row.item,
    sites: row.sites as string[],
    groups: row.groups as string[],
    user: row.user_name,
    service: row.service,
    comment: row.comment,
    createdAt: Math.floor(row.created_ms / 1000),
    expiresAt: Math.floor(row.expires_ms / 1000),
    unlockedAt: row.unlocked_ms === null ? null : Math.floor(row.unlocked_ms / 1000),
  };
}
