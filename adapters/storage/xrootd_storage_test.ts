import { assertEquals, assertRejects, assertThrows } from "../../tests/helpers/assert.ts";
import { storageConformance } from "../../tests/helpers/storage_conformance.ts";
import { startXrootd, xrootdAvailable } from "../../tests/helpers/xrootd_server.ts";
import { PosixStorage } from "./posix_storage.ts";
import { StorageError } from "./storage_port.ts";
import { parseXrootdUrl, xrootdError, XrootdStorage } from "./xrootd_storage.ts";

const available = await xrootdAvailable();
if (!available) {
  console.warn(
    "xrootd: xrootd-server / xrootd-client are not installed; the XRootD conformance suite is not run",
  );
}

Deno.test({
  name: "xrootd storage passes the conformance suite against two real servers",
  ignore: !available,
  sanitizeResources: false,
  async fn(t) {
    const [a, b] = await Promise.all([startXrootd(), startXrootd()]);
    try {
      await storageConformance(t, {
        site: new XrootdStorage(`${a.url}site`),
        other: new XrootdStorage(b.url),
      });
      // The site's base directory maps "/" onto /site on the server.
      assertEquals((await Array.fromAsync(Deno.readDir(a.root))).map((e) => e.name), ["site"]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});

Deno.test({
  name: "xrootd storage copies from and to a posix site",
  ignore: !available,
  sanitizeResources: false,
  async fn() {
    const server = await startXrootd();
    const dir = await Deno.makeTempDir();
    try {
      const posix = await PosixStorage.open(dir);
      const x = new XrootdStorage(server.url);
      const bytes = new TextEncoder().encode("tape and disk and xrootd");
      await posix.write("/p/f", ReadableStream.from([bytes]), { size: bytes.length });
      const sum = await posix.checksum("/p/f");
      await x.copyFrom(posix, "/p/f", "/x/f", { size: bytes.length, adler32: sum });
      await posix.copyFrom(x, "/x/f", "/back/f", { size: bytes.length, adler32: sum });
      assertEquals(await Deno.readTextFile(`${dir}/back/f`), "tape and disk and xrootd");
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("xrootd: URLs and client messages are parsed strictly", () => {
  assertEquals(parseXrootdUrl("root://eos.cern.ch//eos/cms"), { host: "eos.cern.ch:1094", base: "/eos/cms" });
  assertEquals(parseXrootdUrl("root://127.0.0.1:2000//"), { host: "127.0.0.1:2000", base: "" });
  for (
    const bad of [
      "root://",
      "root://h;rm -rf /:1//x",
      "root://h:0//x",
      "http://h//x",
      "root://h//a/../b",
      "root://h//a?b=1",
    ]
  ) {
    assertThrows(() => parseXrootdUrl(bad), StorageError);
  }
  assertEquals(
    xrootdError("[ERROR] Server responded with an error: [3011] Unable to locate /x", "/x").code,
    "ENOENT",
  );
  assertEquals(xrootdError("[FATAL] Connection error", "/x").code, "ECONNREFUSED");
  assertEquals(xrootdError("[ERROR] Operation expired", "/x").code, "EIO");
});

Deno.test("xrootd: an endpoint that is down is ECONNREFUSED, not a hang", {
  ignore: !available,
}, async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const x = new XrootdStorage(`root://127.0.0.1:${port}//`, { metadataTimeoutS: 20 });
  const e = await assertRejects(() => x.stat("/f"), StorageError);
  assertEquals(e.code, "ECONNREFUSED", e.message);
});
