/**
 * @module net/xmpp/agent-channel
 * The server's own JID, `medulla@<domain>`, living in the process: the `AgentChannel` of
 * the embedded relay. Envelopes go out as chat messages from that JID; messages to it are
 * parsed with `parseEnvelope`. A reply (same sessionid, from the agent asked) settles its
 * pending `request`; anything else goes to the `onMessage` handlers. A malformed request
 * is answered with `errorReply` and logged; a malformed reply is only logged, so two
 * parties can never bounce errors at each other. Handlers that throw or reject are
 * logged, never propagated into the router.
 */
import { randomBytes } from "node:crypto";
import type { Element } from "ltx";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { AgentChannel, PresenceEvent } from "../../protocol/channel.ts";
import { encodeEnvelope, errorReply, parseEnvelope, type Envelope } from "../../protocol/envelope.ts";
import { el } from "./codec.ts";
import { parseJid, type Jid } from "./jid.ts";
import type { Router } from "./router.ts";

export class AgentNotConnected extends Error {
  override name = "AgentNotConnected";
}

export class RequestTimeout extends Error {
  override name = "RequestTimeout";
}

interface Pending {
  resolve(e: Envelope): void;
  reject(err: Error): void;
  cancel(): void;
}

export interface ChannelDeps {
  router: Router;
  clock: Clock;
  log: Logger;
  requestTimeoutMs: number;
  /** Closes a JID's connections; the relay decides the stream error. */
  disconnect(jid: Jid, reason: string): void;
}

export function createAgentChannel(deps: ChannelDeps): AgentChannel {
  const { router, clock, log } = deps;
  const serverJid = router.serverJid.bare;
  const messageHandlers: ((from: string, e: Envelope) => void)[] = [];
  const presenceHandlers: ((e: PresenceEvent) => void)[] = [];
  const pending = new Map<string, Pending>();
  const key = (bare: string, sessionid: string) => `${bare}\n${sessionid}`;

  const safely = (what: string, fn: () => unknown) => {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err) => log.error({ err }, `xmpp channel ${what} handler failed`));
    } catch (err) {
      log.error({ err }, `xmpp channel ${what} handler failed`);
    }
  };

  const send = (jid: string, envelope: Envelope): boolean => {
    const to = parseJid(jid);
    if (!to) return false;
    const message = el("message", { type: "chat", from: serverJid, to: to.full, id: randomBytes(8).toString("hex") }, el("body", {}, encodeEnvelope(envelope)));
    return router.fromServer(message);
  };

  router.onPresence((event) => {
    if (!event.available) {
      for (const [k, p] of pending) if (k.startsWith(`${event.jid}\n`)) p.reject(new AgentNotConnected(`${event.jid} went offline`));
    }
    for (const h of presenceHandlers) safely("presence", () => h(event));
  });

  router.onServerMessage = (message: Element, from: Jid) => {
    if (message.attrs.type === "error") return log.debug({ from: from.full }, "xmpp error bounced to the server JID");
    const body = message.getChildText("body");
    if (body === null) return;
    const parsed = parseEnvelope(body);
    if (!parsed.ok) {
      const sessionid = "sessionid" in parsed.error ? parsed.error.sessionid : "";
      const waiting = sessionid ? pending.get(key(from.bare, sessionid)) : undefined;
      const isReply = "action" in parsed.error && parsed.error.action.startsWith("result");
      log.warn({ from: from.full, error: parsed.error }, "xmpp malformed envelope");
      if (waiting) return waiting.reject(new Error(`malformed reply from ${from.bare}: ${parsed.error.code}`));
      if (!isReply) send(from.full, errorReply(parsed.error));
      return;
    }
    const envelope = parsed.envelope;
    const waiting = pending.get(key(from.bare, envelope.sessionid));
    if (waiting && envelope.action.startsWith("result")) return waiting.resolve(envelope);
    for (const h of messageHandlers) safely("message", () => h(from.bare, envelope));
  };

  return {
    serverJid,
    send,
    request(jid, envelope, timeoutMs = deps.requestTimeoutMs) {
      const to = parseJid(jid);
      if (!to) return Promise.reject(new AgentNotConnected(`invalid JID ${jid}`));
      const k = key(to.bare, envelope.sessionid);
      return new Promise<Envelope>((resolve, reject) => {
        const done = () => {
          cancelTimer();
          pending.delete(k);
        };
        const cancelTimer = clock.setTimer(timeoutMs, () => {
          done();
          reject(new RequestTimeout(`${envelope.action} to ${to.bare} got no reply within ${timeoutMs} ms`));
        });
        pending.get(k)?.reject(new Error("superseded by a request with the same sessionid"));
        pending.set(k, {
          resolve: (e) => (done(), resolve(e)),
          reject: (err) => (done(), reject(err)),
          cancel: cancelTimer,
        });
        if (!send(to.full, envelope)) pending.get(k)?.reject(new AgentNotConnected(`${to.bare} is not connected`));
      });
    },
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onPresence(handler) {
      presenceHandlers.push(handler);
    },
    isOnline(jid) {
      const j = parseJid(jid);
      return !!j && router.isOnline(j);
    },
    online() {
      return router.online();
    },
    disconnect(jid, reason) {
      const j = parseJid(jid);
      if (j) deps.disconnect(j, reason);
    },
  };
}
