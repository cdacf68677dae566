/**
 * @module scripts/bench/actions
 * A quick action sent to many simulated agents (issue 6): the time until every machine's
 * output is in, and the server's memory, beside the same fan-out done as bare XMPP
 * messages. The ratio is what the orchestration costs: the run and result rows in SQLite,
 * the per-relay concurrency limit, the history entry.
 *
 * The server is scripts/bench/actions/server.ts in its own process (the embedded relay,
 * the real runner of src/features/actions/runner.ts); the agents are the agent's
 * `simulate` mode in another process (real XMPP logins over STARTTLS with SCRAM), whose
 * sessions answer `runscript` without starting a program, so the figure is the server's
 * and the relay's, not /bin/sh's. Bare fan-out first, then the quick action, each over
 * every agent: two lines per size, e.g.
 *
 *   bench actions-5000-time-lower-better: … ms | bare-xmpp-fanout: … ms | ratio …
 *   bench actions-5000-peak-rss-lower-better: … MB | bare-xmpp-fanout: … MB | ratio …
 *
 * BENCH_ACTIONS_COUNT (default 5000), BENCH_ACTIONS_RATE (logins per second, default 150).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates } from "../../src/certs/index.ts";
import type { Report } from "../bench.ts";
import { killAll, spawnChild, waitQuiet, type Child } from "./xmpp/proc.ts";

const ROOT = join(import.meta.dir, "../..");
const DOMAIN = "localhost";
const PASSWORD = "bench-agent-password";
const note = (line: string) => process.stderr.write(`bench: actions: ${line}\n`);
const mb = (bytes: number) => bytes / 1048576;

export default async function actions(report: Report): Promise<void> {
  if (process.platform !== "linux") throw new Error("the actions suite reads /proc: Linux only");
  const n = Number(process.env.BENCH_ACTIONS_COUNT ?? 5000);
  const rate = Number(process.env.BENCH_ACTIONS_RATE ?? 150);
  if (!Number.isInteger(n) || n < 1 || n > 19_000) throw new Error("BENCH_ACTIONS_COUNT must be from 1 to 19000");
  const dir = mkdtempSync(join(tmpdir(), "medulla-bench-actions-"));
  let server: Child | undefined;
  let sim: Child | undefined;
  try {
    const certs = await ensureCertificates(join(dir, "certs"), { dns: [DOMAIN], ips: ["127.0.0.1"] });
    const files = { cert: join(dir, "chain.crt"), key: join(dir, "server.key"), ca: join(dir, "ca.pem") };
    writeFileSync(files.cert, certs.cert);
    writeFileSync(files.key, certs.key);
    writeFileSync(files.ca, certs.caCert);
    server = spawnChild([process.execPath, join(import.meta.dir, "actions", "server.ts"), "serve", "--dir", dir, "--cert", files.cert, "--key", files.key, "--count", String(n), "--password", PASSWORD, "--domain", DOMAIN], { label: "actions-server", cwd: ROOT });
    const { port } = JSON.parse(await server.waitLine((l) => l.includes('"listening"'), 120_000 + n * 20, "the server listening")) as { port: number };
    note(`${n} agents logging in at ${rate}/s`);
    sim = spawnChild(
      [process.execPath, "--preload", join(import.meta.dir, "actions", "simulate-guard.ts"), join(ROOT, "agent/main.ts"), "simulate", "--server", `127.0.0.1:${port}`, "--ca-file", files.ca, "--count", String(n), "--password", PASSWORD, "--domain", DOMAIN, "--server-jid", `medulla@${DOMAIN}`, "--rate", String(rate), "--spread", "auto", "--hold", "3600", "--pings", "0", "--timeout", "60"],
      { label: "simulate", cwd: ROOT },
    );
    // Logins go as fast as this (shared) machine allows: wait until all are online, or
    // until a minute passes without one more, then measure over those online.
    let online = 0;
    let lastGain = performance.now();
    const hardStop = performance.now() + 20 * 60_000;
    for (;;) {
      const now = (await server.command<{ online: number }>("online", 10_000)).online;
      if (now > online) [online, lastGain] = [now, performance.now()];
      if (online >= n) break;
      if (sim.proc.exitCode !== null) throw new Error(`simulate exited early:\n  ${sim.errTail.slice(-15).join("\n  ")}`);
      if (performance.now() - lastGain > 60_000 || performance.now() > hardStop) {
        note(`only ${online}/${n} agents came online; measuring over those`);
        break;
      }
      await Bun.sleep(1000);
    }
    if (online === 0) throw new Error("no agent came online");
    await waitQuiet([server.pid, sim.pid], { maxMs: 60_000 });
    const bare = await server.command<{ sent: number; answered: number; ms: number; peakRss: number }>("bare", 180_000);
    note(`bare fan-out: ${bare.answered}/${bare.sent} answered in ${bare.ms.toFixed(0)} ms, peak RSS ${mb(bare.peakRss).toFixed(1)} MB`);
    await waitQuiet([server.pid, sim.pid], { maxMs: 30_000 });
    const qa = await server.command<{ ms: number; peakRss: number; statuses: Record<string, number> }>("quickaction", 300_000);
    note(`quick action: ${JSON.stringify(qa.statuses)} in ${qa.ms.toFixed(0)} ms, peak RSS ${mb(qa.peakRss).toFixed(1)} MB`);
    if ((qa.statuses.done ?? 0) !== online) note(`warning: ${online - (qa.statuses.done ?? 0)} machines did not answer "done"`);
    const k = online;
    report({ name: `actions-${k}-time-lower-better`, value: qa.ms, unit: "ms", peer: { name: "bare-xmpp-fanout", value: bare.ms } });
    report({ name: `actions-${k}-peak-rss-lower-better`, value: mb(qa.peakRss), unit: "MB", peer: { name: "bare-xmpp-fanout", value: mb(bare.peakRss) } });
  } finally {
    if (sim) {
      sim.proc.kill("SIGINT");
      await sim.stop(60_000).catch(() => undefined);
    }
    if (server) {
      await server.command("stop", 20_000).catch(() => undefined);
      await server.stop(5_000).catch(() => undefined);
    }
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
