/** The listen address of the service (`DYNAMO_LISTEN`, `--listen`, `"listen"`). */
/** `HOST:PORT` → listen options; errors name the variable or flag. */
export function parseListen(text: string, source: string): { hostname: string; port: number } {
  const m = text.match(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new TypeError(`${source} must be HOST:PORT, got "${text}"`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port };
}
