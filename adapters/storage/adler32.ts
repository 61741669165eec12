/**
 * Adler-32 (RFC 1950), the checksum CMS and most grid storage record per
 * file. Incremental, so a stream is verified while it is written.
 */
const MOD = 65521;
/** Largest n such that 255·n·(n+1)/2 + (n+1)·(MOD−1) fits in 2^32 − 1 (zlib's NMAX). */
const NMAX = 5552;

export class Adler32 {
  #a = 1;
  #b = 0;

  update(bytes: Uint8Array): this {
    let a = this.#a;
    let b = this.#b;
    let i = 0;
    while (i < bytes.length) {
      const end = Math.min(i + NMAX, bytes.length);
      for (; i < end; i++) {
        a += bytes[i]!;
        b += a;
      }
      a %= MOD;
      b %= MOD;
    }
    this.#a = a;
    this.#b = b;
    return this;
  }

  /** Eight lower-case hex digits, as `xrdfs query checksum` and the inventory write them. */
  hex(): string {
    return ((this.#b * 65536 + this.#a) >>> 0).toString(16).padStart(8, "0");
  }
}

export function adler32Hex(bytes: Uint8Array): string {
  return new Adler32().update(bytes).hex();
}
