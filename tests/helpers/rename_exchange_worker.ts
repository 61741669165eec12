/**
 * The other side of rename_exchange.ts: swaps two names with
 * renameat2(RENAME_EXCHANGE) as fast as it can, on its own thread, pausing
 * when asked. State (Int32Array over shared memory): [0] command/state
 * (RUN, PAUSE asked, PAUSED, STOP), [1] exchanges done.
 */
const PAUSE = 1, PAUSED = 2, STOP = 3;
const RENAME_EXCHANGE = 2;
const AT_FDCWD = -100;

self.onmessage = (event: MessageEvent<{ a: string; b: string; shared: SharedArrayBuffer }>) => {
  const { a, b, shared } = event.data;
  const state = new Int32Array(shared);
  const lib = Deno.dlopen("libc.so.6", {
    renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
  });
  const encode = (s: string) => new TextEncoder().encode(`${s}\0`);
  const [ca, cb] = [encode(a), encode(b)];
  for (;;) {
    const s = Atomics.load(state, 0);
    if (s === STOP) break;
    if (s === PAUSE) {
      Atomics.store(state, 0, PAUSED);
      Atomics.notify(state, 0);
      Atomics.wait(state, 0, PAUSED);
      continue;
    }
    if (lib.symbols.renameat2(AT_FDCWD, ca, AT_FDCWD, cb, RENAME_EXCHANGE) !== 0) {
      self.postMessage(`renameat2 of ${a} and ${b} failed`);
      break;
    }
    if (Atomics.add(state, 1, 1) === 0) Atomics.notify(state, 1); // the first: the test may begin
  }
  lib.close();
  self.postMessage("stopped");
};
