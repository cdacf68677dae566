import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closeStream, el, openStream, StreamParser, streamError, type ParserLimits } from "../../src/net/xmpp/codec.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "xmpp");
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

/** Runs the parser over `bytes` cut into `size`-byte chunks; returns what it reported. */
function parse(bytes: Uint8Array, size = bytes.length || 1, limits: Partial<ParserLimits> = {}) {
  const events: string[] = [];
  const stanzas: ReturnType<typeof el>[] = [];
  const parser = new StreamParser(
    {
      onOpen: (h) => events.push(`open ${h.contentNs}`),
      onStanza: (s, ns) => {
        stanzas.push(s);
        events.push(`${s.name} ${ns}`);
      },
      onClose: () => events.push("close"),
      onError: (f) => events.push(`error ${f.condition}`),
    },
    limits,
  );
  for (let i = 0; i < bytes.length; i += size) parser.write(bytes.subarray(i, i + size));
  return { events, stanzas, parser };
}

const C = "jabber:client";
const cases: [file: string, expected: string[]][] = [
  // Real traffic from @xmpp/client and slixmpp.
  ["xmppjs-starttls.xml", [`open ${C}`, "starttls urn:ietf:params:xml:ns:xmpp-tls"]],
  ["xmppjs-sasl.xml", [`open ${C}`, "auth urn:ietf:params:xml:ns:xmpp-sasl", "response urn:ietf:params:xml:ns:xmpp-sasl"]],
  ["xmppjs-bound.xml", [`open ${C}`, `iq ${C}`, `presence ${C}`, `message ${C}`, "close"]],
  ["slixmpp-starttls.xml", [`open ${C}`, "starttls urn:ietf:params:xml:ns:xmpp-tls"]],
  ["slixmpp-sasl.xml", [`open ${C}`, "auth urn:ietf:params:xml:ns:xmpp-sasl", "response urn:ietf:params:xml:ns:xmpp-sasl"]],
  ["slixmpp-bound.xml", [`open ${C}`, `iq ${C}`, `presence ${C}`, `message ${C}`, `message ${C}`, "close"]],
  ["server-starttls.xml", [`open ${C}`, "stream:features http://etherx.jabber.org/streams", "proceed urn:ietf:params:xml:ns:xmpp-tls"]],
  ["server-sasl.xml", [`open ${C}`, "stream:features http://etherx.jabber.org/streams", "challenge urn:ietf:params:xml:ns:xmpp-sasl", "success urn:ietf:params:xml:ns:xmpp-sasl"]],
  ["server-bound.xml", [`open ${C}`, "stream:features http://etherx.jabber.org/streams", `iq ${C}`, "close"]],
  ["component-handshake.xml", ["open jabber:component:accept", "handshake jabber:component:accept", "message jabber:component:accept"]],
  ["ok-references-and-cdata.xml", [`open ${C}`, `message ${C}`]],
  ["ok-prefixed-first-level.xml", [`open ${C}`, `presence ${C}`, `iq ${C}`, "foo:bar urn:example", "close"]],
  // Entity tricks and restricted XML (RFC 6120 §11.1).
  ["entity-billion-laughs.xml", ["error restricted-xml"]],
  ["entity-external.xml", ["error restricted-xml"]],
  ["entity-undefined-reference.xml", [`open ${C}`, "error restricted-xml"]],
  ["entity-doctype-inside-stream.xml", [`open ${C}`, "error restricted-xml"]],
  ["restricted-comment.xml", [`open ${C}`, "error restricted-xml"]],
  ["restricted-processing-instruction.xml", [`open ${C}`, "error restricted-xml"]],
  ["restricted-second-declaration.xml", [`open ${C}`, "error restricted-xml"]],
  // Malformed XML.
  ["malformed-char-reference.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-mismatched-tag.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-unquoted-attribute.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-lt-in-attribute.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-duplicate-attribute.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-attributes-without-space.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-bare-ampersand.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-control-character.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-invalid-utf8.xml", [`open ${C}`, "error not-well-formed"]],
  ["malformed-text-before-stream.xml", ["error not-well-formed"]],
  ["malformed-text-between-stanzas.xml", [`open ${C}`, "error bad-format"]],
  ["malformed-undeclared-prefix.xml", [`open ${C}`, "error bad-namespace-prefix"]],
  ["malformed-after-close.xml", [`open ${C}`, `presence ${C}`, "close", "error not-well-formed"]],
  // Namespaces: the stream element is checked here, the content namespace by the stream.
  ["namespace-wrong-stream.xml", ["error invalid-namespace"]],
  ["namespace-unprefixed-root-wrong.xml", ["error invalid-namespace"]],
  ["namespace-not-a-stream.xml", ["error invalid-namespace"]],
  ["namespace-default-stream-ns.xml", ["open http://etherx.jabber.org/streams", `message ${C}`]],
  ["namespace-server-content.xml", ["open jabber:server"]],
  // Truncated input waits for more.
  ["truncated-stanza.xml", [`open ${C}`]],
  ["truncated-in-attribute.xml", [`open ${C}`]],
];

