import type { BulkTransaction, Database } from "./database.ts";

/** A node's row: one `start` process of the cluster. */
export interface ClusterNodeRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Where the node serves HTTP (writes are forwarded there when it leads). */
  url: string | null;
  role: "starting" | "follower" | "leader" | "stopped";
  startedMs: number;
  heartbeatMs: number;
  /** The last journal sequence the node has applied. */
  journalSeq: number;
  leaseChanges: number;
}

export interface LeaseRow {
  /** The fencing generation: bumped by each new leader, checked by every inventory commit. */
  generation: number;
  holder: string | null;
  acquiredMs: number | null;
  changes: number;
}

export interface RememberedAnswer {
  status: number;
  contentType: string | null;
  body: string;
  generation: number | null;
}

export interface KeyRecord {
  /** The node that claimed the key last. */
  node: string;
  /** The answer that was given, once there was one. */
  answer: RememberedAnswer | null;
  /** The journal sequence of the inventory commit that recorded the key (same transaction), if any. */
  committedAt: number | null;
}

/** Records, in an inventory commit's transaction, the keys of the writes it applies. */
export async function recordCommittedKeys(
  tx: BulkTransaction,
  keys: readonly string[],
  seq: number,
  atMs: number,
): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `INSERT INTO cluster_idempotency (key, node, generation, created_ms)
     SELECT k, '', $2, $3 FROM unnest($1::text[]) AS k
     ON CONFLICT (key) DO UPDATE SET generation = EXCLUDED.generation`,
    [keys, seq, atMs],
  );
}

/**
 * Records, in a registry write's transaction, that the write of `key` is
 * applied, with `answer` to give a retry until the real answer replaces it.
 * A key that already has an answer keeps it.
 */
export async function recordAppliedKey(
  tx: BulkTransaction,
  key: string,
  answer: RememberedAnswer,
  atMs: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO cluster_idempotency (key, node, status, content_type, body, created_ms)
     VALUES ($1, '', $2, $3, $4, $5)
     ON CONFLICT (key) DO UPDATE SET status = EXCLUDED.status, content_type = EXCLUDED.content_type,
       body = EXCLUDED.body WHERE cluster_idempotency.status IS NULL`,
    [key, answer.status, answer.contentType, answer.body, atMs],
  );
}

/** An inventory commit by a leader whose lease has moved on: it is rolled back. */
export class FencedError extends Error {
  constructor(readonly held: number, readonly current: number) {
    super(
      `This node's writer lease (generation ${held}) was taken over (generation ${current}); not committed`,
    );
    this.name = "FencedError";
  }
}

/** How long a stalled commit may hold the lease row before PostgreSQL ends its session. */
const FENCE_IDLE_TIMEOUT = "5s";

/** Nodes, the writer lease row and remembered write answers (migration 011). */
export class SqlClusterStore {
  constructor(private readonly db: Database) {}

