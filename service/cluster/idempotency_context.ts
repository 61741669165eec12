import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The `Idempotency-Key` of the HTTP write being handled, so that the inventory
 * submissions it makes carry it into their commit (recorded in the same
 * transaction as the journal entry) without every route passing it along.
 */
const context = new AsyncLocalStorage<string>();

export function withIdempotencyKey<T>(key: string, fn: () => T): T {
  return context.run(key, fn);
}

export function currentIdempotencyKey(): string | undefined {
  return context.getStore();
}
