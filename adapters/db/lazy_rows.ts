/**
 * A large insert's rows made one at a time, as COPY takes them. With PGlite
 * (in this thread) COPY writes a chunk per turn of the event loop; building
 * every row first (a JSON block list each, hundreds of thousands for a Detox
 * cycle) would be one synchronous stretch before the first chunk. Lazily,
 * that work is spread over the chunks too.
 */
export function* lazyRows<T, R>(items: readonly T[], row: (item: T, index: number) => R): Generator<R> {
  for (let i = 0; i < items.length; i++) yield row(items[i]!, i);
}
