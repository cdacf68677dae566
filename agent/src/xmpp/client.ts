/**
 * @module agent/xmpp/client
 * The agent's XMPP client, composed from the xmpp.js 0.14 packages that `@xmpp/client`
 * bundles, rather than `client()` itself, for three reasons: `client()` upgrades STARTTLS
 * with the system's trust store and no way to pass TLS options (we must trust only the
 * pinned CA, FIELD-NOTES "XMPP"); its SCRAM is slow (we register our own, PBKDF2-based);
 * and it would fall back to other mechanisms and to plain text. This client requires
 * STARTTLS, verifies the server against the pinned CA (host or XMPP domain must be named in
 * the certificate), offers only SCRAM, checks the server's SCRAM signature, binds a
 * resource and answers XEP-0199 pings. Timeouts default to 20 s (the library's 2 s dropped
 * logins under load). `localAddress` lets the simulator spread source addresses.
 */
import tls from "node:tls";
import { isIP } from "node:net";
import xml, { type Element } from "@xmpp/xml";
import jid from "@xmpp/jid";
import { Client } from "@xmpp/client-core";
import { promise } from "@xmpp/events";
import ConnectionTCP from "@xmpp/tcp/lib/Connection.js";
import TlsSocket from "@xmpp/tls/lib/Socket.js";
import middleware from "@xmpp/middleware";
import streamFeatures from "@xmpp/stream-features";
import iqCallerOf, { type IqCaller } from "@xmpp/iq/caller.js";
import iqCalleeOf from "@xmpp/iq/callee.js";
import sasl from "@xmpp/sasl";
import resourceBinding from "@xmpp/resource-binding";
import SASLFactory from "saslmechanisms";
import { scramMechanism, verifyServerFinal, type ScramState } from "./scram.ts";

export { xml, type Element };

const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_STREAM = "http://etherx.jabber.org/streams";
const NS_PING = "urn:xmpp:ping";
export const DEFAULT_TIMEOUT_MS = 20_000;

export interface XmppOptions {
  /** Where to connect. */
  host: string;
  port: number;
  /** The XMPP domain (the stream's `to`), also accepted as the certificate's name. */
  domain: string;
  /** The account's local part and password. */
  username: string;
  password: string;
  /** PEM of the pinned CA: the only trust root for this connection. */
  ca: string;
  resource?: string;
  localAddress?: string;
  timeoutMs?: number;
}

