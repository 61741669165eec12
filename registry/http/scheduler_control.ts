/**
 * What the scheduler routes need (implemented by the composition root over
 * the scheduler actor and its store). Rows are in their JSON shape.
 */
import type { JsonRow } from "./file_operations.ts";

export type SchedulerAnswer<T> = T | { error: string };

export interface SchedulerControl {
  sequences(): Promise<JsonRow[]>;
  startSequence(name: string): Promise<SchedulerAnswer<JsonRow>>;
  stopSequence(name: string): Promise<SchedulerAnswer<JsonRow>>;
  /** Application runs, newest first. */
  applications(limit: number): Promise<JsonRow[]>;
  /** Queues a run of an application of the sequence file; the id of the run. */
  runApplication(title: string, args: string[], user: string): Promise<SchedulerAnswer<{ id: number }>>;
  killApplication(id: number): Promise<SchedulerAnswer<{ killed: boolean }>>;
}
