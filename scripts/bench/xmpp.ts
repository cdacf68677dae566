/**
 * @module scripts/bench/xmpp
 * The embedded XMPP relay against Prosody, side by side on this machine, under the same
 * load from the same client: the agent's `simulate` mode (agent/main.ts) in its own process,
 * N real agents (STARTTLS against a test CA, SCRAM-SHA-256 with 4096 PBKDF2 rounds, a bound
 * resource, presence, one `announce` answered by the server's JID), logins ramped at
 * BENCH_XMPP_RATE per second, sources spread over 127.0.0.0/8. The agents are agents that
 * logged in before: their credentials carry the account's salt and the simulators derive
 * the keys (their cache, RFC 5802 §5.1) before the clock and the CPU counters start, all
 * simulators together (`--wait-go`): the servers' work is the same, the simulators' PBKDF2
 * no longer takes the shared CPU. Each server runs in its own process, one server at a time:
 *
 *   - ours: scripts/bench/xmpp/relay-server.ts (the relay, a SQLite database, `announce` answered
 *     in process);
 *   - Prosody 0.12 (Debian): a temporary config (scripts/bench/xmpp/prosody.ts) and, for the
 *     server's JID, a client bot in a third process (scripts/bench/xmpp/prosody-bot.ts).
 *
 * For each N in BENCH_XMPP_COUNTS (default 5000,10000) and each server, one bench line each:
 *   - login rate (the simulator's: logins / time from its start to the last login) and the
 *     time until all were online; logins that succeeded (and how many failed);
 *   - announces answered: each agent's `announce` to the server's JID must be answered within
 *     the agent's 30 s request timeout (during the ramp, so it shows how well the server's
 *     JID keeps up while logins go on);
 *   - with N online, N/5 more log in and the RSS they add is printed as a note, not a bench
 *     line: on our side it mostly measures heap left free by the login burst being reused
 *     (1.3 KiB per connection at 5,000), so it is no per-connection cost;
 *   - memory per connection: (RSS with N online − RSS idle) / N, both read from /proc once
 *     the processes are quiet; the bot's memory is not counted as Prosody's;
 *   - XEP-0199 ping round trip, client → server → client, one per connection, 100 in flight,
 *     measured by the simulator (p50, p90: what it reports);
 *   - broadcast: one `ping` envelope to every online agent, all sent at once by the server's
 *     JID, each round trip timed until that agent's `resultping` is back at the JID (p50,
 *     p95, and the time until the last). Ours: the relay's in-process AgentChannel. Prosody:
 *     the bot, a client connection, so its messages cross Prosody twice each way.
 *
 * Also the server's CPU time per login (Prosody's plus its bot's), which says more about the
 * server than the login rate does. The agents are split over BENCH_XMPP_CLIENTS simulator
 * processes (default 2): with one, the client was the bottleneck (it does the TLS and SCRAM
 * work of every agent on one core, about 3 ms per login against the relay's 1.2 ms).
 *
 * BENCH_XMPP_RATE (default 1000/s) is above what the two client processes and either server
 * sustain together on 2 cores (at 400/s the relay kept up and the line measured the ramp).
 * BENCH_XMPP_TIMEOUT (default 60 s) is the simulator's per-step timeout. The relay's
 * negotiation timeout is raised to Prosody's (relay-server.ts says why); Prosody's accept
 * backlog to the kernel's maximum (xmpp/prosody.ts). Account creation is timed apart.
 * BENCH_XMPP_SERVERS=medulla (or prosody) runs one side only (no comparison lines).
 * The CPU other processes used meanwhile is printed: this suite wants the machine to itself.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { ensureCertificates } from "../../src/certs/index.ts";
import type { SimulateSummary } from "../../agent/src/simulate.ts";
import type { Report } from "../bench.ts";
import { cpuTicks, killAll, machineBusyTicks, rssBytes, spawnChild, waitMachineQuiet, waitQuiet, type Child } from "./xmpp/proc.ts";
import { writeProsodyAccounts, writeProsodyConfig } from "./xmpp/prosody.ts";

const ROOT = join(import.meta.dir, "../..");
const DOMAIN = "localhost";
const PASSWORD = "bench-agent-password";
const BOT_PASSWORD = "bench-bot-password";
const ITERATIONS = 4096;
/** BENCH_XMPP_CLIENT=xmppjs plays the agents with the agent's own xmpp.js client instead of the lean one. */
const CLIENT = process.env.BENCH_XMPP_CLIENT === "xmppjs" ? "xmppjs" : "lean";
/** BENCH_XMPP_PROFILE=DIR: the relay and the simulators write Bun CPU profiles (markdown) there. */
const PROFILE = process.env.BENCH_XMPP_PROFILE ? [process.env.BENCH_XMPP_PROFILE_FORMAT === "json" ? "--cpu-prof" : `--cpu-prof-md`, `--cpu-prof-dir=${process.env.BENCH_XMPP_PROFILE}`] : [];

