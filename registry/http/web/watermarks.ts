/**
 * The high and low watermarks of a Detox policy, read from its text: the
 * occupancy of its deletion trigger (`When site.occupancy > 0.9`) and of its
 * stop condition (`Until … site.occupancy < 0.7`). Policies whose thresholds
 * are not plain numbers (per-site expressions) have none to draw.
 */
export interface Watermarks {
  high: number | null;
  low: number | null;
}

export function watermarksOf(policyText: string): Watermarks {
  let high: number | null = null;
  let low: number | null = null;
  for (const raw of policyText.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    const when = line.match(/^When\b.*\bsite\.occupancy\s*>=?\s*([0-9]*\.?[0-9]+)/);
    if (when) high = high === null ? Number(when[1]) : Math.min(high, Number(when[1]));
    const until = line.match(/^Until\b.*\bsite\.occupancy\s*<=?\s*([0-9]*\.?[0-9]+)/);
    if (until) low = low === null ? Number(until[1]) : Math.max(low, Number(until[1]));
  }
  return { high, low };
}
