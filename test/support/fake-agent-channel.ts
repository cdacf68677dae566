/**
 * @module test/support/fake-agent-channel
 * An AgentChannel whose agents are scripted by the test, for the deployment engine's tests
 * on the ManualClock: what the server sent, which agents are up, how they answer a request,
 * and agents' events delivered as if they came over XMPP.
 */
import type { AgentChannel, PresenceEvent } from "../../src/protocol/channel.ts";
import { reply, request, type Envelope } from "../../src/protocol/envelope.ts";

/** An agent channel whose agents are scripted by the test. */
export class FakeChannel implements AgentChannel {
  readonly serverJid = "medulla@test";
  up = new Set<string>();
  sent: { jid: string; env: Envelope }[] = [];
  /** How an agent answers a request; default: accepts. */
  answer: (jid: string, env: Envelope) => Envelope | "silence" = (_j, env) => reply(env, { accepted: true, state: "transferring" });
  #onMessage: ((from: string, env: Envelope) => void)[] = [];
  send(jid: string, envelope: Envelope): boolean {
    this.sent.push({ jid, env: envelope });
    return this.up.has(jid);
  }
  async request(jid: string, envelope: Envelope): Promise<Envelope> {
    this.sent.push({ jid, env: envelope });
    if (!this.up.has(jid)) throw new Error("offline");
    const a = this.answer(jid, envelope);
    if (a === "silence") throw new Error("timeout");
    return a;
  }
  onMessage(h: (from: string, env: Envelope) => void): void {
    this.#onMessage.push(h);
  }
  onPresence(_h: (e: PresenceEvent) => void): void {}
  isOnline(jid: string): boolean {
    return this.up.has(jid);
  }
  online(): string[] {
    return [...this.up];
  }
  disconnect(): void {}
  /** An agent sends an event; returns the server's reply to it. */
  event(jid: string, data: Record<string, unknown>): Envelope {
    const env = request("deployevent", { at: 0, ...data });
    const before = this.sent.length;
    for (const h of this.#onMessage) h(`${jid}/agent`, env);
    return this.sent.slice(before).find((s) => s.env.sessionid === env.sessionid)!.env;
  }
  deploys(jid?: string) {
    return this.sent.filter((s) => s.env.action === "deploy" && (!jid || s.jid === jid));
  }
}
