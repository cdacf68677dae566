/**
 * @module agent/simulate
 * `medulla-agent simulate`: many agents in one process for the benchmark. Each is a real
 * XMPP connection (STARTTLS against the pinned CA, SCRAM, a bound resource) running the
 * same session code as a real agent: presence, announce with made-up facts, answers to
 * the server. Logins are ramped at a fixed rate; against a loopback target each
 * connection takes its own source address in 127.0.0.0/8 so tens of thousands of
 * connections do not exhaust one address's ephemeral ports. Ends with a JSON summary.
 */
import { VERSION } from "../../src/version.ts";
import type { Facts } from "./facts/index.ts";
import { createLogger, type Logger } from "./log.ts";
import { describeError, localPart, sleep } from "./run.ts";
import { AgentSession } from "./session.ts";
import { createXmppClient, DEFAULT_TIMEOUT_MS, xml } from "./xmpp/client.ts";
import { createLeanClient, type LeanClient } from "./xmpp/lean.ts";
import { MAX_ITERATIONS, MIN_ITERATIONS, saltedPassword } from "./xmpp/scram.ts";

export interface Credential {
  jid: string;
  password: string;
  /**
   * The account's SCRAM salt (base64) and iteration count, as an agent that logged in before
   * holds them in its key cache (RFC 5802 §5.1; xmpp/scram.ts `saltedPassword`). When given,
   * the simulator derives the key before its clock starts, so the logins it then times are
   * those of known agents coming back (a restart of the appliance): the same messages and
   * the same work for the server, without the simulator's PBKDF2 in the measured window.
   */
  scram?: { salt: string; iterations: number };
}

export interface SimulateOptions {
  credentials: Credential[];
  prefix: string;
  host: string;
  port: number;
  /** The XMPP domain; by default each JID's own. */
  domain?: string;
  /** Where announces go; none are sent when empty. */
  serverJid?: string;
  ca: string;
  ratePerSec: number;
  holdMs: number;
  spread: boolean;
  pingSamples: number;
  timeoutMs?: number;
  /**
   * Which XMPP client plays the agents: "lean" (xmpp/lean.ts, the default: the same wire
   * and checks at ~40% less CPU per login, so the simulator is not the bottleneck) or
   * "xmppjs" (the agent's own client, xmpp/client.ts).
   */
  client?: "lean" | "xmppjs";
  /**
   * Called once the keys of the credentials that carry a salt are derived, before the first
   * login; the ramp starts when it resolves (the benchmark starts every simulator at once).
   */
  ready?: () => Promise<void>;
}

