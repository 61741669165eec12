/** Inspection events: what the runtime did, for logs, metrics and tests. */
export type InspectionEvent =
  | { type: "spawn"; address: string }
  | { type: "stop"; address: string; reason: string }
  | { type: "failure"; address: string; error: unknown }
  | { type: "restart"; address: string; incarnation: number }
  | { type: "escalate"; address: string; error: unknown }
  | { type: "message"; address: string; msg: unknown }
  | { type: "dead_letter"; recipient: string; msg: unknown; reason: DeadLetterReason };

/**
 * Why a message was not (fully) handled: the mailbox was full, the actor stopped or was removed
 * before handling it, no actor has that address, an ask had already completed, or the actor
 * crashed while handling it (`crashed`, with the error).
 */
export type DeadLetterReason =
  | "mailbox full"
  | "stopped"
  | "removed"
  | "no such actor"
  | "ask already completed"
  | "crashed";

export type InspectionListener = (event: InspectionEvent) => void;

/** A tiny synchronous event hub; listeners must not throw (errors are swallowed). */
export class InspectionHub {
  #listeners = new Set<InspectionListener>();
  #messageListeners = 0;

  subscribe(listener: InspectionListener, options: { messages?: boolean } = {}): () => void {
    const wrapped: InspectionListener = options.messages
      ? listener
      : (e) => e.type !== "message" && listener(e);
    this.#listeners.add(wrapped);
    if (options.messages) this.#messageListeners += 1;
    return () => {
      if (this.#listeners.delete(wrapped) && options.messages) this.#messageListeners -= 1;
    };
  }

  /** Message events are costly on hot paths; emit them only when someone listens. */
  get wantsMessages(): boolean {
    return this.#messageListeners > 0;
  }

  emit(event: InspectionEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // An observer must never break the runtime.
      }
    }
  }
}

export interface DeadLetter {
  recipient: string;
  msg: unknown;
  reason: DeadLetterReason;
  /** `crashed`: what the handler threw, described. */
  error?: string;
}

/** Counts and remembers the most recent undeliverable messages. */
export class DeadLetters {
  #count = 0;
  #recent: DeadLetter[] = [];
  constructor(private readonly keep = 100) {}

  get count(): number {
    return this.#count;
  }

  /** The most recent dead letters, oldest first. */
  get recent(): readonly DeadLetter[] {
    return this.#recent;
  }

  record(letter: DeadLetter): void {
    this.#count += 1;
    this.#recent.push(letter);
    if (this.#recent.length > this.keep) this.#recent.shift();
  }
}
