import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { LAST_USED_RESOLUTION_MS, lastUsedIsStale, SqlUserStore } from "./user_store.ts";
import { hasRole, parseAuthorization } from "./user_store_port.ts";

dbTest("a new user's token authenticates with their roles; revocation ends it", async ({ db }) => {
  const users = new SqlUserStore(db);
  const { token } = await users.addUser({
    name: "alice",
    authorizations: [parseAuthorization("admin:inventory")],
  }, 1000);
  assert(token.startsWith("dyn_") && token.length > 40);
  const p = await users.authenticateToken(token, 2000);
  assertEquals(p, { user: "alice", authorizations: [{ role: "admin", target: "inventory" }] });
  assert(hasRole(p, "inventory") && !hasRole(p, "registry"));
  // The token itself is not stored.
  const stored = await db.queryArrays("SELECT token_hash FROM user_tokens");
  assert(!JSON.stringify(stored).includes(token));
  assertEquals(await users.authenticateToken(token.slice(0, -1) + "x", 2000), null);
  assertEquals(await users.authenticateToken("garbage", 2000), null);
  assertEquals(await users.authenticateToken("dyn_" + "a".repeat(500), 2000), null);
  assertEquals(await users.revokeUser("alice", 3000), true);
  assertEquals(await users.authenticateToken(token, 4000), null);
  const [info] = await users.listUsers();
  assertEquals([info!.name, info!.revoked, info!.activeTokens], ["alice", true, 0]);
});

dbTest("a proxy DN authenticates its owner; unknown DNs do not", async ({ db }) => {
  const users = new SqlUserStore(db);
  await users.addUser({
    name: "bob",
    dn: "/DC=ch/DC=cern/CN=Bob",
    authorizations: [parseAuthorization("operator:registry")],
  }, 1);
  assertEquals((await users.authenticateDn("/DC=ch/DC=cern/CN=Bob/CN=proxy/CN=12345"))?.user, "bob");
  assertEquals(await users.authenticateDn("/DC=ch/DC=cern/CN=Mallory"), null);
  assertEquals(await users.authenticateDn("/DC=ch"), null);
  // Only proxy components are stripped: a DN with other trailing components is someone else.
  assertEquals(await users.authenticateDn("/DC=ch/DC=cern/CN=Bob/O=Evil/CN=Eve"), null);
  assertEquals(await users.authenticateDn("/DC=ch/DC=cern/CN=Bob/CN=Eve"), null);
  assertEquals((await users.authenticateDn("/DC=ch/DC=cern/CN=Bob/CN=limited proxy"))?.user, "bob");
});

dbTest("bad user names and roles are refused", async ({ db }) => {
  const users = new SqlUserStore(db);
  for (const name of ["", "a b", "x".repeat(65), "../root", "a\u0000b"]) {
    let failed = false;
    await users.addUser({ name, authorizations: [] }, 1).catch(() => failed = true);
    assert(failed, `expected refusal of ${JSON.stringify(name)}`);
  }
  assertThrows(() => parseAuthorization("king:inventory"), TypeError);
  assertThrows(() => parseAuthorization("admin"), TypeError);
  assertThrows(() => parseAuthorization("admin:inventory:x"), TypeError);
});

dbTest(
  "a token's last use is kept to the minute: written on first use, then once a minute at most",
  async ({ db }) => {
    const users = new SqlUserStore(db);
    const { token } = await users.addUser({
      name: "carol",
      authorizations: [parseAuthorization("admin:inventory"), parseAuthorization("operator:registry")],
    }, 1000);
    const lastUsed = async () => (await db.queryArrays("SELECT last_used_ms FROM user_tokens"))[0]![0];
    assertEquals(await lastUsed(), null);
    const p = await users.authenticateToken(token, 10_000);
    assertEquals(p?.authorizations.length, 2, "every role, from the one lookup");
    assertEquals(await lastUsed(), 10_000);
    await users.authenticateToken(token, 10_000 + LAST_USED_RESOLUTION_MS - 1);
    assertEquals(await lastUsed(), 10_000, "not rewritten within the resolution");
    await users.authenticateToken(token, 10_000 + LAST_USED_RESOLUTION_MS);
    assertEquals(await lastUsed(), 10_000 + LAST_USED_RESOLUTION_MS);
    await users.authenticateToken(token, 5_000);
    assertEquals(await lastUsed(), 5_000, "a clock set back rewrites it");
  },
);

dbTest("a user without roles authenticates with none", async ({ db }) => {
  const users = new SqlUserStore(db);
  const { token } = await users.addUser({ name: "dave", authorizations: [] }, 1000);
  assertEquals(await users.authenticateToken(token, 2000), { user: "dave", authorizations: [] });
});

Deno.test("lastUsedIsStale: unset, old or in the future is stale; within the resolution is not", () => {
  assert(lastUsedIsStale(null, 0));
  assert(!lastUsedIsStale(1000, 1000));
  assert(!lastUsedIsStale(1000, 1000 + LAST_USED_RESOLUTION_MS - 1));
  assert(lastUsedIsStale(1000, 1000 + LAST_USED_RESOLUTION_MS));
  assert(lastUsedIsStale(1000, 999));
});

dbTest(
  "a revocation through another store object over the same database ends the token at once",
  async ({ db }) => {
    const reader = new SqlUserStore(db);
    const { token } = await reader.addUser({
      name: "erin",
      authorizations: [parseAuthorization("admin:inventory")],
    }, 0);
    assertEquals((await reader.authenticateToken(token, 1000))?.user, "erin");
    assertEquals((await reader.authenticateToken(token, 1001))?.user, "erin", "asked again");
    assertEquals(await new SqlUserStore(db).revokeUser("erin", 2000), true);
    assertEquals(await reader.authenticateToken(token, 3000), null);
    // Re-added: a new token with a new role; the new role is seen, the old token stays revoked.
    const { token: second } = await new SqlUserStore(db).addUser({
      name: "erin",
      authorizations: [parseAuthorization("operator:registry")],
    }, 4000);
    assertEquals(await reader.authenticateToken(token, 5000), null);
    assertEquals((await reader.authenticateToken(second, 5000))?.authorizations.length, 2);
  },
);

dbTest(
  "tokens are kept as the SHA-256 of their text, so tokens issued before still authenticate",
  async ({ db }) => {
    const users = new SqlUserStore(db);
    const { token } = await users.addUser({ name: "carol", authorizations: [] }, 0);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(await db.queryArrays("SELECT token_hash FROM user_tokens"), [[hex]]);
    // A token stored as an earlier version stored it authenticates: the hash of "dyn_known" as coreutils'
    // sha256sum gives it.
    await db.queryArrays(
      "INSERT INTO user_tokens (user_id, token_hash, created_ms) SELECT id, $1, 0 FROM users WHERE name = 'carol'",
      ["cfca7bf400e51827d26c73f6844a21a50a2fda718225703558cfea2134bae875"],
    );
    assertEquals(await users.authenticateToken("dyn_known", 0), { user: "carol", authorizations: [] });
    assertEquals(await users.authenticateToken("dyn_unknown", 0), null);
  },
);
