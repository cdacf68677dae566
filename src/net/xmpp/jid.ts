/**
 * @module net/xmpp/jid
 * JIDs (RFC 7622), simplified for an appliance that issues its own account names: the
 * local part and domain are compared in lower case after NFC normalization (instead of the
 * full PRECIS profiles), the resource is kept as sent. Parsing never throws: a malformed
 * address is null, which callers answer with `jid-malformed`.
 */

export interface Jid {
  local: string;
  domain: string;
  resource: string;
  /** `local@domain` (or `domain`). */
  bare: string;
  /** `bare/resource` (or `bare`). */
  full: string;
}

const MAX_PART = 1023;
// RFC 7622 §3.3.1 forbids these in a local part; control characters are refused everywhere.
const LOCAL_FORBIDDEN = /[\s"&'/:<>@\x00-\x1F\x7F]/;
const CONTROL = /[\x00-\x1F\x7F]/;
const DOMAIN = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,62})?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62})?)*\.?$|^\[[0-9a-f:.]+\]$/;

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

export function parseJid(text: string): Jid | null {
  if (!text || text.length > 3 * MAX_PART + 2) return null;
  const slash = text.indexOf("/");
  const head = slash >= 0 ? text.slice(0, slash) : text;
  const resource = slash >= 0 ? text.slice(slash + 1).normalize("NFC") : "";
  const at = head.indexOf("@");
  const local = at >= 0 ? head.slice(0, at).normalize("NFC").toLowerCase() : "";
  const domain = (at >= 0 ? head.slice(at + 1) : head).toLowerCase().replace(/\.$/, "");
  if (at >= 0 && (!local || utf8Length(local) > MAX_PART || LOCAL_FORBIDDEN.test(local))) return null;
  if (!domain || utf8Length(domain) > MAX_PART || !DOMAIN.test(domain)) return null;
  if (slash >= 0 && (!resource || utf8Length(resource) > MAX_PART || CONTROL.test(resource))) return null;
  return makeJid(local, domain, resource);
}

export function makeJid(local: string, domain: string, resource = ""): Jid {
  const bare = local ? `${local}@${domain}` : domain;
  return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare };
}

/** The bare form of a JID string, or null when it is malformed. */
export function bareJid(text: string): string | null {
  return parseJid(text)?.bare ?? null;
}

/** Whether `name` can be the local part of a JID (account names). */
export function isValidLocal(name: string): boolean {
  return !!name && utf8Length(name) <= MAX_PART && !LOCAL_FORBIDDEN.test(name);
}
