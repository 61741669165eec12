/**
 * The token cache on PostgreSQL (`TokenCache` in user_store.ts): tokens are used from memory only
 * while this process listens for changes to users, roles and tokens, and every such change
 * committed anywhere ends them. PGlite's cache is covered by user_store_test.ts.
 *
 * "Silently" below is a write that notifies no one (triggers disabled for its transaction): what a
 * notification lost on the way would look like. It shows whether a token came from memory.
 */
import { CompiledQuery } from "kysely";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { postgresTest } from "../../tests/helpers/db.ts";
import type { Database } from "./database.ts";
import { isFresh, SqlUserStore, TOKEN_CACHE_TTL_MS } from "./user_store.ts";
import { yieldToEventLoop } from "../../actors/runtime/clock.ts";
import { parseAuthorization } from "./user_store_port.ts";

async function silently(db: Database, text: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.executeQuery(CompiledQuery.raw("SET LOCAL session_replication_role = replica"));
    await tx.executeQuery(CompiledQuery.raw(text));
  });
}

/** `promise`, or a failure after 10 s: a notification that never comes fails the test instead of hanging it. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within 10 s`)), 10_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function roles(users: SqlUserStore, token: string, nowMs: number): Promise<string[] | null> {
  const p = await users.authenticateToken(token, nowMs);
  return p ? p.authorizations.map((a) => `${a.role}:${a.target}`) : null;
}

/** A user "alice" (admin:inventory, operator:registry) added by `writer`; her token. */
async function alice(writer: SqlUserStore): Promise<string> {
  const { token } = await writer.addUser({
    name: "alice",
    authorizations: [parseAuthorization("admin:inventory"), parseAuthorization("operator:registry")],
  }, 0);
  return token;
}

const BOTH = ["admin:inventory", "operator:registry"];

postgresTest(
  "a token cached here is ended by a revocation in another process as soon as its notification arrives",
  async ({ db, reopen }) => {
    const other = new SqlUserStore(await reopen!()); // another process: its own connections and cache
    const here = new SqlUserStore(db);
    const token = await alice(other);
    assert(await here.listenForTokenChanges(0));
    assertEquals(await roles(here, token, 1000), BOTH);
    await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
    assertEquals(await roles(here, token, 1001), BOTH, "from memory");
    const forgotten = here.tokensForgotten();
    assertEquals(await other.revokeUser("alice", 2000), true);
    await within(forgotten, "the notification");
    assertEquals(await roles(here, token, 2001), null);
    assertEquals(await roles(here, token, 2002), null);
  },
);

postgresTest(
  "any write to users, roles or tokens ends cached tokens, whoever makes it; a token's last use does not",
  async ({ db, reopen }) => {
    const psql = await reopen!();
    const here = new SqlUserStore(db);
    const token = await alice(here);
    assert(await here.listenForTokenChanges(0));
    for (
      const [i, change] of [
        "DELETE FROM user_roles WHERE role = 'operator'",
        "INSERT INTO user_roles (user_id, role, target) SELECT id, 'operator', 'registry' FROM users",
        "UPDATE users SET email = 'alice@example.org'",
        "UPDATE user_tokens SET revoked_ms = 5",
      ].entries()
    ) {
      const expected = [["admin:inventory"], BOTH, BOTH, null][i];
      await roles(here, token, 1000 + i); // cached (or not, once revoked)
      const forgotten = here.tokensForgotten();
      await psql.exec(change);
      await within(forgotten, "the notification");
      assertEquals(await roles(here, token, 1000 + i), expected, change);
    }
    // The once-a-minute write of a token's last use notifies no one: one connection hears the
    // notifications in commit order, so what it hears between two markers of its own was sent between.
    const heard: string[] = [];
    const waiting = new Map<string, () => void>();
    const unlisten = await psql.listen("dynamo_users", (payload) => {
      heard.push(payload);
      waiting.get(payload)?.();
    });
    const mark = async (marker: string) => {
      const arrived = new Promise<void>((resolve) => waiting.set(marker, resolve));
      await psql.notify("dynamo_users", marker);
      await within(arrived, marker);
    };
    const { token: second } = await here.addUser({ name: "bob", authorizations: [] }, 0);
    const lastUsed =
      "SELECT last_used_ms FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'bob'";
    assertEquals(await db.queryArrays(lastUsed), [[null]]);
    await mark("before");
    heard.length = 0;
    assertEquals((await here.authenticateToken(second, 10_000))?.user, "bob");
    assertEquals(await db.queryArrays(lastUsed), [[10_000]]);
    await mark("after");
    assertEquals(heard, ["after"]);
    await unlisten();
  },
);

