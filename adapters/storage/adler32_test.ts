import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Adler32, adler32Hex } from "./adler32.ts";
import { sameAdler32 } from "./storage_port.ts";

/** The definition, one byte at a time: what the word loop must agree with. */
function reference(bytes: Uint8Array): string {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b * 65536 + a) >>> 0).toString(16).padStart(8, "0");
}

Deno.test("adler32: known values", () => {
  assertEquals(adler32Hex(new Uint8Array()), "00000001");
  assertEquals(adler32Hex(new TextEncoder().encode("Wikipedia")), "11e60398");
  // All 0xff is the worst case for the deferred modulo.
  const ones = new Uint8Array(100_000).fill(255);
  assertEquals(adler32Hex(ones), "149a302c"); // zlib.adler32
  assertEquals(new Adler32().update(ones.subarray(0, 7)).update(ones.subarray(7)).hex(), "149a302c");
  const more = new Uint8Array(1_000_003).fill(255);
  assertEquals(adler32Hex(more), reference(more));
});

Deno.test("adler32: stored sums compare however they were written, garbage never matches", () => {
  assert(sameAdler32("0A1B2C3D", "a1b2c3d") && sameAdler32("0x0000000f", "f"));
  assert(!sameAdler32("xyz", "xyz") && !sameAdler32("", ""));
});

Deno.test("adler32: any length, any alignment, any split into chunks gives the byte-loop result", () => {
  const data = crypto.getRandomValues(new Uint8Array(40_000));
  for (const offset of [0, 1, 2, 3, 5]) {
    for (const length of [0, 1, 3, 4, 7, 5552, 5553, 22_207, 39_990]) {
      const view = data.subarray(offset, offset + length);
      const expected = reference(view);
      assertEquals(adler32Hex(view), expected, `offset ${offset} length ${length}`);
      const sum = new Adler32();
      for (let at = 0; at < view.length; at += 4093) sum.update(view.subarray(at, at + 4093));
      assertEquals(sum.hex(), expected, `chunked, offset ${offset} length ${length}`);
    }
  }
});
