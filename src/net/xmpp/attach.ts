/**
 * @module net/xmpp/attach
 * Gives a new transport its stream: admission by the connection limits (refused with a
 * stream error), the watchdog's timers, and the bookkeeping undone when it goes. The TCP
 * listener uses it for each socket; tests use it with an in-memory transport and a manual
 * clock, so negotiation, pings and timeouts run without sockets or sleeps.
 */
import { closeStream, el, NS, openStream, streamError } from "./codec.ts";
import type { ServerHost } from "./server.ts";
import type { Clock } from "../../clock.ts";
import { Connection, type ConnectionHooks, type ListenerTraits, type Transport } from "./stream.ts";
import { startWatchdog, type Watchdog, type WatchdogOptions } from "./watchdog.ts";

export const clientListener: ListenerTraits = { canStartTls: true, acceptsClients: true };
export const componentListener: ListenerTraits = { canStartTls: false, acceptsClients: false };

/** A connection for `transport`, or null when a limit refused it (the transport is ended). */
export function attach(host: ServerHost, transport: Transport, traits: ListenerTraits): Connection | null {
  const { ip } = transport;
  const admission = host.addresses.admit(ip);
  if (admission !== "ok") {
    const condition = admission === "total" ? "resource-constraint" : "policy-violation";
    const text = admission === "total" ? "the server is full" : "too many connections from your address";
    host.stats.streamErrors[condition] = (host.stats.streamErrors[condition] ?? 0) + 1;
    host.log.debug({ ip }, `xmpp connection refused: ${text}`);
    transport.send(openStream({ from: host.domain, id: "refused" }) + streamError(condition, text) + closeStream);
    transport.end();
    return null;
  }
  const conn = new Connection(transport, host, traits);
  conn.hooks = new Attachment(host, conn, transport);
  host.connections.add(conn);
  return conn;
}

/**
 * What ties a connection to the relay once admitted: its watchdog (of which it is also the
 * options: timeouts, ping, timeout) and the bookkeeping undone when it goes. One object per
 * connection, where callbacks made a closure each.
 */
class Attachment implements ConnectionHooks, WatchdogOptions {
  readonly watchdog: Watchdog;
  #pings = 0;

  constructor(
    readonly host: ServerHost,
    readonly conn: Connection,
    readonly transport: Transport,
  ) {
    this.watchdog = startWatchdog(this);
  }

  get clock(): Clock {
    return this.host.clock;
  }

  get negotiationTimeoutMs(): number {
    return this.host.limits.negotiationTimeoutMs;
  }

  get idleTimeoutMs(): number {
    return this.host.limits.idleTimeoutMs;
  }

  get pingTimeoutMs(): number {
    return this.host.limits.pingTimeoutMs;
  }

  onPing(): void {
    const { conn, host } = this;
    conn.send(el("iq", { type: "get", id: `srv-ping-${++this.#pings}`, from: host.domain, to: conn.jid?.full }, el("ping", { xmlns: NS.ping })));
  }

  onTimeout(phase: "negotiation" | "idle"): void {
    this.conn.fail("connection-timeout", phase === "negotiation" ? "negotiation took too long" : "no answer to ping");
  }

  input(): void {
    this.watchdog.activity();
  }

  established(): void {
    this.watchdog.established();
    this.transport.established?.();
  }

  gone(): void {
    this.watchdog.stop();
    this.host.addresses.release(this.transport.ip);
    this.host.connections.delete(this.conn);
  }
}