export interface Percentiles {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SimulateSummary {
  count: number;
  online: number;
  failed: number;
  failures: Record<string, number>;
  durationMs: number;
  loginRatePerSec: number;
  loginMs: Percentiles;
  announced: number;
  announceFailed: number;
  rttMs: Percentiles;
}

/** Nearest-rank percentiles, rounded to 0.1 ms. */
export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! * 10) / 10 : 0);
  return { samples: s.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The i-th source address: 127.b.c.d with every octet in 1..254 (never .0 or .255). */
export function sourceAddress(i: number): string {
  const d = (i % 254) + 1;
  const c = (Math.floor(i / 254) % 254) + 1;
  const b = (Math.floor(i / (254 * 254)) % 254) + 1;
  return `127.${b}.${c}.${d}`;
}

/** Reads `[{ jid, password }]` (or `{ accounts: [...] }`) and checks every entry. */
export function parseCredentials(text: string): Credential[] {
  const doc = JSON.parse(text) as unknown;
  const list = Array.isArray(doc) ? doc : (doc as { accounts?: unknown })?.accounts;
  if (!Array.isArray(list)) throw new Error("the credentials file must hold a JSON array of { jid, password }");
  return list.map((c, i) => {
    const o = c as Record<string, unknown>;
    if (typeof o?.jid !== "string" || !o.jid.includes("@") || typeof o.password !== "string") throw new Error(`credentials entry ${i + 1} needs a jid (user@domain) and a password`);
    if (o.scram === undefined) return { jid: o.jid, password: o.password };
    const k = o.scram as Record<string, unknown> | null;
    const salt = typeof k?.salt === "string" ? k.salt : "";
    if (!/^[A-Za-z0-9+/]{4,1024}={0,2}$/.test(salt) || salt.length % 4 !== 0) throw new Error(`credentials entry ${i + 1}: scram.salt must be base64`);
    const iterations = k?.iterations;
    if (typeof iterations !== "number" || !Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)
      throw new Error(`credentials entry ${i + 1}: scram.iterations must be an integer in ${MIN_ITERATIONS}..${MAX_ITERATIONS}`);
    return { jid: o.jid, password: o.password, scram: { salt, iterations } };
  });
}

export function simulatedFacts(prefix: string, i: number): Facts {
  const n = i + 1;
  const mac = `02:00:${[n >>> 24, n >>> 16, n >>> 8, n].map((b) => (b & 0xff).toString(16).padStart(2, "0")).join(":")}`;
  return {
    agentId: `${prefix}-${n}`,
    agentVersion: VERSION,
    hostname: `${prefix}-${n}`,
    os: "linux",
    osName: "Simulated Linux",
    osVersion: "1",
    arch: "x64",
    ips: [sourceAddress(i)],
    macs: [mac],
    loggedUser: "",
    uptimeSeconds: 0,
  };
}

/**
 * Fills the SCRAM key cache for the credentials that carry their salt (SHA-256, what the
 * clients choose against our relay and Prosody), 64 derivations at a time.
 */
async function deriveKnownKeys(credentials: Credential[], progress: (line: string) => void, signal: AbortSignal): Promise<void> {
  const known = credentials.filter((c) => c.scram);
  if (!known.length) return;
  const t0 = performance.now();
  for (let k = 0; k < known.length && !signal.aborted; k += 64) {
    await Promise.all(known.slice(k, k + 64).map((c) => saltedPassword("SHA-256", c.password, Buffer.from(c.scram!.salt, "base64"), c.scram!.iterations)));
  }
  progress(`simulate: ${known.length} SCRAM keys derived in ${((performance.now() - t0) / 1000).toFixed(1)} s, before the clock (agents that logged in before)`);
}

interface SimAgent {
  client: LeanClient;
  session?: AgentSession;
  online: boolean;
}

export async function simulate(o: SimulateOptions, progress: (line: string) => void, signal: AbortSignal): Promise<SimulateSummary> {
  const quiet: Logger = createLogger("error", () => undefined);
  const agents: SimAgent[] = [];
  const failures: Record<string, number> = {};
  const loginMs: number[] = [];
  let online = 0;
  let failed = 0;
  let announced = 0;
  let announceFailed = 0;
  let lastLoginAt = 0;
  const announces: Promise<unknown>[] = [];
  await deriveKnownKeys(o.credentials, progress, signal);
  await o.ready?.();
  const started = performance.now();
  const ticker = setInterval(() => {
    const secs = (performance.now() - started) / 1000;
    progress(`simulate: ${online} online, ${failed} failed, ${agents.length}/${o.credentials.length} started, ${(online / Math.max(secs, 0.001)).toFixed(0)}/s`);
  }, 1000);

  const startOne = async (i: number, cred: Credential): Promise<void> => {
    const domain = o.domain ?? cred.jid.slice(cred.jid.indexOf("@") + 1);
    const options = {
      host: o.host,
      port: o.port,
      domain,
      username: localPart(cred.jid),
      password: cred.password,
      ca: o.ca,
      resource: `sim-${i + 1}`,
      localAddress: o.spread ? sourceAddress(i) : undefined,
      timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    // Both kinds offer what the simulator and the session use (start, ping, stop, entity).
    const client = o.client === "xmppjs" ? (createXmppClient(options) as unknown as LeanClient) : createLeanClient(options);
    const agent: SimAgent = { client, online: false };
    agents.push(agent);
    client.entity.on("error", () => undefined);
    client.entity.on("disconnect", () => {
      if (agent.online) online--;
      agent.online = false;
    });
    const t0 = performance.now();
    try {
      await client.start();
    } catch (e) {
      failed++;
      const reason = describeError(e).slice(0, 120);
      failures[reason] = (failures[reason] ?? 0) + 1;
      await client.stop(500);
      return;
    }
    loginMs.push(performance.now() - t0);
    lastLoginAt = performance.now();
    agent.online = true;
    online++;
    const facts = simulatedFacts(o.prefix, i);
    const ctx = { facts: async () => facts, version: { version: VERSION, os: "linux", arch: "x64" }, now: () => Date.now(), simulated: true };
    agent.session = new AgentSession({ client, serverJid: o.serverJid ?? "", ctx, log: quiet, heartbeatMs: 0, factsIntervalMs: 0 });
    await client.entity.send(xml("presence")).catch(() => undefined);
    if (o.serverJid) {
      announces.push(
        agent.session.announce(facts).then(
          () => announced++,
          () => announceFailed++,
        ),
      );
    }
  };

  const logins: Promise<void>[] = [];
  const interval = 1000 / Math.max(o.ratePerSec, 0.001);
  for (let i = 0; i < o.credentials.length && !signal.aborted; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait, signal);
    logins.push(startOne(i, o.credentials[i]!));
  }
  await Promise.all(logins);
  const loginWindowMs = Math.max(1, (lastLoginAt || performance.now()) - started);

  // Round trips of an XEP-0199 ping to the server, 100 connections at a time.
  const rtts: number[] = [];
  const live = agents.filter((a) => a.online);
  for (let s = 0; s < o.pingSamples && !signal.aborted; s++) {
    for (let k = 0; k < live.length; k += 100) {
      await Promise.all(live.slice(k, k + 100).map((a) => a.client.ping(o.timeoutMs ?? DEFAULT_TIMEOUT_MS).then((ms) => void rtts.push(ms), () => undefined)));
    }
  }
  await Promise.all(announces);
  if (o.holdMs > 0) await sleep(o.holdMs, signal);
  const summary: SimulateSummary = {
    count: o.credentials.length,
    online: agents.filter((a) => a.online).length,
    failed,
    failures,
    durationMs: Math.round(performance.now() - started),
    loginRatePerSec: Math.round((loginMs.length / (loginWindowMs / 1000)) * 10) / 10,
    loginMs: percentiles(loginMs),
    announced,
    announceFailed,
    rttMs: percentiles(rtts),
  };
  clearInterval(ticker);
  for (let k = 0; k < agents.length; k += 200) {
    await Promise.all(agents.slice(k, k + 200).map(async (a) => {
      a.session?.close("simulation over");
      a.online = false;
      await a.client.stop(1000);
    }));
  }
  return summary;
}
