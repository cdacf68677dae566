import { describe, expect, test } from "bun:test";
import { NS } from "../../src/net/xmpp/codec.ts";
import { handshakeDigest } from "../../src/net/xmpp/component.ts";
import { AgentNotConnected, RequestTimeout } from "../../src/net/xmpp/agent-channel.ts";
import { clientListener, componentListener } from "../../src/net/xmpp/attach.ts";
import { request, reply, type Envelope } from "../../src/protocol/envelope.ts";
import { DOMAIN, FakeClient, SERVER_JID, testRelay } from "../fixtures/xmpp/harness.ts";

function twoAgents() {
  const t = testRelay();
  t.relay.accounts.create("alice", "pw");
  t.relay.accounts.create("bob", "pw");
  const alice = new FakeClient(t.relay).login("alice", "pw", "a1");
  const bob = new FakeClient(t.relay).login("bob", "pw", "b1");
  return { ...t, alice, bob };
}

const body = (env: Envelope) => `<body>${JSON.stringify(env).replace(/&/g, "&amp;").replace(/</g, "&lt;")}</body>`;
const envelopeOf = (s: { getChildText(n: string): string | null }) => JSON.parse(s.getChildText("body")!) as Envelope;
const errorCondition = (s: { getChild(n: string): { getChildElements(): { name: string }[] } | undefined }) => s.getChild("error")?.getChildElements()[0]?.name;

