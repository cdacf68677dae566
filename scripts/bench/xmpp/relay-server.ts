/**
 * @module scripts/bench/relay-server
 * Medulla's embedded XMPP relay alone in a process, for the xmpp suite (scripts/bench/xmpp.ts):
 *
 *   bun scripts/bench/relay-server.ts serve --dir DIR --cert PEM --key PEM --count N --password P
 *       [--domain localhost] [--prefix sim] [--iterations 4096] [--workers 2] [--port 0]
 *
 * It opens a SQLite database in DIR (src/db), creates the N agent accounts `<prefix>-1…N`
 * with the relay's accounts API (`relay.accounts.create`: one PBKDF2 derivation per hash and
 * account, random salt each, `--iterations` rounds; spread over `--workers` child processes,
 * each writing its own database file through the same API, then copied in with one
 * INSERT … SELECT), answers agents' `announce` the way the machines feature does (a
 * `resultannounce` with a machine id, nothing stored), and listens with STARTTLS on
 * 127.0.0.1. Its stdout is JSON lines: `{"event":"accounts","ms":…}`, then
 * `{"event":"listening","port":…}`, then one answer per control command read on stdin:
 *
 *   rss               its resident set size (and the JS heap's size)
 *   stats             relay.stats()
 *   gc                a full garbage collection, then rss
 *   heap              a full garbage collection, then process.memoryUsage() and the most
 *                     numerous JS object types (bun:jsc heapStats), to see where memory goes
 *   broadcast [ms]    a `ping` envelope to every online agent through `relay.channel.request`,
 *                     all sent in one go; each round trip runs from the request to the
 *                     agent's `resultping` reaching the channel: p50/p95/max and the time
 *                     until the last one answered
 *   stop              closes every stream and exits
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openDatabase } from "../../../src/db/index.ts";
import { createLogger } from "../../../src/log.ts";
import { reply, request } from "../../../src/protocol/envelope.ts";
import { createRelay } from "../../../src/net/xmpp/relay.ts";
import { flag, parseArgs } from "../../../agent/src/args.ts";
import { summarize } from "./proc.ts";

const KNOWN = { values: ["dir", "cert", "key", "count", "password", "domain", "prefix", "iterations", "workers", "port", "from", "to", "db"], booleans: [] };

function num(value: string | undefined, dflt: number): number {
  const n = Number(value ?? dflt);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${value}`);
  return n;
}

/** `create` mode: accounts from..to (inclusive, 1-based) into their own database file. */
function createPart(args: ReturnType<typeof parseArgs>): void {
  const db = openDatabase(flag(args, "db")!);
  const relay = createRelay({ db, log: createLogger({ level: "error", console: false }), domain: flag(args, "domain") ?? "localhost", iterations: num(flag(args, "iterations"), 4096) });
  const prefix = flag(args, "prefix") ?? "sim";
  const password = flag(args, "password")!;
  const [from, to] = [num(flag(args, "from"), 1), num(flag(args, "to"), 0)];
  // One transaction: the derivations dominate, the writes are nearly free inside it.
  db.transaction(() => {
    for (let i = from; i <= to; i++) relay.accounts.create(`${prefix}-${i}`, password, null, "agent");
  })();
  db.close();
}

function runPart(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.path, "create", ...argv], { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`account creation exited with ${code}`))));
  });
}

