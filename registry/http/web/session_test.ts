import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { sameSecret, Sessions } from "./session.ts";

Deno.test("a session is found by its id until it expires, and not after", () => {
  const sessions = new Sessions(1000);
  const s = sessions.open("tok", "alice", 0);
  assert(s.id.length >= 32 && s.csrf.length >= 32 && s.id !== s.csrf, "random ids and CSRF tokens");
  assertEquals(sessions.get(s.id, 999)?.user, "alice");
  assertEquals(sessions.get(s.id, 1000), null);
  assertEquals(sessions.get(s.id, 0), null, "an expired session is gone for good");
  assertEquals(sessions.get(undefined, 0), null);
  assertEquals(sessions.get("forged", 0), null);
});

Deno.test("closing a session ends it; the oldest goes when there are too many", () => {
  const sessions = new Sessions(1000, 2);
  const a = sessions.open("t1", "a", 0);
  const b = sessions.open("t2", "b", 1);
  const c = sessions.open("t3", "c", 2);
  assertEquals([sessions.get(a.id, 3), sessions.get(b.id, 3)?.user, sessions.get(c.id, 3)?.user], [
    null,
    "b",
    "c",
  ]);
  sessions.close(b.id);
  assertEquals(sessions.get(b.id, 3), null);
});

Deno.test("sameSecret compares whole strings", () => {
  assert(sameSecret("abc", "abc"));
  assert(!sameSecret("abc", "abd"));
  assert(!sameSecret("abc", "ab"));
  assert(!sameSecret("", "a"));
});
