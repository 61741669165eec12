import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { SeededRng, TestClock } from "../../actors/runtime/mod.ts";
import { caller } from "../../tests/helpers/http.ts";
import { declarations, undeclaredKey } from "./declared_params.ts";
import { OPENAPI } from "./openapi.ts";

Deno.test("undeclaredKey: the first key an operation does not declare; key[] is key; unknown paths are not judged", () => {
  const d = declarations({
    "/a": { get: { parameters: [{ name: "x" }, { name: "item" }] }, post: {} },
  });
  assertEquals(undeclaredKey(d, "GET", "/a", ["x", "item[]", "item"]), null);
  assertEquals(undeclaredKey(d, "HEAD", "/a", ["x"]), null);
  assertEquals(undeclaredKey(d, "GET", "/a", ["x", "evil", "y"]), { key: "evil", expected: ["x", "item"] });
  assertEquals(undeclaredKey(d, "POST", "/a", ["x"]), { key: "x", expected: [] });
  assertEquals(undeclaredKey(d, "GET", "/nowhere", ["evil"]), null);
});

async function setUp(db: Parameters<Parameters<typeof dbTest>[1]>[0]["db"]) {
  const users = new SqlUserStore(db);
  const { token } = await users.addUser({
    name: "ops",
    authorizations: ["admin:inventory", "admin:registry", "admin:application"].map(parseAuthorization),
  }, 0);
  const dynamo = await createDynamo({ database: db, clock: new TestClock() });
  await dynamo.ready;
  return { dynamo, token, call: caller(dynamo.app) };
}

dbTest("an unknown parameter is a 400 naming it on every endpoint, before anything runs", async ({ db }) => {
  const { dynamo, token, call } = await setUp(db);
  try {
    const served = dynamo.app.routes.filter((r) => r.method !== "ALL");
    assert(served.length > 60, `only ${served.length} routes?`);
    for (const r of served) {
      for (const query of ["evil=1", "evil%5B%5D=1", "x=1&evil=2"]) {
        const res = await call(r.method, `${r.path}?${query}`, { token });
        assertEquals(res.status, 400, `${r.method} ${r.path}?${query}: ${JSON.stringify(res.body)}`);
        assertMatch(res.body.message, /^Parameter "(evil|x)": unknown parameter/);
      }
    }
    // The case: a file-operations pass must not run, also with the parameter in a form body.
    const before = await db.queryArrays("SELECT count(*) FROM file_transfers");
    const form = await call("POST", "/data/fileops/run", {
      token,
      raw: "evil=1",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assertEquals(form.status, 400);
    assertMatch(form.body.message, /^Parameter "evil": unknown parameter/);
    assertEquals(await db.queryArrays("SELECT count(*) FROM file_transfers"), before);
  } finally {
    await dynamo.close();
  }
});

dbTest(
  "every parameter the OpenAPI document declares for a read is accepted by its route",
  async ({ db }) => {
    const { dynamo, call } = await setUp(db);
    try {
      for (const [path, ops] of Object.entries(OPENAPI.paths)) {
        const get = (ops as { get?: { parameters: { name: string }[] } }).get;
        for (const { name } of get?.parameters ?? []) {
          const res = await call("GET", `${path}?${name}=1`);
          assert(
            !/unknown parameter/.test(res.body.message),
            `GET ${path}?${name}=1 refused a declared parameter: ${res.body.message}`,
          );
          assert(res.status < 500, `GET ${path}?${name}=1: ${res.status} ${res.body.message}`);
        }
      }
    } finally {
      await dynamo.close();
    }
  },
);

/** Hostile and garbage values: long, control characters, regex and SQL metacharacters, odd Unicode. */
function garbage(rng: SeededRng): string {
  const pieces = [
    "",
    "*",
    "%",
    "%25",
    "(",
    "(a+)+b",
    "[",
    "\\",
    "None",
    "y",
    "n",
    "0",
    "-1",
    "!0",
    "1e999",
    "24h",
    "0h",
    "9999999w",
    "' OR 1=1 --",
    "<script>",
    "%00",
    "%0A",
    "%E2%80%AE",
    "%F0%9F%92%A9",
    "%ED%A0%80",
    "T2_*",
    "/A/B/C",
    "/A/B/C%23b1",
    "a,b,,c",
    "x".repeat(1001),
  ];
  let out = "";
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) out += pieces[rng.int(pieces.length)]!;
  return out;
}

dbTest(
  "fuzz: random query parameters on every read give the envelope and 200, 400 or 404, never a 5xx",
  async ({ db }) => {
    const { dynamo, call } = await setUp(db);
    try {
      await call("POST", "/data/inventory/injectsync", {
        token: await setUpToken(db),
        body: {
          site: [{ name: "T2_A", storage_type: "disk", status: "ready" }],
          group: [{ name: "G", olevel: "Block" }],
          dataset: [{
            name: "/A/B/C",
            blocks: [{ name: "b1", files: [{ name: "/store/a/b/c/f1", size: 10 }] }],
          }],
          datasetreplica: [{ dataset: "/A/B/C", site: "T2_A", group: "G", blockreplicas: [{ block: "b1" }] }],
        },
      });
      const reads = Object.entries(OPENAPI.paths)
        .filter(([path, ops]) => (ops as { get?: unknown }).get && path.startsWith("/data/"))
        .map(([path, ops]) => ({
          path,
          names: (ops as { get: { parameters: { name: string }[] } }).get.parameters.map((p) => p.name),
        }));
      let answered = 0;
      let refused = 0;
      for (let seed = 1; seed <= 600; seed++) {
        const rng = new SeededRng(seed);
        const { path, names } = reads[seed % reads.length]!;
        const pairs: string[] = [];
        for (let i = rng.int(4); i >= 0; i--) {
          const declared = names.length > 0 && rng.next() < 0.85;
          const name = declared ? names[rng.int(names.length)]! : garbage(rng).slice(0, 20) || "q";
          const key = rng.next() < 0.2 ? `${encodeURIComponent(name)}%5B%5D` : encodeURIComponent(name);
          pairs.push(`${key}=${garbage(rng)}`);
        }
        const url = `${path}?${pairs.join("&")}`;
        const res = await call("GET", url);
        const where = `seed ${seed}: GET ${url.slice(0, 200)} → ${res.status} ${res.body.message}`;
        assert([200, 400, 404].includes(res.status), where);
        assertEquals(typeof res.body.result, "string", where);
        assert("data" in res.body && "message" in res.body, where);
        if (res.status === 400) {
          assertMatch(res.body.message, /^Parameter "[^"]*": /, where);
          refused++;
        } else answered++;
      }
      // Both outcomes are exercised; the strict input edge (UTF-8, NUL, surrogates) refuses much of the garbage.
      assert(answered > 30 && refused > 50, `answered ${answered}, refused ${refused}`);
      assertEquals((await call("GET", "/health")).status, 200, "the service still answers");
    } finally {
      await dynamo.close();
    }
  },
);

async function setUpToken(db: Parameters<Parameters<typeof dbTest>[1]>[0]["db"]): Promise<string> {
  const { token } = await new SqlUserStore(db).addUser({
    name: "fuzzer",
    authorizations: [parseAuthorization("admin:inventory")],
  }, 0);
  return token;
}
