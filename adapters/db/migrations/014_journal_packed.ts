import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Where the journal's commands column has no lz4 (PGlite; a PostgreSQL built without it), the writer
 * packs a large row's text itself (journal format 3: Brotli, base64; see `journal_codec.ts`), and the
 * database must not try to compress it again: pglz would spend its time on incompressible text to
 * store it as it is. `SqlInventoryStore` packs exactly where this made the column EXTERNAL. Rows
 * written before stay as they are (formats 1 and 2 still read).
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    DO $$ BEGIN
      -- Before PostgreSQL 14 there is no lz4, and no attcompression to ask (planned only if reached).
      IF current_setting('server_version_num')::integer < 140000 THEN
        ALTER TABLE inventory_journal ALTER COLUMN commands SET STORAGE EXTERNAL;
      ELSIF (SELECT attcompression FROM pg_attribute
             WHERE attrelid = 'inventory_journal'::regclass AND attname = 'commands') <> 'l' THEN
        ALTER TABLE inventory_journal ALTER COLUMN commands SET STORAGE EXTERNAL;
      END IF;
    END $$;
  `,
  );
}
