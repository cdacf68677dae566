import { describe, expect, test } from "bun:test";
import { NS } from "../../src/net/xmpp/codec.ts";
import { DOMAIN, FakeClient, testRelay } from "../fixtures/xmpp/harness.ts";

const features = (c: FakeClient) => c.take().find((s) => s.name === "stream:features")!;
const names = (el: { getChildElements(): { name: string }[] }) => el.getChildElements().map((c) => c.name);

describe("negotiation (RFC 6120 §4–§7)", () => {
  test("STARTTLS is the only feature of a clear stream, and is required", () => {
    const { relay } = testRelay();
    const c = new FakeClient(relay).open();
    const f = features(c);
    expect(names(f)).toEqual(["starttls"]);
    expect(f.getChild("starttls", NS.tls)!.getChild("required")).toBeDefined();
    expect(c.events[0]).toEqual({ kind: "open", attrs: expect.objectContaining({ from: DOMAIN, version: "1.0", xmlns: NS.client }) });
  });

  test("the whole way: TLS, SCRAM-SHA-256, bind, legacy session, presence", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "s3cret");
    const presence: unknown[] = [];
    relay.channel.onPresence((e) => presence.push(e));
    const c = new FakeClient(relay, "192.0.2.7").starttls();
    expect(c.take().at(-1)!.is("proceed", NS.tls)).toBe(true);
    c.open();
    expect(names(features(c).getChild("mechanisms", NS.sasl)!.getChildElements()[0]!.parent!)).toEqual(["mechanism", "mechanism", "mechanism"]);
    expect(c.stanzas.at(-1)!.getChild("mechanisms", NS.sasl)!.getChildren("mechanism").map((m) => m.getText())).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
    expect(c.authenticate("agent1", "s3cret")).toBe("success");
    c.open();
    expect(names(features(c))).toEqual(["bind", "session"]);
    expect(c.bind("laptop")).toBe("agent1@medulla.test/laptop");
    c.write(`<iq type='set' id='s1'><session xmlns='${NS.session}'/></iq>`);
    expect(c.take()).toMatchObject([{ name: "iq", attrs: { type: "result", id: "s1" } }]);
    expect(relay.channel.isOnline("agent1@medulla.test")).toBe(false);
    c.write("<presence><priority>5</priority></presence>");
    expect(presence).toEqual([{ jid: "agent1@medulla.test", available: true, ip: "192.0.2.7", at: expect.any(Number) }]);
    expect(relay.channel.online()).toEqual(["agent1@medulla.test"]);
    expect(relay.stats()).toMatchObject({ connections: 1, authenticated: 1, bound: 1, online: 1 });
  });

  test.each(["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"])("%s logs in", (mechanism) => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "s3cret");
    expect(new FakeClient(relay).authenticate("agent1", "s3cret", mechanism)).toBe("success");
  });

  test("a server-generated resource when the client asks for none", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    const c = new FakeClient(relay);
    c.authenticate("agent1", "pw");
    expect(c.bind()).toMatch(/^agent1@medulla\.test\/r[0-9a-f]{12}$/);
  });

  test("authentication before STARTTLS is refused (encryption-required); stanzas are not-authorized", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    const c = new FakeClient(relay).open();
    c.write(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from("\0agent1\0pw").toString("base64")}</auth>`);
    expect(c.take().at(-1)!.toString()).toBe(`<failure xmlns="${NS.sasl}"><encryption-required/><text>STARTTLS first</text></failure>`);
    expect(c.isEnded).toBe(false);
    c.write("<message to='medulla@medulla.test'><body>hi</body></message>");
    expect(c.streamError).toBe("not-authorized");
    expect(c.isEnded).toBe(true);
  });

  test("a stanza before authentication or before binding is not-authorized", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    const early = new FakeClient(relay).starttls().open().write("<presence/>");
    expect(early.streamError).toBe("not-authorized");
    const unbound = new FakeClient(relay);
    unbound.authenticate("agent1", "pw");
    unbound.open().write("<presence/>");
    expect(unbound.streamError).toBe("not-authorized");
  });

  const headers: [string, (c: FakeClient) => void, string][] = [
    ["another domain", (c) => c.open("example.org"), "host-unknown"],
    ["the server namespace", (c) => c.open(DOMAIN, "jabber:server"), "invalid-namespace"],
    ["no version (pre-XMPP 1.0)", (c) => c.open(DOMAIN, NS.client, ""), "unsupported-version"],
    ["a wrong stream namespace", (c) => c.write("<stream:stream xmlns:stream='urn:nope' xmlns='jabber:client'>"), "invalid-namespace"],
    ["an entity trick", (c) => c.write("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>"), "restricted-xml"],
    ["garbage", (c) => c.write("GET / HTTP/1.1\r\n"), "not-well-formed"],
  ];

  test.each(headers)("a stream header with %s is refused", (_label, send, condition) => {
    const { relay } = testRelay();
    const c = new FakeClient(relay);
    send(c);
    expect(c.streamError).toBe(condition);
    expect(c.events[0]).toMatchObject({ kind: "open" }); // a header comes before the error (§4.9.1.1)
    expect(c.isEnded).toBe(true);
    expect(relay.stats().connections).toBe(0);
  });

  test("plaintext after <starttls/> in the same packet is ignored (no command injection)", () => {
    const { relay } = testRelay();
    const c = new FakeClient(relay).open();
    c.write(`<starttls xmlns='${NS.tls}'/><auth xmlns='${NS.sasl}' mechanism='PLAIN'>AGEAYg==</auth>`);
    expect(c.take().map((s) => s.name)).toEqual(["stream:features", "proceed"]);
    c.open();
    expect(c.take().map((s) => s.name)).toEqual(["stream:features"]);
  });
});

describe("authentication failures", () => {
  test("wrong password: SASL not-authorized; three on one stream close it", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    const c = new FakeClient(relay);
    expect(c.authenticate("agent1", "nope")).toBe("not-authorized");
    expect(c.authenticate("agent1", "nope")).toBe("not-authorized");
    expect(c.isEnded).toBe(false);
    expect(c.authenticate("agent1", "nope")).toBe("not-authorized");
    expect(c.streamError).toBe("not-authorized");
    expect(relay.stats().authFailures).toBe(3);
  });

  test("a disabled account is refused with account-disabled; enabling it lets it in", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    relay.accounts.setDisabled("agent1", true);
    expect(new FakeClient(relay).authenticate("agent1", "pw")).toBe("account-disabled");
    relay.accounts.enable("agent1");
    expect(new FakeClient(relay).authenticate("agent1", "pw")).toBe("success");
  });

  test("too many failures from one address: policy-violation, for that address only, until the window passes", async () => {
    const { relay, clock } = testRelay({ limits: { maxAuthFailuresPerIp: 4, authFailureWindowMs: 60_000 } });
    relay.accounts.create("agent1", "pw");
    const first = new FakeClient(relay, "198.51.100.1");
    for (let i = 0; i < 3; i++) first.authenticate("agent1", "wrong");
    const second = new FakeClient(relay, "198.51.100.1");
    expect(second.authenticate("agent1", "wrong")).toBe("not-authorized");
    expect(second.streamError).toBe("policy-violation");
    const third = new FakeClient(relay, "198.51.100.1").open();
    expect(third.streamError).toBe("policy-violation");
    expect(new FakeClient(relay, "198.51.100.2").authenticate("agent1", "pw")).toBe("success");
    await clock.advance(60_001);
    expect(new FakeClient(relay, "198.51.100.1").authenticate("agent1", "pw")).toBe("success");
  });
});

describe("connection limits", () => {
  test("per address: the 21st connection gets policy-violation; loopback is exempt unless configured", () => {
    const { relay } = testRelay();
    const clients = Array.from({ length: 20 }, () => new FakeClient(relay, "203.0.113.5"));
    expect(clients.every((c) => c.conn)).toBe(true);
    const extra = new FakeClient(relay, "203.0.113.5");
    expect(extra.conn).toBeNull();
    expect(extra.streamError).toBe("policy-violation");
    expect(Array.from({ length: 30 }, () => new FakeClient(relay, "127.0.0.1")).every((c) => c.conn)).toBe(true);
    clients[0]!.write("</stream:stream>");
    expect(new FakeClient(relay, "203.0.113.5").conn).not.toBeNull();
  });

  test("in all: past maxConnections, resource-constraint", () => {
    const { relay } = testRelay({ limits: { maxConnections: 3 } });
    for (let i = 0; i < 3; i++) new FakeClient(relay, `192.0.2.${i}`);
    expect(new FakeClient(relay, "192.0.2.99").streamError).toBe("resource-constraint");
  });

  test("an oversize stanza before authentication ends that stream only", () => {
    const { relay } = testRelay();
    relay.accounts.create("agent1", "pw");
    const good = new FakeClient(relay).login("agent1", "pw");
    const bad = new FakeClient(relay).starttls().open();
    bad.write(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${"A".repeat(40_000)}</auth>`);
    expect(bad.streamError).toBe("policy-violation");
    expect(good.isEnded).toBe(false);
    expect(relay.channel.isOnline("agent1@medulla.test")).toBe(true);
  });
});

