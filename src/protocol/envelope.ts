/**
 * @module protocol/envelope
 * The agent ⇄ server message envelope (DESIGN.md "Agent ⇄ server protocol"), shared by the
 * server and the agent: the body of every application `<message>` is JSON
 * `{ "v": 1, "action", "sessionid", "data", "ret" }`; a reply uses action `result<action>`
 * and the same `sessionid`; `ret` 0 is success. Parsing never throws: malformed input
 * becomes a named error that the receiver answers and logs.
 */
import { Value } from "@sinclair/typebox/value";
import { actions, type ActionName } from "./actions.ts";

export const PROTOCOL_VERSION = 1;
/** Bodies larger than this travel over HTTPS, not XMPP (DESIGN.md). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Envelope {
  v: number;
  action: string;
  sessionid: string;
  data: Record<string, unknown>;
  ret: number;
}

/** Return codes carried in `ret` besides 0 (success). */
export const Ret = {
  ok: 0,
  failed: 1,
  malformed: 400,
  unknownAction: 404,
  badData: 422,
  unsupportedVersion: 426,
  timeout: 504,
} as const;

export type EnvelopeError =
  | { code: "too_large" }
  | { code: "not_json" }
  | { code: "not_envelope"; detail: string }
  | { code: "unsupported_version"; version: number }
  | { code: "unknown_action"; action: string; sessionid: string }
  | { code: "bad_data"; action: string; sessionid: string; detail: string };

export type ParseResult = { ok: true; envelope: Envelope } | { ok: false; error: EnvelopeError };

export function newSessionId(): string {
  return crypto.randomUUID();
}

export function encodeEnvelope(e: Envelope): string {
  return JSON.stringify(e);
}

export function request(action: ActionName | string, data: Record<string, unknown> = {}, sessionid = newSessionId()): Envelope {
  return { v: PROTOCOL_VERSION, action, sessionid, data, ret: 0 };
}

export function reply(to: Envelope, data: Record<string, unknown> = {}, ret = 0): Envelope {
  return { v: PROTOCOL_VERSION, action: `result${to.action}`, sessionid: to.sessionid, data, ret };
}

/** An error reply for a message we could not handle; `sessionid` kept when it was readable. */
export function errorReply(error: EnvelopeError): Envelope {
  const sessionid = "sessionid" in error ? error.sessionid : "";
  const action = "action" in error ? `result${error.action}` : "resulterror";
  const ret = error.code === "unknown_action" ? Ret.unknownAction : error.code === "bad_data" ? Ret.badData : error.code === "unsupported_version" ? Ret.unsupportedVersion : Ret.malformed;
  return { v: PROTOCOL_VERSION, action, sessionid, data: { error: error.code, ...("detail" in error ? { detail: error.detail } : {}) }, ret };
}

/**
 * Parses a message body. Known actions (and their `result…` replies) have their `data`
 * checked against the declared schema; unknown actions are reported, not guessed at.
 */
export function parseEnvelope(body: string): ParseResult {
  if (body.length > MAX_BODY_BYTES) return { ok: false, error: { code: "too_large" } };
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, error: { code: "not_json" } };
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, error: { code: "not_envelope", detail: "not an object" } };
  const o = raw as Record<string, unknown>;
  // Older agents (Medulla's own, without "v") are version 1.
  const v = o.v === undefined ? 1 : o.v;
  if (typeof v !== "number" || !Number.isInteger(v)) return { ok: false, error: { code: "not_envelope", detail: "v" } };
  if (v > PROTOCOL_VERSION) return { ok: false, error: { code: "unsupported_version", version: v } };
  if (typeof o.action !== "string" || o.action.length === 0 || o.action.length > 100) return { ok: false, error: { code: "not_envelope", detail: "action" } };
  const sessionid = typeof o.sessionid === "string" ? o.sessionid.slice(0, 100) : "";
  if (!sessionid) return { ok: false, error: { code: "not_envelope", detail: "sessionid" } };
  const data = o.data === undefined ? {} : o.data;
  if (!data || typeof data !== "object" || Array.isArray(data)) return { ok: false, error: { code: "bad_data", action: o.action, sessionid, detail: "data must be an object" } };
  const ret = o.ret === undefined ? 0 : o.ret;
  if (typeof ret !== "number" || !Number.isInteger(ret)) return { ok: false, error: { code: "not_envelope", detail: "ret" } };

  const isReply = o.action.startsWith("result");
  const name = (isReply ? o.action.slice(6) : o.action) as ActionName;
  const def = actions[name];
  // A reply to an action we do not know (sent from the XMPP console, say) still belongs to
  // its request: it is passed on unchecked rather than refused.
  if (!def && isReply) return { ok: true, envelope: { v, action: o.action, sessionid, data: data as Record<string, unknown>, ret } };
  if (!def) return { ok: false, error: { code: "unknown_action", action: o.action, sessionid } };
  // Error replies carry `{ error, detail }` whatever the action's result schema says.
  const schema = isReply ? (ret === 0 ? def.result : undefined) : def.data;
  if (schema && !Value.Check(schema, data)) {
    const first = [...Value.Errors(schema, data)][0];
    return { ok: false, error: { code: "bad_data", action: o.action, sessionid, detail: first ? `${first.path || "/"}: ${first.message}` : "invalid" } };
  }
  return { ok: true, envelope: { v, action: o.action, sessionid, data: data as Record<string, unknown>, ret } };
}
