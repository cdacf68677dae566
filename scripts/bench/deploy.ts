/**
 * @module scripts/bench/deploy
 * A package's transfer at fleet scale: a 100 MB package pulled at once by 200 simulated
 * agents over HTTPS from the appliance's agent file route (HTTP basic auth with each
 * agent's own account, the "may this machine fetch this file" check, the store lookup),
 * each agent hashing the bytes with SHA-256 and discarding them (the disk here is small).
 * Measured: the wall time for all of them, and the appliance process's CPU time (it runs
 * in a child process: scripts/bench/deploy-server.ts); beside the same bytes served as a
 * plain static file over HTTPS to the same clients (the peer). When a bandwidth limit is
 * set (`BENCH_DEPLOY_KBPS`), each client paces itself as the agent does and the wall time
 * is printed beside the limit's theoretical time.
 * `BENCH_DEPLOY_MB` (default 100) and `BENCH_DEPLOY_AGENTS` (default 200) scale it down.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pacer } from "../../agent/src/deploy/transfer.ts";
import type { Report } from "../bench.ts";

const MB = Number(process.env.BENCH_DEPLOY_MB ?? 100);
const AGENTS = Number(process.env.BENCH_DEPLOY_AGENTS ?? 200);
const KBPS = Number(process.env.BENCH_DEPLOY_KBPS ?? 0);
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

let resumed = 0;

/** One agent's pull, hashing and discarding; a cut connection resumes with a Range, as the agent does. */
async function pull(url: string, headers: Record<string, string>, ca: string, expect: string, size: number, kbps: number): Promise<void> {
  const hasher = new Bun.CryptoHasher("sha256");
  const pacer = new Pacer(kbps);
  const never = new AbortController().signal;
  let got = 0;
  for (let attempt = 1; got < size; attempt++) {
    try {
      const res = await fetch(url, { headers: got > 0 ? { ...headers, range: `bytes=${got}-` } : headers, tls: { ca } });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
      if (got > 0 && res.status !== 206) throw new Error(`${url}: no range support`);
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        hasher.update(r.value);
        got += r.value.byteLength;
        await pacer.take(r.value.byteLength, never);
      }
    } catch (e) {
      if (attempt >= 5 || String(e).includes("HTTP")) throw e;
      resumed++;
    }
  }
  const digest = hasher.digest("hex");
  if (digest !== expect) throw new Error(`${url}: SHA-256 ${digest} is not ${expect}`);
}

export default async function deploy(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "medulla-bench-deploy-"));
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "deploy-server.ts"), dir, String(MB), String(AGENTS), String(KBPS)], { stdout: "pipe", stderr: "inherit" });
  try {
    const reader = child.stdout.getReader();
    let line = "";
    while (!line.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error("the bench appliance exited before it was ready");
      line += new TextDecoder().decode(r.value);
    }
    const info = JSON.parse(line.trim()) as { url: string; plain: string; sha256: string; size: number; creds: { jid: string; password: string }[]; ca: string };
    const ca = readFileSync(info.ca, "utf8");
    const auth = (c: { jid: string; password: string }) => ({ authorization: `Basic ${Buffer.from(`${c.jid}:${c.password}`).toString("base64")}` });
    // Warm-up: every agent's password checked once (the appliance remembers it for minutes,
    // as it does for a real agent's repeated requests); one small range each.
    await Promise.all(info.creds.map((c) => fetch(`${info.url}/api/v1/agents/files/${info.sha256}`, { headers: { ...auth(c), range: "bytes=0-0" }, tls: { ca } }).then((r) => r.arrayBuffer())));
    // The same for the peer: its connections opened before the clock starts.
    await Promise.all(info.creds.map(() => fetch(info.plain, { headers: { range: `bytes=${info.size - 1}-` }, tls: { ca } }).then((r) => r.arrayBuffer())));

    const run = async (urlOf: (i: number) => string, headersOf: (i: number) => Record<string, string>) => {
      const cpu0 = cpuSeconds(child.pid);
      const t0 = performance.now();
      resumed = 0;
      await Promise.all(info.creds.map((_, i) => pull(urlOf(i), headersOf(i), ca, info.sha256, info.size, KBPS)));
      return { seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds(child.pid) - cpu0, resumed };
    };
    const ours = await run(() => `${info.url}/api/v1/agents/files/${info.sha256}`, (i) => auth(info.creds[i]!));
    const plain = await run(() => info.plain, () => ({}));
    const label = `${MB} MB to ${AGENTS} agents`;
    if (ours.resumed + plain.resumed > 0) console.error(`deploy bench: transfers cut and resumed: ${ours.resumed} (appliance), ${plain.resumed} (plain)`);
    report({ name: `deploy pull ${label}, wall time-lower-better`, value: ours.seconds, unit: "s", peer: { name: "plain static HTTPS", value: plain.seconds } });
    report({ name: `deploy pull ${label}, appliance CPU-lower-better`, value: ours.cpu, unit: "CPU s", peer: { name: "plain static HTTPS", value: plain.cpu } });
    if (KBPS > 0) {
      const theoretical = (info.size * 8) / (KBPS * 1000);
      report({ name: `deploy pull ${label} at ${KBPS} kbit/s, wall time-lower-better`, value: ours.seconds, unit: "s", peer: { name: "bandwidth limit's theoretical time", value: theoretical } });
    }
  } finally {
    child.kill();
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
