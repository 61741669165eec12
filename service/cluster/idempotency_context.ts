import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The `Idempotency-Key` of the HTTP write being handled, so that the inventory
 * submissions and registry transactions it makes carry it into their commit
 * (recorded in the same transaction as the write) without every route passing
 * it along.
 */
interface Scope {
  key: string;
  /** Closed when the write has been answered: actors started meanwhile inherit the scope, not the key. */
  open: boolean;
}

const context = new AsyncLocalStorage<Scope>();

export async function withIdempotencyKey<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
  const scope = { key, open: true };
  try {
    return await context.run(scope, fn);
  } finally {
    scope.open = false;
  }
}

export function currentIdempotencyKey(): string | undefined {
  const scope = context.getStore();
  return scope?.open ? scope.key : undefined;
}
