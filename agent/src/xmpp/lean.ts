/**
 * @module agent/xmpp/lean
 * The simulator's XMPP client (`medulla-agent simulate`), for benchmarks only. It speaks
 * what the agent's client (client.ts) speaks, with the same rules: STARTTLS required and
 * verified against the pinned CA (host or XMPP domain named in the certificate), SCRAM only
 * (SHA-256 preferred, then SHA-1) with the server's signature checked, a bound resource,
 * answers to XEP-0199 pings, our own pings. What it leaves out is xmpp.js's machinery
 * (middleware chains, a parser and several emitters per stage, promise wrappers around
 * every step): written straight on node:tls and @xmpp/xml's parser, a login costs the
 * simulator about 40% less CPU (1.9 against 3.1 ms here, docs/benchmarks.md "xmpp"). One
 * process plays thousands of agents, so with xmpp.js the simulator, not the server under
 * test, set the pace. Its `entity` offers what AgentSession uses (on/off/send, "stanza"
 * and "disconnect" events), so simulated agents still run the agent's own session code.
 */
import { EventEmitter } from "node:events";
import net, { isIP } from "node:net";
import { StringDecoder } from "node:string_decoder";
import tls from "node:tls";
import xml, { Parser, type Element } from "@xmpp/xml";
import { checkXmppIdentity, DEFAULT_TIMEOUT_MS, type XmppOptions } from "./client.ts";
import { clientFinal, saslname, saslprep, verifyServerFinal, type ScramHash } from "./scram.ts";

const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_PING = "urn:xmpp:ping";

/** What the session code sees of the connection. */
export class LeanEntity extends EventEmitter {
  write: (data: string) => void = () => {};
  send(stanza: Element): Promise<void> {
    this.write(stanza.toString());
    return Promise.resolve();
  }
}

export interface LeanClient {
  entity: LeanEntity;
  start(): Promise<string>;
  ping(timeoutMs?: number): Promise<number>;
  stop(timeoutMs?: number): Promise<void>;
}

