/**
 * Issue 21's poison injection, with real processes: an injection the database
 * refuses at commit used to crash the writer on every retry until the process
 * exited, and again after every restart. Now it is moved aside as `failed`
 * after two attempts, the server keeps running, the next injection applies,
 * and a kill -9 and restart do not bring it back.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { drain, dynamo, freePort, startServer, waitReady } from "../helpers/server_process.ts";
import { openDatabase } from "../../adapters/db/database.ts";
import { sql } from "kysely";

Deno.test({
  name: "a poison injection is moved aside; the server keeps running, also after kill -9 and restart",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo_poison_" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { DYNAMO_HOME: home, DYNAMO_LISTEN: `127.0.0.1:${port}` };
    let server: Deno.ChildProcess | null = null;
    try {
      const added = await dynamo(env, ["user", "add", "ops", "--role", "admin:inventory"]);
      assertEquals(added.code, 0, added.stderr);
      const token = added.stdout.trim().split("\n").at(-1)!;
      // A failure no validation can foresee: the database itself refuses one dataset at commit.
      const db = await openDatabase({ dataDir: `${home}/db` });
      await db.kysely.schema.alterTable("datasets").addCheckConstraint(
        "no_poison",
        sql`name <> '/Poison/X/Y'`,
      )
        .execute();
      await db.close();

      server = startServer(env);
      await waitReady(url, server);
      let exited = false;
      server.status.then(() => exited = true);
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      };
      const status = async (id: number) =>
        (await (await fetch(`${url}/data/inventory/injection?id=${id}`)).json()).data as {
          status: string;
          attempts: number;
          error: string | null;
        };

      // The reported document is refused before it is queued.
      const files = Array.from(
        { length: 1100 },
        (_, i) => ({ name: `/store/o/${i}.root`, size: 2 ** 53 - 1 }),
      );
      const overflow = await post("/data/inventory/inject", {
        dataset: [{ name: "/O/X/Y", blocks: [{ name: "b", files }] }],
      });
      assertEquals(overflow.status, 400);
      assertStringIncludes(overflow.body.message, "add up to");

      const poison =
        (await post("/data/inventory/inject", { dataset: [{ name: "/Poison/X/Y" }] })).body.data.injection_id;
      const next =
        (await post("/data/inventory/inject", { dataset: [{ name: "/Next/X/Y" }] })).body.data.injection_id;
      // Real time: the drainer polls every 5 s and the writer restarts with a 1-2 s backoff.
      for (let i = 0; i < 240 && (await status(poison)).status === "queued"; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      const p = await status(poison);
      assertEquals([p.status, p.attempts], ["failed", 2]);
      assertStringIncludes(p.error ?? "", "no_poison");
      for (let i = 0; i < 120 && (await status(next)).status === "queued"; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      assertEquals((await status(next)).status, "applied");
      assert(!exited, "the server is still running");

      const listed = await dynamo(env, ["injections", "--status", "failed"]);
      assertEquals(listed.code, 0, listed.stderr);
      assertMatch(
        listed.stdout,
        new RegExp(`^${poison}\\s+inject\\s+ops\\s+.*failed\\s+2\\s+.*no_poison`, "m"),
      );

      server.kill("SIGKILL");
      await server.status;
      await drain(server);
      server = startServer(env);
      await waitReady(url, server);
      exited = false;
      server.status.then(() => exited = true);
      const after =
        (await post("/data/inventory/inject", { dataset: [{ name: "/After/X/Y" }] })).body.data.injection_id;
      for (let i = 0; i < 120 && (await status(after)).status === "queued"; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      assertEquals((await status(after)).status, "applied");
      assertEquals(
        [(await status(poison)).status, (await status(poison)).attempts],
        ["failed", 2],
        "not retried",
      );
      assert(!exited, "the restarted server is still running");

      server.kill("SIGTERM");
      assertEquals((await server.status).code, 0);
      await drain(server);
      server = null;
    } finally {
      if (server) {
        server.kill("SIGKILL");
        await server.status;
        await drain(server);
      }
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
