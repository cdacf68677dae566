/**
 * @module protocol/channel
 * How the server's logic reaches agents (DESIGN.md: "one interface with two
 * implementations": the embedded relay, and later an XEP-0114 component attached to an
 * external XMPP server). Features use only this; a contract test suite runs against each
 * implementation.
 */
import type { Envelope } from "./envelope.ts";

export interface PresenceEvent {
  /** Bare JID of the agent account, e.g. `3f2a…@medulla.lan`. */
  jid: string;
  available: boolean;
  /** The client's address as the relay saw it. */
  ip?: string;
  at: number;
}

export interface AgentChannel {
  /** The server's own bare JID (agents address their messages to it). */
  readonly serverJid: string;
  /** Sends an envelope to an agent; false when it is not connected. */
  send(jid: string, envelope: Envelope): boolean;
  /** Sends a request and waits for the reply with the same sessionid (rejects on timeout). */
  request(jid: string, envelope: Envelope, timeoutMs?: number): Promise<Envelope>;
  /** Every envelope an agent sends to the server that is not a reply to a pending request. */
  onMessage(handler: (from: string, envelope: Envelope) => void): void;
  onPresence(handler: (event: PresenceEvent) => void): void;
  isOnline(jid: string): boolean;
  /** Bare JIDs connected now. */
  online(): string[];
  /** Closes the agent's connections now (ban, account removed). */
  disconnect(jid: string, reason: string): void;
}
