/** What the scheduler keeps in the database: sequence positions and application runs (spec §7). */

/** `new → run → done | failed | killed`; `notfound` when the application cannot be found. */
export type ApplicationStatus = "new" | "run" | "done" | "failed" | "killed" | "notfound";

export interface ApplicationRun {
  id: number;
  title: string;
  args: string[];
  write: boolean;
  /** The sequence that ran it; null for a run submitted by hand. */
  sequence: string | null;
  user: string | null;
  status: ApplicationStatus;
  message: string | null;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
}

export interface SequenceState {
  name: string;
  enabled: boolean;
  position: number;
}

export interface SchedulerStore {
  sequenceStates(): Promise<SequenceState[]>;
  saveSequence(state: SequenceState, nowMs: number): Promise<void>;
  createRun(
    run: { title: string; args: string[]; write: boolean; sequence: string | null; user: string | null },
    nowMs: number,
  ): Promise<number>;
  startRun(id: number, nowMs: number): Promise<void>;
  finishRun(id: number, status: ApplicationStatus, message: string | null, nowMs: number): Promise<void>;
  /** Newest first. */
  runs(limit: number): Promise<ApplicationRun[]>;
  /** Runs submitted by hand and not started yet, oldest first. */
  queuedRuns(): Promise<ApplicationRun[]>;
  /** Runs left `run` (or sequence runs left `new`) by a stopped incarnation become failed; returns how many. */
  failInterrupted(nowMs: number): Promise<number>;
}
