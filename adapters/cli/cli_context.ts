import type { ProgressOutput } from "./check_progress.ts";
import type { UserStore } from "../db/user_store_port.ts";

/** What CLI commands may use; the CLI entry (main.ts) provides it. */
export interface CliContext {
  out(line: string): void;
  err(line: string): void;
  env(name: string): string | undefined;
  readStdin(): Promise<string>;
  readTextFile(path: string): Promise<string>;
  /** Opens the user store of the configured database (closes with the returned function). */
  openUsers(): Promise<{ users: UserStore; close(): Promise<void> }>;
  /** Runs the service until it is told to stop; resolves with the exit code. */
  startService(options: { listen?: string; config?: string }): Promise<number>;
  /** Checks a service configuration and the files it names; describes it, or throws with the key. */
  checkConfig(file: string): Promise<string[]>;
  now(): number;
  /** Where a long command shows its progress (stderr); absent: no progress shown. */
  progressOutput?(): ProgressOutput;
  /** Calls handler on Ctrl-C instead of the default exit; returns the function that removes it. */
  onInterrupt?(handler: () => void): () => void;
  /** Describes a policy, partitions or enforcer file, or throws an error with its position. */
  describePolicyFile(text: string, file: string): string[];
}

/** A user-facing failure: printed as one line, exit code 1 (2 for usage errors). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}