function envList(name: string, dflt: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return dflt;
  const list = raw.split(",").map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 19_000)) throw new Error(`${name} must be a list of counts from 1 to 19000`);
  return list;
}

function envNumber(name: string, dflt: number, min: number, max: number): number {
  const n = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return n;
}

const note = (line: string) => process.stderr.write(`bench: xmpp: ${line}\n`);
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

/** The kernel's count of connections dropped because a listen queue was full (machine-wide). */
function listenOverflows(): number {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"));
    const [names, values] = [lines[0]!.split(/\s+/), lines[1]!.split(/\s+/)];
    return Number(values[names.indexOf("ListenOverflows")] ?? 0);
  } catch {
    return 0;
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitListening(port: number, ms: number, isAlive: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error("the server exited before listening");
    if (performance.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms / 1000} s`);
    await Bun.sleep(50);
  }
}

interface Files {
  dir: string;
  cert: string;
  key: string;
  ca: string;
}

/** A running server under test: its process, where it listens, who plays the server's JID. */
interface Server {
  name: string;
  pid: number;
  port: number;
  serverJid: string;
  /** Where `broadcast` goes: the relay itself, or the bot. */
  control: Child;
  /** Extra processes to wait for when waiting for quiet. */
  helpers: number[];
  accountsMs: number;
  /** Each account's SCRAM salt (base64), for the simulators' key cache (`Credential.scram`). */
  salts: Map<string, string>;
  stop(): Promise<void>;
}

async function startOurs(files: Files, n: number): Promise<Server> {
  const dir = mkdtempSync(join(files.dir, "relay-"));
  const child = spawnChild([process.execPath, ...PROFILE, join(import.meta.dir, "xmpp", "relay-server.ts"), "serve", "--dir", dir, "--cert", files.cert, "--key", files.key, "--count", String(n), "--password", PASSWORD, "--domain", DOMAIN, "--iterations", String(ITERATIONS), "--workers", "2"], { label: "relay-server", cwd: ROOT });
  try {
    const accounts = JSON.parse(await child.waitLine((l) => l.includes('"accounts"'), 60_000 + n * 20, "the accounts")) as { ms: number; count: number };
    if (accounts.count !== n) throw new Error(`relay-server created ${accounts.count} accounts, not ${n}`);
    const { port } = JSON.parse(await child.waitLine((l) => l.includes('"listening"'), 30_000, "the listening port")) as { port: number };
    const salts = new Map<string, string>();
    {
      using db = new Database(join(dir, "medulla.db"), { readonly: true });
      for (const r of db.query("SELECT username, salt FROM xmpp_accounts").all() as { username: string; salt: Uint8Array }[]) salts.set(r.username, Buffer.from(r.salt).toString("base64"));
    }
    return {
      name: "medulla", pid: child.pid, port, serverJid: `medulla@${DOMAIN}`, control: child, helpers: [], accountsMs: accounts.ms, salts,
      async stop() {
        await child.command("stop", 20_000).catch(() => undefined);
        await child.stop(5_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await child.stop(2_000);
    throw e;
  }
}

async function startProsody(files: Files, n: number): Promise<Server> {
  const prosody = Bun.which("prosody");
  if (!prosody) throw new Error("prosody is not installed (apt-get install prosody)");
  const dir = mkdtempSync(join(files.dir, "prosody-"));
  const setup = { dir, port: await freePort(), domain: DOMAIN, certFile: files.cert, keyFile: files.key, logFile: join(dir, "prosody.log") };
  const cfg = writeProsodyConfig(setup);
  const t0 = performance.now();
  const accounts = Array.from({ length: n }, (_, i) => ({ username: `sim-${i + 1}`, password: PASSWORD }));
  const salts = writeProsodyAccounts(setup, [...accounts, { username: "medulla", password: BOT_PASSWORD }], ITERATIONS);
  const accountsMs = performance.now() - t0;
  const server = spawnChild([prosody, "--config", cfg], { label: "prosody", cwd: dir });
  let bot: Child | undefined;
  const stopAll = async () => {
    if (bot) await bot.command("stop", 5_000).catch(() => undefined);
    await bot?.stop(3_000);
    await server.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(setup.port, 20_000, () => server.proc.exitCode === null);
    bot = spawnChild([process.execPath, join(import.meta.dir, "xmpp", "prosody-bot.ts"), "run", "--port", String(setup.port), "--ca", files.ca, "--password", BOT_PASSWORD, "--domain", DOMAIN], { label: "prosody-bot", cwd: ROOT });
    await bot.waitLine((l) => l.includes('"online"'), 30_000, "the bot's login");
    return { name: "prosody", pid: server.pid, port: setup.port, serverJid: `medulla@${DOMAIN}`, control: bot, helpers: [bot.pid], accountsMs, salts, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

interface Run {
  server: string;
  n: number;
  accountsMs: number;
  idleRss: number;
  loadedRss: number;
  /** KiB per connection of `extra` more connections once N were online (a warm server). */
  marginalKiB: number;
  /** CPU seconds used during the logins (start of the simulator to all logins done). */
  cpu: { server: number; client: number; helpers: number; others: number; seconds: number };
  summary: SimulateSummary;
  broadcast: { sent: number; answered: number; failed: number; totalMs: number; rtts: { samples: number; p50: number; p95: number; max: number } };
}

/**
 * With N agents online and the server quiet, `extra` more log in (accounts N+1…N+extra, one
 * more simulator process); the RSS they add, per connection, once quiet again. They log off
 * before the broadcast, so it still goes to N agents.
 */
async function marginal(files: Files, server: Server, n: number, extra: number, rate: number, timeoutS: number, before: number): Promise<number> {
  const credFile = join(files.dir, "credentials-extra.json");
  writeFileSync(credFile, JSON.stringify(Array.from({ length: extra }, (_, i) => credential(server, n + i + 1))));
  let done = 0;
  const sim = spawnChild(
    [process.execPath, "--preload", join(import.meta.dir, "xmpp", "simulate-guard.ts"), join(ROOT, "agent/main.ts"), "simulate", "--server", `127.0.0.1:${server.port}`, "--ca-file", files.ca, "--credentials", credFile, "--prefix", "extra", "--domain", DOMAIN, "--server-jid", server.serverJid, "--rate", String(rate / 2), "--spread", "auto", "--hold", "3600", "--pings", "0", "--timeout", String(timeoutS), "--client", CLIENT],
    {
      label: "simulate-extra", cwd: ROOT,
      onErr(line) {
        const m = /simulate: (\d+) online, (\d+) failed, (\d+)\/\d+ started/.exec(line);
        if (m && Number(m[3]) === extra) done = Number(m[1]) + Number(m[2]);
      },
    },
  );
  try {
    const deadline = performance.now() + 60_000 + extra * 40;
    while (done < extra) {
      if (sim.proc.exitCode !== null) throw new Error(`the extra simulator exited early (${sim.proc.exitCode})`);
      if (performance.now() > deadline) throw new Error("the extra logins did not finish in time");
      await Bun.sleep(200);
    }
    await waitQuiet([server.pid, sim.pid, ...server.helpers], { maxMs: 60_000 });
    const after = rssBytes(server.pid);
    note(`${server.name} ${n}: ${extra} more connections on a warm server: RSS ${mb(before)} → ${mb(after)} MB`);
    sim.proc.kill("SIGINT");
    await sim.waitLine((l) => l.startsWith("{"), 120_000, "the extra simulator's summary");
    return (after - before) / extra / 1024;
  } finally {
    await sim.stop(60_000);
    await waitQuiet([server.pid, ...server.helpers], { maxMs: 30_000 });
  }
}

/** Throws with its last stderr lines when a simulator has exited before its work was done. */
function checkAlive(sims: Child[]): void {
  const dead = sims.find((c) => c.proc.exitCode !== null);
  if (dead) throw new Error(`simulate exited early (${dead.proc.exitCode}):\n  ${dead.errTail.slice(-25).join("\n  ")}`);
}

/** Agent `sim-i`'s credentials, with its salt: an agent that logged in before (agent/src/simulate.ts `Credential.scram`). */
function credential(server: Server, i: number) {
  const salt = server.salts.get(`sim-${i}`);
  if (!salt) throw new Error(`${server.name} has no salt for sim-${i}`);
  return { jid: `sim-${i}@${DOMAIN}`, password: PASSWORD, scram: { salt, iterations: ITERATIONS } };
}

async function measure(files: Files, n: number, start: typeof startOurs, rate: number, timeoutS: number, clients: number): Promise<Run> {
  // Each side starts on an idle machine if it can be had soon.
  const busy = await waitMachineQuiet({ maxMs: 15_000 });
  if (busy >= 0.2) note(`the machine is busy with other work (${busy.toFixed(2)} cores) and did not calm down within 15 s; measuring anyway`);
  // A fifth more accounts than agents: once the N are online, `extra` more log in, and the
  // memory they add is the marginal cost of a connection on a warm server.
  const extra = Math.max(1, Math.round(n / 5));
  const server = await start(files, n + extra);
  const sims: Child[] = [];
  try {
    await waitQuiet([server.pid, ...server.helpers], { maxMs: 10_000 });
    const idleRss = rssBytes(server.pid);
    note(`${server.name} ${n}: accounts in ${(server.accountsMs / 1000).toFixed(1)} s, idle RSS ${mb(idleRss)} MB, port ${server.port}`);

    const cpuAt = () => ({ server: cpuTicks(server.pid), client: sims.reduce((t, c) => t + cpuTicks(c.pid), 0), helpers: server.helpers.reduce((t, p) => t + cpuTicks(p), 0), machine: machineBusyTicks(), at: performance.now() });
    let ready = 0;
    // The agents are split over `clients` processes (accounts by index: agent i goes to
    // process i mod clients): one process doing every agent's TLS and SCRAM on one core is
    // the bottleneck otherwise, and the rates would measure the client.
    const progress = Array.from({ length: clients }, () => ({ online: 0, failed: 0, started: 0 }));
    let lastNote = 0;
    for (let c = 0; c < clients; c++) {
      const mine = Array.from({ length: n }, (_, i) => i).filter((i) => i % clients === c).map((i) => credential(server, i + 1));
      const credFile = join(files.dir, `credentials-${c}.json`);
      writeFileSync(credFile, JSON.stringify(mine));
      const child = spawnChild(
        [process.execPath, ...PROFILE, "--preload", join(import.meta.dir, "xmpp", "simulate-guard.ts"), join(ROOT, "agent/main.ts"), "simulate", "--server", `127.0.0.1:${server.port}`, "--ca-file", files.ca, "--credentials", credFile, "--prefix", `sim${c}`, "--domain", DOMAIN, "--server-jid", server.serverJid, "--rate", String(rate / clients), "--spread", "auto", "--hold", "3600", "--pings", "1", "--timeout", String(timeoutS), "--client", CLIENT, "--wait-go"],
        {
          label: `simulate-${c}`, cwd: ROOT,
          onErr(line) {
            if (line === "simulate: ready") ready++;
            else if (line.includes("SCRAM keys derived")) note(`${server.name} ${n}: ${line}`);
            if (line.startsWith("simulate-guard:")) note(`${server.name} ${n}: ${line}`);
            const m = /simulate: (\d+) online, (\d+) failed, (\d+)\/\d+ started/.exec(line);
            if (!m) return;
            progress[c] = { online: Number(m[1]), failed: Number(m[2]), started: Number(m[3]) };
            if (performance.now() - lastNote > 10_000) {
              lastNote = performance.now();
              const t = total();
              note(`${server.name} ${n}: ${t.online} online, ${t.failed} failed, ${t.started}/${n} started`);
            }
          },
        },
      );
      sims.push(child);
    }
    // The simulators derive their agents' keys first (not timed); the clock and the CPU
    // counters start when all are ready, and they start together.
    const readyBy = performance.now() + 120_000 + n * 5;
    while (ready < clients) {
      checkAlive(sims);
      if (performance.now() > readyBy) throw new Error(`the simulators did not get ready in time (${ready} of ${clients})`);
      await Bun.sleep(50);
    }
    const cpu0 = cpuAt();
    const overflows0 = listenOverflows();
    for (const sim of sims) {
      sim.proc.stdin.write("go\n");
      sim.proc.stdin.flush();
    }
    const total = () => progress.reduce((t, p) => ({ online: t.online + p.online, failed: t.failed + p.failed, started: t.started + p.started }), { online: 0, failed: 0, started: 0 });
    // Every login has succeeded or failed; then the simulators ping and the announces settle.
    const deadline = performance.now() + 60_000 + n * 40 + (n / rate) * 1000;
    for (let t = total(); !(t.started === n && t.online + t.failed >= n); t = total()) {
      checkAlive(sims);
      if (performance.now() > deadline) throw new Error(`logins not done in time: ${JSON.stringify(t)}`);
      await Bun.sleep(200);
    }
    const cpu1 = cpuAt();
    const cpu = { server: (cpu1.server - cpu0.server) / 100, client: (cpu1.client - cpu0.client) / 100, helpers: (cpu1.helpers - cpu0.helpers) / 100, others: 0, seconds: (cpu1.at - cpu0.at) / 1000 };
    // Whatever else ran on the machine meanwhile (the benchmark does not own it).
    cpu.others = Math.max(0, (cpu1.machine - cpu0.machine) / 100 - cpu.server - cpu.client - cpu.helpers);
    await waitQuiet([server.pid, ...sims.map((c) => c.pid), ...server.helpers], { maxMs: 60_000 });
    const loadedRss = rssBytes(server.pid);
    const overflows = listenOverflows() - overflows0;
    if (overflows) note(`${server.name} ${n}: the kernel dropped ${overflows} connections on full listen queues during the logins`);
    if (server.name === "medulla") note(`${server.name} ${n}: ${JSON.stringify(await server.control.command("stats", 10_000))}`);

    const marginalRss = await marginal(files, server, n, extra, rate, timeoutS, loadedRss);

    const broadcast = await server.control.command<Run["broadcast"]>("broadcast 60000", 90_000);
    if (server.name === "medulla") {
      const gc = await server.control.command<{ rss: number; heapUsed: number }>("gc", 30_000);
      note(`${server.name} ${n}: after a full GC (post-broadcast): RSS ${mb(gc.rss)} MB, JS heap used ${mb(gc.heapUsed)} MB`);
    }
    note(`${server.name} ${n}: loaded RSS ${mb(loadedRss)} MB; broadcast ${broadcast.answered}/${broadcast.sent} answered, all in ${broadcast.totalMs.toFixed(0)} ms`);

    // SIGINT ends the hold: each simulator prints its summary and closes its connections.
    for (const c of sims) c.proc.kill("SIGINT");
    const summaries: SimulateSummary[] = [];
    for (const c of sims) {
      summaries.push(JSON.parse(await c.waitLine((l) => l.startsWith("{"), 180_000, "a simulator's summary")) as SimulateSummary);
      await c.stop(120_000);
    }
    return { server: server.name, n, accountsMs: server.accountsMs, idleRss, loadedRss, marginalKiB: marginalRss, cpu, summary: mergeSummaries(summaries), broadcast };
  } finally {
    for (const c of sims) await c.stop(10_000);
    await server.stop();
  }
}

/**
 * One summary for the agents of several simulator processes started together: counts add
 * up; the login rate is all logins over the longest login window; percentiles are not
 * mergeable exactly from summaries: p50 is the sample-weighted mean of the processes' p50s,
 * the upper ones the worst process's (conservative).
 */
export function mergeSummaries(list: SimulateSummary[]): SimulateSummary {
  if (list.length === 1) return list[0]!;
  const sum = (f: (s: SimulateSummary) => number) => list.reduce((t, s) => t + f(s), 0);
  const merge = (f: (s: SimulateSummary) => SimulateSummary["loginMs"]) => {
    const samples = sum((s) => f(s).samples);
    const worst = (k: "p90" | "p99" | "max") => Math.max(...list.map((s) => f(s)[k]));
    return { samples, p50: samples ? Math.round((sum((s) => f(s).p50 * f(s).samples) / samples) * 10) / 10 : 0, p90: worst("p90"), p99: worst("p99"), max: worst("max") };
  };
  const windowS = Math.max(...list.map((s) => (s.loginRatePerSec ? s.loginMs.samples / s.loginRatePerSec : 0)));
  const failures: Record<string, number> = {};
  for (const s of list) for (const [k, v] of Object.entries(s.failures)) failures[k] = (failures[k] ?? 0) + v;
  const loginMs = merge((s) => s.loginMs);
  return {
    count: sum((s) => s.count), online: sum((s) => s.online), failed: sum((s) => s.failed), failures,
    durationMs: Math.max(...list.map((s) => s.durationMs)),
    loginRatePerSec: windowS ? Math.round((loginMs.samples / windowS) * 10) / 10 : 0,
    loginMs, announced: sum((s) => s.announced), announceFailed: sum((s) => s.announceFailed), rttMs: merge((s) => s.rttMs),
  };
}

function reportPair(report: Report, n: number, ours: Run, peer: Run): void {
  const name = (what: string) => `xmpp-${n}-${what}`;
  const allOnline = (r: Run) => (r.summary.loginRatePerSec ? r.summary.loginMs.samples / r.summary.loginRatePerSec : NaN);
  const perConn = (r: Run) => (r.loadedRss - r.idleRss) / Math.max(1, r.summary.loginMs.samples) / 1024;
  const loginsUnit = (r: Run) => `of ${r.n} logins ok (${r.summary.failed} failed)`;
  report({ name: name("login-rate"), value: ours.summary.loginRatePerSec, unit: "logins/s", peer: { name: "prosody", value: peer.summary.loginRatePerSec } });
  report({ name: name("all-online-lower-better"), value: allOnline(ours), unit: "s", peer: { name: "prosody", value: allOnline(peer) } });
  report({ name: name("logins-ok"), value: ours.summary.loginMs.samples, unit: loginsUnit(ours), peer: { name: "prosody", value: peer.summary.loginMs.samples, unit: loginsUnit(peer) } });
  report({ name: name("announces-answered"), value: ours.summary.announced, unit: `of ${ours.summary.loginMs.samples} within 30 s`, peer: { name: "prosody+bot", value: peer.summary.announced, unit: `of ${peer.summary.loginMs.samples} within 30 s` } });
  const cpuPerLogin = (r: Run) => ((r.cpu.server + r.cpu.helpers) * 1000) / Math.max(1, r.summary.loginMs.samples);
  report({ name: name("server-cpu-per-login-lower-better"), value: cpuPerLogin(ours), unit: "ms", peer: { name: "prosody+bot", value: cpuPerLogin(peer) } });
  report({ name: name("memory-per-connection-lower-better"), value: perConn(ours), unit: "KiB", peer: { name: "prosody", value: perConn(peer) } });
  report({ name: name("xep0199-ping-p50-lower-better"), value: ours.summary.rttMs.p50, unit: "ms", peer: { name: "prosody", value: peer.summary.rttMs.p50 } });
  report({ name: name("xep0199-ping-p90-lower-better"), value: ours.summary.rttMs.p90, unit: "ms", peer: { name: "prosody", value: peer.summary.rttMs.p90 } });
  report({ name: name("broadcast-rtt-p50-lower-better"), value: ours.broadcast.rtts.p50, unit: "ms", peer: { name: "prosody+bot", value: peer.broadcast.rtts.p50 } });
  report({ name: name("broadcast-rtt-p95-lower-better"), value: ours.broadcast.rtts.p95, unit: "ms", peer: { name: "prosody+bot", value: peer.broadcast.rtts.p95 } });
  report({ name: name("broadcast-all-answered-lower-better"), value: ours.broadcast.totalMs, unit: "ms", peer: { name: "prosody+bot", value: peer.broadcast.totalMs } });
}

function describe(r: Run): string {
  const s = r.summary;
  const busy = r.cpu.seconds > 0 ? r.cpu.others / r.cpu.seconds : 0;
  const warning = busy > 0.2 ? ` [other processes kept ${busy.toFixed(2)} cores busy during the logins: these numbers are perturbed]` : "";
  return `${r.server} ${r.n}: ${s.loginMs.samples} logins in ${(s.loginMs.samples / (s.loginRatePerSec || 1)).toFixed(1)} s (${s.loginRatePerSec}/s, login p50 ${s.loginMs.p50} ms, p99 ${s.loginMs.p99} ms), ${s.failed} failed${s.failed ? ` ${JSON.stringify(s.failures)}` : ""}; announced ${s.announced} (${s.announceFailed} failed); CPU during the logins: server ${r.cpu.server.toFixed(1)} s, client ${r.cpu.client.toFixed(1)} s${r.cpu.helpers ? `, bot ${r.cpu.helpers.toFixed(1)} s` : ""}, other processes ${r.cpu.others.toFixed(1)} s; accounts ${(r.accountsMs / 1000).toFixed(1)} s; RSS ${mb(r.idleRss)} → ${mb(r.loadedRss)} MB; ping p50 ${s.rttMs.p50} ms (${s.rttMs.samples} samples); broadcast ${r.broadcast.answered}/${r.broadcast.sent}, p50 ${r.broadcast.rtts.p50?.toFixed(1)} ms, p95 ${r.broadcast.rtts.p95?.toFixed(1)} ms${warning}`;
}

export default async function xmpp(report: Report): Promise<void> {
  const counts = envList("BENCH_XMPP_COUNTS", [5000, 10000]);
  const rate = envNumber("BENCH_XMPP_RATE", 1000, 1, 100_000);
  const timeoutS = envNumber("BENCH_XMPP_TIMEOUT", 60, 1, 600);
  const clients = envNumber("BENCH_XMPP_CLIENTS", 2, 1, 8);
  // For a quick look at one side: BENCH_XMPP_SERVERS=prosody (no comparison lines then).
  const servers = (process.env.BENCH_XMPP_SERVERS ?? "medulla,prosody").split(",").map((s) => s.trim());
  if (process.platform !== "linux") throw new Error("the xmpp suite reads /proc and spreads sources over 127.0.0.0/8: Linux only");
  const dir = mkdtempSync(join(tmpdir(), "medulla-bench-xmpp-"));
  // Interrupted: no server, bot or simulator (which holds its connections for an hour) is left.
  const interrupted = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  process.once("exit", killAll);
  try {
    const certs = await ensureCertificates(join(dir, "certs"), { dns: [DOMAIN], ips: ["127.0.0.1"] });
    const files: Files = { dir, cert: join(dir, "chain.crt"), key: join(dir, "server.key"), ca: join(dir, "ca.pem") };
    writeFileSync(files.cert, certs.cert);
    writeFileSync(files.key, certs.key);
    writeFileSync(files.ca, certs.caCert);
    note(`counts ${counts.join(", ")}, ramp ${rate}/s, client timeout ${timeoutS} s, SCRAM-SHA-256 ${ITERATIONS} rounds, ${clients} simulate process(es) with the ${CLIENT} client, 2 cores shared by clients and server`);
    for (const n of counts) {
      const runs: Partial<Record<"medulla" | "prosody", Run>> = {};
      for (const [key, start] of [["medulla", startOurs], ["prosody", startProsody]] as const) {
        if (!servers.includes(key)) continue;
        try {
          runs[key] = await measure(files, n, start, rate, timeoutS, clients);
          note(describe(runs[key]!));
        } catch (e) {
          note(`${key} ${n}: not measured: ${(e as Error).message}`);
        }
      }
      if (runs.medulla && runs.prosody) reportPair(report, n, runs.medulla, runs.prosody);
      else note(`${n}: no comparison for this count (see above)`);
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    process.off("exit", killAll);
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
