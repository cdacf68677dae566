/**
 * The embedded relay against real clients over TCP and TLS on loopback: `@xmpp/client`
 * (what agents use) in this process, Debian's python3-slixmpp in a child process, and raw
 * sockets for what no polite client does (test/fixtures/xmpp/clients.ts). Certificates
 * come from `ensureCertificates` in a temporary folder; clients trust only that CA. Every
 * wait is on an event; timeouts are shortened through the relay's limits, never slept.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ensureCertificates } from "../../src/certs/index.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createRelay, type ComponentConfig, type Relay, type RelayLimits } from "../../src/net/xmpp/index.ts";
import { handshakeDigest } from "../../src/net/xmpp/component.ts";
import type { Listening } from "../../src/net/xmpp/server.ts";
import type { PresenceEvent } from "../../src/protocol/channel.ts";
import { request, type Envelope } from "../../src/protocol/envelope.ts";
import { answerRequests, nextStanza, RawClient, ScramSha256Mechanism, slixmpp, trustCa, xmppClient, xmppjs, type XmppClient } from "../fixtures/xmpp/clients.ts";

const DOMAIN = "medulla.test";
const SERVER_JID = `medulla@${DOMAIN}`;
const certDir = mkdtempSync(join(tmpdir(), "medulla-xmpp-"));
const bundle = await ensureCertificates(certDir, { dns: [DOMAIN, "localhost"], ips: ["127.0.0.1"] });
const caFile = join(certDir, "ca.crt");

const untrust = trustCa(bundle.caCert);

interface Started {
  relay: Relay;
  listening: Listening;
  port: number;
  logs: { msg: string }[];
}

const relays: Started[] = [];

async function startRelay(limits: Partial<RelayLimits> = {}, components?: ComponentConfig[]): Promise<Started> {
  const logs: { msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const relay = createRelay({ db: openDatabase(":memory:"), log, domain: DOMAIN, limits, components });
  for (const name of ["alice", "bob", "carol", "dave", "slix", "mallory"]) relay.accounts.create(name, `${name}-pw`);
  const tls = { cert: bundle.cert, key: bundle.key };
  const listening = await relay.listen({ host: "127.0.0.1", port: 0, tls, ...(components ? { componentPort: 0 } : {}) });
  const started = { relay, listening, port: listening.port, logs };
  relays.push(started);
  return started;
}

const clients: XmppClient[] = [];

function client(port: number, username: string, options: { password?: string; mechanism?: string; resource?: string } = {}): XmppClient {
  const c = xmppClient({ ...options, port, domain: DOMAIN, username, password: options.password ?? `${username}-pw` });
  clients.push(c);
  return c;
}

/** The next presence event for `jid` (call before the action that causes it). */
function presenceOf(s: Started, jid: string, available: boolean): Promise<PresenceEvent> {
  return new Promise((resolve) => s.relay.channel.onPresence((e) => e.jid === jid && e.available === available && resolve(e)));
}

function slix(jid: string, password: string, mechanism?: string) {
  return slixmpp({ port: shared.port, jid, password, mechanism, caFile, serverJid: SERVER_JID });
}

