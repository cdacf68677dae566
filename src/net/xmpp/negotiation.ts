/**
 * @module net/xmpp/negotiation
 * A client stream's way from TCP to a bound resource (RFC 6120 §5–§7): STARTTLS is the
 * only feature of a clear stream and is required; SASL (SCRAM-SHA-256, SCRAM-SHA-1, and
 * PLAIN once encrypted) on the encrypted stream; resource binding on the authenticated
 * one, with the legacy session feature advertised as optional for older clients. A stanza
 * sent before its time is `not-authorized`; authentication failures count per address and
 * three on one stream close it.
 */
import { randomBytes } from "node:crypto";
import type { Element } from "ltx";
import { el, NS, type StreamHeader } from "./codec.ts";
import { parseJid } from "./jid.ts";
import { offeredMechanisms, startExchange, type SaslExchange } from "./sasl.ts";
import type { SaslStep } from "./scram.ts";
import { iqPayload, stanzaError } from "./stanza.ts";
import type { Connection, Stage } from "./stream.ts";

const MAX_FAILURES_PER_STREAM = 3;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function clientStage(conn: Connection): Stage {
  let exchange: SaslExchange | null = null;
  let failures = 0;
  const { host } = conn;

  const features = (): Element => {
    const f = el("stream:features");
    if (!conn.isSecure) f.cnode(el("starttls", { xmlns: NS.tls }, el("required")));
    else if (!conn.username) f.cnode(el("mechanisms", { xmlns: NS.sasl }, ...offeredMechanisms(conn.isSecure).map((m) => el("mechanism", {}, m))));
    else {
      f.cnode(el("bind", { xmlns: NS.bind }));
      f.cnode(el("session", { xmlns: NS.session }, el("optional")));
    }
    return f;
  };

  const saslReply = (step: SaslStep): void => {
    if (step.type === "challenge") return conn.send(el("challenge", { xmlns: NS.sasl }, ...(step.data ? [Buffer.from(step.data).toString("base64")] : [])));
    if (step.type === "success") {
      exchange = null;
      conn.username = step.username.toLowerCase();
      conn.send(el("success", { xmlns: NS.sasl }, ...(step.data ? [Buffer.from(step.data).toString("base64")] : [])));
      conn.log.debug({ ip: conn.ip, username: conn.username }, "xmpp authenticated");
      return conn.restart(host.limits.maxStanzaBytes);
    }
    exchange = null;
    const failure = el("failure", { xmlns: NS.sasl }, el(step.condition));
    if (step.text) failure.cnode(el("text", {}, step.text));
    conn.send(failure);
    if (!step.isCredentialFailure) return;
    host.stats.authFailures++;
    failures++;
    conn.log.info({ ip: conn.ip }, "xmpp authentication failed");
    if (host.addresses.authFailed(conn.ip)) {
      conn.log.warn({ ip: conn.ip, limit: host.limits.maxAuthFailuresPerIp }, "xmpp address refused after too many failed authentications");
      return conn.fail("policy-violation", "too many failed authentications from your address; try again later");
    }
    if (failures >= MAX_FAILURES_PER_STREAM) conn.fail("not-authorized", "too many failed attempts");
  };

  const decode = (text: string): string | null => {
    if (text === "=" || text === "") return "";
    const compact = text.replace(/\s+/g, "");
    return BASE64.test(compact) ? Buffer.from(compact, "base64").toString("utf8") : null;
  };

  const sasl = (stanza: Element): void => {
    const name = stanza.getName();
    if (name === "abort") return saslReply({ type: "failure", condition: "aborted", isCredentialFailure: false });
    if (name !== "auth" && name !== "response") return conn.fail("not-authorized", "authenticate first");
    const payload = decode(stanza.getText());
    if (payload === null) return saslReply({ type: "failure", condition: "incorrect-encoding", isCredentialFailure: false });
    if (name === "auth") {
      exchange = startExchange(stanza.attrs.mechanism ?? "", conn.isSecure, host.lookup);
      if (!exchange) return saslReply({ type: "failure", condition: "invalid-mechanism", isCredentialFailure: false });
      // No initial response at all (empty element) differs from an empty one ("=").
      return saslReply(exchange.step(stanza.getText() === "" ? "" : payload));
    }
    if (!exchange) return saslReply({ type: "failure", condition: "malformed-request", text: "no exchange in progress", isCredentialFailure: false });
    saslReply(exchange.step(payload));
  };

  const bind = (iq: Element): void => {
    const payload = iqPayload(iq);
    const isBind = iq.name === "iq" && iq.attrs.type === "set" && payload?.is("bind", NS.bind);
    if (!isBind) return conn.fail("not-authorized", "bind a resource first");
    const asked = payload!.getChildText("resource")?.trim() ?? "";
    const resource = asked || `r${randomBytes(6).toString("hex")}`;
    // The account may have been disabled since SASL (a ban racing the login).
    if (host.lookup(conn.username!)?.isDisabled !== false) return conn.fail("not-authorized", "account disabled");
    const jid = parseJid(`${conn.username}@${host.domain}/${resource}`);
    if (!jid) return conn.send(stanzaError(iq, "bad-request", "invalid resource"));
    const refusal = host.router.bind(conn, jid);
    if (refusal) return conn.send(stanzaError(iq, refusal, "too many resources for this account"));
    conn.send(el("iq", { type: "result", id: iq.attrs.id }, el("bind", { xmlns: NS.bind }, el("jid", {}, jid.full))));
    conn.log.debug({ ip: conn.ip, jid: jid.full }, "xmpp resource bound");
    // From now on every stanza is routed: the negotiation's closures can go.
    conn.stage = new RoutedStage(conn);
    conn.hooks.established();
  };

  return {
    opened(_header: StreamHeader) {
      conn.send(features());
    },
    stanza(stanza, ns) {
      if (!conn.isSecure) {
        if (stanza.is("starttls", NS.tls)) {
          if (!conn.traits.canStartTls) {
            conn.send(el("failure", { xmlns: NS.tls }));
            return conn.close();
          }
          conn.send(el("proceed", { xmlns: NS.tls }));
          return conn.startTls();
        }
        if (ns === NS.sasl && stanza.getName() === "auth") return saslReply({ type: "failure", condition: "encryption-required", text: "STARTTLS first", isCredentialFailure: false });
        return conn.fail("not-authorized", "STARTTLS is required");
      }
      if (!conn.username) {
        if (ns !== NS.sasl) return conn.fail("not-authorized", "authenticate first");
        return sasl(stanza);
      }
      if (!conn.jid) return bind(stanza);
      host.router.fromClient(conn, stanza, ns);
    },
  };
}

/** A bound client's stage: everything goes to the router (one small object per connection). */
class RoutedStage implements Stage {
  constructor(readonly conn: Connection) {}

  stanza(stanza: Element, ns: string): void {
    this.conn.host.router.fromClient(this.conn, stanza, ns);
  }
}
