/**
 * Interleaving of plugin proposals (spec §4.2 step 4): at each step a plugin
 * is picked with probability ∝ 1/priority (lower number = more urgent) and its
 * next proposal taken. If any plugin has priority 0, only the priority-0
 * plugins are used, as equals. The random source is injected, so a seed gives
 * the same order every run.
 */

/** Uniform random numbers in [0, 1) (a seeded generator in production and tests). */
export interface RandomSource {
  next(): number;
}

export interface PluginQueue<T> {
  readonly priority: number;
  readonly items: readonly T[];
}

export function interleave<T>(queues: readonly PluginQueue<T>[], rng: RandomSource): T[] {
  const zero = queues.some((q) => q.priority === 0);
  const live = queues
    .filter((q) => (zero ? q.priority === 0 : Number.isFinite(q.priority)) && q.items.length > 0)
    .map((q) => ({ weight: zero ? 1 : 1 / q.priority, items: q.items, next: 0 }));
  const out: T[] = [];
  while (live.length > 0) {
    const total = live.reduce((s, q) => s + q.weight, 0);
    let x = rng.next() * total;
    let i = 0;
    while (i < live.length - 1 && x >= live[i]!.weight) x -= live[i++]!.weight;
    const q = live[i]!;
    out.push(q.items[q.next++]!);
    if (q.next === q.items.length) live.splice(i, 1);
  }
  return out;
}

/** Index chosen with probability ∝ weight (all weights ≥ 0, at least one > 0), or -1. */
export function weightedChoice(weights: readonly number[], rng: RandomSource): number {
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0)) return -1;
  let x = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i]! <= 0) continue;
    if (x < weights[i]!) return i;
    x -= weights[i]!;
  }
  // Rounding: the last positive weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return -1;
}
