import type { PGlite, Transaction } from "@electric-sql/pglite";
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from "kysely";

/**
 * A Kysely dialect over one PGlite instance. Kysely's own PGlite driver keeps
 * a single connection object whose transaction slot is shared, so two
 * concurrent transactions (or a query issued while one is open) interfere.
 * Here every acquired connection is its own object: a transaction runs in
 * PGlite's exclusive `transaction()` and only that connection's queries go
 * into it; PGlite itself queues everything else behind the open transaction.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  // deno-lint-ignore no-explicit-any
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  constructor(private readonly pglite: PGlite) {}
  async init(): Promise<void> {
    await this.pglite.waitReady;
  }
  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new PGliteConnection(this.pglite));
  }
  beginTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as PGliteConnection).begin();
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as PGliteConnection).end(true);
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as PGliteConnection).end(false);
  }
  releaseConnection(): Promise<void> {
    return Promise.resolve();
  }
  destroy(): Promise<void> {
    // The owner of the PGlite instance closes it.
    return Promise.resolve();
  }
}

const ROLLBACK = Symbol("rollback");

class PGliteConnection implements DatabaseConnection {
  #tx: Transaction | null = null;
  #finish: PromiseWithResolvers<void> | null = null;
  #closed: Promise<void> | null = null;

  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await (this.#tx ?? this.pglite).query<R>(query.sql, query.parameters as unknown[]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // deno-lint-ignore require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("Streaming is not supported by PGlite; page with keyset queries instead");
  }

  async begin(): Promise<void> {
    const started = Promise.withResolvers<void>();
    this.#finish = Promise.withResolvers<void>();
    const finish = this.#finish.promise;
    this.#closed = this.pglite.transaction(async (tx) => {
      this.#tx = tx;
      started.resolve();
      await finish;
    }).then(() => {}, (e) => {
      if (e !== ROLLBACK) throw e;
    }).finally(() => {
      this.#tx = null;
    });
    // If BEGIN itself fails, surface that instead of waiting forever.
    await Promise.race([started.promise, this.#closed]);
  }

  async end(commit: boolean): Promise<void> {
    if (commit) this.#finish?.resolve();
    else this.#finish?.reject(ROLLBACK);
    await this.#closed;
  }
}
