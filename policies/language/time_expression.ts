/**
 * The date expressions policies use (the original passed them to GNU
 * `date -d`): `N days ago`, `1 week ago`, `3 months ago`, `now`, `today`,
 * `yesterday`, `January 1` (this year), `March 15 2019`, ISO dates and
 * times, and `@UNIX`. Evaluated against an injected "now", in UTC.
 * Returns Unix seconds, or `null` when the text is not a date.
 */
const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const UNIT_SECONDS: Record<string, number> = {
  second: 1,
  sec: 1,
  minute: 60,
  min: 60,
  hour: 3600,
  day: 86400,
  week: 7 * 86400,
  fortnight: 14 * 86400,
};

export function parseTimeExpression(text: string, nowMs: number): number | null {
  const t = text.trim().toLowerCase().replace(/\s+/g, " ");
  const now = new Date(nowMs);
  const startOfToday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (t === "now") return Math.floor(nowMs / 1000);
  if (t === "today") return startOfToday / 1000;
  if (t === "yesterday") return startOfToday / 1000 - 86400;
  let m = t.match(/^@(-?\d{1,12})$/);
  if (m) return Number(m[1]);
  m = t.match(/^(\d{1,6}|an?|one) ([a-z]+?)s? ago$/);
  if (m) {
    const n = /^\d+$/.test(m[1]!) ? Number(m[1]) : 1;
    const unit = m[2]!;
    if (unit in UNIT_SECONDS) return Math.floor(nowMs / 1000) - n * UNIT_SECONDS[unit]!;
    if (unit === "month" || unit === "year") {
      // Calendar arithmetic, as GNU date does it: the same day of an earlier month.
      const months = unit === "month" ? n : 12 * n;
      const d = new Date(nowMs);
      d.setUTCMonth(d.getUTCMonth() - months);
      return Math.floor(d.getTime() / 1000);
    }
    return null;
  }
  m = t.match(/^([a-z]+) (\d{1,2})(?:,? (\d{4}))?$/);
  if (m) {
    const month = monthIndex(m[1]!);
    const day = Number(m[2]);
    if (month < 0 || day < 1 || day > 31) return null;
    const year = m[3] ? Number(m[3]) : now.getUTCFullYear();
    return checked(Date.UTC(year, month, day), year, month, day);
  }
  m = t.match(/^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{2}):(\d{2})(?::(\d{2}))?(?:z|[+-]00:?00)?)?$/);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
    const ms = Date.UTC(year, month, day, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
    if (Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59 || Number(m[6] ?? 0) > 59) return null;
    return checked(ms, year, month, day);
  }
  return null;
}

function monthIndex(word: string): number {
  if (word.length < 3) return -1;
  return MONTHS.findIndex((m) => m.startsWith(word));
}

/** Rejects rolled-over dates such as February 31. */
function checked(ms: number, year: number, month: number, day: number): number | null {
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month || d.getUTCDate() !== day) return null;
  return Math.floor(ms / 1000);
}
