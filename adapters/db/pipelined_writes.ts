import type { BulkTransaction, Cell } from "./database.ts";

/**
 * Writes to a transaction sent without waiting for each answer. On
 * PostgreSQL every statement awaited in turn costs a round trip, and on a
 * loaded machine each costs milliseconds (the answer waits for our thread as
 * well as for the network): a commit of six statements spent most of its time
 * waiting. Statements issued here go out at once, one after the other on the
 * transaction's connection (postgres.js pipelines them; PGlite runs them in
 * order), and `finish` waits for all their answers together.
 *
 * `query` resolves at once to no rows: only for statements whose rows are not
 * read. Their errors surface in `finish` (or before the next COPY), and an
 * error aborts the transaction, so the statements after it fail too and
 * nothing of it commits.
 */
export class PipelinedWrites implements BulkTransaction {
  #pending: Promise<unknown>[] = [];
  /**
   * A COPY whose data is sent and whose answer has not come (PostgreSQL): statements issued meanwhile
   * go out once it has, as postgres.js refuses any while a COPY is open.
   */
  #copy: Promise<void> | null = null;

  constructor(private readonly tx: BulkTransaction) {}

  #send(text: string, params?: unknown[]): Promise<unknown[][]> {
    const copy = this.#copy;
    return copy ? copy.then(() => this.tx.query(text, params)) : this.tx.query(text, params);
  }

  query(text: string, params?: unknown[]): Promise<unknown[][]> {
    const sent = this.#send(text, params);
    sent.catch(() => {}); // read in settle(); not an unhandled rejection meanwhile
    this.#pending.push(sent);
    return Promise.resolve([]);
  }

  /**
   * Like `query`, and `check` is given the statement's rows when they arrive: what it throws
   * fails the transaction as the statement's own error would (surfacing in `finish`, which runs
   * before COMMIT is sent).
   */
  queryChecked(text: string, params: unknown[], check: (rows: unknown[][]) => void): void {
    const sent = this.#send(text, params).then(check);
    sent.catch(() => {}); // read in settle()
    this.#pending.push(sent);
  }

  /**
   * COPY waits for what was sent before it: its data stream is not pipelined. Where the driver can say
   * when the data is all sent (PostgreSQL), it resolves then, and the server's answer is awaited with
   * the others: the writer's thread is free while the server works through the rows.
   */
  async copyFrom(table: string, columns: string[], rows: Iterable<Cell[]>): Promise<void> {
    await this.#settle();
    if (!this.tx.copyFromSent) {
      await this.tx.copyFrom(table, columns, rows);
      return;
    }
    const { done } = await this.tx.copyFromSent(table, columns, rows);
    this.#pending.push(done);
    // Never cleared: a statement chained to an answered COPY goes out a microtask later, in order.
    this.#copy = done;
  }

  /**
   * Runs `last` (the fence) on the transaction itself, after everything sent,
   * then waits for every answer. A write's own error is thrown before the
   * fence's, which would only say the transaction was aborted.
   */
  async finish(last?: (tx: BulkTransaction) => Promise<void>): Promise<void> {
    // The fence sends its statements itself: after an open COPY's answer.
    const copy = this.#copy ?? Promise.resolve();
    const lastDone = last
      ? copy.then(() => last(this.tx)).then(() => null, (e: unknown) => ({ error: e }))
      : null;
    await this.#settle();
    const failed = await lastDone;
    if (failed) throw failed.error;
  }

  async #settle(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    // The first failure is the answer (one connection answers in order, so it is the first statement
    // that failed): the transaction is aborted whatever the rest do. Not waiting for the rest matters on
    // a lost connection, where postgres.js never settles statements still queued behind the one that
    // failed (porsager/postgres#1208).
    await Promise.all(pending);
  }
}
