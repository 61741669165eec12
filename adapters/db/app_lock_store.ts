import type { AppLock, LockableApp } from "../../registry/requests/app_lock.ts";
import type { Database } from "./database.ts";
import type { AppLockStore } from "./app_lock_store_port.ts";

export class SqlAppLockStore implements AppLockStore {
  constructor(private readonly db: Database) {}

  async lockApp(lock: AppLock) {
    return await this.db.transaction(async (tx) => {
      const row = await tx.selectFrom("app_locks").selectAll().where("app", "=", lock.app).forUpdate()
        .executeTakeFirst();
      if (row && row.user_name !== lock.user) return { ok: false as const, lock: toLock(row) };
      await tx.insertInto("app_locks").values({
        app: lock.app,
        user_name: lock.user,
        service: lock.service,
        note: lock.note,
        since_ms: row ? row.since_ms : lock.since * 1000,
      }).onConflict((oc) => oc.column("app").doUpdateSet({ service: lock.service, note: lock.note }))
        .execute();
      return {
        ok: true as const,
        lock: { ...lock, since: row ? Math.floor(row.since_ms / 1000) : lock.since },
      };
    });
  }

  async unlockApp(app: LockableApp, user: string | null): Promise<boolean> {
    // In a transaction, so that a cluster leader's write is fenced (adapters/db/fenced_database.ts).
    return await this.db.transaction(async (tx) => {
      let q = tx.deleteFrom("app_locks").where("app", "=", app);
      if (user !== null) q = q.where("user_name", "=", user);
      return Number((await q.executeTakeFirst()).numDeletedRows) > 0;
    });
  }

  async appLocks(): Promise<AppLock[]> {
    return (await this.db.kysely.selectFrom("app_locks").selectAll().orderBy("app").execute()).map(toLock);
  }
}

function toLock(
  row: { app: string; user_name: string; service: string | null; note: string | null; since_ms: number },
) {
  return {
    app: row.app as LockableApp,
    user: row.user_name,
    service: row.service,
    note: row.note,
    since: Math.floor(row.since_ms / 1000),
  };
}
