import type { RestartIntensity, RestartType } from "./types.ts";

/**
 * Whether a child that exited comes back: permanent always, transient only
 * after a failure, temporary never.
 */
export function restartDecision(restart: RestartType, failed: boolean): "restart" | "remove" {
  switch (restart) {
    case "permanent":
      return "restart";
    case "transient":
      return failed ? "restart" : "remove";
    case "temporary":
      return "remove";
  }
}

/** Sliding window of restart times: more than `maxRestarts` within `withinMs` is refused. */
export class RestartHistory {
  #times: number[] = [];

  /** Records a restart at `now` if allowed; returns false when the intensity is exceeded. */
  admit(now: number, intensity: RestartIntensity): boolean {
    this.#times = this.#times.filter((t) => now - t < intensity.withinMs);
    if (this.#times.length >= intensity.maxRestarts) return false;
    this.#times.push(now);
    return true;
  }

  /** Restarts inside the current window (drives exponential backoff). */
  get recentCount(): number {
    return this.#times.length;
  }
}
