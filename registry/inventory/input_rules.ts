/**
 * Limits on values that reach the database, checked before a command is
 * acknowledged so that an accepted command cannot fail when it is written.
 */

/**
 * The largest size of a block, a block replica or a dataset, in bytes (2^53 − 1,
 * about 9 PB). Sizes are sums of file sizes kept as JavaScript numbers and in
 * int8 columns: below this bound every sum is exact and fits int8 (a block of
 * 1,100 files of 2^53 − 1 bytes would overflow int8, and be inexact long before).
 */
export const MAX_TOTAL_BYTES = Number.MAX_SAFE_INTEGER;

/** Checksum algorithms and the length of their hex digest. */
export const CHECKSUM_HEX_DIGITS: Readonly<Record<string, number>> = Object.freeze({
  adler32: 8,
  crc32: 8,
  md5: 32,
  sha1: 40,
  sha256: 64,
});

/** Why a checksum entry is unacceptable, or `null`: a known algorithm and exactly its number of hex digits. */
export function checksumProblem(algorithm: string, digest: unknown): string | null {
  const digits = Object.hasOwn(CHECKSUM_HEX_DIGITS, algorithm) ? CHECKSUM_HEX_DIGITS[algorithm] : undefined;
  if (digits === undefined) {
    return `unknown checksum algorithm ${JSON.stringify(algorithm)}; expected one of ${
      Object.keys(CHECKSUM_HEX_DIGITS).join(", ")
    }`;
  }
  if (typeof digest !== "string" || digest.length !== digits || !/^[0-9a-fA-F]+$/.test(digest)) {
    return `checksum ${algorithm} must be exactly ${digits} hex digits, got ${
      typeof digest === "string" ? JSON.stringify(digest) : typeof digest
    }`;
  }
  return null;
}
