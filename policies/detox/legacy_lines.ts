/**
 * Line forms of earlier versions of the Detox policy language (2016), read as
 * today's lines so that every policy file CMS ever wrote is accepted unchanged
 * (docs/policy_language_history.md lists them with their dates):
 *
 * - `Protect if COND` (until 2016-08-11): the `if` is dropped.
 * - `Strategy iterative|static [order by VAR]` (until 2016-08-12): `Algo Static`
 *   for static; `order by VAR` is `Order decreasing VAR` (candidates were taken
 *   from the end of the increasing sort).
 * - `AlwaysDelete COND` (2016-08-18 to 08-27): today's `Delete`. In files of
 *   that dialect `Delete` meant what `Dismiss` means today.
 * - `When A until B` (2016-08-10): `When A` and `Until B`.
 * - A file with no On, When or Until line (2016-08-06 to 08-10, when they were
 *   command-line settings) gets that time's defaults: sites with a quota for
 *   the partition, trigger above 90 %, stop below 85 % (LEGACY_SITE_DEFAULTS).
 * - `DeleteOwner(G1,G2) COND` (2016-10 to 2017, when Delete already had today's meaning): the block replicas owned by those groups
 *   are deleted (handed over to a dataset-level owner where there is one):
 *   today's `DeleteBlock COND and blockreplica.owner in [G1 G2]`.
 */
import type { SourceLine } from "../language/source_lines.ts";

export interface NormalizedLine {
  word: string;
  rest: string;
  restColumn: number;
  /** `DeleteOwner(…)`: the owner groups whose block replicas the line deletes. */
  owners?: readonly string[];
  /** `Strategy … order by VAR`: the order it implies. */
  orderBy?: string;
  /** `When A until B` (2016-08-10): the stop condition given on the trigger's line. */
  until?: { rest: string; restColumn: number };
}

const ACTION_WORDS = /^(Protect|Delete|Dismiss|Ignore|ProtectBlock|DeleteBlock|DismissBlock|AlwaysDelete)$/;

/**
 * The 2016 dialect (until 2016-08-27), in which `Delete` means today's
 * `Dismiss` and `AlwaysDelete` today's `Delete`. Recognised by a construct
 * only it had, or by Delete lines with a trigger and no Dismiss at all: today
 * only Dismiss waits for the trigger, so such a file's When would act on nothing.
 * (With `When always` the two meanings delete the same replicas.)
 */
export function isLegacyDialect(lines: readonly { word: string; rest: string }[]): boolean {
  const marked = lines.some(({ word, rest }) =>
    word === "Strategy" || word === "AlwaysDelete" || (ACTION_WORDS.test(word) && /^if(\s|$)/.test(rest))
  );
  if (marked) return true;
  const has = (w: string) => lines.some((l) => l.word === w);
  return has("Delete") && !has("Dismiss") && !has("DismissBlock") &&
    lines.some((l) => l.word === "When" && l.rest.trim() !== "always");
}

/** Today's form of a line, or a message saying what is wrong with an old form. */
export function normalizeLine(
  l: SourceLine,
  first: { word: string; rest: string; restColumn: number },
  legacy: boolean,
): NormalizedLine | { error: string; column: number } {
  let { word, rest, restColumn } = first;
  if (ACTION_WORDS.test(word) || word.startsWith("DeleteOwner(")) {
    const m = /^if(\s+|$)/.exec(rest);
    if (m) {
      rest = rest.slice(m[0].length);
      restColumn += m[0].length;
      if (rest === "") return { error: `expected a condition after "${word} if"`, column: restColumn };
    }
  }
  if (word === "Strategy") {
    const m = /^(iterative|static)(?:\s+order\s+by\s+(\S+))?$/i.exec(rest);
    if (!m) {
      return {
        error:
          `expected "Strategy iterative" or "Strategy static", optionally followed by "order by VARIABLE"`,
        column: restColumn,
      };
    }
    return {
      word,
      rest: m[1]!.toLowerCase(),
      restColumn,
      ...(m[2] ? { orderBy: m[2] } : {}),
    };
  }
  if (word.startsWith("DeleteOwner")) {
    const m = /^DeleteOwner\(([^()]*)\)$/.exec(word);
    const groups = m ? m[1]!.split(",").map((g) => g.trim()) : [];
    if (!m || groups.some((g) => g === "")) {
      return { error: `expected "DeleteOwner(GROUP[,GROUP…]) CONDITION"`, column: l.column };
    }
    if (rest === "") return { error: "DeleteOwner needs a condition", column: restColumn };
    return { word: "DeleteBlock", rest, restColumn, owners: groups };
  }
  if (legacy && word === "When") {
    const m = /^(.*?\S)\s+until\s+(\S.*)$/.exec(rest);
    if (m) {
      return {
        word,
        rest: m[1]!,
        restColumn,
        until: { rest: m[2]!, restColumn: restColumn + rest.indexOf(m[2]!, m[1]!.length) },
      };
    }
  }
  if (legacy && word === "Delete") return { word: "Dismiss", rest, restColumn };
  if (word === "AlwaysDelete") {
    if (rest === "") return { error: "AlwaysDelete needs a condition", column: restColumn };
    return { word: "Delete", rest, restColumn };
  }
  return { word, rest, restColumn };
}

/** Target, trigger and stop of a 2016 file that has none of On, When, Until. */
export const LEGACY_SITE_DEFAULTS = {
  On: "site.quota > 0",
  When: "site.occupancy > 0.9",
  Until: "site.occupancy < 0.85",
} as const;
