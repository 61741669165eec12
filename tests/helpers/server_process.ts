/** Dynamo as a real child process: the CLI, a server started and stopped, its readiness. */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function dynamo(env: Record<string, string>, args: string[], stdin?: string): Promise<Run> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...env, NO_COLOR: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export function startServer(env: Record<string, string>, args: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "start", ...args],
    env: { ...env, NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Polls /health until ready, for up to 2 minutes (the process is real: wall-clock polling is the only way; a fresh
 * PGlite data directory takes 5–30 s to initialise on a busy 2-core machine). */
export async function waitReady(url: string, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 2400 && !exited; i++) {
    try {
      const res = await fetch(`${url}/health`);
      const body = await res.json();
      if (res.ok && body.data.status === "ready") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Server at ${url} did not become ready`);
}

export async function drain(child: Deno.ChildProcess): Promise<string> {
  return await new Response(child.stderr).text();
}