describe("timers (injected clock)", () => {
  test("a client that does not finish negotiating in time gets connection-timeout", async () => {
    const { relay, clock } = testRelay({ limits: { negotiationTimeoutMs: 30_000 } });
    const slow = new FakeClient(relay).open();
    await clock.advance(29_999);
    expect(slow.isEnded).toBe(false);
    slow.write(" "); // activity does not extend the deadline
    await clock.advance(1);
    expect(slow.streamError).toBe("connection-timeout");
    expect(relay.stats().connections).toBe(0);
  });

  test("a quiet client is pinged; an answer keeps it, silence drops it", async () => {
    const { relay, clock } = testRelay({ limits: { idleTimeoutMs: 60_000, pingTimeoutMs: 10_000 } });
    relay.accounts.create("agent1", "pw");
    const c = new FakeClient(relay).login("agent1", "pw");
    await clock.advance(59_000);
    c.write(" ");
    await clock.advance(59_000);
    expect(c.take()).toEqual([]);
    await clock.advance(1_000);
    const [ping] = c.take();
    expect(ping!.attrs).toMatchObject({ type: "get", from: DOMAIN, to: "agent1@medulla.test/r1" });
    expect(ping!.getChild("ping", NS.ping)).toBeDefined();
    c.write(`<iq type='result' id='${ping!.attrs.id}' to='${DOMAIN}'/>`);
    await clock.advance(10_000);
    expect(c.isEnded).toBe(false);
    await clock.advance(50_000);
    expect(c.take()).toHaveLength(1);
    await clock.advance(10_000);
    expect(c.streamError).toBe("connection-timeout");
    expect(relay.channel.isOnline("agent1@medulla.test")).toBe(false);
  });
});
