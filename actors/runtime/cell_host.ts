import type { Clock } from "./clock.ts";
import type { DeadLetterReason, InspectionHub } from "./inspection.ts";
import type { ActorRef, Logger } from "./types.ts";
import type { ActorCell } from "./actor_cell.ts";

/** What a cell needs from its actor system (kept narrow so the cell stays testable). */
export interface CellHost {
  readonly clock: Clock;
  readonly inspection: InspectionHub;
  logger(address: string): Logger;
  refFor<M>(address: string): ActorRef<M>;
  // deno-lint-ignore no-explicit-any
  register(cell: ActorCell<any>): void;
  // deno-lint-ignore no-explicit-any
  unregister(cell: ActorCell<any>): void;
  deadLetter(recipient: string, msg: unknown, reason: DeadLetterReason, error?: string): void;
  /** Counts cells with work in progress (for runUntilIdle). */
  busy(delta: number): void;
  /** The root gave up. */
  fatal(error: unknown): void;
}
