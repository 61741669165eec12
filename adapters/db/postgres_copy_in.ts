/**
 * The data side of a `COPY … FROM STDIN` on postgres.js 3.4.9: its rows written with backpressure, and
 * one failure that ends every wait, whoever reports it.
 *
 * postgres.js reports a COPY's failure in three places, none of which it settles on its own: the query's
 * `reject` (its promise has already resolved with the stream), the stream's `error` event, and the
 * callback of the write the socket had in hand. A connection lost while the rows are sent reaches all
 * three (first the write, then the stream and the query): without a listener the stream's `error` was
 * an uncaught exception, and the taken-over `reject` an unhandled rejection, either of which ended the
 * process. A wait for "drain" or "finish" ends only on the stream's own events, which never come after
 * a loss: each wait here is raced against the failure instead.
 */
export class CopyIn {
  readonly #failed = Promise.withResolvers<never>();
  #failure: { error: unknown } | null = null;
  #finished = false;

  constructor(
    query: { reject: (error: unknown) => void },
    // deno-lint-ignore no-explicit-any
    private readonly stream: any,
    /** For errors: `COPY into "table"`. */
    private readonly what: string,
  ) {
    this.#failed.promise.catch(() => {}); // raced by each wait; not an unhandled rejection meanwhile
    // A COPY the server refuses once its CopyDone is sent (a duplicate key in the last rows) ends neither
    // the stream nor the query's promise: postgres.js hands the error only to the query's `reject`.
    query.reject = (error) => this.#fail(error, false);
    stream.on("error", (error: unknown) => this.#fail(error, true));
    // Destroyed (its socket gone) before postgres.js said why, or without an error at all.
    stream.on("close", () => {
      if (!this.#finished) this.#fail(new Error("its stream closed"), true);
    });
    stream.once("finish", () => (this.#finished = true));
  }

  /** Resolves once `chunk` is taken (at once, or at "drain"); rejects with the COPY's failure. */
  write(chunk: string): Promise<void> {
    if (this.#failure) return this.#failed.promise;
    const taken = new Promise<void>((resolve) => {
      try {
        const ok = this.stream.write(chunk, (error: unknown) => {
          if (error) this.#fail(error, true);
        });
        if (ok) resolve();
        else this.stream.once("drain", resolve);
      } catch (error) {
        this.#fail(error, true); // postgres.js writes to a socket it has already let go of
      }
    });
    return Promise.race([taken, this.#failed.promise]);
  }

  /** Sends CopyDone; resolves with the server's CommandComplete, rejects with the COPY's failure. */
  end(): Promise<void> {
    if (this.#failure) return this.#failed.promise;
    const finished = new Promise<void>((resolve) => this.stream.once("finish", resolve));
    try {
      this.stream.end();
    } catch (error) {
      this.#fail(error, true);
    }
    return Promise.race([finished, this.#failed.promise]);
  }

  /**
   * Gives up on the COPY for an error of our own (the rows could not be built): postgres.js sends CopyFail,
   * the server ends the COPY with an error, and the connection is ready for the next statement (a ROLLBACK),
   * not left in the middle of a COPY. The COPY's failure is `error`.
   */
  abort(error: unknown): void {
    this.#fail(error, false);
    if (!this.stream.destroyed) this.stream.destroy(error);
  }

  /**
   * The first report is the failure. Socket errors and the stream's are said to be the connection's loss,
   * with the COPY named: the socket's own words ("write ECANCELED") say neither. postgres.js's reports of a
   * loss on the query come after the write's.
   */
  #fail(error: unknown, fromStream: boolean): void {
    if (this.#failure) return;
    const lost = fromStream || connectionLost(error);
    const reported = lost ? copyConnectionLost(this.what, error) : error;
    this.#failure = { error: reported };
    this.#failed.reject(reported);
  }
}

function copyConnectionLost(what: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return Object.assign(
    new Error(`${what} failed: the connection to PostgreSQL was lost while its rows were sent (${reason})`, {
      cause,
    }),
    { code: "CONNECTION_LOST" },
  );
}

/**
 * The socket's errors (a reset: what a terminated backend's statement gets), postgres.js's own for a
 * connection that went (and ours, CONNECTION_LOST), and the server's for one it ends (class 08,
 * 57P01–03).
 */
export function connectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" &&
    (SOCKET_ERRORS.has(code) || code.startsWith("CONNECTION_") || code.startsWith("08") ||
      /^57P0[123]$/.test(code));
}

const SOCKET_ERRORS = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ECANCELED",
]);
