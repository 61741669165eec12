/**
 * Real `xrootd` servers for tests (Debian: xrootd-server, xrootd-client):
 * each serves a fresh temporary root on a free 127.0.0.1 port and is killed
 * by stop(). xrootd refuses to run as root, so under root it is started with
 * `-R xrootd` (the package's user) and the root is handed to that user.
 */
export interface XrootdServer {
  /** root://127.0.0.1:PORT// */
  readonly url: string;
  /** The directory it serves. */
  readonly root: string;
  stop(): Promise<void>;
}

export async function xrootdAvailable(): Promise<boolean> {
  for (const tool of ["xrootd", "xrdcp", "xrdfs"]) {
    const found = await new Deno.Command("sh", {
      args: ["-c", `command -v ${tool}`],
      stdout: "null",
      stderr: "null",
    })
      .output().then((o) => o.success, () => false);
    if (!found) return false;
  }
  return true;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function runAs(): Promise<string | null> {
  if (Deno.uid() !== 0) return null;
  const ok = await new Deno.Command("id", { args: ["xrootd"], stdout: "null", stderr: "null" }).output();
  return ok.success ? "xrootd" : "nobody";
}

export async function startXrootd(): Promise<XrootdServer> {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-xrootd-" });
  const root = `${dir}/data`;
  await Deno.mkdir(root);
  await Deno.mkdir(`${dir}/admin`);
  const user = await runAs();
  if (user) {
    await new Deno.Command("chown", { args: ["-R", `${user}:`, dir] }).output();
  }
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/xrootd.cfg`,
    [
      "all.export /",
      `oss.localroot ${root}`,
      `xrd.port ${port}`,
      "xrootd.chksum adler32",
      `all.adminpath ${dir}/admin`,
      `all.pidpath ${dir}/admin`,
    ].join("\n") + "\n",
  );
  const child = new Deno.Command("xrootd", {
    args: [
      ...(user ? ["-R", user] : []),
      "-c",
      `${dir}/xrootd.cfg`,
      "-l",
      `${dir}/xrootd.log`,
      "-n",
      `t${port}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let i = 0; i < 100; i++) {
    const ping = await new Deno.Command("xrdfs", {
      args: [host, "stat", "/"],
      // One quick try: by default the client keeps retrying a closed port for two minutes.
      env: { XRD_CONNECTIONRETRY: "1", XRD_CONNECTIONWINDOW: "1", XRD_REQUESTTIMEOUT: "2" },
      stdout: "null",
      stderr: "null",
    })
      .output();
    if (ping.success) return { url: `root://${host}//`, root, stop };
    await new Promise((r) => setTimeout(r, 100)); // waiting for a real server to listen, not for timing
  }
  await stop();
  throw new Error(`xrootd did not start on ${host}`);
}
