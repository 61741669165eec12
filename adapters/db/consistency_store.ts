/** PostgreSQL (and PGlite) side of site consistency: see consistency_store_port.ts. */
import type { Database } from "./database.ts";
import type {
  Baseline,
  ConsistencyStore,
  DeletionRecord,
  DigestRecord,
  FindingKind,
  FindingRecord,
  FindingRow,
  InventoryFileRow,
  RunRecord,
  RunRow,
} from "./consistency_store_port.ts";

const FILE_COLUMNS = `f.lfn, f.size, f.checksum->>'adler32', d.name, b.name, br.last_update`;
const RUN_COLUMNS = `id, site, started_ms, finished_ms, complete, dry_run, flagged, flag_reasons, withheld,
  files_listed, dirs_listed, expected, missing, orphan, corrupt, unmanaged, empty_dirs, hostile, young, unlisted,
  being_deleted, unrecoverable, confirmed, acted, failed_dirs, dirs_skipped, config_fingerprint`;
const FINDING_COLUMNS =
  `id, run_id, kind, path, size, listed_size, lfn, dataset, block, detail, confirmed, action, outcome`;
const OPEN_OPERATION = `status NOT IN ('done', 'failed', 'cancelled')`;
const OPEN_SUBSCRIPTION = `status NOT IN ('done', 'cancelled')`;

export class SqlConsistencyStore implements ConsistencyStore {
  constructor(private readonly db: Database) {}

