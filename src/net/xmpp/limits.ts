/**
 * @module net/xmpp/limits
 * The relay's limits, their defaults (docs/xmpp.md lists the same), and the per-address
 * bookkeeping behind two of them: connections per IP and authentication failures per IP
 * in a sliding window. Time comes from the injected clock.
 */
import type { Clock } from "../../clock.ts";
import { defaultParserLimits } from "./codec.ts";

export interface RelayLimits {
  /** Open connections from one address; loopback is exempt while `exemptLoopback`. */
  maxConnectionsPerIp: number;
  exemptLoopback: boolean;
  /** Open connections in all; past it new ones get `resource-constraint`. */
  maxConnections: number;
  /** Failed authentications from one address within `authFailureWindowMs` before it is refused. */
  maxAuthFailuresPerIp: number;
  authFailureWindowMs: number;
  /** From TCP accept to a bound resource (or a component handshake). */
  negotiationTimeoutMs: number;
  /** Connections negotiating at once (gate.ts); the others wait their turn unread. 0: no limit. */
  maxConcurrentNegotiations: number;
  /** Longest a connection holds its negotiation slot before the next one gets it. */
  negotiationSlotMs: number;
  /** Silence after which the server pings the client (XEP-0199). */
  idleTimeoutMs: number;
  /** Time the client has to show life after that ping before `connection-timeout`. */
  pingTimeoutMs: number;
  maxStanzaBytes: number;
  /** Stanza size limit until the stream is authenticated (the SASL exchange is small). */
  maxStanzaBytesBeforeAuth: number;
  maxDepth: number;
  maxAttributes: number;
  /** Resources one account may bind at once. */
  maxResourcesPerAccount: number;
  /** Bytes queued for a client that does not read before it is dropped. */
  maxSendBufferBytes: number;
  /** Default for `channel.request`. */
  requestTimeoutMs: number;
}

export const defaultLimits: Readonly<RelayLimits> = Object.freeze({
  maxConnectionsPerIp: 20,
  exemptLoopback: true,
  maxConnections: 20_000,
  maxAuthFailuresPerIp: 10,
  authFailureWindowMs: 5 * 60_000,
  negotiationTimeoutMs: 30_000,
  maxConcurrentNegotiations: 64,
  negotiationSlotMs: 500,
  idleTimeoutMs: 5 * 60_000,
  pingTimeoutMs: 60_000,
  maxStanzaBytes: defaultParserLimits.maxStanzaBytes,
  maxStanzaBytesBeforeAuth: 16 * 1024,
  maxDepth: defaultParserLimits.maxDepth,
  maxAttributes: defaultParserLimits.maxAttributes,
  maxResourcesPerAccount: 10,
  maxSendBufferBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
});

export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.");
}

/** `::ffff:192.0.2.1` → `192.0.2.1`: one address, one count. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return "";
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

export type Admission = "ok" | "per-ip" | "total";

export class AddressBook {
  #connections = new Map<string, number>();
  #total = 0;
  #failures = new Map<string, number[]>();

  constructor(
    private readonly limits: RelayLimits,
    private readonly clock: Clock,
  ) {}

  get total(): number {
    return this.#total;
  }

  /** Counts a new connection unless a limit refuses it. */
  admit(ip: string): Admission {
    if (this.#total >= this.limits.maxConnections) return "total";
    const n = this.#connections.get(ip) ?? 0;
    const isExempt = this.limits.exemptLoopback && isLoopback(ip);
    if (!isExempt && n >= this.limits.maxConnectionsPerIp) return "per-ip";
    this.#connections.set(ip, n + 1);
    this.#total++;
    return "ok";
  }

  release(ip: string): void {
    const n = this.#connections.get(ip);
    if (!n) return;
    this.#total--;
    if (n <= 1) this.#connections.delete(ip);
    else this.#connections.set(ip, n - 1);
  }

  /** Records a failed authentication; true when the address is now over its limit. */
  authFailed(ip: string): boolean {
    const list = this.#recent(ip);
    list.push(this.clock.now());
    this.#failures.set(ip, list);
    if (this.#failures.size > 100_000) this.#sweep();
    return list.length >= this.limits.maxAuthFailuresPerIp;
  }

  isBlocked(ip: string): boolean {
    return this.#recent(ip).length >= this.limits.maxAuthFailuresPerIp;
  }

  #recent(ip: string): number[] {
    const since = this.clock.now() - this.limits.authFailureWindowMs;
    const list = (this.#failures.get(ip) ?? []).filter((t) => t > since);
    if (list.length === 0) this.#failures.delete(ip);
    return list;
  }

  #sweep(): void {
    for (const ip of [...this.#failures.keys()]) this.#recent(ip);
  }
}
