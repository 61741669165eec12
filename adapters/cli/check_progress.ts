/**
 * The progress of a consistency check on the CLI's error stream: one line
 * rewritten in place on a terminal, plain lines otherwise (only when the
 * counts have moved, so a stalled listing does not fill a log).
 */

/** The progress the service reports for a running check (GET /data/consistency/progress). */
export interface ProgressReport {
  readonly files: number;
  readonly dirs: number;
  readonly queued: number;
  readonly failed: number;
}

export interface ProgressOutput {
  readonly isTerminal: boolean;
  /** Raw text, no newline added. */
  write(text: string): void;
  /** How often the service is asked (default 1 s on a terminal, 10 s otherwise). */
  readonly intervalMs?: number;
}

export function progressLine(site: string, p: ProgressReport | null, elapsedS: number): string {
  const elapsed = `${Math.max(0, Math.floor(elapsedS))} s`;
  if (p === null) return `${site}: waiting to start, ${elapsed}`;
  return `${site}: ${p.dirs} directories, ${p.files} files listed` +
    `${p.queued > 0 ? `, ${p.queued} queued` : ""}${
      p.failed > 0 ? `, ${p.failed} unreadable` : ""
    }, ${elapsed}`;
}

export class ProgressDisplay {
  #last = "";
  #shown = false;

  constructor(readonly output: ProgressOutput, readonly site: string) {}

  /** Shows the progress; plain output gets a line only when the counts changed. */
  show(p: ProgressReport | null, elapsedS: number): void {
    const line = progressLine(this.site, p, elapsedS);
    if (this.output.isTerminal) {
      this.output.write(`\r${line}\x1b[K`);
      this.#shown = true;
      return;
    }
    const counts = p === null ? "waiting" : `${p.dirs} ${p.files} ${p.queued} ${p.failed}`;
    if (counts === this.#last) return;
    this.#last = counts;
    this.output.write(`${line}\n`);
  }

  /** Clears the updating line before the command prints its result. */
  end(): void {
    if (this.output.isTerminal && this.#shown) this.output.write("\r\x1b[K");
    this.#shown = false;
  }
}
