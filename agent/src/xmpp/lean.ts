/**
 * @module agent/xmpp/lean
 * The simulator's XMPP client (`medulla-agent simulate`), for benchmarks only. It speaks
 * what the agent's client (client.ts) speaks, with the same rules: STARTTLS required and
 * verified against the pinned CA (host or XMPP domain named in the certificate), SCRAM only
 * (SHA-256 preferred, then SHA-1) with the server's signature checked, a bound resource,
 * answers to XEP-0199 pings, our own pings. What it leaves out is xmpp.js's machinery
 * (middleware chains, a parser and several emitters per stage, promise wrappers around
 * every step) and node's socket streams: it is written on Bun's own sockets (`Bun.connect`,
 * `upgradeTLS`, one set of handlers for every connection, as the relay's server.ts) and
 * @xmpp/xml's parser. One process plays thousands of agents, so the simulator's CPU per
 * login decides how much of a shared machine is left to the server under test
 * (docs/benchmarks.md "xmpp": 3.1 ms per login with xmpp.js, 1.9 with this client on
 * node:tls, less again on Bun's sockets). Its `entity` offers what AgentSession uses
 * (on/off/send, "stanza" and "disconnect" events), so simulated agents still run the agent's
 * own session code.
 */
import type { Socket, SocketHandler } from "bun";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import type { X509Certificate } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import xml, { Parser, type Element } from "@xmpp/xml";
import { DEFAULT_TIMEOUT_MS, type XmppOptions } from "./client.ts";
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

/**
 * The check of client.ts's `checkXmppIdentity` on the certificate BoringSSL already parsed:
 * the host we dialled, or else the XMPP domain, must be named in it (an IP address in an IP
 * SAN). node's `getPeerCertificate()` builds a whole JS object per handshake for the same answer.
 */