  async siteFiles(site: string): Promise<InventoryFileRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${FILE_COLUMNS}
         FROM block_replicas br JOIN sites s ON s.id = br.site_id
         JOIN blocks b ON b.id = br.block_id JOIN datasets d ON d.id = b.dataset_id
         JOIN files f ON f.block_id = br.block_id
        WHERE s.name = $1 AND br.file_ids IS NULL
       UNION ALL
       SELECT ${FILE_COLUMNS}
         FROM block_replicas br JOIN sites s ON s.id = br.site_id
         JOIN blocks b ON b.id = br.block_id JOIN datasets d ON d.id = b.dataset_id
         CROSS JOIN LATERAL jsonb_array_elements(br.file_ids) AS e(id)
         JOIN files f ON f.id = (e.id)::bigint
        WHERE s.name = $1 AND br.file_ids IS NOT NULL`,
      [site],
    );
    return rows.map((r) => ({
      lfn: r[0] as string,
      size: Number(r[1]),
      adler32: (r[2] as string | null) ?? null,
      dataset: r[3] as string,
      block: r[4] as string,
      sinceMs: Number(r[5]) * 1000,
    }));
  }

  async deletingDatasets(site: string): Promise<Set<string>> {
    const rows = await this.db.queryArrays(
      `SELECT dataset FROM replica_operations WHERE site = $1 AND kind = 'deletion' AND ${OPEN_OPERATION}
       UNION SELECT dataset FROM file_subscriptions WHERE site = $1 AND kind = 'deletion' AND ${OPEN_SUBSCRIPTION}`,
      [site],
    );
    return new Set(rows.map((r) => r[0] as string));
  }

  async incomingLfns(site: string): Promise<string[]> {
    const rows = await this.db.queryArrays(
      `SELECT lfn FROM file_subscriptions WHERE site = $1 AND kind = 'copy' AND ${OPEN_SUBSCRIPTION}
       UNION
       SELECT f.lfn FROM replica_operations o JOIN datasets d ON d.name = o.dataset
         JOIN blocks b ON b.dataset_id = d.id JOIN files f ON f.block_id = b.id
        WHERE o.site = $1 AND o.kind = 'copy' AND o.${OPEN_OPERATION}`,
      [site],
    );
    return rows.map((r) => r[0] as string);
  }

  async otherReplicas(site: string, lfns: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (let i = 0; i < lfns.length; i += 10_000) {
      const rows = await this.db.queryArrays(
        `SELECT f.lfn, s.name FROM files f
           JOIN block_replicas br ON br.block_id = f.block_id JOIN sites s ON s.id = br.site_id
          WHERE f.lfn = ANY($2::text[]) AND s.name <> $1
            AND (br.file_ids IS NULL OR br.file_ids @> to_jsonb(f.id))
          ORDER BY f.lfn, (s.storage_type = 'mss'), s.name`,
        [site, lfns.slice(i, i + 10_000)],
      );
      for (const [lfn, name] of rows as [string, string][]) out.set(lfn, [...(out.get(lfn) ?? []), name]);
    }
    return out;
  }

  async previousComplete(
    site: string,
  ): Promise<{ startedMs: number; missing: Set<string>; orphan: Set<string> } | null> {
    const run = await this.db.queryArrays(
      `SELECT id, started_ms FROM consistency_runs WHERE site = $1 AND complete AND NOT dry_run ORDER BY id DESC LIMIT 1`,
      [site],
    );
    if (run.length === 0) return null;
    const [id, startedMs] = run[0]!;
    const rows = await this.db.queryArrays(
      `SELECT kind, path FROM consistency_findings WHERE run_id = $1 AND kind IN ('missing', 'corrupt', 'orphan')`,
      [id],
    );
    const missing = new Set<string>();
    const orphan = new Set<string>();
    for (const [kind, path] of rows as [string, string][]) (kind === "orphan" ? orphan : missing).add(path);
    return { startedMs: Number(startedMs), missing, orphan };
  }

  async digestBaseline(site: string): Promise<Baseline | null> {
    const run = await this.db.queryArrays(
      `SELECT id, complete, config_fingerprint FROM consistency_runs WHERE site = $1 AND NOT dry_run
        ORDER BY id DESC LIMIT 1`,
      [site],
    );
    if (run.length === 0 || run[0]![1] !== true) return null;
    const id = Number(run[0]![0]);
    const digests = await this.db.queryArrays(
      `SELECT dir, listed, inventory, clean FROM consistency_digests WHERE run_id = $1`,
      [id],
    );
    const findings = await this.db.queryArrays(
      `SELECT kind, path, size, listed_size, lfn, dataset, block, action FROM consistency_findings
        WHERE run_id = $1 AND (kind IN ('missing', 'corrupt', 'orphan') OR action IS NOT NULL)`,
      [id],
    );
    return {
      runId: id,
      fingerprint: (run[0]![2] as string | null) ?? null,
      digests: digests.map((r) => ({ dir: r[0], listed: r[1], inventory: r[2], clean: r[3] })),
      findings: findings.map((r) => ({
        kind: r[0],
        path: r[1],
        // bigint columns may come back as text or bigint: the reader checks them.
        size: typeof r[2] === "bigint" ? Number(r[2]) : r[2],
        listedSize: typeof r[3] === "bigint" ? Number(r[3]) : r[3],
        lfn: r[4],
        dataset: r[5],
        block: r[6],
        action: r[7],
      })),
    };
  }

  async recordRun(
    run: RunRecord,
    findings: FindingRecord[],
    nowMs: number,
    digests: DigestRecord[] = [],
  ): Promise<number> {
    return await this.db.bulkTransaction(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO consistency_runs (site, started_ms, finished_ms, complete, dry_run, flagged, flag_reasons,
           withheld, files_listed, dirs_listed, expected, missing, orphan, corrupt, unmanaged, empty_dirs, hostile,
           young, unlisted, being_deleted, unrecoverable, confirmed, acted, failed_dirs, dirs_skipped,
           config_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
           $21, $22, $23, $24::jsonb, $25, $26)
         RETURNING id`,
        [
          run.site,
          run.startedMs,
          run.finishedMs,
          run.complete,
          run.dryRun,
          run.flagged,
          JSON.stringify(run.flagReasons),
          run.withheld,
          run.filesListed,
          run.dirsListed,
          run.expected,
          run.missing,
          run.orphan,
          run.corrupt,
          run.unmanaged,
          run.emptyDirs,
          run.hostile,
          run.young,
          run.unlisted,
          run.beingDeleted,
          run.unrecoverable,
          run.confirmed,
          run.acted,
          JSON.stringify(run.failedDirs),
          run.dirsSkipped ?? 0,
          run.configFingerprint ?? null,
        ],
      );
      const id = Number(row![0]);
      if (digests.length > 0) {
        await tx.query(
          `DELETE FROM consistency_digests WHERE run_id IN (SELECT id FROM consistency_runs WHERE site = $1)
             AND run_id <> $2`,
          [run.site, id],
        );
      }
      for (let i = 0; i < digests.length; i += 5_000) {
        const part = digests.slice(i, i + 5_000);
        await tx.query(
          `INSERT INTO consistency_digests (run_id, dir, listed, inventory, clean)
           SELECT $1, d, l, v, c = 't' FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(d, l, v, c)`,
          [
            id,
            part.map((d) => d.dir),
            part.map((d) => d.listed),
            part.map((d) => d.inventory),
            part.map((d) => (d.clean ? "t" : "f")),
          ],
        );
      }
      for (let i = 0; i < findings.length; i += 5_000) {
        const part = findings.slice(i, i + 5_000);
        const col = <K extends keyof FindingRecord>(k: K) => part.map((f) => f[k]);
        await tx.query(
          `INSERT INTO consistency_findings (run_id, kind, path, size, listed_size, lfn, dataset, block, detail,
             confirmed, action, outcome, updated_ms)
           SELECT $1, k, p, z, lz, l, d, b, dt, c = 't', a, o, $12
             FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
               $9::text[], $10::text[], $11::text[], $13::text[]) AS u(k, p, z, lz, l, d, b, dt, c, a, o)`,
          [
            id,
            col("kind"),
            col("path"),
            col("size"),
            col("listedSize"),
            col("lfn"),
            col("dataset"),
            col("block"),
            col("detail"),
            // postgres.js sends a boolean array as one boolean: as text, both drivers agree.
            part.map((f) => (f.confirmed ? "t" : "f")),
            col("action"),
            nowMs,
            col("outcome"),
          ],
        );
      }
      return id;
    });
  }

  async recordOutcomes(
    outcomes: { id: number; outcome: string }[],
    acted: number,
    runId: number,
    nowMs: number,
  ): Promise<void> {
    await this.db.bulkTransaction(async (tx) => {
      for (let i = 0; i < outcomes.length; i += 5_000) {
        const part = outcomes.slice(i, i + 5_000);
        await tx.query(
          `UPDATE consistency_findings f SET outcome = u.o, updated_ms = $3
             FROM unnest($1::bigint[], $2::text[]) AS u(i, o) WHERE f.id = u.i`,
          [part.map((o) => o.id), part.map((o) => o.outcome), nowMs],
        );
      }
      await tx.query(`UPDATE consistency_runs SET acted = acted + $2 WHERE id = $1`, [runId, acted]);
    });
  }

  async actionable(runId: number): Promise<FindingRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${FINDING_COLUMNS} FROM consistency_findings
        WHERE run_id = $1 AND action IS NOT NULL AND outcome = 'pending' ORDER BY id`,
      [runId],
    );
    return rows.map(findingRow);
  }

  async recordDeletions(site: string, rows: DeletionRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.queryArrays(
      `INSERT INTO file_deletions (lfn, site, size, exit_code, code, message, started_ms, finished_ms)
       SELECT p, $1, z, e, c, m, s, f
         FROM unnest($2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
           AS u(p, z, e, c, m, s, f)`,
      [
        site,
        rows.map((r) => r.path),
        rows.map((r) => r.size),
        rows.map((r) => (r.ok ? 0 : 1)),
        rows.map((r) => r.code),
        rows.map((r) => r.message),
        rows.map((r) => r.startedMs),
        rows.map((r) => r.finishedMs),
      ],
    );
  }

  async latestRuns(site?: string): Promise<RunRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${RUN_COLUMNS} FROM consistency_runs
        WHERE id IN (SELECT max(id) FROM consistency_runs WHERE $1::text IS NULL OR site = $1 GROUP BY site)
        ORDER BY site`,
      [site ?? null],
    );
    return rows.map(runRow);
  }

  async run(id: number): Promise<RunRow | null> {
    const rows = await this.db.queryArrays(`SELECT ${RUN_COLUMNS} FROM consistency_runs WHERE id = $1`, [id]);
    return rows.length === 0 ? null : runRow(rows[0]!);
  }

  async runCounts(): Promise<Map<string, number>> {
    const rows = await this.db.queryArrays(
      `SELECT site, count(*) FROM consistency_runs GROUP BY site ORDER BY site`,
    );
    return new Map(rows.map((r) => [r[0] as string, Number(r[1])]));
  }

  async findings(
    runId: number,
    filter: { kind?: FindingKind; offset: number; limit: number },
  ): Promise<{ total: number; rows: FindingRow[] }> {
    const kind = filter.kind ?? null;
    const [count] = await this.db.queryArrays(
      `SELECT count(*) FROM consistency_findings WHERE run_id = $1 AND ($2::text IS NULL OR kind = $2)`,
      [runId, kind],
    );
    const rows = await this.db.queryArrays(
      `SELECT ${FINDING_COLUMNS} FROM consistency_findings WHERE run_id = $1 AND ($2::text IS NULL OR kind = $2)
        ORDER BY kind, path LIMIT $3 OFFSET $4`,
      [runId, kind, filter.limit, filter.offset],
    );
    return { total: Number(count![0]), rows: rows.map(findingRow) };
  }

  async unrecoverable(site: string): Promise<FindingRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT ${FINDING_COLUMNS} FROM consistency_findings
        WHERE run_id = (SELECT max(id) FROM consistency_runs WHERE site = $1 AND complete)
          AND action = 'unrecoverable' AND outcome IS DISTINCT FROM 'invalidated' ORDER BY path`,
      [site],
    );
    return rows.map(findingRow);
  }
}

function runRow(r: unknown[]): RunRow {
  const n = (i: number) => Number(r[i]);
  const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
  return {
    id: n(0),
    site: r[1] as string,
    startedMs: n(2),
    finishedMs: n(3),
    complete: r[4] as boolean,
    dryRun: r[5] as boolean,
    flagged: r[6] as boolean,
    flagReasons: json(r[7]) as string[],
    withheld: (r[8] as string | null) ?? null,
    filesListed: n(9),
    dirsListed: n(10),
    expected: n(11),
    missing: n(12),
    orphan: n(13),
    corrupt: n(14),
    unmanaged: n(15),
    emptyDirs: n(16),
    hostile: n(17),
    young: n(18),
    unlisted: n(19),
    beingDeleted: n(20),
    unrecoverable: n(21),
    confirmed: n(22),
    acted: n(23),
    failedDirs: json(r[24]) as RunRecord["failedDirs"],
    dirsSkipped: n(25),
    configFingerprint: (r[26] as string | null) ?? null,
  };
}

function findingRow(r: unknown[]): FindingRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(r[0]),
    runId: Number(r[1]),
    kind: r[2] as FindingKind,
    path: r[3] as string,
    size: num(r[4]),
    listedSize: num(r[5]),
    lfn: (r[6] as string | null) ?? null,
    dataset: (r[7] as string | null) ?? null,
    block: (r[8] as string | null) ?? null,
    detail: (r[9] as string | null) ?? null,
    confirmed: r[10] as boolean,
    action: (r[11] as FindingRow["action"]) ?? null,
    outcome: (r[12] as string | null) ?? null,
  };
}
