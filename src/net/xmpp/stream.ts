/**
 * @module net/xmpp/stream
 * One connection's stream, as a state machine with no socket of its own: bytes come in
 * through `input`, everything goes out through a `Transport` (a socket in `server.ts`, an
 * array in unit tests). It reads stream headers and hands each stanza to the handler of
 * the current stage: client negotiation (`negotiation.ts`: STARTTLS → SASL → bind), a
 * component handshake (`component.ts`), then routing (`router.ts`). Every protocol
 * violation ends as a stream error (RFC 6120 §4.9) and a close; an exception in a handler
 * closes this connection with `internal-server-error` and never reaches the socket loop.
 */
import { randomBytes } from "node:crypto";
import type { Element } from "ltx";
import type { Logger } from "../../log.ts";
import { closeStream, NS, openStream, StreamParser, streamError, type StreamCondition, type StreamFault, type StreamHeader } from "./codec.ts";
import { handshakeStage, isComponentStream } from "./component.ts";
import type { Jid } from "./jid.ts";
import type { AddressBook, RelayLimits } from "./limits.ts";
import { clientStage } from "./negotiation.ts";
import type { Router } from "./router.ts";
import type { AccountLookup } from "./sasl.ts";

export interface Transport {
  readonly ip: string;
  send(data: string): void;
  /** Switches the connection to TLS once `<proceed/>` is out; then calls `secured()`. */
  startTls(): void;
  /** Ends the connection once what was sent is flushed. */
  end(): void;
  /** Negotiation is over (bound, or the component's handshake accepted). */
  established?(): void;
}

/** What a stream needs from the relay around it. */
export interface StreamHost {
  readonly domain: string;
  readonly limits: RelayLimits;
  readonly log: Logger;
  readonly router: Router;
  readonly addresses: AddressBook;
  readonly lookup: AccountLookup;
  /** Secrets of the XEP-0114 components, by their domain. */
  readonly components: ReadonlyMap<string, string>;
  readonly stats: { stanzasIn: number; authFailures: number; streamErrors: Record<string, number> };
}

export interface ListenerTraits {
  canStartTls: boolean;
  acceptsClients: boolean;
}

/** Handles the stream header and the stanzas of one stage of the stream's life. */
export interface Stage {
  /** Answers a (re)opened stream after the header was sent: features, or nothing. */
  opened?(header: StreamHeader): void;
  stanza(stanza: Element, ns: string): void;
}

/** What a connection tells the code that attached it. */
export interface ConnectionHooks {
  /** A chunk of input arrived (the watchdog's sign of life). */
  input(): void;
  /** Negotiation is over (bound, or the component's handshake accepted). */
  established(): void;
  /** The connection is gone, whatever the cause; called once. */
  gone(): void;
}

const NO_HOOKS: ConnectionHooks = { input() {}, established() {}, gone() {} };

let serial = 0;

export class Connection {
  readonly serial = ++serial;
  streamId = "";
  isSecure = false;
  kind: "client" | "component" | null = null;
  /** Authenticated account (clients) or component domain. */
  username: string | null = null;
  /** Bound full JID (clients) or the component's domain JID. */
  jid: Jid | null = null;
  isAvailable = false;
  priority = 0;
  stage: Stage;
  /** Who hears of its input, its establishment and its end (attach.ts); one object, no closures. */
  hooks: ConnectionHooks = NO_HOOKS;
  #parser: StreamParser;
  #isHeaderSent = false;
  #isClosed = false;
  #isTlsPending = false;
  /** Output held while one input chunk is handled, written at once (fewer TLS records). */
  #batch: string[] | null = null;

  constructor(
    readonly transport: Transport,
    readonly host: StreamHost,
    readonly traits: ListenerTraits,
  ) {
    const { limits } = host;
    // The connection is its parser's handler (onOpen … onError below): no closures per connection.
    this.#parser = new StreamParser(this, { maxStanzaBytes: limits.maxStanzaBytesBeforeAuth, maxDepth: limits.maxDepth, maxAttributes: limits.maxAttributes });
    this.stage = { stanza: () => this.fail("not-authorized", "the stream is not open") };
  }

