import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Site consistency (spec §6): every run of a site check with its counts, and
 * what it found, one row per file or directory, with the action taken and how
 * it ended. A run and its findings are written in one transaction when the
 * listing has ended: a check interrupted by a crash leaves no trace.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE consistency_runs (
      id bigserial PRIMARY KEY, site text NOT NULL, started_ms bigint NOT NULL, finished_ms bigint NOT NULL,
      complete boolean NOT NULL, dry_run boolean NOT NULL, flagged boolean NOT NULL, flag_reasons jsonb NOT NULL,
      withheld text, files_listed bigint NOT NULL, dirs_listed bigint NOT NULL, expected bigint NOT NULL,
      missing integer NOT NULL, orphan integer NOT NULL, corrupt integer NOT NULL, unmanaged integer NOT NULL,
      empty_dirs integer NOT NULL, hostile integer NOT NULL, young integer NOT NULL, unlisted integer NOT NULL,
      being_deleted integer NOT NULL, unrecoverable integer NOT NULL, confirmed integer NOT NULL,
      acted integer NOT NULL, failed_dirs jsonb NOT NULL
    );
    CREATE INDEX consistency_runs_site ON consistency_runs (site, id);
    CREATE TABLE consistency_findings (
      id bigserial PRIMARY KEY, run_id bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('missing', 'orphan', 'corrupt', 'unmanaged', 'empty_dir', 'hostile')),
      path text NOT NULL, size bigint, listed_size bigint, lfn text, dataset text, block text, detail text,
      confirmed boolean NOT NULL, action text, outcome text, updated_ms bigint NOT NULL
    );
    CREATE INDEX consistency_findings_run ON consistency_findings (run_id, kind, path);
  `,
  );
}