export interface XmppClient {
  entity: Client;
  iqCaller: IqCaller;
  /** Logs in; resolves with the full JID once a resource is bound. */
  start(): Promise<string>;
  /** Sends an XEP-0199 ping to the server; resolves with the round trip in ms. */
  ping(timeoutMs?: number): Promise<number>;
  /** Closes the stream politely, and the socket in any case, within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

/** The names a server certificate may carry for us to accept it: the host we dialled, or the XMPP domain. */
export function checkXmppIdentity(host: string, domain: string, cert: tls.PeerCertificate): Error | undefined {
  const errHost = tls.checkServerIdentity(host, cert);
  if (!errHost) return undefined;
  if (domain && domain !== host && !tls.checkServerIdentity(domain, cert)) return undefined;
  return new Error(`the server certificate names neither ${host} nor ${domain}`);
}

export function createXmppClient(o: XmppOptions): XmppClient {
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const entity = new Client({ service: `xmpp://${isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${o.port}`, domain: o.domain, timeout });
  entity.jid = jid(o.username, o.domain);

  // One transport class per client, so each connection can carry its own source address.
  const localAddress = o.localAddress;
  class Tcp extends ConnectionTCP {
    override socketParameters(service: string) {
      const params = super.socketParameters(service);
      if (params && localAddress) params.localAddress = localAddress;
      return params;
    }
  }
  entity.transports.push(Tcp);

  const mw = middleware({ entity });
  // Before any feature handler: never negotiate anything but STARTTLS in the clear.
  mw.use((ctx, next) => {
    const { stanza } = ctx;
    if (stanza.is("features", NS_STREAM) && !entity.isSecure() && !stanza.getChild("starttls", NS_TLS)) {
      throw new Error("the server does not offer STARTTLS; refusing to log in without TLS");
    }
    return next();
  });
  const features = streamFeatures({ middleware: mw });
  const iqCaller = iqCallerOf({ middleware: mw, entity });
  const iqCallee = iqCalleeOf({ middleware: mw, entity });

  features.use("starttls", NS_TLS, async (_ctx, next) => {
    if (entity.isSecure()) return next();
    const answer = await entity.sendReceive(xml("starttls", { xmlns: NS_TLS }));
    if (!answer.is("proceed", NS_TLS)) throw new Error("the server refused STARTTLS");
    const socket = new TlsSocket();
    socket.connect({
      socket: entity.socket as never,
      ca: [o.ca],
      servername: isIP(o.host) ? (isIP(o.domain) ? undefined : o.domain) : o.host,
      minVersion: "TLSv1.2",
      checkServerIdentity: (_name, cert) => checkXmppIdentity(o.host, o.domain, cert),
    });
    await promise(socket, "connect", "error", timeout);
    entity._attachSocket(socket);
    await entity.restart();
  });

  const factory = new SASLFactory();
  factory.use("SCRAM-SHA-512", scramMechanism("SHA-512"));
  factory.use("SCRAM-SHA-256", scramMechanism("SHA-256"));
  factory.use("SCRAM-SHA-1", scramMechanism("SHA-1"));
  sasl({ streamFeatures: features, saslFactory: factory }, async (authenticate, mechanisms) => {
    if (!entity.isSecure()) throw new Error("refusing to authenticate before TLS");
    const mechanism = mechanisms[0];
    if (!mechanism) throw new Error("the server offers no SCRAM mechanism");
    const scram: ScramState = {};
    let successData = "";
    const onNonza = (el: Element) => {
      if (el.is("success", NS_SASL)) successData = Buffer.from(el.text(), "base64").toString("utf8");
    };
    entity.on("nonza", onNonza);
    try {
      await authenticate({ username: o.username, password: o.password, scram }, mechanism);
    } finally {
      entity.off("nonza", onNonza);
    }
    const serverFinal = successData || scram.serverFinal || "";
    if (!scram.serverSignature || !verifyServerFinal(serverFinal, scram.serverSignature)) {
      throw new Error("the server did not prove it knows our credentials (bad SCRAM server signature)");
    }
  });
  resourceBinding({ streamFeatures: features, iqCaller }, o.resource);
  iqCallee.get(NS_PING, "ping", () => ({}));

  return {
    entity,
    iqCaller,
    // Not `entity.start()`: xmpp.js creates its "online" promise before opening the
    // stream and leaves it unawaited when the open fails (a socket reset mid-login then
    // surfaces as an unhandled rejection), and it never settles when the socket closes
    // without an error (a stalled login). Ours settles on online, error, disconnect or the
    // deadline, and is always awaited.
    async start() {
      if (entity.status !== "offline") throw new Error(`cannot log in: the connection is ${entity.status}`);
      await entity.connect(entity.options.service);
      const online = new Promise<{ toString(): string }>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          entity.off("online", onOnline);
          entity.off("error", onError);
          entity.off("disconnect", onDisconnect);
        };
        const onOnline = (address: { toString(): string }) => (done(), resolve(address));
        const onError = (err: Error) => (done(), reject(err));
        // The reason (a TLS or SASL failure) is often emitted just after the socket closed:
        // give it a moment to arrive, so the error names the cause, not the symptom.
        const onDisconnect = () => setTimeout(() => (done(), reject(new Error("the server closed the connection during login"))), 100);
        const timer = setTimeout(() => (done(), reject(new Error(`login did not complete within ${timeout * 2} ms`))), timeout * 2);
        entity.on("online", onOnline);
        entity.on("error", onError);
        entity.on("disconnect", onDisconnect);
      });
      try {
        await entity.open({ domain: o.domain, lang: entity.options.lang });
      } catch (err) {
        online.catch(() => undefined);
        throw err;
      }
      return (await online).toString();
    },
    async ping(timeoutMs = timeout) {
      const started = performance.now();
      try {
        await iqCaller.request(xml("iq", { type: "get", to: o.domain }, xml("ping", { xmlns: NS_PING })), timeoutMs);
      } catch (e) {
        // An error reply (say, service-unavailable) still proves the server is there.
        if ((e as Error).name !== "StanzaError") throw e;
      }
      return performance.now() - started;
    },
    async stop(timeoutMs = 2_000) {
      const hard = () => {
        const s = entity.socket;
        try {
          s?.socket?.destroy();
          s?.destroy?.();
        } catch {
          // already gone
        }
      };
      let timer: Timer | undefined;
      await Promise.race([entity.stop().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      hard();
    },
  };
}