  async register(node: Omit<ClusterNodeRow, "leaseChanges" | "journalSeq">): Promise<void> {
    await this.db.queryArrays(
      `INSERT INTO cluster_nodes (id, host, pid, version, url, role, started_ms, heartbeat_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [node.id, node.host, node.pid, node.version, node.url, node.role, node.startedMs, node.heartbeatMs],
    );
  }

  async heartbeat(
    id: string,
    beat: { role: ClusterNodeRow["role"]; journalSeq: number; leaseChanges: number; url: string | null },
    nowMs: number,
  ): Promise<void> {
    await this.db.queryArrays(
      `UPDATE cluster_nodes SET role = $2, journal_seq = $3, lease_changes = $4, url = $5, heartbeat_ms = $6
       WHERE id = $1`,
      [id, beat.role, beat.journalSeq, beat.leaseChanges, beat.url, nowMs],
    );
  }

  async nodes(): Promise<ClusterNodeRow[]> {
    const rows = await this.db.queryArrays(
      `SELECT id, host, pid, version, url, role, started_ms, heartbeat_ms, journal_seq, lease_changes
       FROM cluster_nodes ORDER BY started_ms, id`,
    );
    return rows.map(([id, host, pid, version, url, role, started, heartbeat, seq, changes]) => ({
      id: id as string,
      host: host as string,
      pid: Number(pid),
      version: version as string,
      url: url as string | null,
      role: role as ClusterNodeRow["role"],
      startedMs: Number(started),
      heartbeatMs: Number(heartbeat),
      journalSeq: Number(seq),
      leaseChanges: Number(changes),
    }));
  }

  /** Forgets nodes that stopped, or stopped beating, before `beforeMs`. */
  async forgetNodes(beforeMs: number): Promise<number> {
    return (await this.db.queryArrays(
      "DELETE FROM cluster_nodes WHERE heartbeat_ms < $1 RETURNING id",
      [beforeMs],
    )).length;
  }

  async lease(): Promise<LeaseRow> {
    const [row] = await this.db.queryArrays(
      "SELECT generation, holder, acquired_ms, changes FROM cluster_lease WHERE id = 1",
    );
    if (!row) throw new Error("The cluster_lease row is missing (migration 011)");
    return {
      generation: Number(row[0]),
      holder: row[1] as string | null,
      acquiredMs: row[2] === null ? null : Number(row[2]),
      changes: Number(row[3]),
    };
  }

  /**
   * Called by the holder of the advisory lock: bumps the fencing generation.
   * The UPDATE waits for commits of the previous leader that have already
   * checked the old generation (they hold the row FOR SHARE), so every commit
   * of the old leader is in the journal before the new one replays it.
   */
  async takeLease(holder: string, nowMs: number): Promise<number> {
    const [row] = await this.db.queryArrays(
      `UPDATE cluster_lease SET generation = generation + 1, holder = $1, acquired_ms = $2, changes = changes + 1
       WHERE id = 1 RETURNING generation`,
      [holder, nowMs],
    );
    return Number(row![0]);
  }

  /** Gives the lease row up on a clean stop (the advisory lock goes with the session). */
  async releaseLease(holder: string): Promise<void> {
    await this.db.queryArrays("UPDATE cluster_lease SET holder = NULL WHERE id = 1 AND holder = $1", [
      holder,
    ]);
  }

  /**
   * The fence every inventory commit runs last, inside its transaction: the
   * row is held FOR SHARE until the commit ends, so a new leader's bump waits
   * for it; a session stopped (SIGSTOP) while holding it is ended by
   * PostgreSQL after a few idle seconds, which rolls the commit back.
   */
  static fence(generation: () => number): (tx: BulkTransaction) => Promise<void> {
    return async (tx) => {
      // Both sent at once (one round trip); awaited together so neither rejection goes unhandled.
      const [, [row]] = await Promise.all([
        tx.query(`SET LOCAL idle_in_transaction_session_timeout = '${FENCE_IDLE_TIMEOUT}'`),
        tx.query("SELECT generation FROM cluster_lease WHERE id = 1 FOR SHARE"),
      ]);
      const current = Number(row?.[0]);
      const held = generation();
      if (current !== held) throw new FencedError(held, current);
    };
  }

  /** What is known of a write by its key, if anything. */
  async recall(key: string): Promise<KeyRecord | null> {
    const [row] = await this.db.queryArrays(
      "SELECT node, status, content_type, body, generation FROM cluster_idempotency WHERE key = $1",
      [key],
    );
    if (!row) return null;
    return {
      node: row[0] as string,
      answer: row[1] === null ? null : {
        status: Number(row[1]),
        contentType: row[2] as string | null,
        body: (row[3] as string | null) ?? "",
        generation: row[4] === null ? null : Number(row[4]),
      },
      committedAt: row[4] === null ? null : Number(row[4]),
    };
  }

  /** Claims a key for a write about to run on `node` (taking over an unfinished claim). */
  async claimKey(key: string, node: string, nowMs: number): Promise<void> {
    await this.db.queryArrays(
      `INSERT INTO cluster_idempotency (key, node, created_ms) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET node = EXCLUDED.node`,
      [key, node, nowMs],
    );
  }

  async remember(key: string, answer: RememberedAnswer): Promise<void> {
    await this.db.queryArrays(
      `UPDATE cluster_idempotency SET status = $2, content_type = $3, body = $4,
         generation = coalesce(generation, $5) WHERE key = $1`,
      [key, answer.status, answer.contentType, answer.body, answer.generation],
    );
  }

  /** Keys older than `beforeMs` are forgotten (a day after their write). */
  async purgeKeys(beforeMs: number): Promise<number> {
    return (await this.db.queryArrays(
      "DELETE FROM cluster_idempotency WHERE created_ms < $1 RETURNING key",
      [beforeMs],
    )).length;
  }
}
