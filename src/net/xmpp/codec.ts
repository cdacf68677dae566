/**
 * @module net/xmpp/codec
 * The XMPP stream codec, pure: bytes in, stream events out; no sockets, no timers. The
 * parser wraps ltx's incremental tokenizer (the one xmpp.js uses) behind the lexical guard
 * of `xml-guard.ts`, builds each first-level element into a stanza, and enforces limits:
 * stanza size (bytes since the last stanza ended; checked every 8 KiB), nesting depth and
 * attributes per element. Every way input can be wrong ends in one `StreamFault` naming
 * the RFC 6120 §4.9.3 condition, passed to `onError`; nothing is thrown and the parser
 * ignores input after a fault. The writers at the bottom build what the server sends.
 */
import { Element, escapeXML } from "ltx";
import SaxLtx from "ltx/src/parsers/ltx.js";
import { XmlGuard } from "./xml-guard.ts";

export const NS = {
  streams: "http://etherx.jabber.org/streams",
  client: "jabber:client",
  component: "jabber:component:accept",
  streamErrors: "urn:ietf:params:xml:ns:xmpp-streams",
  stanzaErrors: "urn:ietf:params:xml:ns:xmpp-stanzas",
  tls: "urn:ietf:params:xml:ns:xmpp-tls",
  sasl: "urn:ietf:params:xml:ns:xmpp-sasl",
  bind: "urn:ietf:params:xml:ns:xmpp-bind",
  session: "urn:ietf:params:xml:ns:xmpp-session",
  ping: "urn:xmpp:ping",
  discoInfo: "http://jabber.org/protocol/disco#info",
  roster: "jabber:iq:roster",
} as const;

/** Stream error conditions (RFC 6120 §4.9.3). */
export type StreamCondition =
  | "bad-format" | "bad-namespace-prefix" | "conflict" | "connection-timeout" | "host-gone" | "host-unknown"
  | "improper-addressing" | "internal-server-error" | "invalid-from" | "invalid-namespace" | "invalid-xml"
  | "not-authorized" | "not-well-formed" | "policy-violation" | "remote-connection-failed" | "reset"
  | "resource-constraint" | "restricted-xml" | "see-other-host" | "system-shutdown" | "undefined-condition"
  | "unsupported-encoding" | "unsupported-feature" | "unsupported-stanza-type" | "unsupported-version";

export interface StreamFault {
  condition: StreamCondition;
  text: string;
}

export interface StreamHeader {
  /** Qualified name as sent, e.g. `stream:stream`. */
  name: string;
  attrs: Record<string, string>;
  /** The default (content) namespace: `jabber:client`, `jabber:component:accept`, ... */
  contentNs: string;
}

export interface ParserLimits {
  /** Bytes a stanza (and the stream header) may take. */
  maxStanzaBytes: number;
  /** Elements nested inside a stanza, the stanza itself counting as 1. */
  maxDepth: number;
  maxAttributes: number;
}

export const defaultParserLimits: ParserLimits = { maxStanzaBytes: 256 * 1024, maxDepth: 32, maxAttributes: 64 };

export interface ParserEvents {
  onOpen(header: StreamHeader): void;
  /** A complete first-level element; `ns` is its resolved namespace (the content namespace when unqualified). */
  onStanza(stanza: Element, ns: string): void;
  onClose(): void;
  onError(fault: StreamFault): void;
}

const SLICE = 8 * 1024;
const CONTENT_NAMESPACES = new Set<string>([NS.client, NS.component, "jabber:server"]);

interface Frame {
  el: Element | null;
  prefixes: Record<string, string> | null;
}

/** The tokenizer with a pointer back to the parser that owns it. */
type OwnedSax = SaxLtx & { owner: StreamParser };

export class StreamParser {
  #limits: ParserLimits;
  #guard = new XmlGuard();
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #sax!: SaxLtx;
  #stack: Frame[] = [];
  #header: StreamHeader | null = null;
  #bytes = 0;
  #fault: StreamFault | null = null;
  #isClosed = false;

  constructor(
    private readonly events: ParserEvents,
    limits: Partial<ParserLimits> = {},
  ) {
    this.#limits = { ...defaultParserLimits, ...limits };
    this.reset();
  }