export function checkXmppIdentityX509(host: string, domain: string, cert: X509Certificate | undefined): Error | undefined {
  const names = (n: string) => (isIP(n) ? cert?.checkIP(n) : cert?.checkHost(n)) !== undefined;
  if (names(host) || (domain && domain !== host && names(domain))) return undefined;
  return new Error(`the server certificate names neither ${host} nor ${domain}`);
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

class Lean implements LeanClient {
  readonly entity = new LeanEntity();
  readonly #o: XmppOptions;
  readonly #timeout: number;
  /** The socket writes go to: the raw one, then its TLS layer after STARTTLS. */
  socket: Socket<Lean> | undefined;
  isUpgraded = false;
  isClosed = false;
  #decoder = new StringDecoder("utf8");
  #parser: Parser | undefined;
  /** Bytes the kernel did not take yet, oldest first (Bun's `write` takes what it can now). */
  #queue: Uint8Array[] = [];
  #online = false;
  #serial = 0;
  /** Top-level elements received during login, and who waits for the next one. */
  #inbox: Element[] = [];
  #waiter: Waiter<Element> | undefined;
  #failure: Error | undefined;
  /** The TLS handshake's outcome, awaited by `start`. */
  #secured: Waiter<void> | undefined;
  #pending = new Map<string, Waiter<Element> & { timer: Timer }>();
  #gone: (() => void)[] = [];

  constructor(o: XmppOptions) {
    this.#o = o;
    this.#timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.entity.write = (data) => this.write(data);
  }

  write(data: string): void {
    const s = this.socket;
    if (!s || this.isClosed) return;
    if (this.#queue.length) return void this.#queue.push(Buffer.from(data));
    const written = s.write(data);
    if (written < 0) return; // closed meanwhile: `close` follows
    const size = Buffer.byteLength(data);
    if (written < size) this.#queue.push(Buffer.from(data).subarray(written));
  }

  /** Writes what was queued, as far as the kernel takes it (on `drain`). */
  flush(): void {
    while (this.#queue.length && !this.isClosed) {
      const head = this.#queue[0]!;
      const written = this.socket!.write(head);
      if (written >= head.byteLength) {
        this.#queue.shift();
        continue;
      }
      if (written > 0) this.#queue[0] = head.subarray(written);
      return;
    }
  }

  input(chunk: Buffer): void {
    this.#parser?.write(this.#decoder.write(chunk));
  }

  fail(err: Error): void {
    this.#failure ??= err;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(err);
    const t = this.#secured;
    this.#secured = undefined;
    t?.reject(err);
  }

  handshake(success: boolean, authorizationError: Error | null): void {
    const t = this.#secured;
    this.#secured = undefined;
    if (!t) return;
    const problem = !success
      ? (authorizationError ?? new Error("TLS handshake failed"))
      : authorizationError
        ? new Error(`the server certificate is not trusted: ${authorizationError.message}`)
        : checkXmppIdentityX509(this.#o.host, this.#o.domain, this.socket?.getPeerX509Certificate());
    if (problem) {
      this.socket?.terminate();
      return t.reject(problem);
    }
    t.resolve();
  }

  /** The socket is gone (either layer): once. */
  gone(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#queue = [];
    this.fail(new Error("the server closed the connection during login"));
    for (const p of this.#pending.values()) (clearTimeout(p.timer), p.reject(new Error("disconnected")));
    this.#pending.clear();
    for (const f of this.#gone.splice(0)) f();
    this.entity.emit("disconnect");
  }

  #deliver = (el: Element): void => {
    if (!this.#online) {
      const w = this.#waiter;
      if (w) {
        this.#waiter = undefined;
        w.resolve(el);
      } else this.#inbox.push(el);
      return;
    }
    if (el.name === "iq") {
      const { type, id } = el.attrs as Record<string, string | undefined>;
      if (type === "get" && el.getChild("ping", NS_PING)) {
        this.write(xml("iq", { type: "result", id, to: el.attrs.from }).toString());
        return;
      }
      if ((type === "result" || type === "error") && id && this.#pending.has(id)) {
        const p = this.#pending.get(id)!;
        this.#pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(el);
        return;
      }
    }
    this.entity.emit("stanza", el);
  };

  #next(what: string): Promise<Element> {
    if (this.#failure) return Promise.reject(this.#failure);
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no ${what} within ${this.#timeout} ms`)), this.#timeout);
      this.#waiter = {
        resolve: (el) => (clearTimeout(timer), resolve(el)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
    });
  }

  async #openStream(): Promise<Element> {
    const parser = new Parser();
    parser.on("element", this.#deliver);
    parser.on("error", (err: Error) => this.fail(err));
    parser.on("end", () => this.socket?.end());
    this.#parser = parser;
    this.write(`<?xml version='1.0'?><stream:stream to='${this.#o.domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
    const features = await this.#next("stream features");
    if (features.name !== "stream:features") throw new Error(`expected stream features, got <${features.name}>`);
    return features;
  }

  #within<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: Timer | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${this.#timeout} ms`)), this.#timeout)));
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  async start(): Promise<string> {
    const o = this.#o;
    const connecting = Bun.connect<Lean>({ hostname: o.host, port: o.port, data: this, socket: rawHandlers, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    const raw = await this.#within("TCP connection", connecting).catch((err: Error) => {
      // A connection that comes after the timeout is closed at once.
      void connecting.then((late) => late.terminate(), () => {});
      this.isClosed = true;
      throw err;
    });
    raw.setNoDelay(true);
    this.socket = raw;

    let features = await this.#openStream();
    if (!features.getChild("starttls", NS_TLS)) throw new Error("the server does not offer STARTTLS; refusing to log in without TLS");
    this.write(`<starttls xmlns='${NS_TLS}'/>`);
    const proceed = await this.#next("STARTTLS answer");
    if (proceed.name !== "proceed") throw new Error("the server refused STARTTLS");
    const secured = new Promise<void>((resolve, reject) => (this.#secured = { resolve, reject }));
    const servername = isIP(o.host) ? (isIP(o.domain) ? undefined : o.domain) : o.host;
    // The chain is checked by BoringSSL against the pinned CA; the name by `handshake`, here.
    const options = { data: this, socket: tlsHandlers, tls: { ca: o.ca, ...(servername ? { serverName: servername } : {}), rejectUnauthorized: false } };
    const [, secure] = raw.upgradeTLS<Lean>(options as never);
    this.isUpgraded = true;
    this.socket = secure;
    this.#decoder = new StringDecoder("utf8");
    await this.#within("TLS handshake", secured);

    features = await this.#openStream();
    const offered = (features.getChild("mechanisms", NS_SASL)?.getChildren("mechanism") ?? []).map((m) => m.text());
    const hash: ScramHash | undefined = offered.includes("SCRAM-SHA-256") ? "SHA-256" : offered.includes("SCRAM-SHA-1") ? "SHA-1" : undefined;
    if (!hash) throw new Error("the server offers no SCRAM mechanism");
    const nonce = crypto.randomUUID().replace(/-/g, "");
    const bare = `n=${saslname(saslprep(o.username))},r=${nonce}`;
    this.write(`<auth xmlns='${NS_SASL}' mechanism='SCRAM-${hash}'>${Buffer.from(`n,,${bare}`).toString("base64")}</auth>`);
    const challenge = await this.#next("SASL challenge");
    if (challenge.name !== "challenge") throw new Error(`authentication failed (${challenge.children[0] && typeof challenge.children[0] !== "string" ? challenge.children[0].name : challenge.name})`);
    const final = await clientFinal(hash, o.password, bare, Buffer.from(challenge.text(), "base64").toString("utf8"), nonce);
    this.write(`<response xmlns='${NS_SASL}'>${Buffer.from(final.message).toString("base64")}</response>`);
    const success = await this.#next("SASL outcome");
    if (success.name !== "success") throw new Error(`authentication failed (${success.children[0] && typeof success.children[0] !== "string" ? success.children[0].name : success.name})`);
    if (!verifyServerFinal(Buffer.from(success.text(), "base64").toString("utf8"), final.serverSignature)) {
      throw new Error("the server did not prove it knows our credentials (bad SCRAM server signature)");
    }

    features = await this.#openStream();
    if (!features.getChild("bind", NS_BIND)) throw new Error("the server offers no resource binding");
    this.write(xml("iq", { type: "set", id: "bind" }, xml("bind", { xmlns: NS_BIND }, o.resource ? xml("resource", {}, o.resource) : undefined)).toString());
    const bound = await this.#next("bind result");
    const jid = bound.getChild("bind", NS_BIND)?.getChildText("jid");
    if (bound.attrs.type !== "result" || !jid) throw new Error("resource binding failed");
    this.#online = true;
    for (const el of this.#inbox.splice(0)) this.#deliver(el);
    return jid;
  }

  ping(timeoutMs = this.#timeout): Promise<number> {
    const started = performance.now();
    const id = `p${++this.#serial}`;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => (this.#pending.delete(id), reject(new Error(`no ping answer within ${timeoutMs} ms`))), timeoutMs);
      // An error reply (say, service-unavailable) still proves the server is there.
      this.#pending.set(id, { resolve: () => resolve(performance.now() - started), reject, timer });
      this.write(`<iq type='get' id='${id}' to='${this.#o.domain}'><ping xmlns='${NS_PING}'/></iq>`);
    });
  }

  async stop(timeoutMs = 2_000): Promise<void> {
    const s = this.socket;
    if (!s || this.isClosed) return;
    this.write("</stream:stream>");
    s.end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => (s.terminate(), resolve()), timeoutMs);
      this.#gone.push(() => (clearTimeout(timer), resolve()));
    });
  }
}

function socketError(lean: Lean, err: Error): void {
  lean.fail(err);
  lean.entity.emit("error", err);
}

const rawHandlers: SocketHandler<Lean> = {
  data(socket, data) {
    // After STARTTLS the TLS layer reads the socket; nothing arrives here.
    if (!socket.data.isUpgraded) socket.data.input(data);
  },
  drain(socket) {
    if (!socket.data.isUpgraded) socket.data.flush();
  },
  close(socket) {
    socket.data.gone();
  },
  error(socket, err) {
    socketError(socket.data, err);
  },
  connectError(socket, err) {
    socket.data.fail(err);
  },
};

const tlsHandlers: SocketHandler<Lean> = {
  handshake(socket, success, authorizationError) {
    socket.data.handshake(success, authorizationError);
  },
  data(socket, data) {
    socket.data.input(data);
  },
  drain(socket) {
    socket.data.flush();
  },
  close(socket) {
    socket.data.gone();
  },
  error(socket, err) {
    socketError(socket.data, err);
  },
};

export function createLeanClient(o: XmppOptions): LeanClient {
  return new Lean(o);
}
