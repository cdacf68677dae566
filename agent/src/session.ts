/**
 * @module agent/session
 * One logged-in XMPP connection of an agent: available presence, `announce` to the server
 * JID, answers to the server's requests (handlers.ts), an XEP-0199 heartbeat whose missing
 * answer ends the session, and a periodic facts check that re-announces when they change.
 * `closed` resolves with the reason once the connection is gone; the caller (run, or the
 * simulator) decides what comes next. Only the server's JID is obeyed: messages from
 * anyone else are logged and dropped unanswered.
 */
import { encodeEnvelope, request, type Envelope } from "../../src/protocol/envelope.ts";
import { factsFingerprint, type Facts } from "./facts/index.ts";
import { handleBody, type HandlerContext } from "./handlers.ts";
import type { Logger } from "./log.ts";
import { xml, type Element, type XmppClient } from "./xmpp/client.ts";

/** What a session needs of its connection: the agent's client, or the simulator's lean one. */
export interface SessionClient {
  entity: {
    on(event: "stanza", fn: (stanza: Element) => void): unknown;
    on(event: "disconnect", fn: () => void): unknown;
    off(event: "stanza", fn: (stanza: Element) => void): unknown;
    off(event: "disconnect", fn: () => void): unknown;
    send(stanza: Element): Promise<unknown>;
  };
  ping(timeoutMs?: number): Promise<number>;
}

export interface SessionOptions {
  client: SessionClient | XmppClient;
  serverJid: string;
  ctx: HandlerContext;
  log: Logger;
  /** XEP-0199 ping period; 0 switches the heartbeat off. */
  heartbeatMs: number;
  /** How often facts are compared with the announced ones; 0 switches the check off. */
  factsIntervalMs: number;
  requestTimeoutMs?: number;
  onAnnounced?(machineId: number | undefined): void;
}

const bare = (jid: string) => jid.replace(/\/.*$/, "").toLowerCase();

export class AgentSession {
  readonly closed: Promise<string>;
  #resolveClosed!: (reason: string) => void;
  #pending = new Map<string, { resolve(e: Envelope): void; reject(e: Error): void; timer: Timer }>();
  #timers: Timer[] = [];
  #announced = "";
  #isClosed = false;
  #pinging = false;
  #onStanza = (st: Element) => void this.#receive(st);
  #onDisconnect = () => this.#close("the connection was closed");

  constructor(private readonly o: SessionOptions) {
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    o.client.entity.on("stanza", this.#onStanza);
    o.client.entity.on("disconnect", this.#onDisconnect);
  }

  /** Presence, first announce, then the timers. */
  async begin(): Promise<void> {
    await this.o.client.entity.send(xml("presence", {}, xml("priority", {}, "0")));
    // Timers first: an unanswered announce must not delay the heartbeat. A failed announce
    // is retried by the facts check, since nothing has been announced yet.
    if (this.o.heartbeatMs > 0) this.#timers.push(setInterval(() => void this.#heartbeat(), this.o.heartbeatMs));
    if (this.o.factsIntervalMs > 0) this.#timers.push(setInterval(() => void this.#checkFacts(), this.o.factsIntervalMs));
    await this.announce().catch((e: Error) => this.o.log.warn(`announce failed: ${e.message}`));
  }

  /** Sends the facts to the server and waits for its `resultannounce`. */
  async announce(facts?: Facts): Promise<number | undefined> {
    const f = facts ?? (await this.o.ctx.facts());
    const answer = await this.request("announce", { ...f });
    if (answer.ret !== 0) throw new Error(`the server answered announce with ret ${answer.ret}: ${JSON.stringify(answer.data).slice(0, 200)}`);
    this.#announced = factsFingerprint(f);
    const machineId = typeof answer.data.machineId === "number" ? answer.data.machineId : undefined;
    this.o.log.info("announced", { machineId });
    this.o.onAnnounced?.(machineId);
    return machineId;
  }

  /** Sends a request to the server and resolves with the reply carrying the same sessionid. */
  async request(action: string, data: Record<string, unknown>, timeoutMs = this.o.requestTimeoutMs ?? 30_000): Promise<Envelope> {
    const env = request(action, data);
    const reply = new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(env.sessionid);
        reject(new Error(`no answer to ${action} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(env.sessionid, { resolve, reject, timer });
    });
    try {
      await this.#send(this.o.serverJid, env);
    } catch (e) {
      const p = this.#pending.get(env.sessionid);
      if (p) clearTimeout(p.timer);
      this.#pending.delete(env.sessionid);
      throw e;
    }
    return reply;
  }

  /** Stops the timers and forgets pending requests; the caller closes the client. */
  close(reason = "closed"): void {
    this.#close(reason);
  }

  #close(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`session closed: ${reason}`));
    }
    this.#pending.clear();
    this.o.client.entity.off("stanza", this.#onStanza);
    this.o.client.entity.off("disconnect", this.#onDisconnect);
    this.#resolveClosed(reason);
  }

  async #send(to: string, env: Envelope): Promise<void> {
    await this.o.client.entity.send(xml("message", { to, type: "chat" }, xml("body", {}, encodeEnvelope(env))));
  }

  async #receive(st: Element): Promise<void> {
    if (!st.is("message")) return;
    const from = st.attrs.from ?? "";
    const body = st.getChildText("body");
    if (st.attrs.type === "error" || body === null) return;
    if (bare(from) !== bare(this.o.serverJid)) {
      this.o.log.warn("ignored a message from someone other than the server", { from });
      return;
    }
    try {
      const ctx = { ...this.o.ctx, emit: (action: string, data: Record<string, unknown>) => void this.#send(this.o.serverJid, request(action, data)).catch(() => undefined) };
      const handled = await handleBody(body, ctx);
      if (handled.kind === "reply") {
        const p = this.#pending.get(handled.envelope.sessionid);
        if (!p) return this.o.log.debug("a reply nobody waits for", { action: handled.envelope.action });
        clearTimeout(p.timer);
        this.#pending.delete(handled.envelope.sessionid);
        return p.resolve(handled.envelope);
      }
      if (handled.log && handled.kind === "ignore" && handled.log.level === "debug") return;
      if (handled.log) this.o.log[handled.log.level](handled.log.msg, { from });
      if (handled.kind === "answer" && !this.#isClosed) await this.#send(from, handled.envelope);
    } catch (e) {
      this.o.log.error(`could not answer a message: ${(e as Error).message}`, { from });
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#pinging || this.#isClosed) return;
    this.#pinging = true;
    try {
      const rtt = await this.o.client.ping(Math.min(this.o.heartbeatMs, 20_000));
      this.o.log.debug("heartbeat", { rttMs: Math.round(rtt) });
    } catch (e) {
      this.o.log.warn(`heartbeat: the server did not answer (${(e as Error).message || (e as Error).name}); reconnecting`);
      this.#close("heartbeat: no answer from the server");
    } finally {
      this.#pinging = false;
    }
  }

  async #checkFacts(): Promise<void> {
    try {
      const f = await this.o.ctx.facts();
      if (factsFingerprint(f) === this.#announced || this.#isClosed) return;
      this.o.log.info("facts changed; announcing again");
      await this.announce(f);
    } catch (e) {
      this.o.log.warn(`facts check failed: ${(e as Error).message}`);
    }
  }
}