describe("routing between clients", () => {
  test("full and bare JIDs; the sender's from is stamped by the server", () => {
    const { alice, bob } = twoAgents();
    alice.write("<message to='bob@medulla.test/b1' type='chat' id='m1'><body>hi</body></message>");
    expect(bob.take().map(String)).toEqual(['<message to="bob@medulla.test/b1" type="chat" id="m1" from="alice@medulla.test/a1"><body>hi</body></message>']);
    bob.write("<message to='ALICE@medulla.test' from='bob@medulla.test' type='chat'><body>hello</body></message>");
    expect(alice.take()).toMatchObject([{ attrs: { from: "bob@medulla.test/b1", to: "alice@medulla.test" } }]);
  });

  test("IQs between full JIDs, results back", () => {
    const { alice, bob } = twoAgents();
    alice.write("<iq to='bob@medulla.test/b1' type='get' id='q1'><query xmlns='urn:example'/></iq>");
    const [q] = bob.take();
    expect(q!.attrs).toMatchObject({ from: "alice@medulla.test/a1", id: "q1" });
    bob.write("<iq to='alice@medulla.test/a1' type='result' id='q1'/>");
    expect(alice.take()).toMatchObject([{ name: "iq", attrs: { type: "result", id: "q1", from: "bob@medulla.test/b1" } }]);
  });

  test("a bare JID reaches the highest-priority resource", () => {
    const { relay, alice } = twoAgents();
    const low = new FakeClient(relay).login("bob", "pw", "low", "<presence><priority>1</priority></presence>");
    const high = new FakeClient(relay).login("bob", "pw", "high", "<presence><priority>10</priority></presence>");
    alice.write("<message to='bob@medulla.test' type='chat'><body>x</body></message>");
    expect([low.take().length, high.take().length]).toEqual([0, 1]);
  });

  test("nothing is stored for the offline: message and IQ get service-unavailable, presence is dropped", () => {
    const { alice } = twoAgents();
    alice.write("<message to='carol@medulla.test' type='chat' id='m'><body>x</body></message>");
    alice.write("<iq to='carol@medulla.test/x' type='get' id='i'><query xmlns='urn:example'/></iq>");
    alice.write("<presence to='carol@medulla.test/x'/>");
    alice.write("<message to='carol@medulla.test' type='error'><body>x</body></message>");
    const replies = alice.take();
    expect(replies.map((r) => [r.name, r.attrs.type, r.attrs.id, errorCondition(r)])).toEqual([
      ["message", "error", "m", "service-unavailable"],
      ["iq", "error", "i", "service-unavailable"],
    ]);
  });

  test("another domain: remote-server-not-found (no federation)", () => {
    const { alice } = twoAgents();
    alice.write("<message to='someone@example.org' id='m'><body>x</body></message>");
    expect(errorCondition(alice.take()[0]!)).toBe("remote-server-not-found");
  });

  test("a spoofed from is invalid-from; an unknown first-level element is unsupported-stanza-type; others stay", () => {
    const { alice, bob } = twoAgents();
    alice.write("<message from='bob@medulla.test/b1' to='bob@medulla.test'><body>x</body></message>");
    expect(alice.streamError).toBe("invalid-from");
    expect(bob.take()).toEqual([]);
    bob.write("<enable xmlns='urn:xmpp:sm:3'/>");
    expect(bob.streamError).toBe("unsupported-stanza-type");
  });

  test("a malformed to is jid-malformed; an IQ without id is bad-request", () => {
    const { alice } = twoAgents();
    alice.write("<message to='a@b@c' id='m'><body>x</body></message><iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
    expect(alice.take().map(errorCondition)).toEqual(["jid-malformed", "bad-request"]);
  });

  test("restricted XML from one client drops it alone", () => {
    const { relay, alice, bob } = twoAgents();
    alice.write("<message><body>&xxe;</body></message>");
    expect(alice.streamError).toBe("restricted-xml");
    expect(bob.isEnded).toBe(false);
    expect(relay.channel.online()).toEqual(["bob@medulla.test"]);
  });

  test("a second login on the same full JID replaces the first with conflict", () => {
    const { relay, alice } = twoAgents();
    const again = new FakeClient(relay).login("alice", "pw", "a1");
    expect(alice.streamError).toBe("conflict");
    expect(again.isEnded).toBe(false);
    expect(relay.channel.isOnline("alice@medulla.test/a1")).toBe(true);
  });

  test("an account binds at most maxResourcesPerAccount resources", () => {
    const { relay } = testRelay({ limits: { maxResourcesPerAccount: 2 } });
    relay.accounts.create("bob", "pw");
    new FakeClient(relay).login("bob", "pw", "one");
    new FakeClient(relay).login("bob", "pw", "two");
    const third = new FakeClient(relay);
    third.authenticate("bob", "pw");
    expect(third.bind("three")).toContain("bind failed");
    expect(errorCondition(third.stanzas.at(-1)!)).toBe("resource-constraint");
  });
});

describe("the server's own services", () => {
  test("ping (XEP-0199), disco#info, an empty roster; unknown namespaces get service-unavailable", () => {
    const { alice } = twoAgents();
    alice.write(`<iq to='${DOMAIN}' type='get' id='p'><ping xmlns='${NS.ping}'/></iq>`);
    alice.write(`<iq to='${SERVER_JID}' type='get' id='p2'><ping xmlns='${NS.ping}'/></iq>`);
    alice.write(`<iq type='get' id='r'><query xmlns='${NS.roster}'/></iq>`);
    alice.write(`<iq to='${DOMAIN}' type='get' id='d'><query xmlns='${NS.discoInfo}'/></iq>`);
    alice.write(`<iq to='${DOMAIN}' type='get' id='u'><query xmlns='urn:unknown'/></iq>`);
    alice.write(`<iq to='${DOMAIN}' type='get' id='two'><a xmlns='x'/><b xmlns='y'/></iq>`);
    const [ping, ping2, roster, disco, unknown, two] = alice.take();
    expect(ping!.toString()).toBe(`<iq type="result" id="p" from="${DOMAIN}" to="alice@medulla.test/a1"/>`);
    expect(ping2!.attrs).toMatchObject({ type: "result", from: SERVER_JID });
    expect(roster!.toString()).toBe(`<iq type="result" id="r" to="alice@medulla.test/a1"><query xmlns="${NS.roster}"/></iq>`);
    expect(disco!.getChild("query")!.getChildren("feature").map((f) => f.attrs.var)).toEqual([NS.ping, NS.discoInfo, NS.session, NS.roster]);
    expect([errorCondition(unknown!), errorCondition(two!)]).toEqual(["service-unavailable", "bad-request"]);
  });
});

describe("the agent channel (the server's JID in process)", () => {
  test("agent → server envelopes reach onMessage; server → agent envelopes arrive from the server JID", () => {
    const { relay, alice } = twoAgents();
    const got: [string, Envelope][] = [];
    relay.channel.onMessage((from, e) => got.push([from, e]));
    const hello = request("ping", {}, "s-1");
    alice.write(`<message to='${SERVER_JID}' type='chat'>${body(hello)}</message>`);
    expect(got).toEqual([["alice@medulla.test", hello]]);
    expect(relay.channel.send("alice@medulla.test", request("agentversion", {}, "s-2"))).toBe(true);
    const [m] = alice.take();
    expect(m!.attrs).toMatchObject({ from: SERVER_JID, to: "alice@medulla.test", type: "chat" });
    expect(envelopeOf(m!)).toEqual(request("agentversion", {}, "s-2"));
    expect(relay.channel.send("carol@medulla.test", hello)).toBe(false);
  });

  test("request resolves with the reply of the same sessionid", async () => {
    const { relay, alice } = twoAgents();
    const pending = relay.channel.request("alice@medulla.test", request("ping", {}, "s-9"));
    const [m] = alice.take();
    alice.write(`<message to='${SERVER_JID}' type='chat'>${body(reply(envelopeOf(m!), { time: 42 }))}</message>`);
    expect(await pending).toEqual({ v: 1, action: "resultping", sessionid: "s-9", data: { time: 42 }, ret: 0 });
  });

  test("request times out on the injected clock, and fails at once for an offline agent", async () => {
    const { relay, clock } = twoAgents();
    const pending = relay.channel.request("alice@medulla.test", request("ping"), 5_000);
    const outcome = pending.catch((e: Error) => e);
    await clock.advance(5_000);
    expect(await outcome).toBeInstanceOf(RequestTimeout);
    expect(await relay.channel.request("nobody@medulla.test", request("ping")).catch((e: Error) => e)).toBeInstanceOf(AgentNotConnected);
  });

  test("a pending request fails when its agent goes offline", async () => {
    const { relay, alice } = twoAgents();
    const outcome = relay.channel.request("alice@medulla.test", request("ping")).catch((e: Error) => e);
    alice.write("<presence type='unavailable'/>");
    expect(await outcome).toBeInstanceOf(AgentNotConnected);
  });

  test("a malformed envelope gets errorReply and a log line; a throwing handler breaks nothing", () => {
    const { relay, alice, logs } = twoAgents();
    relay.channel.onMessage(() => {
      throw new Error("handler bug");
    });
    alice.write(`<message to='${SERVER_JID}' type='chat'><body>not json</body></message>`);
    const [answer] = alice.take();
    expect(envelopeOf(answer!)).toEqual({ v: 1, action: "resulterror", sessionid: "", data: { error: "not_json" }, ret: 400 });
    expect(logs.some((l) => l.msg === "xmpp malformed envelope")).toBe(true);
    alice.write(`<message to='${SERVER_JID}' type='chat'>${body(request("nosuchaction", {}, "s-3"))}</message>`);
    expect(envelopeOf(alice.take()[0]!)).toMatchObject({ action: "resultnosuchaction", sessionid: "s-3", ret: 404 });
    alice.write(`<message to='${SERVER_JID}' type='chat'>${body(request("ping", {}, "s-4"))}</message>`);
    expect(logs.some((l) => l.msg === "xmpp channel message handler failed")).toBe(true);
    expect(alice.isEnded).toBe(false);
  });

  test("presence events: available on the first resource, unavailable when the last goes (disconnect counts)", () => {
    const { relay } = testRelay();
    relay.accounts.create("bob", "pw");
    const events: string[] = [];
    relay.channel.onPresence((e) => events.push(`${e.jid} ${e.available} ${e.ip}`));
    const one = new FakeClient(relay, "192.0.2.1").login("bob", "pw", "one");
    const two = new FakeClient(relay, "192.0.2.2").login("bob", "pw", "two");
    one.write("<presence type='unavailable'/>");
    two.conn!.transportClosed();
    expect(events).toEqual(["bob@medulla.test true 192.0.2.1", "bob@medulla.test false 192.0.2.2"]);
  });

  test("disconnect: not-authorized for a disabled account, policy-violation otherwise; a banned account cannot return", () => {
    const { relay, alice, bob } = twoAgents();
    relay.accounts.disable("alice");
    relay.channel.disconnect("alice@medulla.test", "banned");
    expect(alice.streamError).toBe("not-authorized");
    expect(alice.stanzas.at(-1)!.getChildText("text", "urn:ietf:params:xml:ns:xmpp-streams")).toBe("banned");
    expect(new FakeClient(relay).authenticate("alice", "pw")).toBe("account-disabled");
    relay.channel.disconnect("bob@medulla.test/b1", "maintenance");
    expect(bob.streamError).toBe("policy-violation");
    expect(relay.channel.online()).toEqual([]);
  });

  test("works with no listener at all", () => {
    const { relay } = testRelay();
    expect(relay.channel.serverJid).toBe(SERVER_JID);
    expect(relay.channel.online()).toEqual([]);
    expect(relay.channel.isOnline("x@medulla.test")).toBe(false);
  });
});

describe("XEP-0114 components", () => {
  const secret = "s3cr3t";
  const setup = () => {
    const t = testRelay({ components: [{ name: "pubsub.medulla.test", secret }] });
    t.relay.accounts.create("alice", "pw");
    const alice = new FakeClient(t.relay).login("alice", "pw", "a1");
    const component = (traits = componentListener) => {
      const c = new FakeClient(t.relay, "127.0.0.1", traits).open("pubsub.medulla.test", NS.component, "");
      const id = c.events[0]!.kind === "open" ? c.events[0]!.attrs.id! : "";
      return { c, id };
    };
    return { ...t, alice, component };
  };

  test("handshake, then traffic both ways", () => {
    const { alice, component } = setup();
    const { c, id } = component();
    expect(c.events[0]).toMatchObject({ attrs: { from: "pubsub.medulla.test", xmlns: NS.component } });
    c.write(`<handshake>${handshakeDigest(id, secret)}</handshake>`);
    expect(c.take().map(String)).toEqual(["<handshake/>"]);
    alice.write("<iq to='pubsub.medulla.test' type='get' id='c1'><query xmlns='urn:example'/></iq>");
    expect(c.take()).toMatchObject([{ name: "iq", attrs: { from: "alice@medulla.test/a1", to: "pubsub.medulla.test" } }]);
    c.write("<iq from='pubsub.medulla.test' to='alice@medulla.test/a1' type='result' id='c1'/>");
    c.write("<message from='node1@pubsub.medulla.test' to='alice@medulla.test/a1'><body>event</body></message>");
    expect(alice.take().map((s) => s.attrs.from)).toEqual(["pubsub.medulla.test", "node1@pubsub.medulla.test"]);
  });

  test("also on the client port", () => {
    const { component } = setup();
    const { c, id } = component(clientListener);
    c.write(`<handshake>${handshakeDigest(id, secret)}</handshake>`);
    expect(c.take().map(String)).toEqual(["<handshake/>"]);
  });

  test("a wrong secret is not-authorized; an unknown component is host-unknown; a second one is conflict", () => {
    const { relay, component } = setup();
    const wrong = component().c.write("<handshake>0000</handshake>");
    expect(wrong.streamError).toBe("not-authorized");
    expect(new FakeClient(relay, "127.0.0.1", componentListener).open("nope.medulla.test", NS.component, "").streamError).toBe("host-unknown");
    const first = component();
    first.c.write(`<handshake>${handshakeDigest(first.id, secret)}</handshake>`);
    const second = component();
    second.c.write(`<handshake>${handshakeDigest(second.id, secret)}</handshake>`);
    expect(second.c.streamError).toBe("conflict");
    expect(first.c.isEnded).toBe(false);
  });

  test("a component may not speak for others; offline components are service-unavailable", () => {
    const { alice, component } = setup();
    alice.write("<iq to='pubsub.medulla.test' type='get' id='c2'><query xmlns='urn:example'/></iq>");
    expect(errorCondition(alice.take()[0]!)).toBe("service-unavailable");
    const { c, id } = component();
    c.write(`<handshake>${handshakeDigest(id, secret)}</handshake>`);
    c.write("<message from='alice@medulla.test' to='alice@medulla.test/a1'><body>forged</body></message>");
    expect(c.streamError).toBe("invalid-from");
    expect(alice.take()).toEqual([]);
  });

  test("the component port takes no client streams", () => {
    const { relay } = setup();
    expect(new FakeClient(relay, "127.0.0.1", componentListener).open().streamError).toBe("invalid-namespace");
  });
});
