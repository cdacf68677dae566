/**
 * The embedded relay against real clients over TCP and TLS on loopback: `@xmpp/client`
 * (what agents use) in this process, Debian's python3-slixmpp in a child process, and raw
 * sockets for what no polite client does. Certificates come from `ensureCertificates` in a
 * temporary folder; clients trust only that CA. Every wait is on an event or a condition.
 *
 * @xmpp/client has no option for a CA and Bun reads NODE_EXTRA_CA_CERTS only at start, so
 * the test hands the CA to the TLS socket that @xmpp/starttls creates (its only seam).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import pino from "pino";
import { ensureCertificates } from "../../src/certs/index.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createRelay, ScramClient, type Relay, type RelayLimits } from "../../src/net/xmpp/index.ts";
import type { Listening } from "../../src/net/xmpp/server.ts";
import type { PresenceEvent } from "../../src/protocol/channel.ts";
import { reply, request, type Envelope } from "../../src/protocol/envelope.ts";

const DOMAIN = "medulla.test";
const SERVER_JID = `medulla@${DOMAIN}`;
const SLIXMPP = join(import.meta.dir, "fixtures", "slixmpp_client.py");
const certDir = mkdtempSync(join(tmpdir(), "medulla-xmpp-"));
const bundle = await ensureCertificates(certDir, { dns: [DOMAIN, "localhost"], ips: ["127.0.0.1"] });
const caFile = join(certDir, "ca.crt");

// Untyped modules: a non-literal specifier keeps TypeScript from looking for declarations.
const xmppjs = await import("@xmpp/client" as string);
const { default: XmppTlsSocket } = await import("@xmpp/tls/lib/Socket.js" as string);
const originalConnect = XmppTlsSocket.prototype.connect;
XmppTlsSocket.prototype.connect = function (options: tls.ConnectionOptions) {
  this._attachSocket(tls.connect({ ...options, ca: bundle.caCert }));
};

// SCRAM-SHA-256 for @xmpp/client (it ships SCRAM-SHA-1 and PLAIN only), on our client side.
class ScramSha256Mechanism {
  #client: ScramClient | null = null;
  #serverFirst = "";
  static used = 0;
  response(cred: { username: string; password: string }): string {
    if (!this.#client) {
      ScramSha256Mechanism.used++;
      this.#client = new ScramClient("sha256", cred.username, cred.password);
      return this.#client.first();
    }
    return this.#client.final(this.#serverFirst);
  }
  challenge(text: string): this {
    this.#serverFirst = text;
    return this;
  }
}
Object.assign(ScramSha256Mechanism.prototype, { name: "SCRAM-SHA-256", clientFirst: true });

interface Started {
  relay: Relay;
  listening: Listening;
  port: number;
  logs: { msg: string }[];
}

const relays: Started[] = [];

async function startRelay(limits: Partial<RelayLimits> = {}): Promise<Started> {
  const logs: { msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const relay = createRelay({ db: openDatabase(":memory:"), log, domain: DOMAIN, limits });
  for (const name of ["alice", "bob", "carol", "dave", "slix", "mallory"]) relay.accounts.create(name, `${name}-pw`);
  const listening = await relay.listen({ host: "127.0.0.1", port: 0, tls: { cert: bundle.cert, key: bundle.key } });
  const started = { relay, listening, port: listening.port, logs };
  relays.push(started);
  return started;
}

// biome-ignore lint: the client is untyped
type XmppClient = any;
const clients: XmppClient[] = [];

function xmppClient(port: number, username: string, options: { password?: string; mechanism?: string; resource?: string } = {}): XmppClient {
  const c = xmppjs.client({ service: `xmpp://127.0.0.1:${port}`, domain: DOMAIN, resource: options.resource ?? "agent", timeout: 20_000,
    credentials: (authenticate: (creds: object, mechanism: string) => Promise<void>, offered: string[]) => {
      const mechanism = options.mechanism ?? "SCRAM-SHA-256";
      if (!offered.includes(mechanism)) throw new Error(`${mechanism} not offered: ${offered}`);
      return authenticate({ username, password: options.password ?? `${username}-pw` }, mechanism);
    },
  });
  c.reconnect.stop();
  c.saslFactory.use(ScramSha256Mechanism);
  c.errors = [] as { condition?: string }[];
  c.on("error", (err: { condition?: string }) => c.errors.push(err));
  clients.push(c);
  return c;
}

/** Resolves with the first value `check` finds among the stanzas the client receives from now on. */
function nextStanza<T>(c: XmppClient, check: (s: XmppClient) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const on = (s: XmppClient) => {
      const v = check(s);
      if (v === undefined) return;
      c.off("stanza", on);
      resolve(v);
    };
    c.on("stanza", on);
  });
}

