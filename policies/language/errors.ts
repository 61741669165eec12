/** Anything in a policy, partition or enforcer file that the language does not accept. */
export class PolicySyntaxError extends Error {
  constructor(
    /** The file (or `<text>` for inline conditions). */
    readonly file: string,
    /** 1-based. */
    readonly line: number,
    /** 1-based. */
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "PolicySyntaxError";
  }
}

/** Where a piece of text came from, to place errors. */
export interface SourceLocation {
  file: string;
  line: number;
  /** 1-based column of the first character of the text. */
  column: number;
}

export const INLINE: SourceLocation = { file: "<text>", line: 1, column: 1 };

export function errorAt(loc: SourceLocation, offset: number, reason: string): PolicySyntaxError {
  return new PolicySyntaxError(loc.file, loc.line, loc.column + offset, reason);
}
