import { assertEquals } from "../../../tests/helpers/assert.ts";
import { splitStatements } from "./run_statements.ts";

Deno.test("DDL splits at line-ending semicolons but not inside $$ bodies", () => {
  assertEquals(
    splitStatements(`
      CREATE TABLE a (x int);
      DO $$ BEGIN
        ALTER TABLE a ALTER COLUMN x SET NOT NULL;
      EXCEPTION WHEN OTHERS THEN NULL;
      END $$;
      INSERT INTO a VALUES (1)
    `),
    [
      "CREATE TABLE a (x int)",
      "DO $$ BEGIN\n        ALTER TABLE a ALTER COLUMN x SET NOT NULL;\n      EXCEPTION WHEN OTHERS THEN NULL;\n      END $$",
      "INSERT INTO a VALUES (1)",
    ],
  );
});
