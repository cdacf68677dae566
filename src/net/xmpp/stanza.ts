/**
 * @module net/xmpp/stanza
 * Builders for the replies every handler needs: IQ results and stanza errors (RFC 6120
 * §8.3). An error is never answered with an error, so no two entities can bounce one back
 * and forth.
 */
import type { Element } from "ltx";
import { el, NS } from "./codec.ts";

/** Stanza error conditions (RFC 6120 §8.3.3) and the error type each implies. */
const ERROR_TYPES = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "remote-server-not-found": "cancel",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "undefined-condition": "cancel",
} as const;

export type StanzaCondition = keyof typeof ERROR_TYPES;

/** Whether this stanza may be answered with an error (not an error, not an IQ result). */
export function isAnswerable(stanza: Element): boolean {
  const type = stanza.attrs.type;
  return type !== "error" && !(stanza.name === "iq" && type === "result");
}

/** The error reply to `stanza`, addressed back to its sender. */
export function stanzaError(stanza: Element, condition: StanzaCondition, text?: string): Element {
  const error = el("error", { type: ERROR_TYPES[condition] }, el(condition, { xmlns: NS.stanzaErrors }));
  if (text) error.cnode(el("text", { xmlns: NS.stanzaErrors }, text));
  return el(stanza.name, { type: "error", id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from }, error);
}

export function iqResult(iq: Element, child?: Element): Element {
  return el("iq", { type: "result", id: iq.attrs.id, from: iq.attrs.to, to: iq.attrs.from }, ...(child ? [child] : []));
}

/** The single payload element of an IQ get/set (RFC 6120 §8.2.3), or null when it has not exactly one. */
export function iqPayload(iq: Element): Element | null {
  const children = iq.getChildElements();
  return children.length === 1 ? children[0]! : null;
}