describe("StreamParser on captured and crafted streams", () => {
  test.each(cases)("%s", (file, expected) => {
    const bytes = fixture(file);
    const whole = parse(bytes);
    expect(whole.events).toEqual(expected);
    // Incremental: any cut of the input gives the same events.
    for (const size of [1, 2, 3, 7, 64]) expect(parse(bytes, size).events).toEqual(expected);
  });

  test.each(cases.filter(([f]) => !f.startsWith("entity") && !f.startsWith("malformed") && !f.startsWith("restricted")))("%s: every stanza round-trips", (file) => {
    for (const stanza of parse(fixture(file)).stanzas) {
      const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
      const again = parse(new TextEncoder().encode(header + stanza.toString())).stanzas;
      expect(again).toHaveLength(1);
      expect(again[0]!.toString()).toBe(stanza.toString());
    }
  });

  test("text, references and CDATA decode to what was meant", () => {
    const [message] = parse(fixture("ok-references-and-cdata.xml")).stanzas;
    expect(message!.getChildText("body")).toBe(`& < > " ' é 😀 <not a tag> & `);
    expect(message!.toString()).toBe(`<message><body>&amp; &lt; &gt; " ' é 😀 &lt;not a tag&gt; &amp; </body></message>`);
  });

  test("stanzas come out unqualified, so they can cross into streams of another content namespace", () => {
    const [iq, presence, message] = parse(fixture("slixmpp-bound.xml")).stanzas;
    expect(iq!.attrs).toEqual({ id: "8d8572d79dc84678aa2cc58330213188", type: "set" });
    expect(presence!.toString()).toBe('<presence id="7dcb520287014da185c5d0fe9f74408a" xml:lang="en"/>');
    expect(JSON.parse(message!.getChildText("body")!)).toEqual({ v: 1, action: "ping", sessionid: "slix-1", data: {}, ret: 0 });
  });

  test("a UTF-8 character cut between two chunks survives", () => {
    const bytes = new TextEncoder().encode("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>é😀</body></message>");
    for (let cut = 1; cut < bytes.length; cut++) {
      const events: string[] = [];
      const p = new StreamParser({ onOpen: () => {}, onStanza: (s) => events.push(s.getChildText("body")!), onClose: () => {}, onError: (f) => events.push(f.condition) });
      p.write(bytes.subarray(0, cut));
      p.write(bytes.subarray(cut));
      expect(events).toEqual(["é😀"]);
    }
  });
});

describe("limits", () => {
  const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  const enc = (s: string) => new TextEncoder().encode(s);

  test("a stanza over the size limit is a policy-violation, even fed slowly", () => {
    const big = enc(`${header}<message><body>${"x".repeat(300 * 1024)}</body></message>`);
    expect(parse(big).events).toEqual([`open ${C}`, "error policy-violation"]);
    expect(parse(big, 1000).events).toEqual([`open ${C}`, "error policy-violation"]);
  });

  test("the limit counts per stanza: many small stanzas add up to nothing", () => {
    const many = enc(header + "<presence/>".repeat(50_000));
    const { events } = parse(many, 4096);
    expect(events.length).toBe(50_001);
    expect(events.at(-1)).toBe(`presence ${C}`);
  });

  test("a smaller limit applies before authentication", () => {
    const stanza = enc(`${header}<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${"A".repeat(30_000)}</auth>`);
    expect(parse(stanza, 4096, { maxStanzaBytes: 16 * 1024 }).events).toEqual([`open ${C}`, "error policy-violation"]);
  });

  test("nesting deeper than the limit is refused", () => {
    const deep = (n: number) => enc(`${header}<message>${"<a>".repeat(n - 1)}${"</a>".repeat(n - 1)}</message>`);
    expect(parse(deep(32)).events).toEqual([`open ${C}`, `message ${C}`]);
    expect(parse(deep(33)).events).toEqual([`open ${C}`, "error policy-violation"]);
  });

  test("too many attributes are refused", () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='x'`).join("");
    expect(parse(enc(`${header}<message${attrs(64)}/>`)).events).toEqual([`open ${C}`, `message ${C}`]);
    expect(parse(enc(`${header}<message${attrs(65)}/>`)).events).toEqual([`open ${C}`, "error policy-violation"]);
  });

  test("after a fault nothing more is reported, and reset starts a new stream", () => {
    const { parser, events } = parse(fixture("restricted-comment.xml"));
    parser.write(enc("<presence/>"));
    expect(events).toEqual([`open ${C}`, "error restricted-xml"]);
    expect(parser.fault).toEqual({ condition: "restricted-xml", text: "comments are not allowed in XMPP" });
  });

  test("reset drops the rest of the chunk being read (no plaintext injection after STARTTLS)", () => {
    const events: string[] = [];
    const parser: StreamParser = new StreamParser({
      onOpen: () => events.push("open"),
      onStanza: (s) => {
        events.push(s.name);
        if (s.name === "starttls") parser.reset();
      },
      onClose: () => {},
      onError: (f) => events.push(f.condition),
    });
    parser.write(enc(`${header}<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message to='x'/>`));
    parser.write(enc(`${header}<presence/>`));
    expect(events).toEqual(["open", "starttls", "open", "presence"]);
  });
});

describe("writers", () => {
  test("the stream header, errors and elements the server sends parse back", () => {
    const text = openStream({ from: "medulla.test", id: "abc", to: "a@medulla.test" }) + el("iq", { type: "result", id: "1", to: undefined }).toString() + streamError("policy-violation", "too <big>") + closeStream;
    const { events, stanzas } = parse(new TextEncoder().encode(text));
    expect(events).toEqual([`open ${C}`, `iq ${C}`, "stream:error http://etherx.jabber.org/streams", "close"]);
    expect(stanzas[0]!.toString()).toBe('<iq type="result" id="1"/>');
    expect(stanzas[1]!.getChildText("text", "urn:ietf:params:xml:ns:xmpp-streams")).toBe("too <big>");
  });
});
