/**
 * What the scheduler routes need (implemented in service/ over the scheduler
 * actor and its store). The routes shape the JSON (routes/scheduler.ts).
 */
export type SchedulerAnswer<T> = T | { error: string };

/** A sequence as the scheduler reports it. */
export interface SequenceRow {
  name: string;
  enabled: boolean;
  restart: boolean;
  position: number;
  steps: number;
  /** The line of the sequence file the sequence is at. */
  line: number;
  status: string;
  /** Unix ms before which nothing runs; null if none. */
  notBefore: number | null;
}

/** A run of an application. */
export interface ApplicationRow {
  id: number;
  title: string;
  args: string[];
  write: boolean;
  sequence: string | null;
  user: string | null;
  status: string;
  message: string | null;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
}

export interface SchedulerControl {
  sequences(): Promise<SequenceRow[]>;
  startSequence(name: string): Promise<SchedulerAnswer<SequenceRow>>;
  stopSequence(name: string): Promise<SchedulerAnswer<SequenceRow>>;
  /** Application runs, newest first. */
  applications(limit: number): Promise<ApplicationRow[]>;
  /** Queues a run of an application of the sequence file; the id of the run. */
  runApplication(title: string, args: string[], user: string): Promise<SchedulerAnswer<{ id: number }>>;
  killApplication(id: number): Promise<SchedulerAnswer<{ killed: boolean }>>;
}
