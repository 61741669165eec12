/**
 * A racer for confinement tests: another thread swaps two directory entries
 * (say a directory and a symlink to the outside) with renameat2(RENAME_EXCHANGE)
 * in a tight loop, while the test runs storage operations on this thread. The
 * test pauses it to look at a still file system, and asserts only what must
 * hold whatever the interleaving was.
 */
const RUN = 0, PAUSE = 1, STOP = 3;

export interface Exchanger {
  /** Exchanges done so far. */
  count(): number;
  /** Resolves once the racer is between two exchanges and waits. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

export async function startExchanging(a: string, b: string): Promise<Exchanger> {
  const shared = new SharedArrayBuffer(8);
  const state = new Int32Array(shared);
  const worker = new Worker(new URL("./rename_exchange_worker.ts", import.meta.url), { type: "module" });
  let failure: string | null = null;
  const stopped = new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<string>) => {
      if (e.data !== "stopped") failure = e.data;
      resolve();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`exchange worker: ${e.message}`));
    };
  });
  worker.postMessage({ a, b, shared });
  const waitWhile = async (value: number) => {
    while (Atomics.load(state, 0) === value) await Atomics.waitAsync(state, 0, value, 1000).value;
  };
  const exchanger: Exchanger = {
    count: () => Atomics.load(state, 1),
    async pause() {
      Atomics.store(state, 0, PAUSE);
      await waitWhile(PAUSE);
    },
    resume() {
      Atomics.store(state, 0, RUN);
      Atomics.notify(state, 0);
    },
    async stop() {
      Atomics.store(state, 0, STOP);
      Atomics.notify(state, 0);
      await stopped;
      worker.terminate();
      if (failure) throw new Error(failure);
    },
  };
  // Started for real (one exchange done) before the test goes on, so that what follows races with it.
  while (exchanger.count() === 0 && failure === null) {
    await Promise.race([Atomics.waitAsync(state, 1, 0, 1000).value, stopped]);
  }
  if (failure) throw new Error(failure);
  return exchanger;
}
