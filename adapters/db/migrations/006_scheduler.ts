import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * The scheduler (spec §7): where each sequence stands (so a restarted service
 * carries on where it stopped) and the applications table: every run of an
 * application, from a sequence or submitted by hand, with how it ended.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE scheduler_sequences (
      name text PRIMARY KEY, enabled boolean NOT NULL, position integer NOT NULL, updated_ms bigint NOT NULL
    );
    CREATE TABLE applications (
      id bigserial PRIMARY KEY, title text NOT NULL, args jsonb NOT NULL, write boolean NOT NULL,
      sequence text, user_name text,
      status text NOT NULL CHECK (status IN ('new', 'run', 'done', 'failed', 'killed', 'notfound')),
      message text, created_ms bigint NOT NULL, started_ms bigint, finished_ms bigint
    );
    CREATE INDEX applications_status ON applications (status);
  `,
  );
}
