/** The generic actor runtime: knows nothing of data management. */
export * from "./types.ts";
export * from "./clock.ts";
export { TestClock } from "./test_clock.ts";
export { ActorKilledError, ActorSystem, type ActorSystemOptions } from "./system.ts";
export { ask, type AskOptions, AskTimeoutError } from "./ask.ts";
export {
  type DeadLetter,
  type DeadLetterReason,
  DeadLetters,
  type InspectionEvent,
  InspectionHub,
} from "./inspection.ts";
export { Mailbox } from "./mailbox.ts";
export { replyChannel } from "./reply.ts";
