/** A non-empty, non-comment line of a policy file, with its position. */
export interface SourceLine {
  /** 1-based line number. */
  readonly line: number;
  /** The text without leading/trailing whitespace. */
  readonly text: string;
  /** 1-based column where `text` starts. */
  readonly column: number;
}

/** Lines that matter: blank lines and lines starting with `#` are skipped (only whole-line comments). */
export function sourceLines(text: string): SourceLine[] {
  const out: SourceLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    out.push({ line: i + 1, text: trimmed, column: raw.indexOf(trimmed) + 1 });
  });
  return out;
}

/** Splits a line into its first word and the rest, with the column where the rest starts. */
export function firstWord(l: SourceLine): { word: string; rest: string; restColumn: number } {
  const m = /^(\S+)\s*(.*)$/.exec(l.text)!;
  return { word: m[1]!, rest: m[2]!, restColumn: l.column + l.text.length - m[2]!.length };
}
