/**
 * The agent against Medulla's own embedded relay (src/net/xmpp), in one process: the relay
 * listens with TLS on port 0, the agent's `run` logs in with SCRAM over STARTTLS against
 * the pinned CA, announces, answers the server's requests through the AgentChannel, is
 * cut off by a ban, and the simulator brings many agents online at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates, type CertBundle } from "../../src/certs/index.ts";
import { openDatabase } from "../../src/db/index.ts";
import { silentLogger } from "../../src/log.ts";
import { reply, request, type Envelope } from "../../src/protocol/envelope.ts";
import { createRelay, type Listening, type Relay } from "../../src/net/xmpp/index.ts";
import type { AgentConfig } from "../../agent/src/config.ts";
import type { Facts } from "../../agent/src/facts/index.ts";
import { memoryLogger } from "../../agent/src/log.ts";
import { runAgent } from "../../agent/src/run.ts";
import { simulate } from "../../agent/src/simulate.ts";

const dir = mkdtempSync(join(tmpdir(), "agent-relay-"));
let certs: CertBundle;
let relay: Relay;
let listening: Listening;
const announces: { from: string; env: Envelope }[] = [];

async function waitFor(what: string, check: () => boolean, ms = 15_000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

beforeAll(async () => {
  certs = await ensureCertificates(join(dir, "certs"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  writeFileSync(join(dir, "agent.ca.pem"), certs.caCert);
  relay = createRelay({ db: openDatabase(":memory:"), log: silentLogger, domain: "localhost" });
  relay.channel.onMessage((from, env) => {
    if (env.action !== "announce") return;
    announces.push({ from, env });
    relay.channel.send(from, reply(env, { machineId: 7 }));
  });
  listening = await relay.listen({ host: "127.0.0.1", port: 0, tls: { cert: certs.cert, key: certs.key } });
});

afterAll(async () => {
  await listening?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const facts: Facts = { agentId: "7", agentVersion: "0.1.0", hostname: "pc-07", os: "linux", osName: "Debian", osVersion: "12", arch: "x64", ips: ["10.0.0.7"], macs: ["3c:52:82:00:00:07"], loggedUser: "", uptimeSeconds: 1 };

describe("agent ⇄ embedded relay", () => {
  test("run: login, announce, answers through the AgentChannel, ban", async () => {
    relay.accounts.create("m7", "pw-m7", null, "agent");
    const config: AgentConfig = {
      path: join(dir, "agent.ini"),
      server: { url: "https://localhost:8443", caFingerprint: certs.caFingerprint, caFile: join(dir, "agent.ca.pem") },
      xmpp: { jid: "m7@localhost", password: "pw-m7", host: "127.0.0.1", port: listening.port, domain: "localhost", serverJid: relay.channel.serverJid },
      agent: { id: "7", logLevel: "debug", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
    };
    const stop = new AbortController();
    const log = memoryLogger();
    const running = runAgent(config, { log, signal: stop.signal, facts: async () => facts, backoff: { baseMs: 50, capMs: 200 } });
    try {
      await waitFor("the announce", () => announces.some((a) => a.from === "m7@localhost"));
      expect(announces.find((a) => a.from === "m7@localhost")!.env.data).toEqual(facts);
      await waitFor("the announce's answer", () => log.lines.some((l) => l.includes("announced machineId=7")));
      expect(relay.channel.isOnline("m7@localhost")).toBe(true);

      const version = await relay.channel.request("m7@localhost", request("agentversion"), 5_000);
      expect(version).toMatchObject({ action: "resultagentversion", ret: 0, data: { version: expect.any(String), os: expect.any(String), arch: expect.any(String) } });
      const pong = await relay.channel.request("m7@localhost", request("ping"), 5_000);
      expect(pong).toMatchObject({ action: "resultping", ret: 0 });
      const mf = await relay.channel.request("m7@localhost", request("machinefacts"), 5_000);
      expect(mf.data).toEqual(facts);
      // An action the agent does not know: it answers with ret 404, and the reply reaches its request.
      const unknown = await relay.channel.request("m7@localhost", request("frobnicate"), 5_000);
      expect(unknown).toMatchObject({ action: "resultfrobnicate", ret: 404, data: { error: "unknown_action" } });

      relay.accounts.disable("m7");
      relay.channel.disconnect("m7@localhost", "banned");
      await waitFor("the refused login", () => log.lines.some((l) => l.includes("refused the agent's credentials")));
      expect(relay.channel.isOnline("m7@localhost")).toBe(false);
    } finally {
      stop.abort();
      await running;
    }
  }, 30_000);

  test("simulate: 200 agents online with TLS and SCRAM, spread over 127/8", async () => {
    const credentials = Array.from({ length: 200 }, (_, i) => ({ jid: `sim-${i + 1}@localhost`, password: `pw-${i + 1}` }));
    for (const c of credentials) relay.accounts.create(c.jid.split("@")[0]!, c.password, null, "agent");
    const summary = await simulate(
      { credentials, prefix: "sim", host: "127.0.0.1", port: listening.port, serverJid: relay.channel.serverJid, ca: certs.caCert, ratePerSec: 500, holdMs: 0, spread: process.platform === "linux", pingSamples: 1 },
      () => undefined,
      new AbortController().signal,
    );
    expect(summary).toMatchObject({ count: 200, online: 200, failed: 0, failures: {}, announced: 200, announceFailed: 0 });
    expect(summary.rttMs.samples).toBe(200);
    console.log(`agent-relay simulate: ${JSON.stringify(summary)}`);
  }, 60_000);
});
