/**
 * The agent against a real XMPP server: Prosody (Debian's `prosody`), with STARTTLS on a
 * certificate from src/certs and SCRAM accounts. Skipped where Prosody is not installed;
 * the end-to-end run against Medulla's own relay is test/e2e/agent-relay.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates, type CertBundle } from "../../src/certs/index.ts";
import { encodeEnvelope, parseEnvelope, request, type Envelope } from "../../src/protocol/envelope.ts";
import type { AgentConfig } from "../../agent/src/config.ts";
import type { Facts } from "../../agent/src/facts/index.ts";
import { memoryLogger } from "../../agent/src/log.ts";
import { runAgent } from "../../agent/src/run.ts";
import { simulate } from "../../agent/src/simulate.ts";
import { readState } from "../../agent/src/state.ts";
import { createXmppClient, xml, type Element } from "../../agent/src/xmpp/client.ts";
import { checkXmppIdentityX509, createLeanClient } from "../../agent/src/xmpp/lean.ts";
import { X509Certificate } from "node:crypto";

const prosody = Bun.which("prosody");
const prosodyctl = Bun.which("prosodyctl");
const dir = mkdtempSync(join(tmpdir(), "agent-xmpp-"));
let port = 0;
let certs: CertBundle;
let proc: ReturnType<typeof Bun.spawn> | undefined;
const cfg = join(dir, "prosody.cfg.lua");

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

const listening = () => new Promise<boolean>((resolve) => {
  const s = connect(port, "127.0.0.1");
  s.once("connect", () => (s.destroy(), resolve(true)));
  s.once("error", () => resolve(false));
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

async function startProsody() {
  proc = Bun.spawn([prosody!, "--config", cfg], { stdout: "ignore", stderr: "ignore" });
  await waitFor("prosody to listen", listening);
}

async function stopProsody() {
  proc?.kill();
  await proc?.exited;
  await waitFor("prosody to stop", async () => !(await listening()));
}

beforeAll(async () => {
  if (!prosody || !prosodyctl) return;
  port = await freePort();
  certs = await ensureCertificates(join(dir, "certs"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  writeFileSync(join(dir, "chain.crt"), certs.cert);
  writeFileSync(join(dir, "server.key"), certs.key);
  mkdirSync(join(dir, "data"));
  writeFileSync(cfg, `run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
daemonize = false
c2s_ports = { ${port} }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
interfaces = { "127.0.0.1" }
modules_enabled = { "roster"; "saslauth"; "tls"; "ping"; "disco" }
modules_disabled = { "s2s" }
authentication = "internal_hashed"
c2s_require_encryption = true
log = { error = "${dir}/prosody.log" }
VirtualHost "localhost"
  ssl = { certificate = "${dir}/chain.crt"; key = "${dir}/server.key" }
`);
  for (const user of ["agent", "server"]) {
    const r = Bun.spawnSync([prosodyctl, "--config", cfg, "register", user, "localhost", "pw-" + user], { stdout: "ignore", stderr: "ignore" });
    if (r.exitCode !== 0) throw new Error(`prosodyctl register ${user} failed`);
  }
  await startProsody();
});

afterAll(async () => {
  proc?.kill();
  await proc?.exited;
  rmSync(dir, { recursive: true, force: true });
});

const facts: Facts = { agentId: "42", agentVersion: "0.1.0", hostname: "pc-01", os: "linux", osName: "Debian", osVersion: "12", arch: "x64", ips: [], macs: [], loggedUser: "", uptimeSeconds: 1 };

/** The "server" side: a plain client that answers announces and records every envelope. */
async function fakeServer() {
  const c = createXmppClient({ host: "127.0.0.1", port, domain: "localhost", username: "server", password: "pw-server", ca: certs.caCert, resource: "srv" });
  c.entity.on("error", () => undefined);
  await c.start();
  await c.entity.send(xml("presence"));
  const got: { from: string; env: Envelope }[] = [];
  c.entity.on("stanza", (st: Element) => {
    const body = st.is("message") ? st.getChildText("body") : null;
    if (!body) return;
    // Raw JSON: error replies (resultfrobnicate, resulterror) are not known actions to parseEnvelope.
    const env = JSON.parse(body) as Envelope;
    got.push({ from: st.attrs.from!, env });
    if (env.action === "announce" && parseEnvelope(body).ok) {
      void c.entity.send(xml("message", { to: st.attrs.from, type: "chat" }, xml("body", {}, encodeEnvelope({ v: 1, action: "resultannounce", sessionid: env.sessionid, data: { machineId: 42 }, ret: 0 }))));
    }
  });
  const send = (to: string, b: string) => c.entity.send(xml("message", { to, type: "chat" }, xml("body", {}, b)));
  return { c, got, send };
}