export function createLeanClient(o: XmppOptions): LeanClient {
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const entity = new LeanEntity();
  let socket: net.Socket | undefined;
  let parser: Parser | undefined;
  let online = false;
  let closed = false;
  let serial = 0;
  /** Top-level elements received during login, and who waits for the next one. */
  const inbox: Element[] = [];
  let waiter: { resolve(el: Element): void; reject(err: Error): void } | undefined;
  let failure: Error | undefined;
  const pending = new Map<string, { resolve(el: Element): void; reject(err: Error): void; timer: Timer }>();

  const fail = (err: Error) => {
    failure ??= err;
    waiter?.reject(err);
    waiter = undefined;
  };
  const deliver = (el: Element) => {
    if (!online) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve(el);
      } else inbox.push(el);
      return;
    }
    if (el.name === "iq") {
      const { type, id } = el.attrs as Record<string, string | undefined>;
      if (type === "get" && el.getChild("ping", NS_PING)) {
        entity.write(xml("iq", { type: "result", id, to: el.attrs.from }).toString());
        return;
      }
      if ((type === "result" || type === "error") && id && pending.has(id)) {
        const p = pending.get(id)!;
        pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(el);
        return;
      }
    }
    entity.emit("stanza", el);
  };
  const newParser = () => {
    parser = new Parser();
    parser.on("element", deliver);
    parser.on("error", (err: Error) => fail(err));
    parser.on("end", () => socket?.end());
  };
  const next = (what: string): Promise<Element> => {
    if (failure) return Promise.reject(failure);
    const queued = inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no ${what} within ${timeout} ms`)), timeout);
      waiter = {
        resolve: (el) => (clearTimeout(timer), resolve(el)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
    });
  };
  const openStream = async (): Promise<Element> => {
    newParser();
    entity.write(`<?xml version='1.0'?><stream:stream to='${o.domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
    const features = await next("stream features");
    if (features.name !== "stream:features") throw new Error(`expected stream features, got <${features.name}>`);
    return features;
  };
  // A decoder per layer: a character split across two reads is whole when written.
  const listen = (s: net.Socket) => {
    const decoder = new StringDecoder("utf8");
    s.on("data", (chunk: Buffer) => parser?.write(decoder.write(chunk)));
  };

  return {
    entity,
    async start() {
      const raw = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, noDelay: true });
      socket = raw;
      raw.on("error", (err) => {
        fail(err);
        entity.emit("error", err);
      });
      raw.on("close", () => {
        closed = true;
        fail(new Error("the server closed the connection during login"));
        for (const p of pending.values()) (clearTimeout(p.timer), p.reject(new Error("disconnected")));
        pending.clear();
        entity.emit("disconnect");
      });
      entity.write = (data) => void (closed || socket!.write(data));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no TCP connection within ${timeout} ms`)), timeout);
        raw.once("connect", () => (clearTimeout(timer), resolve()));
        raw.once("error", (err) => (clearTimeout(timer), reject(err)));
      });
      listen(raw);

      let features = await openStream();
      if (!features.getChild("starttls", NS_TLS)) throw new Error("the server does not offer STARTTLS; refusing to log in without TLS");
      entity.write(`<starttls xmlns='${NS_TLS}'/>`);
      const proceed = await next("STARTTLS answer");
      if (proceed.name !== "proceed") throw new Error("the server refused STARTTLS");
      raw.removeAllListeners("data");
      const secure = tls.connect({
        socket: raw,
        ca: [o.ca],
        servername: isIP(o.host) ? (isIP(o.domain) ? undefined : o.domain) : o.host,
        minVersion: "TLSv1.2",
        checkServerIdentity: (_name, cert) => checkXmppIdentity(o.host, o.domain, cert),
      });
      socket = secure;
      secure.on("error", (err) => {
        fail(err);
        entity.emit("error", err);
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no TLS handshake within ${timeout} ms`)), timeout);
        secure.once("secureConnect", () => (clearTimeout(timer), resolve()));
        secure.once("error", (err) => (clearTimeout(timer), reject(err)));
      });
      listen(secure);

      features = await openStream();
      const offered = (features.getChild("mechanisms", NS_SASL)?.getChildren("mechanism") ?? []).map((m) => m.text());
      const hash: ScramHash | undefined = offered.includes("SCRAM-SHA-256") ? "SHA-256" : offered.includes("SCRAM-SHA-1") ? "SHA-1" : undefined;
      if (!hash) throw new Error("the server offers no SCRAM mechanism");
      const nonce = crypto.randomUUID().replace(/-/g, "");
      const bare = `n=${saslname(saslprep(o.username))},r=${nonce}`;
      entity.write(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-${hash}'>${Buffer.from(`n,,${bare}`).toString("base64")}</auth>`);
      const challenge = await next("SASL challenge");
      if (challenge.name !== "challenge") throw new Error(`authentication failed (${challenge.children[0] && typeof challenge.children[0] !== "string" ? challenge.children[0].name : challenge.name})`);
      const final = await clientFinal(hash, o.password, bare, Buffer.from(challenge.text(), "base64").toString("utf8"), nonce);
      entity.write(`<response xmlns='${NS_SASL}'>${Buffer.from(final.message).toString("base64")}</response>`);
      const success = await next("SASL outcome");
      if (success.name !== "success") throw new Error(`authentication failed (${success.children[0] && typeof success.children[0] !== "string" ? success.children[0].name : success.name})`);
      if (!verifyServerFinal(Buffer.from(success.text(), "base64").toString("utf8"), final.serverSignature)) {
        throw new Error("the server did not prove it knows our credentials (bad SCRAM server signature)");
      }

      features = await openStream();
      if (!features.getChild("bind", NS_BIND)) throw new Error("the server offers no resource binding");
      entity.write(xml("iq", { type: "set", id: "bind" }, xml("bind", { xmlns: NS_BIND }, o.resource ? xml("resource", {}, o.resource) : undefined)).toString());
      const bound = await next("bind result");
      const jid = bound.getChild("bind", NS_BIND)?.getChildText("jid");
      if (bound.attrs.type !== "result" || !jid) throw new Error("resource binding failed");
      online = true;
      for (const el of inbox.splice(0)) deliver(el);
      return jid;
    },
    ping(timeoutMs = timeout) {
      const started = performance.now();
      const id = `p${++serial}`;
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => (pending.delete(id), reject(new Error(`no ping answer within ${timeoutMs} ms`))), timeoutMs);
        // An error reply (say, service-unavailable) still proves the server is there.
        pending.set(id, { resolve: () => resolve(performance.now() - started), reject, timer });
        entity.write(`<iq type='get' id='${id}' to='${o.domain}'><ping xmlns='${NS_PING}'/></iq>`);
      });
    },
    async stop(timeoutMs = 2_000) {
      const s = socket;
      if (!s || closed) return;
      entity.write("</stream:stream>");
      s.end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (s.destroy(), resolve()), timeoutMs);
        s.once("close", () => (clearTimeout(timer), resolve()));
      });
    },
  };
}
