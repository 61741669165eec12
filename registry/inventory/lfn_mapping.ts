/**
 * LFN → site path (spec §1.1 Site, filename_mapping): the chains for a
 * protocol are tried in order; within a chain every step's regex must match
 * the whole output of the previous step and its template (`{0}`, `{1}`… = the
 * capture groups) gives the next; the first chain that goes through wins.
 * Without chains for the protocol the path is the LFN itself (the documented
 * default "backend + LFN"). The storage adapter then confines the path to
 * the site root; here it is only checked to be a clean absolute path.
 */
import { compileLinearRegex, type LinearRegex, RegexError } from "./linear_regex.ts";
import type { Site } from "./records.ts";
import { sitePathProblem } from "./site_path.ts";

export class LfnMappingError extends Error {
  constructor(readonly site: string, readonly lfn: string, message: string) {
    super(`site ${JSON.stringify(site)}: LFN ${JSON.stringify(lfn)}: ${message}`);
    this.name = "LfnMappingError";
  }
}

export function mapLfn(site: Site, lfn: string, protocol: string): string {
  checkPath(site, lfn, lfn, "the LFN");
  const chains = site.filenameMappings[protocol];
  if (!chains || chains.length === 0) return lfn;
  for (const chain of chains) {
    let value: string | null = lfn;
    for (const [pattern, template] of chain) {
      let re: LinearRegex;
      try {
        // Linear time: an admin's `(a+)+b` must not let an anonymous lfn2pfn hold the registry.
        re = compileLinearRegex(pattern, { anchor: "whole" });
      } catch (e) {
        if (!(e instanceof RegexError)) throw e;
        throw new LfnMappingError(site.name, lfn, `bad mapping pattern: ${e.message}`);
      }
      const m = re.exec(value);
      if (!m) {
        value = null;
        break;
      }
      value = template.replace(/\{(\d+)\}/g, (_, i) => m[Number(i) + 1] ?? "");
    }
    if (value !== null) return checkPath(site, lfn, value, "the mapped path");
  }
  throw new LfnMappingError(site.name, lfn, `no ${protocol} mapping chain matches`);
}

function checkPath(site: Site, lfn: string, path: string, what: string): string {
  // The storage adapters' own rule, so that a path mapped here is one every site accepts.
  const problem = sitePathProblem(path);
  if (problem) throw new LfnMappingError(site.name, lfn, `${what} ${problem}`);
  return path;
}
