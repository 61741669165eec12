/**
 * A grid proxy certificate's subject is its owner's DN followed by proxy
 * components: `/CN=proxy` (legacy), `/CN=limited proxy`, or `/CN=<digits>`
 * (RFC 3820 proxies). Only these are stripped to find the owner; any other
 * trailing component makes a different DN (`/DC=org/CN=dan/O=Evil/CN=eve` is
 * not dan).
 */
const PROXY_COMPONENT = /\/CN=(?:proxy|limited proxy|[0-9]+)$/;

/**
 * The DNs a certificate subject may belong to, most specific first: the subject
 * itself, then with each trailing proxy component removed in turn.
 */
export function ownerDnCandidates(subject: string): string[] {
  const out = [subject];
  let dn = subject;
  // A proxy of a proxy adds one component per delegation; 16 is more than any chain in use.
  for (let i = 0; i < 16; i++) {
    const m = PROXY_COMPONENT.exec(dn);
    if (!m || m.index === 0) break;
    dn = dn.slice(0, m.index);
    out.push(dn);
  }
  return out;
}
