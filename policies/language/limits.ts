/**
 * Limits on policy text (partition, Detox, Dealer, enforcer and sequence
 * files), so that a file cannot exhaust the parser: one 52 MB file used to
 * take 16 s and 1.4 GB, and 100,000 nested parentheses overflowed the stack.
 * The largest real CMS policy file is about 630 kB (4,000 lines).
 */
import { PolicySyntaxError } from "./errors.ts";

/** Longest accepted policy file, in characters (4 MiB). */
export const MAX_POLICY_CHARS = 4 * 1024 * 1024;
/** Deepest accepted nesting of parentheses in a condition. */
export const MAX_NESTING = 64;

/** Refuses a file over the size limit before any parsing starts. */
export function checkPolicySize(text: string, file: string): void {
  if (text.length > MAX_POLICY_CHARS) {
    throw new PolicySyntaxError(
      file,
      1,
      1,
      `file too large: ${text.length} characters, at most ${MAX_POLICY_CHARS} (4 MiB) are accepted`,
    );
  }
}
