/**
 * @module net/xmpp/attach
 * Gives a new transport its stream: admission by the connection limits (refused with a
 * stream error), the watchdog's timers, and the bookkeeping undone when it goes. The TCP
 * listener uses it for each socket; tests use it with an in-memory transport and a manual
 * clock, so negotiation, pings and timeouts run without sockets or sleeps.
 */
import { closeStream, el, NS, openStream, streamError } from "./codec.ts";
import type { ServerHost } from "./server.ts";
import { Connection, type ListenerTraits, type Transport } from "./stream.ts";
import { startWatchdog } from "./watchdog.ts";

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
  let pings = 0;
  const watchdog = startWatchdog({
    clock: host.clock,
    negotiationTimeoutMs: host.limits.negotiationTimeoutMs,
    idleTimeoutMs: host.limits.idleTimeoutMs,
    pingTimeoutMs: host.limits.pingTimeoutMs,
    onPing: () => conn.send(el("iq", { type: "get", id: `srv-ping-${++pings}`, from: host.domain, to: conn.jid?.full }, el("ping", { xmlns: NS.ping }))),
    onTimeout: (phase) => conn.fail("connection-timeout", phase === "negotiation" ? "negotiation took too long" : "no answer to ping"),
  });
  conn.onInput = () => watchdog.activity();
  conn.onEstablished = () => {
    watchdog.established();
    transport.established?.();
  };
  conn.onGone = () => {
    watchdog.stop();
    host.addresses.release(ip);
    host.connections.delete(conn);
  };
  host.connections.add(conn);
  return conn;
}