let shared: Started;

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (const deadline = performance.now() + 10_000; !check(); await Bun.sleep(10)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

beforeAll(async () => {
  shared = await startRelay({ idleTimeoutMs: 300, pingTimeoutMs: 1_000 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop().catch(() => {})));
  for (const r of relays) await r.listening.stop();
  untrust();
  rmSync(certDir, { recursive: true, force: true });
});

describe("@xmpp/client", () => {
  test("the listener says where it listens", () => {
    expect(shared.logs.map((l) => l.msg)).toContain(`listening on xmpp 127.0.0.1:${shared.port}`);
  });

  test.each(["SCRAM-SHA-1", "SCRAM-SHA-256"])("STARTTLS + %s, bind, presence reaches onPresence", async (mechanism) => {
    const user = mechanism === "SCRAM-SHA-1" ? "alice" : "bob";
    const usedBefore = ScramSha256Mechanism.used;
    const c = client(shared.port, user, { mechanism, resource: "laptop" });
    await c.start();
    expect(c.jid.toString()).toBe(`${user}@${DOMAIN}/laptop`);
    expect(c.isSecure()).toBe(true);
    expect(ScramSha256Mechanism.used - usedBefore).toBe(mechanism === "SCRAM-SHA-256" ? 1 : 0);
    const online = presenceOf(shared, `${user}@${DOMAIN}`, true);
    await c.send(xmppjs.xml("presence"));
    expect(await online).toEqual({ jid: `${user}@${DOMAIN}`, available: true, ip: "127.0.0.1", at: expect.any(Number) });
    expect(shared.relay.channel.isOnline(`${user}@${DOMAIN}`)).toBe(true);
    const offline = presenceOf(shared, `${user}@${DOMAIN}`, false);
    await c.stop();
    await offline;
  });

  test("the server requests, the agent replies; the agent's own envelope reaches onMessage", async () => {
    const c = client(shared.port, "carol");
    answerRequests(c, SERVER_JID, { time: 1234 });
    await c.start();
    const online = presenceOf(shared, `carol@${DOMAIN}`, true);
    await c.send(xmppjs.xml("presence"));
    await online;
    const answer = await shared.relay.channel.request(`carol@${DOMAIN}`, request("ping", {}, "e2e-1"), 10_000);
    expect(answer).toEqual({ v: 1, action: "resultping", sessionid: "e2e-1", data: { time: 1234 }, ret: 0 });
    const received = new Promise<[string, Envelope]>((resolve) => shared.relay.channel.onMessage((from, e) => e.sessionid === "e2e-2" && resolve([from, e])));
    await c.send(xmppjs.xml("message", { to: SERVER_JID, type: "chat" }, xmppjs.xml("body", {}, JSON.stringify(request("ping", {}, "e2e-2")))));
    expect(await received).toEqual([`carol@${DOMAIN}`, request("ping", {}, "e2e-2")]);
    await c.stop();
  });

  test("two clients message each other; the server answers pings, and pings idle clients", async () => {
    const a = client(shared.port, "alice", { resource: "a" });
    const d = client(shared.port, "dave", { resource: "d" });
    await Promise.all([a.start(), d.start()]);
    const online = presenceOf(shared, `dave@${DOMAIN}`, true);
    await Promise.all([a.send(xmppjs.xml("presence")), d.send(xmppjs.xml("presence"))]);
    await online;
    const got = nextStanza(d, (s: XmppClient) => (s.is("message") ? [s.attrs.from, s.getChildText("body")] : undefined));
    await a.send(xmppjs.xml("message", { to: `dave@${DOMAIN}`, type: "chat" }, xmppjs.xml("body", {}, "hello dave")));
    expect(await got).toEqual([`alice@${DOMAIN}/a`, "hello dave"]);
    const back = nextStanza(a, (s: XmppClient) => (s.is("message") ? s.getChildText("body") : undefined));
    await d.send(xmppjs.xml("message", { to: `alice@${DOMAIN}/a`, type: "chat" }, xmppjs.xml("body", {}, "hi alice")));
    expect(await back).toBe("hi alice");

    const pong = await a.iqCaller.request(xmppjs.xml("iq", { type: "get", to: DOMAIN }, xmppjs.xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attrs).toMatchObject({ type: "result", from: DOMAIN });
    // The shared relay pings after 300 ms of silence; a second ping proves the first answer kept the stream.
    let pings = 0;
    const twice = nextStanza(d, (s: XmppClient) => (s.is("iq") && s.getChild("ping", "urn:xmpp:ping") && ++pings === 2 ? true : undefined));
    expect(await twice).toBe(true);
    expect(shared.relay.channel.isOnline(`dave@${DOMAIN}`)).toBe(true);
    await Promise.all([a.stop(), d.stop()]);
  });

  test("a wrong password is not-authorized; a disabled account is account-disabled", async () => {
    const wrong = client(shared.port, "mallory", { password: "guess" });
    expect(await wrong.start().catch((e: { condition?: string }) => e.condition)).toBe("not-authorized");
    shared.relay.accounts.disable("mallory");
    const disabled = client(shared.port, "mallory");
    expect(await disabled.start().catch((e: { condition?: string }) => e.condition)).toBe("account-disabled");
    shared.relay.accounts.enable("mallory");
  });

  test("disconnect(jid) cuts a live client at once; banned, it cannot come back", async () => {
    const c = client(shared.port, "mallory", { resource: "m" });
    await c.start();
    const online = presenceOf(shared, `mallory@${DOMAIN}`, true);
    await c.send(xmppjs.xml("presence"));
    await online;
    const gone = new Promise((resolve) => c.on("disconnect", resolve));
    shared.relay.accounts.disable("mallory");
    shared.relay.channel.disconnect(`mallory@${DOMAIN}`, "banned");
    await gone;
    expect(c.errors.map((e: { condition?: string }) => e.condition)).toContain("not-authorized");
    expect(shared.relay.channel.isOnline(`mallory@${DOMAIN}`)).toBe(false);
    const again = client(shared.port, "mallory");
    expect(await again.start().catch((e: { condition?: string }) => e.condition)).toBe("account-disabled");
    shared.relay.accounts.enable("mallory");
  });

  test("a client that stops reading is dropped once its send queue passes the limit; the others go on", async () => {
    const tight = await startRelay({ maxSendBufferBytes: 256 * 1024 });
    const [sleeper, awake] = [client(tight.port, "dave", { resource: "asleep" }), client(tight.port, "carol", { resource: "awake" })];
    await Promise.all([sleeper.start(), awake.start()]);
    const online = Promise.all([presenceOf(tight, `dave@${DOMAIN}`, true), presenceOf(tight, `carol@${DOMAIN}`, true)]);
    await Promise.all([sleeper.send(xmppjs.xml("presence")), awake.send(xmppjs.xml("presence"))]);
    await online;
    // The TLS socket under xmpp.js's wrapper: paused, it no longer reads from the kernel.
    (sleeper as unknown as { socket: { socket: { pause(): void } } }).socket.socket.pause();
    const gone = presenceOf(tight, `dave@${DOMAIN}`, false);
    const payload = "x".repeat(100_000);
    let sent = 0;
    // Loopback buffers hold a few MB; 64 MB is far past them and the 256 KiB queue.
    while (tight.relay.channel.isOnline(`dave@${DOMAIN}`) && sent < 640) {
      tight.relay.channel.send(`dave@${DOMAIN}/asleep`, request("ping", { payload }));
      sent++;
      if (sent % 20 === 0) await Bun.sleep(1);
    }
    await gone;
    expect(tight.logs.map((l) => l.msg)).toContain("xmpp client does not read; dropped");
    expect(tight.relay.channel.isOnline(`carol@${DOMAIN}`)).toBe(true);
    answerRequests(awake, SERVER_JID, { time: 5678 });
    expect((await tight.relay.channel.request(`carol@${DOMAIN}/awake`, request("ping"), 5_000)).data).toEqual({ time: 5678 });
  });

  test("an oversize stanza and an entity trick drop only their sender", async () => {
    const [big, trick, bystander] = [client(shared.port, "alice", { resource: "big" }), client(shared.port, "bob", { resource: "trick" }), client(shared.port, "carol", { resource: "calm" })];
    answerRequests(bystander, SERVER_JID, { time: 7 });
    await Promise.all([big.start(), trick.start(), bystander.start()]);
    const online = presenceOf(shared, `carol@${DOMAIN}`, true);
    await bystander.send(xmppjs.xml("presence"));
    await online;

    const bigGone = new Promise((resolve) => big.on("disconnect", resolve));
    big.write(`<message to='${SERVER_JID}'><body>${"x".repeat(300 * 1024)}</body></message>`);
    await bigGone;
    expect(big.errors.map((e: { condition?: string }) => e.condition)).toContain("policy-violation");

    const trickGone = new Promise((resolve) => trick.on("disconnect", resolve));
    trick.write("<message to='medulla@medulla.test'><body>&lol9;</body></message>");
    await trickGone;
    expect(trick.errors.map((e: { condition?: string }) => e.condition)).toContain("restricted-xml");

    expect(await shared.relay.channel.request(`carol@${DOMAIN}`, request("ping"), 10_000)).toMatchObject({ action: "resultping", ret: 0 });
    await bystander.stop();
  });
});

describe("python3-slixmpp", () => {
  test.each(["SCRAM-SHA-256", "SCRAM-SHA-1"])("STARTTLS + %s, presence, envelopes both ways", async (mechanism) => {
    const gotHello = new Promise<[string, Envelope]>((resolve) => shared.relay.channel.onMessage((from, e) => e.sessionid === "slix-1" && resolve([from, e])));
    const online = presenceOf(shared, `slix@${DOMAIN}`, true);
    const offline = presenceOf(shared, `slix@${DOMAIN}`, false);
    const client = slix(`slix@${DOMAIN}/py`, "slix-pw", mechanism);
    try {
      expect(await client.event("authenticated")).toEqual({ event: "authenticated", mechanism });
      expect(await client.event("online")).toEqual({ event: "online", jid: `slix@${DOMAIN}/py` });
      expect(await online).toMatchObject({ ip: "127.0.0.1" });
      expect(await gotHello).toEqual([`slix@${DOMAIN}`, { v: 1, action: "ping", sessionid: "slix-1", data: {}, ret: 0 }]);
      const answer = await shared.relay.channel.request(`slix@${DOMAIN}`, request("ping", {}, `from-server-${mechanism}`), 10_000);
      expect(answer).toEqual({ v: 1, action: "resultping", sessionid: `from-server-${mechanism}`, data: { time: 1, from: "slixmpp" }, ret: 0 });
      expect(client.events.map((e) => e.event).slice(0, 2)).toEqual(["tls", "authenticated"]);
    } finally {
      await client.quit();
    }
    await offline;
    expect(shared.relay.channel.isOnline(`slix@${DOMAIN}`)).toBe(false);
  });

  test("a wrong password is refused", async () => {
    const client = slix(`slix@${DOMAIN}/py`, "wrong");
    expect(await client.event("failed_auth")).toEqual({ event: "failed_auth", condition: "not-authorized" });
    await client.quit();
  });
});

describe("raw sockets: what polite clients never do", () => {
  test("plaintext authentication before STARTTLS is refused; a stanza ends the stream", async () => {
    using raw = new RawClient(shared.port);
    await raw.open(DOMAIN).until((r) => r.text.includes("</stream:features>"));
    expect(raw.text).toContain("<required/></starttls>");
    expect(raw.text).not.toContain("PLAIN");
    raw.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from("\0alice\0alice-pw").toString("base64")}</auth>`);
    await raw.until((r) => r.text.includes("</failure>"));
    expect(raw.text).toContain("<encryption-required/>");
    raw.send("<message to='medulla@medulla.test'><body>hi</body></message>");
    await raw.until((r) => r.isClosed);
    expect(raw.text).toContain("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });

  test("connections per address are limited (loopback not exempt here)", async () => {
    const limited = await startRelay({ exemptLoopback: false, maxConnectionsPerIp: 2 });
    using one = new RawClient(limited.port);
    using two = new RawClient(limited.port);
    await Promise.all([one, two].map((r) => r.open(DOMAIN).until((x) => x.text.includes("</stream:features>"))));
    using three = new RawClient(limited.port);
    await three.until((r) => r.isClosed);
    expect(three.text).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(one.isClosed || two.isClosed).toBe(false);
  });

  test("negotiations past the limit wait their turn, unread, and go on in order once a slot is free", async () => {
    const gated = await startRelay({ maxConcurrentNegotiations: 1, negotiationSlotMs: 60_000 });
    using first = new RawClient(gated.port);
    await first.open(DOMAIN).until((r) => r.text.includes("</stream:features>"));
    using second = new RawClient(gated.port);
    second.open(DOMAIN);
    await waitFor("the second connection to wait", () => gated.listening.negotiations.waiting === 1);
    expect(second.text).toBe("");
    first.socket.destroy();
    await second.until((r) => r.text.includes("</stream:features>"));
    expect(gated.listening.negotiations).toMatchObject({ active: 1, waiting: 0 });
  });

  test("a client that never speaks holds its negotiation slot only for negotiationSlotMs: the agent behind it logs in", async () => {
    const gated = await startRelay({ maxConcurrentNegotiations: 1, negotiationSlotMs: 100 });
    using silent = new RawClient(gated.port);
    await waitFor("the silent connection to hold the slot", () => gated.listening.negotiations.active === 1);
    const c = client(gated.port, "dave", { resource: "behind" });
    await c.start();
    await waitFor("dave's slot to be given back once bound", () => gated.listening.negotiations.active === 0);
    expect(silent.isClosed).toBe(false);
  });

  test("a slow client is timed out; stop() ends the others with system-shutdown", async () => {
    const strict = await startRelay({ negotiationTimeoutMs: 300 });
    using silent = new RawClient(strict.port);
    await silent.until((r) => r.isClosed);
    expect(silent.text).toContain("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");

    using open = new RawClient(strict.port);
    await open.open(DOMAIN).until((r) => r.text.includes("</stream:features>"));
    await strict.listening.stop();
    await open.until((r) => r.isClosed);
    expect(open.text).toContain("<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });

  test("an XEP-0114 component on its own port exchanges stanzas with a client", async () => {
    const withComponent = await startRelay({}, [{ name: "pubsub.medulla.test", secret: "comp-secret" }]);
    expect(withComponent.logs.map((l) => l.msg)).toContain(`listening on xmpp-component 127.0.0.1:${withComponent.listening.componentPort}`);
    using component = new RawClient(withComponent.listening.componentPort!);
    component.send("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='pubsub.medulla.test'>");
    await component.until((r) => /id='([0-9a-f]+)'/.test(r.text));
    const id = /id='([0-9a-f]+)'/.exec(component.text)![1]!;
    component.send(`<handshake>${handshakeDigest(id, "comp-secret")}</handshake>`);
    await component.until((r) => r.text.includes("<handshake/>"));

    const c = client(withComponent.port, "alice", { resource: "c" });
    await c.start();
    await c.send(xmppjs.xml("message", { to: "pubsub.medulla.test", type: "chat" }, xmppjs.xml("body", {}, "subscribe me")));
    await component.until((r) => r.text.includes("subscribe me"));
    expect(component.text).toContain(`from="alice@${DOMAIN}/c"`);
    const event = nextStanza(c, (s: XmppClient) => (s.is("message") ? [s.attrs.from, s.getChildText("body")] : undefined));
    component.send(`<message from='news@pubsub.medulla.test' to='alice@${DOMAIN}/c'><body>an event</body></message>`);
    expect(await event).toEqual(["news@pubsub.medulla.test", "an event"]);
    await c.stop();
  });
});