/** Answers every envelope request from the server, as an agent would. */
function answerRequests(c: XmppClient, data: Record<string, unknown> = { time: 7 }): void {
  c.on("stanza", (s: XmppClient) => {
    if (!s.is("message") || s.attrs.from !== SERVER_JID) return;
    const envelope = JSON.parse(s.getChildText("body")) as Envelope;
    if (envelope.action.startsWith("result")) return;
    c.send(xmppjs.xml("message", { to: SERVER_JID, type: "chat" }, xmppjs.xml("body", {}, JSON.stringify(reply(envelope, data)))));
  });
}

/** The next presence event for `jid` (call before the action that causes it). */
function presenceOf(s: Started, jid: string, available: boolean): Promise<PresenceEvent> {
  return new Promise((resolve) => s.relay.channel.onPresence((e) => e.jid === jid && e.available === available && resolve(e)));
}

/** A bare TCP client for what polite clients never do. */
class RawClient {
  text = "";
  isClosed = false;
  readonly socket: Socket;
  #waiters: (() => void)[] = [];
  constructor(port: number) {
    this.socket = tcpConnect(port, "127.0.0.1");
    this.socket.on("data", (d) => this.#changed(() => (this.text += d.toString())));
    this.socket.on("close", () => this.#changed(() => (this.isClosed = true)));
    this.socket.on("error", () => {});
  }
  #changed(fn: () => void) {
    fn();
    for (const w of this.#waiters.splice(0)) w();
  }
  send(xml: string): this {
    this.socket.write(xml);
    return this;
  }
  /** Resolves once `predicate` holds for what arrived (checked at every arrival and at close). */
  until(predicate: (r: RawClient) => boolean): Promise<this> {
    return new Promise((resolve) => {
      const check = () => (predicate(this) ? resolve(this) : this.#waiters.push(check));
      check();
    });
  }
  open(): this {
    return this.send(`<?xml version='1.0'?><stream:stream to='${DOMAIN}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
  }
  [Symbol.dispose]() {
    this.socket.destroy();
  }
}

function slixmpp(port: number, jid: string, password: string, mechanism?: string) {
  const proc = Bun.spawn(
    ["/usr/bin/python3", SLIXMPP, "--port", String(port), "--jid", jid, "--password", password, "--ca", caFile, "--server-jid", SERVER_JID, ...(mechanism ? ["--mech", mechanism] : [])],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
  const events: Record<string, unknown>[] = [];
  let waiters: (() => void)[] = [];
  const notify = () => {
    for (const w of waiters.splice(0)) w();
  };
  const done = (async () => {
    let buffer = "";
    for await (const chunk of proc.stdout) {
      buffer += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        events.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
        notify();
      }
    }
    events.push({ event: "(stdout closed)" });
    notify();
  })();
  return {
    events,
    proc,
    done,
    /** Resolves with the first event named `name` (and matching `fields`). */
    event(name: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === name && Object.entries(fields).every(([k, v]) => e[k] === v));
          if (found) return resolve(found);
          if (events.some((e) => e.event === "(stdout closed)")) return reject(new Error(`slixmpp exited without ${name}: ${JSON.stringify(events)}`));
          waiters.push(check);
        };
        check();
      });
    },
    command(cmd: Record<string, unknown>) {
      proc.stdin.write(`${JSON.stringify(cmd)}\n`);
      proc.stdin.flush();
    },
    async quit() {
      this.command({ cmd: "quit" });
      await proc.exited;
      waiters = [];
    },
  };
}

let shared: Started;

beforeAll(async () => {
  shared = await startRelay({ idleTimeoutMs: 300, pingTimeoutMs: 1_000 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop().catch(() => {})));
  for (const r of relays) await r.listening.stop();
  XmppTlsSocket.prototype.connect = originalConnect;
  rmSync(certDir, { recursive: true, force: true });
});

describe("@xmpp/client", () => {
  test("the listener says where it listens", () => {
    expect(shared.logs.map((l) => l.msg)).toContain(`listening on xmpp 127.0.0.1:${shared.port}`);
  });

  test.each(["SCRAM-SHA-1", "SCRAM-SHA-256"])("STARTTLS + %s, bind, presence reaches onPresence", async (mechanism) => {
    const user = mechanism === "SCRAM-SHA-1" ? "alice" : "bob";
    const usedBefore = ScramSha256Mechanism.used;
    const c = xmppClient(shared.port, user, { mechanism, resource: "laptop" });
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
    const c = xmppClient(shared.port, "carol");
    answerRequests(c, { time: 1234 });
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
    const a = xmppClient(shared.port, "alice", { resource: "a" });
    const d = xmppClient(shared.port, "dave", { resource: "d" });
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
    const wrong = xmppClient(shared.port, "mallory", { password: "guess" });
    expect(await wrong.start().catch((e: { condition?: string }) => e.condition)).toBe("not-authorized");
    shared.relay.accounts.disable("mallory");
    const disabled = xmppClient(shared.port, "mallory");
    expect(await disabled.start().catch((e: { condition?: string }) => e.condition)).toBe("account-disabled");
    shared.relay.accounts.enable("mallory");
  });

  test("disconnect(jid) cuts a live client at once; banned, it cannot come back", async () => {
    const c = xmppClient(shared.port, "mallory", { resource: "m" });
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
    const again = xmppClient(shared.port, "mallory");
    expect(await again.start().catch((e: { condition?: string }) => e.condition)).toBe("account-disabled");
    shared.relay.accounts.enable("mallory");
  });

  test("an oversize stanza and an entity trick drop only their sender", async () => {
    const [big, trick, bystander] = [xmppClient(shared.port, "alice", { resource: "big" }), xmppClient(shared.port, "bob", { resource: "trick" }), xmppClient(shared.port, "carol", { resource: "calm" })];
    answerRequests(bystander);
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
    const client = slixmpp(shared.port, `slix@${DOMAIN}/py`, "slix-pw", mechanism);
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
    const client = slixmpp(shared.port, `slix@${DOMAIN}/py`, "wrong");
    expect(await client.event("failed_auth")).toEqual({ event: "failed_auth", condition: "not-authorized" });
    await client.quit();
  });
});

describe("raw sockets: what polite clients never do", () => {
  test("plaintext authentication before STARTTLS is refused; a stanza ends the stream", async () => {
    using raw = new RawClient(shared.port);
    await raw.open().until((r) => r.text.includes("</stream:features>"));
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
    await Promise.all([one, two].map((r) => r.open().until((x) => x.text.includes("</stream:features>"))));
    using three = new RawClient(limited.port);
    await three.until((r) => r.isClosed);
    expect(three.text).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(one.isClosed || two.isClosed).toBe(false);
  });

  test("a slow client is timed out; stop() ends the others with system-shutdown", async () => {
    const strict = await startRelay({ negotiationTimeoutMs: 300 });
    using silent = new RawClient(strict.port);
    await silent.until((r) => r.isClosed);
    expect(silent.text).toContain("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");

    using open = new RawClient(strict.port);
    await open.open().until((r) => r.text.includes("</stream:features>"));
    await strict.listening.stop();
    await open.until((r) => r.isClosed);
    expect(open.text).toContain("<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });
});