  get fault(): StreamFault | null {
    return this.#fault;
  }

  /** Tightens or relaxes the stanza size limit (smaller before authentication). */
  setMaxStanzaBytes(bytes: number): void {
    this.#limits = { ...this.#limits, maxStanzaBytes: bytes };
  }

  /**
   * Starts a new stream (after STARTTLS and SASL, RFC 6120 §5.4.3.3 and §6.4.6): whatever
   * the current `write` call still holds is dropped, as it belongs to the old stream.
   */
  reset(): void {
    // The listeners are shared by every parser (the tokenizer calls them with itself as
    // `this`, and knows its owner): no closures per connection, and a tokenizer dropped by a
    // restart still in its `write` call is recognised and ignored.
    const sax = new SaxLtx() as OwnedSax;
    sax.owner = this;
    sax.on("startElement", StreamParser.#onStart);
    sax.on("endElement", StreamParser.#onEnd);
    sax.on("text", StreamParser.#onText);
    this.#sax = sax;
    this.#guard.reset();
    this.#decoder = new TextDecoder("utf-8", { fatal: true });
    this.#stack = [];
    this.#header = null;
    this.#bytes = 0;
    this.#isClosed = false;
  }

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const sax = this.#sax;
    for (let at = 0; at < bytes.length && !this.#fault && sax === this.#sax; at += SLICE) {
      const piece = bytes.subarray(at, at + SLICE);
      this.#bytes += piece.length;
      if (this.#bytes > this.#limits.maxStanzaBytes) return this.#fail("policy-violation", `stanza too big (limit ${this.#limits.maxStanzaBytes} bytes)`);
      let text: string;
      let isValidUtf8 = true;
      try {
        text = this.#decoder.decode(piece, { stream: true });
      } catch {
        // Parse what came before the bad bytes, so events keep their order whatever the cuts.
        const lenient = new TextDecoder().decode(piece);
        text = lenient.slice(0, Math.max(0, lenient.indexOf("\uFFFD")));
        isValidUtf8 = false;
      }
      const checked = this.#guard.check(text);
      try {
        if (checked.text) sax.write(checked.text);
      } catch (err) {
        // ltx throws only on references the guard lets through and ltx still refuses.
        return this.#fail("not-well-formed", (err as Error).message);
      }
      if (checked.fault) return this.#fail(checked.fault.condition, checked.fault.text);
      if (!isValidUtf8) return this.#fail("not-well-formed", "invalid UTF-8");
    }
  }

  #fail(condition: StreamCondition, text: string): void {
    if (this.#fault) return;
    this.#fault = { condition, text };
    this.events.onError(this.#fault);
  }

  #resolve(prefix: string | null, own: Record<string, string> | null): string | undefined {
    if (prefix === "xml") return "http://www.w3.org/XML/1998/namespace";
    const key = prefix ?? "";
    if (own && key in own) return own[key];
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const p = this.#stack[i]!.prefixes;
      if (p && key in p) return p[key];
    }
    return prefix === null ? "" : undefined;
  }

  static #onStart = function (this: OwnedSax, name: string, attrs: Record<string, string>): void {
    const p = this.owner;
    if (p.#sax === this && !p.#fault) p.#start(name, attrs);
  };

  static #onEnd = function (this: OwnedSax, name: string): void {
    const p = this.owner;
    if (p.#sax === this && !p.#fault) p.#end(name);
  };

  static #onText = function (this: OwnedSax, text: string): void {
    const p = this.owner;
    if (p.#sax === this && !p.#fault) p.#text(text);
  };

  #start(name: string, attrs: Record<string, string>): void {
    const depth = this.#stack.length;
    if (this.#isClosed) return this.#fail("not-well-formed", "content after the end of the stream");
    if (depth > this.#limits.maxDepth) return this.#fail("policy-violation", `elements nested too deep (limit ${this.#limits.maxDepth})`);
    const keys = Object.keys(attrs);
    if (keys.length > this.#limits.maxAttributes) return this.#fail("policy-violation", `too many attributes (limit ${this.#limits.maxAttributes})`);
    let prefixes: Record<string, string> | null = null;
    for (const k of keys) {
      if (k === "xmlns") (prefixes ??= {})[""] = attrs[k]!;
      else if (k.startsWith("xmlns:")) (prefixes ??= {})[k.slice(6)] = attrs[k]!;
    }
    const colon = name.indexOf(":");
    const ns = this.#resolve(colon > 0 ? name.slice(0, colon) : null, prefixes);
    if (ns === undefined) return this.#fail("bad-namespace-prefix", `undeclared namespace prefix in <${name.slice(0, 64)}>`);
    for (const k of keys) {
      const c = k.indexOf(":");
      if (c > 0 && k.slice(0, c) !== "xmlns" && this.#resolve(k.slice(0, c), prefixes) === undefined) {
        return this.#fail("bad-namespace-prefix", `undeclared namespace prefix in attribute ${k.slice(0, 64)}`);
      }
    }
    if (depth === 0) {
      if (name.slice(colon + 1) !== "stream" || ns !== NS.streams) return this.#fail("invalid-namespace", "the stream element must be <stream xmlns='http://etherx.jabber.org/streams'>");
      this.#header = { name, attrs: { ...attrs }, contentNs: prefixes?.[""] ?? "" };
      this.#stack.push({ el: null, prefixes });
      this.#bytes = 0;
      return this.events.onOpen(this.#header);
    }
    const el = new Element(name, attrs);
    if (depth === 1) {
      // Stanzas travel between streams of different content namespaces: keep them unqualified.
      if (CONTENT_NAMESPACES.has(attrs.xmlns ?? "")) delete el.attrs.xmlns;
    } else this.#stack[depth - 1]!.el!.cnode(el);
    this.#stack.push({ el, prefixes });
  }

  #end(name: string): void {
    const frame = this.#stack.pop();
    const open = frame ? (frame.el?.name ?? this.#header?.name) : undefined;
    if (!frame || open !== name) return this.#fail("not-well-formed", `</${name.slice(0, 64)}> does not close <${(open ?? "nothing").slice(0, 64)}>`);
    if (this.#stack.length === 0) {
      this.#isClosed = true;
      return this.events.onClose();
    }
    if (this.#stack.length > 1) return;
    const el = frame.el!;
    el.parent = null;
    this.#bytes = 0;
    const colon = el.name.indexOf(":");
    const ns = this.#resolve(colon > 0 ? el.name.slice(0, colon) : null, frame.prefixes) || this.#header!.contentNs;
    this.events.onStanza(el, ns);
  }

  #text(text: string): void {
    const depth = this.#stack.length;
    if (depth >= 2) {
      this.#stack[depth - 1]!.el!.t(text);
      return;
    }
    if (/^\s*$/.test(text)) return;
    if (depth === 0 && !this.#isClosed) return this.#fail("not-well-formed", "text outside the stream element");
    if (depth === 0) return;
    this.#fail("bad-format", "text between stanzas");
  }
}

// ---------------------------------------------------------------------------------------
// Writers

export interface OpenStreamOptions {
  from: string;
  id: string;
  to?: string;
  contentNs?: string;
  version?: string | null;
}

export function openStream(o: OpenStreamOptions): string {
  const attrs = [
    `xmlns='${escapeXML(o.contentNs ?? NS.client)}'`,
    `xmlns:stream='${NS.streams}'`,
    `id='${escapeXML(o.id)}'`,
    `from='${escapeXML(o.from)}'`,
    o.to ? `to='${escapeXML(o.to)}'` : "",
    o.version === null ? "" : `version='${o.version ?? "1.0"}'`,
    "xml:lang='en'",
  ].filter(Boolean);
  return `<?xml version='1.0'?><stream:stream ${attrs.join(" ")}>`;
}

export const closeStream = "</stream:stream>";

export function streamError(condition: StreamCondition, text?: string): string {
  const body = text ? `<text xmlns='${NS.streamErrors}'>${escapeXML(text)}</text>` : "";
  return `<stream:error><${condition} xmlns='${NS.streamErrors}'/>${body}</stream:error>`;
}

/** Builds an element: `el("iq", { type: "result" }, el("ping", { xmlns }))`. */
export function el(name: string, attrs: Record<string, string | undefined> = {}, ...children: (Element | string)[]): Element {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  const e = new Element(name, clean);
  for (const c of children) typeof c === "string" ? e.t(c) : e.cnode(c);
  return e;
}
