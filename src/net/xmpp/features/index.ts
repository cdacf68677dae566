/**
 * @module net/xmpp/features
 * The server's own IQ services, each a tiny handler for one namespace: ping (XEP-0199),
 * service discovery (XEP-0030, built from this list), the legacy session (RFC 3921 §3,
 * for old clients) and an always-empty roster (we keep no rosters; clients ask anyway).
 * `handleIq` turns an IQ get/set addressed to the server, its domain or an account into
 * exactly one reply: the handler's result, or a stanza error.
 */
import type { Element } from "ltx";
import type { Jid } from "../jid.ts";
import { iqPayload, iqResult, stanzaError, type StanzaCondition } from "../stanza.ts";
import { disco } from "./disco.ts";
import { ping } from "./ping.ts";
import { roster } from "./roster.ts";
import { session } from "./session.ts";

export interface IqContext {
  from: Jid;
  domain: string;
  features: readonly Feature[];
}

/** A result payload, nothing (an empty result), or a stanza error. */
export type IqOutcome = Element | undefined | { error: StanzaCondition; text?: string };

export interface Feature {
  /** The payload namespace; also advertised in disco#info. */
  ns: string;
  get?(payload: Element, ctx: IqContext): IqOutcome;
  set?(payload: Element, ctx: IqContext): IqOutcome;
}

export const defaultFeatures: readonly Feature[] = [ping, disco, session, roster];

export function handleIq(iq: Element, ctx: IqContext): Element {
  const payload = iqPayload(iq);
  if (!payload) return stanzaError(iq, "bad-request", "an IQ get or set carries exactly one payload");
  const type = iq.attrs.type as "get" | "set";
  const handler = ctx.features.find((f) => f.ns === payload.getNS())?.[type];
  if (!handler) return stanzaError(iq, "service-unavailable");
  const outcome = handler(payload, ctx);
  if (outcome && "error" in outcome) return stanzaError(iq, outcome.error, outcome.text);
  return iqResult(iq, outcome);
}
