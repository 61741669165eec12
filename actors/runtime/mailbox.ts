import type { MailboxOptions } from "./types.ts";

/**
 * A bounded FIFO ring buffer. `push` returns what could not be kept (the new
 * message when rejecting, the evicted oldest when dropping), or `undefined`.
 */
export class Mailbox<M> {
  #buf: (M | undefined)[];
  #head = 0;
  #size = 0;
  readonly options: MailboxOptions;

  constructor(options: MailboxOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`Mailbox capacity must be a positive integer, got ${options.capacity}`);
    }
    this.options = options;
    this.#buf = new Array(Math.min(options.capacity, 64));
  }

  get size(): number {
    return this.#size;
  }

  /** Returns `{ overflow: message }` for the message that was not kept, else `undefined`. */
  push(msg: M): { overflow: M } | undefined {
    if (this.#size === this.options.capacity) {
      if (this.options.overflow === "reject") return { overflow: msg };
      const oldest = this.shift() as M;
      this.#pushUnchecked(msg);
      return { overflow: oldest };
    }
    this.#pushUnchecked(msg);
    return undefined;
  }

  shift(): M | undefined {
    if (this.#size === 0) return undefined;
    const msg = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.#size -= 1;
    return msg;
  }

  /** Removes and returns everything queued, oldest first. */
  drain(): M[] {
    const out: M[] = [];
    while (this.#size > 0) out.push(this.shift() as M);
    return out;
  }

  #pushUnchecked(msg: M): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) % this.#buf.length] = msg;
    this.#size += 1;
  }

  #grow(): void {
    const next = new Array<M | undefined>(Math.min(this.#buf.length * 2, this.options.capacity));
    for (let i = 0; i < this.#size; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length];
    this.#buf = next;
    this.#head = 0;
  }
}
