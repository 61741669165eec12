import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * The inventory tables (spec §1.4) and the journal. No foreign keys: the
 * single writer keeps them consistent, and bulk writes stay fast. Incomplete
 * block replicas store their file list as a JSON array, replaced whole on
 * every change (the original's row-per-file upsert left stale rows behind).
 * The journal keeps commands as JSON text: it is written far more often than
 * it is read, and text is twice as fast to insert as jsonb. Where the server
 * has lz4 (PostgreSQL 14+ builds usually do; PGlite does not), the journal uses
 * it: as small as the default pglz and three times faster to write.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE partitions (id integer PRIMARY KEY, name text NOT NULL UNIQUE);
    CREATE TABLE groups (id integer PRIMARY KEY, name text NOT NULL UNIQUE, olevel text NOT NULL);
    CREATE TABLE sites (
      id integer PRIMARY KEY, name text NOT NULL UNIQUE, host text NOT NULL, storage_type text NOT NULL,
      backend text NOT NULL, status text NOT NULL, filename_mappings jsonb NOT NULL
    );
    CREATE TABLE quotas (
      site_id integer NOT NULL, partition_id integer NOT NULL, quota bigint NOT NULL,
      PRIMARY KEY (site_id, partition_id)
    );
    CREATE TABLE datasets (
      id integer PRIMARY KEY, name text NOT NULL UNIQUE, status text NOT NULL, data_type text NOT NULL,
      software_version text, last_update bigint NOT NULL, is_open boolean NOT NULL
    );
    CREATE TABLE blocks (
      id integer PRIMARY KEY, dataset_id integer NOT NULL, name text NOT NULL, size bigint NOT NULL,
      num_files integer NOT NULL, is_open boolean NOT NULL, last_update bigint NOT NULL,
      UNIQUE (dataset_id, name)
    );
    CREATE TABLE files (
      id bigint PRIMARY KEY, block_id integer NOT NULL, lfn text NOT NULL UNIQUE, size bigint NOT NULL,
      checksum jsonb NOT NULL
    );
    CREATE INDEX files_block_id ON files (block_id);
    CREATE TABLE dataset_replicas (
      dataset_id integer NOT NULL, site_id integer NOT NULL, growing boolean NOT NULL, group_id integer NOT NULL,
      PRIMARY KEY (dataset_id, site_id)
    );
    CREATE TABLE block_replicas (
      block_id integer NOT NULL, site_id integer NOT NULL, group_id integer NOT NULL,
      is_custodial boolean NOT NULL, size bigint NOT NULL, last_update bigint NOT NULL, file_ids jsonb,
      PRIMARY KEY (block_id, site_id)
    );
    CREATE TABLE inventory_journal (
      seq bigint PRIMARY KEY, at_ms bigint NOT NULL, version integer NOT NULL,
      commands text NOT NULL, annex text NOT NULL
    );
    DO $$ BEGIN
      ALTER TABLE inventory_journal ALTER COLUMN commands SET COMPRESSION lz4;
      ALTER TABLE inventory_journal ALTER COLUMN annex SET COMPRESSION lz4;
    EXCEPTION WHEN OTHERS THEN NULL;
    END $$;

    CREATE TABLE inventory_meta (
      id integer PRIMARY KEY CHECK (id = 1), table_seq bigint NOT NULL,
      next_dataset_id integer NOT NULL, next_block_id integer NOT NULL, next_site_id integer NOT NULL,
      next_group_id integer NOT NULL, next_file_id bigint NOT NULL
    );
    INSERT INTO inventory_meta VALUES (1, 0, 1, 1, 1, 1, 1);
  `,
  );
}
