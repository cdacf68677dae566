/**
 * @module scripts/bench/actions/server
 * The appliance's quick-action machinery alone in a process, for the actions suite
 * (scripts/bench/actions.ts):
 *
 *   bun scripts/bench/actions/server.ts serve --dir DIR --cert PEM --key PEM --count N --password P [--domain localhost]
 *
 * Agent accounts `sim-1…N` are created by scripts/bench/xmpp/relay-server.ts's `create`
 * mode (two child processes), N machines rows bound to them, one super-administrator; then
 * the embedded relay listens with STARTTLS on 127.0.0.1 and answers `announce`. stdout is
 * JSON lines: `{"event":"listening","port":…}`, then one answer per stdin command:
 *
 *   online            how many agents are connected
 *   rss               resident set size
 *   bare              the bare fan-out: the same `runscript` envelope a quick action sends,
 *                     one `channel.request` per online agent, all at once; time until the last
 *                     answer, and the peak RSS meanwhile
 *   quickaction       the real thing: `runner.start` on the machines whose agent is online (a run row, a result row per machine,
 *                     the per-relay concurrency limit, each answer written to SQLite, one
 *                     history entry); time until `settled`, and the peak RSS meanwhile
 *   stop              exits
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { systemClock } from "../../../src/clock.ts";
import { openDatabase } from "../../../src/db/index.ts";
import { createEntitiesService } from "../../../src/features/entities/service.ts";
import { createRecorder } from "../../../src/features/history/service.ts";
import { createMachinesService } from "../../../src/features/machines/service.ts";
import { createRunner } from "../../../src/features/actions/runner.ts";
import { createLogger } from "../../../src/log.ts";
import { reply, request } from "../../../src/protocol/envelope.ts";
import { createRelay } from "../../../src/net/xmpp/relay.ts";
import { flag, parseArgs } from "../../../agent/src/args.ts";

const KNOWN = { values: ["dir", "cert", "key", "count", "password", "domain", "iterations", "per-relay"], booleans: [] };
const SCRIPT = "echo hello from $(hostname)";

function runPart(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dir, "..", "xmpp", "relay-server.ts"), "create", ...argv], { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`account creation exited with ${code}`))));
  });
}

/** Runs `fn`, sampling RSS every 20 ms; answers its time and the peak RSS seen. */
async function peak<T>(fn: () => Promise<T>): Promise<{ ms: number; peakRss: number; value: T }> {
  let max = process.memoryUsage().rss;
  const timer = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, peakRss: Math.max(max, process.memoryUsage().rss), value };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), KNOWN);
  const [dir, certFile, keyFile, password] = [flag(args, "dir"), flag(args, "cert"), flag(args, "key"), flag(args, "password")];
  if (!dir || !certFile || !keyFile || !password) throw new Error("server.ts needs --dir, --cert, --key and --password");
  const count = Number(flag(args, "count") ?? 0);
  const domain = flag(args, "domain") ?? "localhost";
  const iterations = Number(flag(args, "iterations") ?? 4096);
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

  const half = Math.ceil(count / 2);
  const parts = [join(dir, "a.db"), join(dir, "b.db")];
  const common = ["--domain", domain, "--prefix", "sim", "--password", password, "--iterations", String(iterations)];
  await Promise.all([
    runPart(["--db", parts[0]!, ...common, "--from", "1", "--to", String(half)]),
    runPart(["--db", parts[1]!, ...common, "--from", String(half + 1), "--to", String(count)]),
  ]);
  const db = openDatabase(join(dir, "medulla.db"));
  for (const part of parts) {
    db.run("ATTACH DATABASE ? AS part", [part]);
    db.run("INSERT INTO xmpp_accounts SELECT * FROM part.xmpp_accounts");
    db.run("DETACH DATABASE part");
  }
  const now = Date.now();
  const userId = (db.query("INSERT INTO users (login, password_hash, is_super, created_at, updated_at) VALUES ('bench', 'x', 1, ?, ?) RETURNING id").get(now, now) as { id: number }).id;
  const ids: number[] = [];
  db.transaction(() => {
    const insert = db.query("INSERT INTO machines (hostname, os, jid, created_at, updated_at) VALUES (?, 'linux', ?, ?, ?) RETURNING id");
    for (let i = 1; i <= count; i++) ids.push((insert.get(`sim-${i}`, `sim-${i}@${domain}`, now, now) as { id: number }).id);
  })();

  const log = createLogger({ level: "warn", dir: join(dir, "logs"), console: false });
  const relay = createRelay({ db, log, domain, iterations, limits: { exemptLoopback: true, maxConnections: Math.max(20_000, count + 1_000), negotiationTimeoutMs: 300_000 } });
  relay.channel.onMessage((from, env) => {
    if (env.action === "announce") relay.channel.send(from, reply(env, { machineId: 1 }));
  });
  const recorder = createRecorder(db);
  const entities = createEntitiesService({ db, clock: systemClock, recorder });
  const machines = createMachinesService({ db, clock: systemClock, recorder, entities });
  const perRelay = Number(flag(args, "per-relay") ?? 200);
  const runner = createRunner({ db, clock: systemClock, channel: relay.channel, machines, recorder, perRelay });
  const viewer = { id: userId, login: "bench", isSuper: true };

  const tls = { cert: await Bun.file(certFile).text(), key: await Bun.file(keyFile).text() };
  const listening = await relay.listen({ host: "127.0.0.1", port: 0, tls });
  out({ event: "listening", port: listening.port });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = line.trim();
    if (cmd === "online") out({ online: relay.channel.online().length });
    else if (cmd === "rss") out({ rss: process.memoryUsage().rss });
    else if (cmd === "bare") {
      const online = relay.channel.online();
      let answered = 0;
      const r = await peak(() =>
        Promise.all(online.map((jid) => relay.channel.request(jid, request("runscript", { interpreter: "shell", script: SCRIPT, os: "linux", timeoutSeconds: 300, maxOutputBytes: 32_000 }), 120_000).then((e) => void (e.ret === 0 && answered++), () => undefined))),
      );
      out({ sent: online.length, answered, ms: r.ms, peakRss: r.peakRss });
    } else if (cmd === "quickaction") {
      const r = await peak(async () => {
        // The machines whose agent is online (all of them once every login is done).
        const online = new Set(relay.channel.online());
        const targets = ids.filter((_, i) => online.has(`sim-${i + 1}@${domain}`));
        const runId = runner.start(viewer, { quickActionId: null, name: "bench", os: "linux", interpreter: "shell", script: SCRIPT, timeoutSeconds: 300 }, targets, "127.0.0.1");
        await runner.settled(runId);
        return runId;
      });
      const counts = db.query("SELECT status, COUNT(*) AS n FROM action_results WHERE run_id = ? GROUP BY status").all(r.value) as { status: string; n: number }[];
      out({ runId: r.value, ms: r.ms, peakRss: r.peakRss, statuses: Object.fromEntries(counts.map((c) => [c.status, c.n])) });
    } else if (cmd === "stop") break;
    else out({ error: `unknown command ${cmd}` });
  }
  await Promise.race([listening.stop(), Bun.sleep(10_000)]);
  db.close();
  out({ stopped: true });
  process.exit(0);
}

if (import.meta.main) {
  main().catch((e) => {
    process.stderr.write(`actions server: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
