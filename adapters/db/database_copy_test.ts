/** COPY's text format (database.ts `copyText`): every cell comes back exactly, on both databases. */
import { assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import type { Cell } from "./database.ts";

dbTest(
  "COPY writes every cell exactly: escapes, NULL against the text \\N, booleans, numbers",
  async ({ db }) => {
    await db.exec("CREATE TABLE copied (id integer PRIMARY KEY, t text, b boolean, n bigint)");
    const texts = [
      "plain",
      "tab\there",
      "new\nline",
      "cr\rlf\r\n",
      "back\\slash \\N \\t \\\\",
      "\\N",
      "",
      "é 漢字 🚀",
      "all \\\t\n\r at once",
    ];
    const rows: Cell[][] = texts.map((t, i) => [i, t, i % 2 === 0, 2 ** 53 - i]);
    rows.push([texts.length, null, null, null]);
    await db.copyFrom("copied", ["id", "t", "b", "n"], rows);
    // Through a transaction too (PGlite copies in chunks there; PostgreSQL on the reserved connection).
    await db.bulkTransaction((tx) =>
      tx.copyFrom("copied", ["id", "t", "b", "n"], rows.map((r) => [100 + (r[0] as number), ...r.slice(1)]))
    );
    const back = await db.queryArrays("SELECT id, t, b, n FROM copied ORDER BY id");
    assertEquals(back, [...rows, ...rows.map((r) => [100 + (r[0] as number), ...r.slice(1)])]);
  },
);