postgresTest(
  "a lost listener forgets every cached token; the next authentication listens again",
  async ({ db }) => {
    const here = new SqlUserStore(db);
    const token = await alice(here);
    assert(await here.listenForTokenChanges(0));
    assertEquals(await roles(here, token, 1000), BOTH);
    await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
    assertEquals(await roles(here, token, 1001), BOTH, "from memory");
    const forgotten = here.tokensForgotten();
    const [[terminated]] = await db.queryArrays(
      "SELECT count(pg_terminate_backend(pid))::integer FROM pg_stat_activity WHERE application_name = $1",
      [`dynamo dynamo_users ${db.schema}`],
    ) as [[number]];
    assertEquals(terminated, 1);
    await within(forgotten, "the notification");
    // Not from memory: the change it did not hear of is seen.
    assertEquals(await roles(here, token, 1002), ["admin:inventory"]);
    // Listening again (the authentication above started it), it caches and hears changes again.
    assert(await here.listenForTokenChanges(1003));
    assertEquals(await roles(here, token, 1004), ["admin:inventory"]);
    await silently(db, "DELETE FROM user_roles");
    assertEquals(await roles(here, token, 1005), ["admin:inventory"], "from memory");
    const again = here.tokensForgotten();
    assertEquals(await here.revokeUser("alice", 1006), true);
    await within(again, "the notification");
    assertEquals(await roles(here, token, 1007), null);
  },
);

postgresTest("without a listener, no token is used from memory", async ({ db }) => {
  const { subscribe: _, ...withoutListener } = db;
  const here = new SqlUserStore(withoutListener);
  const token = await alice(here);
  assert(!await here.listenForTokenChanges(0));
  assertEquals(await roles(here, token, 1000), BOTH);
  await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
  assertEquals(await roles(here, token, 1001), ["admin:inventory"]);
  await silently(db, "UPDATE user_tokens SET revoked_ms = 1");
  assertEquals(await roles(here, token, 1002), null);
});

postgresTest("until its LISTEN is answered, no token is used from memory", async ({ db }) => {
  // The real listener, held back between its LISTEN being answered and the store hearing so.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const subscribe = db.subscribe!;
  const here = new SqlUserStore({
    ...db,
    subscribe: async (channel, onNotify, onLost) => {
      const unsubscribe = await subscribe.call(db, channel, onNotify, onLost);
      await gate;
      return unsubscribe;
    },
  });
  const token = await alice(here);
  assertEquals(await roles(here, token, 1000), BOTH); // starts listening
  await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
  assertEquals(await roles(here, token, 1001), ["admin:inventory"]);
  await silently(db, "DELETE FROM user_roles");
  assertEquals(await roles(here, token, 1002), []);
  release();
  assert(await here.listenForTokenChanges(1003));
  assertEquals(await roles(here, token, 1004), []);
  await silently(db, "UPDATE user_tokens SET revoked_ms = 1");
  assertEquals(await roles(here, token, 1005), [], "from memory, now");
});

