import { assertEquals } from "../../tests/helpers/assert.ts";
import { adler32Hex } from "./adler32.ts";
import { adler32Implementation, fastAdler32Hex, fileAdler32 } from "./fast_adler32.ts";

const MIB = 1 << 20;
const IMPLEMENTATIONS = ["libdeflate", "wasm"] as const;

function bytesOf(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

Deno.test("fast adler32: every implementation agrees with the JavaScript one, at every awkward length", async () => {
  // libdeflate is used only where it is installed; the WebAssembly sum always is.
  const present = IMPLEMENTATIONS.filter((i) => i === "wasm" || adler32Implementation() === "libdeflate");
  const ones = new Uint8Array(3 * MIB + 5).fill(255); // the worst case for deferred modulo
  for (const impl of present) {
    assertEquals(await fastAdler32Hex(new Uint8Array(), impl), "00000001", impl);
    assertEquals(await fastAdler32Hex(new TextEncoder().encode("Wikipedia"), impl), "11e60398", impl);
    assertEquals(await fastAdler32Hex(ones, impl), adler32Hex(ones), impl);
    for (const n of [1, 3, 5551, 5552, 5553, 65_537, MIB - 1, MIB + 1]) {
      const bytes = bytesOf(n + 3, n);
      // An unaligned view of a larger buffer: only the viewed bytes are summed.
      const view = bytes.subarray(3);
      assertEquals(await fastAdler32Hex(view, impl), adler32Hex(view), `${impl} ${n}`);
    }
  }
});

Deno.test("fast adler32: a file is summed whole, across piece boundaries, with its length", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const n of [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 3 * MIB + 7]) {
      const bytes = bytesOf(n, n + 11);
      await Deno.writeFile(`${dir}/f`, bytes);
      for (const impl of IMPLEMENTATIONS) {
        using file = await Deno.open(`${dir}/f`);
        await file.seek(n > 0 ? 1 : 0, Deno.SeekMode.Start); // summed from the start whatever the position
        assertEquals(await fileAdler32(file, impl), { adler32: adler32Hex(bytes), size: n }, `${impl} ${n}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fast adler32: files summed at once keep their own sums (pooled buffers are not shared)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const contents = Array.from({ length: 8 }, (_, i) => bytesOf(MIB + 1000 * i, 100 + i));
    for (const [i, c] of contents.entries()) await Deno.writeFile(`${dir}/f${i}`, c);
    const sums = await Promise.all(contents.map(async (_, i) => {
      using file = await Deno.open(`${dir}/f${i}`);
      return (await fileAdler32(file)).adler32;
    }));
    assertEquals(sums, contents.map((c) => adler32Hex(c)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
