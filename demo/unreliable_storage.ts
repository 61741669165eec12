/**
 * The demo's storage faults: a real site adapter behind a decorator that makes
 * some writes fail the way a flaky endpoint does (a site's reliability), and
 * every read and write fail while the endpoint is "down" (an outage window on
 * the simulated clock). The files that do move are real; only the failures
 * are drawn: from a hash of (seed, site, path, attempt), so that a run is
 * reproduced whatever order parallel copies happen to run in.
 */
import {
  type StorageAdapter,
  type StorageEntry,
  StorageError,
  type WriteExpectation,
} from "../adapters/storage/storage_port.ts";

export interface Unreliability {
  /** Chance that one write or copy into the site succeeds (1 = always). */
  reliability: number;
  /** Whether the endpoint is unreachable now. */
  down(): boolean;
  seed: number;
}

/** FNV-1a of the text, as a number in [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

export class UnreliableStorage implements StorageAdapter {
  readonly kind: StorageAdapter["kind"];
  readonly capabilities: StorageAdapter["capabilities"];
  readonly #attempts = new Map<string, number>();

  constructor(
    readonly inner: StorageAdapter,
    private readonly site: string,
    private readonly faults: Unreliability,
  ) {
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
    if (inner.stage) this.stage = (path) => this.#reachable(path).then(() => inner.stage!(path));
    if (inner.isStaged) this.isStaged = (path) => this.#reachable(path).then(() => inner.isStaged!(path));
  }

  stage?: (path: string) => Promise<void>;
  isStaged?: (path: string) => Promise<boolean>;

  url(path: string): string {
    return this.inner.url(path);
  }

  async stat(path: string): Promise<StorageEntry | null> {
    await this.#reachable(path);
    return await this.inner.stat(path);
  }

  async *list(dir: string, options?: { recursive?: boolean }): AsyncIterable<StorageEntry> {
    await this.#reachable(dir);
    yield* this.inner.list(dir, options);
  }

  async read(path: string): Promise<ReadableStream<Uint8Array>> {
    await this.#reachable(path);
    return await this.inner.read(path);
  }

  async write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    await this.#writable(path);
    await this.inner.write(path, data, expect);
  }

  async copyFrom(source: StorageAdapter, sourcePath: string, path: string, expect: WriteExpectation) {
    if (source instanceof UnreliableStorage) {
      await source.#reachable(sourcePath);
      source = source.inner; // the fast path between two real roots stays available
    }
    await this.#writable(path);
    await this.inner.copyFrom(source, sourcePath, path, expect);
  }

  async delete(path: string): Promise<boolean> {
    await this.#reachable(path);
    return await this.inner.delete(path);
  }

  async checksum(path: string): Promise<string> {
    await this.#reachable(path);
    return await this.inner.checksum(path);
  }

  async mkdir(dir: string): Promise<void> {
    await this.#reachable(dir);
    await this.inner.mkdir(dir);
  }

  async rmdir(dir: string): Promise<boolean> {
    await this.#reachable(dir);
    return await this.inner.rmdir(dir);
  }

  #reachable(path: string): Promise<void> {
    if (this.faults.down()) {
      return Promise.reject(new StorageError("ECONNREFUSED", path, `${this.site}: the endpoint is down`));
    }
    return Promise.resolve();
  }

  async #writable(path: string): Promise<void> {
    await this.#reachable(path);
    const attempt = (this.#attempts.get(path) ?? 0) + 1;
    this.#attempts.set(path, attempt);
    if (unitHash(`${this.faults.seed}/${this.site}${path}#${attempt}`) >= this.faults.reliability) {
      throw new StorageError("EIO", path, `${this.site}: the write failed (flaky endpoint)`);
    }
  }
}