  get ip(): string {
    return this.transport.ip;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  get log(): Logger {
    return this.host.log;
  }

  input(bytes: Uint8Array | string): void {
    if (this.#isClosed || this.#isTlsPending) return;
    // Called from a socket's data event: nothing may escape into the socket loop.
    try {
      this.hooks.input();
      this.#batch = [];
      this.#parser.write(bytes);
      this.#flush();
    } catch (err) {
      this.log.error({ err, ip: this.ip }, "xmpp connection failed");
      if (!this.#isClosed) this.#end();
    }
  }

  send(stanza: Element | string): void {
    if (this.#isClosed) return;
    const data = typeof stanza === "string" ? stanza : stanza.toString();
    if (this.#batch) this.#batch.push(data);
    else this.transport.send(data);
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = null;
    if (batch?.length) this.transport.send(batch.join(""));
  }

  /** Expects a new stream header on the same transport (after SASL success). */
  restart(maxStanzaBytes?: number): void {
    this.#parser.reset();
    if (maxStanzaBytes) this.#parser.setMaxStanzaBytes(maxStanzaBytes);
    this.#isHeaderSent = false;
  }

  setMaxStanzaBytes(bytes: number): void {
    this.#parser.setMaxStanzaBytes(bytes);
  }

  /** `<proceed/>` was sent: nothing more is read in clear; the transport upgrades. */
  startTls(): void {
    this.#isTlsPending = true;
    this.restart();
    this.#flush();
    this.transport.startTls();
  }

  /** The transport finished the TLS handshake. */
  secured(): void {
    this.#isTlsPending = false;
    this.isSecure = true;
  }

  /** Sends a stream error and closes (RFC 6120 §4.9.1.1: a header first if none went out). */
  fail(condition: StreamCondition, text?: string): void {
    if (this.#isClosed) return;
    this.host.stats.streamErrors[condition] = (this.host.stats.streamErrors[condition] ?? 0) + 1;
    this.log.debug({ ip: this.ip, jid: this.jid?.full, condition, text }, "xmpp stream error");
    if (!this.#isHeaderSent) this.#sendHeader();
    this.send(streamError(condition, text) + closeStream);
    this.#end();
  }

  /** Closes the stream cleanly (the peer closed it, or the server is done). */
  close(): void {
    if (this.#isClosed) return;
    if (!this.#isHeaderSent) this.#sendHeader();
    this.send(closeStream);
    this.#end();
  }

  /** The transport is gone (peer hung up, error, or after `end`). */
  transportClosed(): void {
    if (!this.#isClosed) this.#end();
  }

  #end(): void {
    this.#flush();
    this.#isClosed = true;
    this.transport.end();
    this.host.router.unbind(this);
    const hooks = this.hooks;
    this.hooks = NO_HOOKS;
    hooks.gone();
  }

  /** Parser event: a stream header. */
  onOpen(header: StreamHeader): void {
    try {
      this.#open(header);
    } catch (err) {
      this.#handlerFailed(err);
    }
  }

  /** Parser event: a whole stanza (or a negotiation element). */
  onStanza(stanza: Element, ns: string): void {
    try {
      this.#stanza(stanza, ns);
    } catch (err) {
      this.#handlerFailed(err);
    }
  }

  /** Parser event: the peer closed its stream. */
  onClose(): void {
    this.close();
  }

  /** Parser event: a protocol violation. */
  onError(fault: StreamFault): void {
    this.fail(fault.condition, fault.text);
  }

  #handlerFailed(err: unknown): void {
    this.log.error({ err, ip: this.ip, jid: this.jid?.full }, "xmpp stream handler failed");
    this.fail("internal-server-error");
  }

  #sendHeader(to?: string): void {
    this.streamId = randomBytes(12).toString("hex");
    const isComponent = this.kind === "component";
    const from = isComponent ? (this.username ?? this.host.domain) : this.host.domain;
    this.send(openStream({ from, id: this.streamId, to, contentNs: isComponent ? NS.component : NS.client, version: isComponent ? null : "1.0" }));
    this.#isHeaderSent = true;
  }

  #open(header: StreamHeader): void {
    const kind = isComponentStream(header) ? "component" : header.contentNs === NS.client ? "client" : null;
    if (kind === "component" && this.kind === null) this.username = header.attrs.to?.toLowerCase() ?? null;
    if (!kind || (this.kind && this.kind !== kind) || (kind === "client" && !this.traits.acceptsClients)) {
      return this.fail("invalid-namespace", `unsupported stream namespace ${header.contentNs.slice(0, 100) || "(none)"}`);
    }
    const isFirst = this.kind === null;
    this.kind = kind;
    this.#sendHeader(kind === "client" ? header.attrs.from : undefined);
    if (this.host.addresses.isBlocked(this.ip)) return this.fail("policy-violation", "too many failed authentications from your address; try again later");
    if (kind === "component") {
      if (!this.username || !this.host.components.has(this.username)) return this.fail("host-unknown", "no such component");
      this.stage = handshakeStage(this);
    } else {
      const to = (header.attrs.to ?? this.host.domain).toLowerCase();
      if (to !== this.host.domain) return this.fail("host-unknown", `this server serves ${this.host.domain}`);
      if (!/^1\.\d+$/.test(header.attrs.version ?? "")) return this.fail("unsupported-version", "XMPP 1.0 is required");
      if (isFirst) this.stage = clientStage(this);
    }
    this.stage.opened?.(header);
  }

  #stanza(stanza: Element, ns: string): void {
    this.host.stats.stanzasIn++;
    if (ns === NS.streams) {
      if (stanza.getName() === "error") {
        this.log.debug({ ip: this.ip, error: stanza.toString().slice(0, 300) }, "xmpp peer sent a stream error");
        return this.close();
      }
      return this.fail("unsupported-stanza-type", `<${stanza.name.slice(0, 64)}> is not handled here`);
    }
    this.stage.stanza(stanza, ns);
  }
}
