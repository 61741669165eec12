/**
 * A tape (MSS) site emulated on a POSIX root: writes go to tape directly, but
 * a file can be read only while it is staged — after a bring-online request
 * has waited out the stage latency, and until its pin lifetime expires. The
 * staging requests are files under the root's `.staging/` directory, so they
 * survive a restart the way a real tape system's requests do, and the clock is
 * injected so tests move time instead of waiting.
 */
import { PosixStorage, realRoot } from "./posix_storage.ts";
import {
  checkNamespacePath,
  DISK_CAPABILITIES,
  type StorageCapabilities,
  StorageError,
} from "./storage_port.ts";

export interface TapeTiming {
  /** Seconds between a bring-online request and the file being readable. */
  stageSeconds: number;
  /** Seconds a staged file stays readable. */
  pinSeconds: number;
}

const STAGING_DIR = ".staging";

export class TapeStorage extends PosixStorage {
  override readonly kind = "tape" as const;
  override readonly capabilities: StorageCapabilities = { ...DISK_CAPABILITIES, stage: true };

  private constructor(root: string, readonly timing: TapeTiming, private readonly nowMs: () => number) {
    super(root);
  }

  static async openTape(root: string, timing: TapeTiming, nowMs: () => number): Promise<TapeStorage> {
    for (const [key, value] of Object.entries(timing)) {
      if (!Number.isFinite(value) || value < 0) {
        throw new StorageError("EINVAL", root, `${key} must be a non-negative number of seconds`);
      }
    }
    const tape = new TapeStorage(await realRoot(root), timing, nowMs);
    await tape.makeInternalDir([STAGING_DIR]);
    return tape;
  }

  protected override hidden(name: string, dir: string): boolean {
    return dir === "/" && name === STAGING_DIR;
  }

  protected override checkPath(path: string): string {
    const checked = super.checkPath(path);
    if (checked === `/${STAGING_DIR}` || checked.startsWith(`/${STAGING_DIR}/`)) {
      throw new StorageError("EACCES", path, "is reserved for staging records");
    }
    return checked;
  }

  async stage(path: string): Promise<void> {
    if (!(await this.stat(path))) throw new StorageError("ENOENT", path, "no such file on tape");
    const record = await this.#record(path);
    const requested = parseRequested(await this.readInternal(record));
    const now = this.nowMs();
    // A request still pending or a pin still valid is kept; an expired pin is renewed.
    if (requested !== null && now < requested + (this.timing.stageSeconds + this.timing.pinSeconds) * 1000) {
      return;
    }
    await this.writeInternal(record, JSON.stringify({ requested_ms: now }));
  }

  async isStaged(path: string): Promise<boolean> {
    const requested = parseRequested(await this.readInternal(await this.#record(path)));
    if (requested === null) return false;
    const online = requested + this.timing.stageSeconds * 1000;
    const now = this.nowMs();
    return now >= online && now < online + this.timing.pinSeconds * 1000;
  }

  override async read(path: string): Promise<ReadableStream<Uint8Array>> {
    if (!(await this.stat(path))) throw new StorageError("ENOENT", path, "no such file on tape");
    if (!(await this.isStaged(path))) {
      throw new StorageError(
        "ENOTSTAGED",
        path,
        "file is on tape and not staged; request a bring-online first",
      );
    }
    return await super.read(path);
  }

  override async delete(path: string): Promise<boolean> {
    const removed = await super.delete(path);
    this.removeInternal(await this.#record(path));
    return removed;
  }

  /** One record per path, named by its SHA-256 so that any path length fits a file name. */
  async #record(path: string): Promise<string[]> {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(checkNamespacePath(path)));
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    return [STAGING_DIR, hex];
  }
}

function parseRequested(record: string | null): number | null {
  try {
    const parsed = record === null ? null : JSON.parse(record);
    return typeof parsed?.requested_ms === "number" ? parsed.requested_ms : null;
  } catch {
    return null;
  }
}
