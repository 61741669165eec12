/**
 * Adler-32 of a file at memory speed, off the event loop.
 *
 * Every verified copy reads the written file back and sums it, so this sets a
 * POSIX site's transfer rate. Measured on the 2-core bench machine (64 MiB in
 * 1 MiB pieces): our JavaScript loop (adler32.ts) ~1.3 GB/s, hash-wasm's
 * WebAssembly ~2.0 GB/s, zlib's adler32 (what xrdadler32 uses) ~1.4 GB/s,
 * libdeflate's adler32 (AVX2/AVX-512) ~8 GB/s. So libdeflate is called through
 * FFI where it is installed (Debian: libdeflate0), as a nonblocking call that
 * runs on a worker thread: the next piece is read while this one is summed,
 * and several files in flight use both cores. Where it is missing, hash-wasm,
 * the faster of the two portable ones, sums on the main thread.
 */
import { createAdler32 } from "hash-wasm";

/** Bytes read and summed at a time: small enough that the sum reads what the read just left in the cache. */
const PIECE = 1 << 20;
/** Buffers kept for the next file: a fresh zero-filled pair per file costs more than summing a small one. */
const pool: Uint8Array<ArrayBuffer>[] = [];
const POOLED = 16;

interface Summer {
  update(bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  hex(): string;
}

const LIBDEFLATE = {
  libdeflate_adler32: { parameters: ["u32", "buffer", "usize"], result: "u32", nonblocking: true },
} as const;

let native: Deno.DynamicLibrary<typeof LIBDEFLATE>["symbols"] | null | undefined;

function libdeflate(): Deno.DynamicLibrary<typeof LIBDEFLATE>["symbols"] | null {
  if (native !== undefined) return native;
  try {
    native = Deno.dlopen("libdeflate.so.0", LIBDEFLATE).symbols;
  } catch {
    native = null; // not installed (or no FFI permission): the WebAssembly sum
  }
  return native;
}

/** Which implementation sums here: "libdeflate" (native, worker thread) or "wasm". */
export function adler32Implementation(): "libdeflate" | "wasm" {
  return libdeflate() ? "libdeflate" : "wasm";
}

async function summer(prefer?: "libdeflate" | "wasm"): Promise<Summer> {
  const lib = prefer === "wasm" ? null : libdeflate();
  if (lib) {
    let value = 1;
    return {
      async update(bytes) {
        if (bytes.length > 0) value = await lib.libdeflate_adler32(value, bytes, BigInt(bytes.length));
      },
      hex: () => (value >>> 0).toString(16).padStart(8, "0"),
    };
  }
  const wasm = await createAdler32();
  wasm.init();
  return {
    update(bytes) {
      wasm.update(bytes);
      return Promise.resolve();
    },
    hex: () => wasm.digest("hex"),
  };
}

/** Adler-32 of bytes in memory (tests and small payloads), by the chosen implementation. */
export async function fastAdler32Hex(
  bytes: Uint8Array<ArrayBuffer>,
  prefer?: "libdeflate" | "wasm",
): Promise<string> {
  const sum = await summer(prefer);
  for (let o = 0; o < bytes.length; o += PIECE) await sum.update(bytes.subarray(o, o + PIECE));
  if (bytes.length === 0) await sum.update(bytes);
  return sum.hex();
}

/**
 * Adler-32 and length of everything in an open file from its start. Two
 * buffers: the next piece is read while the last one is summed.
 */
export async function fileAdler32(
  file: Deno.FsFile,
  prefer?: "libdeflate" | "wasm",
): Promise<{ adler32: string; size: number }> {
  const sum = await summer(prefer);
  file.seekSync(0, Deno.SeekMode.Start); // no I/O: not worth a thread hop
  const buffers = [pool.pop() ?? new Uint8Array(PIECE), pool.pop() ?? new Uint8Array(PIECE)];
  let size = 0;
  let summing: Promise<void> = Promise.resolve();
  try {
    for (let k = 0;; k ^= 1) {
      const buffer = buffers[k]!;
      const n = await fill(file, buffer);
      await summing; // the other buffer is free again
      if (n === 0) break;
      size += n;
      summing = sum.update(buffer.subarray(0, n));
      summing.catch(() => {}); // awaited above or below; never an unhandled rejection meanwhile
      if (n < buffer.length) break;
    }
    await summing;
  } finally {
    await summing.catch(() => {}); // a buffer goes back only when nothing reads it any more
    for (const b of buffers) if (pool.length < POOLED) pool.push(b);
  }
  return { adler32: sum.hex(), size };
}

/** Reads until the buffer is full or the file ends; the count read. */
async function fill(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let n = 0;
  while (n < buffer.length) {
    const got = await file.read(buffer.subarray(n));
    if (got === null) break;
    n += got;
  }
  return n;
}