postgresTest(
  "a cached token is looked up again after the TTL, or when the clock is set back",
  async ({ db }) => {
    const here = new SqlUserStore(db);
    const token = await alice(here);
    assert(await here.listenForTokenChanges(0));
    assertEquals(await roles(here, token, 1000), BOTH);
    await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
    assertEquals(await roles(here, token, 1000 + TOKEN_CACHE_TTL_MS - 1), BOTH, "from memory");
    assertEquals(await roles(here, token, 1000 + TOKEN_CACHE_TTL_MS), ["admin:inventory"]);
    await silently(db, "DELETE FROM user_roles");
    assertEquals(await roles(here, token, 999), [], "a clock set back");
  },
);

postgresTest(
  "hostile tokens are refused, are not cached, and do not evict a cached token",
  async ({ db }) => {
    const here = new SqlUserStore(db);
    const token = await alice(here);
    assert(await here.listenForTokenChanges(0));
    assertEquals(await roles(here, token, 1000), BOTH);
    await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
    const hostile = [
      "",
      "dyn_",
      token.slice(0, -1),
      token + "x",
      token.toUpperCase(),
      " " + token,
      "dyn_' OR '1'='1",
      "dyn_\u0000" + token.slice(4),
      "dyn_" + "a".repeat(97),
      ...Array.from({ length: 300 }, (_, i) => `dyn_${i}`),
    ];
    for (const h of hostile) assertEquals(await here.authenticateToken(h, 1001), null, JSON.stringify(h));
    for (const h of hostile.slice(0, 9)) assertEquals(await here.authenticateToken(h, 1002), null);
    assertEquals(await roles(here, token, 1003), BOTH, "still from memory");
  },
);

Deno.test("isFresh: within the TTL and not before the lookup", () => {
  assert(isFresh(1000, 1000, 10));
  assert(isFresh(1000, 1009, 10));
  assert(!isFresh(1000, 1010, 10));
  assert(!isFresh(1000, 999, 10));
});

postgresTest(
  "a listener lost before it was ready does not mark the next one, still starting, as listening",
  async ({ db }) => {
    // The real subscription. The first: LISTEN answered, then its backend terminated and the loss
    // heard, then held (the store has not yet heard that the first attempt resolved). The second:
    // held before it even sends LISTEN.
    let releaseFirst!: () => void;
    const first = new Promise<void>((resolve) => releaseFirst = resolve);
    let firstReturned!: () => void;
    const returned = new Promise<void>((resolve) => firstReturned = resolve);
    let releaseSecond!: () => void;
    const second = new Promise<void>((resolve) => releaseSecond = resolve);
    const subscribe = db.subscribe!;
    let calls = 0;
    const here = new SqlUserStore({
      ...db,
      subscribe: async (channel, onNotify, onLost) => {
        if (++calls === 2) await second;
        let lostHeard!: () => void;
        const heard = new Promise<void>((resolve) => lostHeard = resolve);
        const unsubscribe = await subscribe.call(db, channel, onNotify, () => {
          onLost();
          lostHeard();
        });
        if (calls === 1) {
          await db.queryArrays(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            [`dynamo dynamo_users ${db.schema}`],
          );
          await within(heard, "the loss");
          await first;
          firstReturned();
        }
        return unsubscribe;
      },
    });
    const token = await alice(here);
    assertEquals(await roles(here, token, 1000), BOTH); // the first attempt
    const forgotten = here.tokensForgotten();
    // The first attempt's loss is heard while it is held; the next authentication starts the second.
    await within(forgotten, "the loss");
    assertEquals(await roles(here, token, 1001), BOTH);
    assertEquals(calls, 2);
    releaseFirst();
    await returned;
    await yieldToEventLoop(); // the first attempt's answer handled
    // The second has not sent its LISTEN: nothing may come from memory.
    assertEquals(await roles(here, token, 1002), BOTH);
    await silently(db, "DELETE FROM user_roles WHERE role = 'operator'");
    assertEquals(await roles(here, token, 1003), ["admin:inventory"], "not from memory");
    releaseSecond();
    assert(await here.listenForTokenChanges(1004));
  },
);
