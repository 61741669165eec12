import { type InventoryState, type JournalEntry, Snapshot } from "../../registry/inventory/mod.ts";

export type PublicationListener = (entry: JournalEntry, snapshot: Snapshot) => void;

/**
 * Where the writer publishes each committed version. `snapshot()` is one field
 * read; the holder outlives the inventory actor, so readers keep the last
 * snapshot while a restarted actor reloads.
 */
export class InventoryPublication {
  #current: Snapshot | null = null;
  #listeners = new Set<PublicationListener>();
  #ready = Promise.withResolvers<void>();

  /** The latest committed snapshot. Throws before the first load finished. */
  snapshot(): Snapshot {
    if (!this.#current) throw new InventoryNotReadyError();
    return this.#current;
  }

  get isReady(): boolean {
    return this.#current !== null;
  }

  /** Resolves once a snapshot has been published. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Publishes a loaded state (start-up or reload); no journal entry. */
  publishLoaded(state: InventoryState): void {
    this.#current = new Snapshot(state);
    this.#ready.resolve();
  }

  /** Publishes the state after a committed batch and tells followers about the entry. */
  publishCommitted(entry: JournalEntry, state: InventoryState): void {
    const snap = new Snapshot(state);
    this.#current = snap;
    this.#ready.resolve();
    for (const l of this.#listeners) {
      try {
        l(entry, snap);
      } catch {
        // A follower's failure must not affect the writer.
      }
    }
  }

  /** Called after every committed batch, in order. */
  subscribe(listener: PublicationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The inventory has not been loaded yet (HTTP answers 503). */
export class InventoryNotReadyError extends Error {
  constructor() {
    super("The inventory is still loading");
    this.name = "InventoryNotReadyError";
  }
}