describe.skipIf(!prosody || !prosodyctl)("agent against Prosody", () => {
  test("run: STARTTLS + SCRAM, announce, answers, reconnect after the server restarts", async () => {
    const srv = await fakeServer();
    writeFileSync(join(dir, "ca.pem"), certs.caCert);
    const config: AgentConfig = {
      path: join(dir, "agent.ini"),
      server: { url: "https://localhost:8443", caFingerprint: certs.caFingerprint, caFile: join(dir, "ca.pem") },
      xmpp: { jid: "agent@localhost", password: "pw-agent", host: "127.0.0.1", port, domain: "localhost", serverJid: "server@localhost" },
      agent: { id: "42", logLevel: "debug", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
    };
    const stop = new AbortController();
    const log = memoryLogger();
    let attempts = 0;
    const running = runAgent(config, { log, signal: stop.signal, facts: async () => facts, backoff: { baseMs: 50, capMs: 200 }, onAttempt: (n) => (attempts = n) });
    await waitFor("announce", () => srv.got.some((g) => g.env.action === "announce"));
    const agentJid = srv.got.find((g) => g.env.action === "announce")!.from;
    expect(agentJid).toMatch(/^agent@localhost\/agent-[0-9a-z]+$/);

    await srv.send(agentJid, encodeEnvelope(request("agentversion", {}, "v1")));
    await srv.send(agentJid, encodeEnvelope(request("frobnicate", {}, "u1")));
    await srv.send(agentJid, "{{{");
    await waitFor("three replies", () => srv.got.filter((g) => g.env.action !== "announce").length >= 3);
    const replies = srv.got.filter((g) => g.env.action !== "announce").map((g) => [g.env.action, g.env.sessionid, g.env.ret]);
    // Handlers are asynchronous: replies may come in any order.
    expect(replies.sort()).toEqual([
      ["resultagentversion", "v1", 0],
      ["resulterror", "", 400],
      ["resultfrobnicate", "u1", 404],
    ]);
    await waitFor("the announce's answer", () => log.lines.some((l) => l.includes("announced machineId=42")));

    await srv.c.stop();
    await stopProsody();
    await waitFor("a failed attempt", () => attempts >= 2);
    await startProsody();
    const srv2 = await fakeServer();
    await waitFor("a new announce after the restart", () => srv2.got.some((g) => g.env.action === "announce"), 15_000);
    expect(log.lines.filter((l) => l.includes("INFO  connected")).length).toBeGreaterThanOrEqual(2);

    stop.abort();
    await running;
    await srv2.c.stop();
    expect(await readState(join(dir, "agent.state.json"))).toMatchObject({ state: "stopped", machineId: 42, pid: process.pid });
  }, 30_000);

  for (const client of ["lean", "xmppjs"] as const) {
    test(`simulate (${client} client): 20 agents log in, announce and measure the ping`, async () => {
      const srv = await fakeServer();
      const credentials = Array.from({ length: 20 }, () => ({ jid: "agent@localhost", password: "pw-agent" }));
      const progress: string[] = [];
      const summary = await simulate(
        { credentials, prefix: "sim", host: "127.0.0.1", port, serverJid: "server@localhost", ca: certs.caCert, ratePerSec: 200, holdMs: 0, spread: process.platform === "linux", pingSamples: 2, client },
        (l) => progress.push(l),
        new AbortController().signal,
      );
      expect(summary).toMatchObject({ count: 20, online: 20, failed: 0, failures: {}, announced: 20, announceFailed: 0 });
      expect(summary.rttMs.samples).toBe(40);
      expect(summary.loginMs.p50).toBeGreaterThan(0);
      await srv.c.stop();
    }, 30_000);
  }

  test("the simulator's lean client refuses a wrong password and a wrong CA too", async () => {
    const bad = createLeanClient({ host: "127.0.0.1", port, domain: "localhost", username: "agent", password: "nope", ca: certs.caCert });
    await expect(bad.start()).rejects.toThrow(/authentication failed \(not-authorized\)/);
    await bad.stop();
    const other = await ensureCertificates(join(dir, "other-lean"), { dns: ["localhost"], ips: [] });
    const wrongCa = createLeanClient({ host: "127.0.0.1", port, domain: "localhost", username: "agent", password: "pw-agent", ca: other.caCert });
    wrongCa.entity.on("error", () => undefined);
    await expect(wrongCa.start()).rejects.toThrow(/certificate/);
    await wrongCa.stop();
  });

  test("the lean client's name check: the dialled host, else the XMPP domain, must be in the certificate", () => {
    const cert = new X509Certificate(certs.cert); // names localhost and 127.0.0.1
    expect(checkXmppIdentityX509("127.0.0.1", "medulla.lan", cert)).toBeUndefined();
    expect(checkXmppIdentityX509("10.0.0.9", "localhost", cert)).toBeUndefined();
    expect(checkXmppIdentityX509("localhost", "localhost", cert)).toBeUndefined();
    expect(checkXmppIdentityX509("10.0.0.9", "medulla.lan", cert)?.message).toBe("the server certificate names neither 10.0.0.9 nor medulla.lan");
    expect(checkXmppIdentityX509("127.0.0.2", "", cert)).toBeInstanceOf(Error);
    expect(checkXmppIdentityX509("localhost", "localhost", undefined)).toBeInstanceOf(Error);
  });

  test("a wrong password and a wrong CA are refused", async () => {
    const bad = createXmppClient({ host: "127.0.0.1", port, domain: "localhost", username: "agent", password: "nope", ca: certs.caCert });
    bad.entity.on("error", () => undefined);
    await expect(bad.start()).rejects.toMatchObject({ name: "SASLError", condition: "not-authorized" });
    await bad.stop();
    const other = await ensureCertificates(join(dir, "other"), { dns: ["localhost"], ips: [] });
    const wrongCa = createXmppClient({ host: "127.0.0.1", port, domain: "localhost", username: "agent", password: "pw-agent", ca: other.caCert });
    wrongCa.entity.on("error", () => undefined);
    await expect(wrongCa.start()).rejects.toThrow(/certificate/);
    await wrongCa.stop();
  });
});
