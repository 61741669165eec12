import postgres from "postgres";

export interface LeaseSessionOptions {
  url: string;
  /** The schema of our tables (tests); the lock is per schema. */
  schema?: string;
  /**
   * PostgreSQL ends the session after this much silence, which releases the
   * lock: a leader that is paused (SIGSTOP) or cut off loses it. The holder
   * speaks on the session more often than this.
   */
  idleTimeoutMs: number;
}

/**
 * The writer lease's lock: a session-level advisory lock held on a dedicated
 * connection. A process that dies (kill -9) closes its socket and PostgreSQL
 * releases the lock at once; a process that stops answering is cut off by
 * `idle_session_timeout`. postgres.js reconnects silently, so holding is
 * judged by the backend pid that took the lock still being the one we talk to.
 */
export class AdvisoryLeaseSession {
  #sql: postgres.Sql;
  #heldBy: number | null = null;

  private constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  static open(options: LeaseSessionOptions): AdvisoryLeaseSession {
    const sql = postgres(options.url, {
      max: 1,
      onnotice: () => {},
      connection: {
        application_name: "dynamo-lease",
        idle_session_timeout: options.idleTimeoutMs,
        ...(options.schema ? { search_path: options.schema } : {}),
      },
    });
    return new AdvisoryLeaseSession(sql);
  }

  get held(): boolean {
    return this.#heldBy !== null;
  }

  /** Takes the lock if it is free; true when this session holds it. */
  async tryAcquire(): Promise<boolean> {
    if (this.#heldBy !== null) return await this.stillHeld();
    const [row] = await this.#sql`
      SELECT pg_try_advisory_lock(hashtext(current_schema() || '.dynamo_writer')) AS got, pg_backend_pid() AS pid`;
    if (row?.got === true) this.#heldBy = Number(row.pid);
    return this.#heldBy !== null;
  }

  /** Speaks on the session (keeping it alive) and checks it is the one that took the lock. */
  async stillHeld(): Promise<boolean> {
    if (this.#heldBy === null) return false;
    try {
      const [row] = await this.#sql`SELECT pg_backend_pid() AS pid`;
      if (Number(row?.pid) === this.#heldBy) return true;
    } catch {
      // the session is gone, and the lock with it
    }
    this.#heldBy = null;
    return false;
  }

  /** Ends the session, releasing the lock. */
  async close(): Promise<void> {
    this.#heldBy = null;
    await this.#sql.end({ timeout: 2 }).catch(() => {});
  }
}