async function serve(args: ReturnType<typeof parseArgs>): Promise<void> {
  const dir = flag(args, "dir");
  const [certFile, keyFile, password] = [flag(args, "cert"), flag(args, "key"), flag(args, "password")];
  if (!dir || !certFile || !keyFile || !password) throw new Error("relay-server needs --dir, --cert, --key and --password");
  const count = num(flag(args, "count"), 0);
  const domain = flag(args, "domain") ?? "localhost";
  const prefix = flag(args, "prefix") ?? "sim";
  const iterations = num(flag(args, "iterations"), 4096);
  const workers = Math.max(1, num(flag(args, "workers"), 2));
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

  // Accounts first, in child processes: this process never holds their garbage, so its
  // idle RSS is that of a relay with N accounts on disk.
  const t0 = performance.now();
  const parts: string[] = [];
  const per = Math.ceil(count / workers);
  const jobs: Promise<void>[] = [];
  for (let w = 0; w < workers && w * per < count; w++) {
    const part = join(dir, `accounts-${w}.db`);
    parts.push(part);
    const common = ["--db", part, "--domain", domain, "--prefix", prefix, "--password", password, "--iterations", String(iterations)];
    jobs.push(runPart([...common, "--from", String(w * per + 1), "--to", String(Math.min(count, (w + 1) * per))]));
  }
  await Promise.all(jobs);
  const db = openDatabase(join(dir, "medulla.db"));
  for (const part of parts) {
    db.run("ATTACH DATABASE ? AS part", [part]);
    db.run("INSERT INTO xmpp_accounts SELECT * FROM part.xmpp_accounts");
    db.run("DETACH DATABASE part");
  }
  const stored = (db.query("SELECT count(*) AS n FROM xmpp_accounts").get() as { n: number }).n;
  out({ event: "accounts", count: stored, iterations, workers: parts.length, ms: Math.round(performance.now() - t0) });

  const log = createLogger({ level: "warn", dir: join(dir, "logs"), console: false });
  const relay = createRelay({
    db, log, domain, iterations,
    limits: {
      // Loopback is exempt from the per-address limit by default (and the simulator spreads
      // its sources over 127.0.0.0/8 anyway); room for every agent plus a margin.
      exemptLoopback: true,
      maxConnections: Math.max(20_000, count + 1_000),
      // 30 s by default, counted from TCP accept. Here one simulator process plays thousands
      // of machines, so under a ramp its own CPU is the queue a login waits in: the timer
      // would be measuring the client. Prosody's equivalent (c2s_timeout) defaults to 300 s.
      negotiationTimeoutMs: 300_000,
      // The negotiation gate keeps its defaults; BENCH_XMPP_GATE / BENCH_XMPP_SLOT_MS try others.
      ...(process.env.BENCH_XMPP_GATE ? { maxConcurrentNegotiations: Number(process.env.BENCH_XMPP_GATE) } : {}),
      ...(process.env.BENCH_XMPP_SLOT_MS ? { negotiationSlotMs: Number(process.env.BENCH_XMPP_SLOT_MS) } : {}),
    },
  });
  let machineId = 0;
  relay.channel.onMessage((from, env) => {
    if (env.action === "announce") relay.channel.send(from, reply(env, { machineId: ++machineId }));
  });
  const tls = { cert: await Bun.file(certFile).text(), key: await Bun.file(keyFile).text() };
  const listening = await relay.listen({ host: "127.0.0.1", port: num(flag(args, "port"), 0), tls });
  out({ event: "listening", port: listening.port });

  const memory = () => ({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed });
  const stop = async () => {
    await Promise.race([listening.stop(), Bun.sleep(10_000)]);
    db.close();
    out({ stopped: true });
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  const lines = createInterface({ input: process.stdin });
  lines.on("close", () => void stop());
  for await (const line of lines) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === "rss") out(memory());
    else if (cmd === "gc") {
      Bun.gc(true);
      out(memory());
    } else if (cmd === "heap") {
      Bun.gc(true);
      const { heapStats } = await import("bun:jsc");
      const types = Object.entries(heapStats().objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 25);
      out({ ...process.memoryUsage(), types: Object.fromEntries(types) });
    } else if (cmd === "stats") out({ ...relay.stats(), announced: machineId });
    else if (cmd === "broadcast") out(await broadcast(relay, num(arg, 60_000)));
    else if (cmd === "stop") return stop();
    else out({ error: `unknown command ${cmd}` });
  }
}

async function broadcast(relay: ReturnType<typeof createRelay>, timeoutMs: number) {
  const online = relay.channel.online();
  const rtts: number[] = [];
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    online.map((jid) => {
      const t0 = performance.now();
      return relay.channel.request(jid, request("ping"), timeoutMs).then(
        () => void rtts.push(performance.now() - t0),
        () => void failed++,
      );
    }),
  );
  return { sent: online.length, answered: rtts.length, failed, totalMs: performance.now() - started, rtts: summarize(rtts) };
}

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2), KNOWN);
  try {
    if (args.command === "create") createPart(args);
    else if (args.command === "serve") await serve(args);
    else throw new Error(`usage: relay-server.ts serve --dir DIR --cert PEM --key PEM --count N --password P`);
  } catch (e) {
    process.stderr.write(`relay-server: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  }
}

