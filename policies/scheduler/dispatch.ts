/**
 * The scheduler's dispatch rules (spec §7): what may start now. Queued runs
 * (submitted by hand) go first, in submission order; then each sequence, in
 * round-robin order, passes a WAIT (sleeping until it is over), stops at a
 * TERMINATE, or starts its application step. At most one application that
 * writes the inventory (`<title>`) runs at a time, read-only ones
 * (`{title}`) run beside it, and an application lock on an application's
 * name (or its title) keeps its steps and runs from starting.
 *
 * Pure: the scheduler actor applies the actions in order (records the runs,
 * starts them, arms the timers, saves the cursors).
 */
import { type AppLock, lockedBy, lockOn } from "../../registry/requests/app_lock.ts";
import { nextPosition } from "./sequence_cursor.ts";
import type { AppDefinition, SequenceDefinition } from "./sequence_file.ts";

export interface DispatchSequence {
  readonly def: SequenceDefinition;
  readonly enabled: boolean;
  readonly position: number;
  /** Unix ms before which the sequence does nothing (a WAIT or a retry delay). */
  readonly notBefore: number;
  /** A step of the sequence is running. */
  readonly running: boolean;
}

export interface DispatchQueued {
  readonly id: number;
  readonly title: string;
  readonly write: boolean;
}

export interface DispatchInput {
  readonly nowMs: number;
  /** Nothing starts before the inventory is loaded (the agents would refuse). */
  readonly inventoryReady: boolean;
  readonly apps: ReadonlyMap<string, AppDefinition>;
  readonly locks: readonly AppLock[];
  /** The lock name an application answers to besides its title (its runner's: `detox`, `dealer`, …). */
  readonly lockName: (app: AppDefinition) => string;
  /** Runs going on now: does one of them write? */
  readonly writerRunning: boolean;
  readonly queue: readonly DispatchQueued[];
  /** In round-robin order: a sequence that starts a step goes to the back. */
  readonly sequences: readonly DispatchSequence[];
}

export type DispatchAction =
  | { kind: "start_queued"; id: number }
  /** Sleep `waitMs`, with the cursor already past the WAIT. */
  | { kind: "wait"; sequence: string; waitMs: number; position: number }
  | { kind: "terminate"; sequence: string }
  /** The step does not start now; `reason` is shown by `sequence list`. */
  | { kind: "blocked"; sequence: string; reason: string }
  | {
    kind: "start_step";
    sequence: string;
    app: AppDefinition;
    args: readonly string[];
    /** The step's `[hours]`; null = the scheduler's default. */
    timeoutHours: number | null;
  };

export const WAITING_FOR_INVENTORY = "waiting for the inventory to load";

/** The actions to take now, in order (each start counts for the starts after it). */
export function dispatch(input: DispatchInput): DispatchAction[] {
  if (!input.inventoryReady) {
    return input.sequences.map((s) => ({
      kind: "blocked",
      sequence: s.def.name,
      reason: WAITING_FOR_INVENTORY,
    }));
  }
  const actions: DispatchAction[] = [];
  let writerBusy = input.writerRunning;
  const lockOf = (app: AppDefinition) => {
    const lock = lockOn(input.locks, [input.lockName(app), app.title]);
    return lock ? lockedBy(lock) : null;
  };

  for (const queued of input.queue) {
    const app = input.apps.get(queued.title);
    if (!app || lockOf(app) || (app.write && writerBusy)) continue;
    actions.push({ kind: "start_queued", id: queued.id });
    if (queued.write) writerBusy = true;
  }

  for (const sequence of input.sequences) {
    if (!sequence.enabled || sequence.running || sequence.notBefore > input.nowMs) continue;
    const name = sequence.def.name;
    const step = sequence.def.steps[sequence.position]!;
    if (step.kind === "wait") {
      const position = nextPosition(sequence.def, sequence.position, "done").position;
      actions.push({ kind: "wait", sequence: name, waitMs: step.seconds * 1000, position });
      continue;
    }
    if (step.kind === "terminate") {
      actions.push({ kind: "terminate", sequence: name });
      continue;
    }
    const app = input.apps.get(step.app)!;
    const reason = lockOf(app) ?? (app.write && writerBusy ? "writer busy" : null);
    if (reason) {
      actions.push({ kind: "blocked", sequence: name, reason });
      continue;
    }
    actions.push({
      kind: "start_step",
      sequence: name,
      app,
      args: step.args,
      timeoutHours: step.timeoutHours,
    });
    if (app.write) writerBusy = true;
  }
  return actions;
}
