/**
 * @module scripts/bench/tftp
 * Our TFTP server beside dnsmasq's, in the same run (issue 8), with atftp as the client,
 * over loopback in a network namespace this suite creates and removes (`nbbench`: both
 * servers need UDP 69 there, dnsmasq has no other port; root only):
 *   - a 50 MB file, block size 1468, one block at a time;
 *   - the same with windowsize 16 (RFC 7440; dnsmasq ignores the option, so it runs one
 *     block at a time: the ratio is the gain of windows);
 *   - 50 transfers at once of a 10 MB file each (windowsize 16): total throughput, and
 *     failures (an atftp exit code other than 0, or a short file), summed over the runs.
 * Runs alternate between the two servers (this machine's load varies a lot); each figure is
 * the median of 5 runs (3 for the concurrent one); MB = 10^6 bytes.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, type Report } from "../bench.ts";

const NS = "nbbench";
const OURS = "127.0.0.2";
const DNSMASQ = "127.0.0.1";
const BIG = 50_000_000;
const SMALL = 10_000_000;
const CONCURRENT = 50;

function sh(cmd: string[], allowFail = false): void {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !allowFail) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}
const inNs = (...cmd: string[]) => ["ip", "netns", "exec", NS, ...cmd];

async function atftp(address: string, file: string, out: string, window: boolean): Promise<boolean> {
  const opts = ["--option", "blksize 1468", ...(window ? ["--option", "windowsize 16"] : [])];
  const p = Bun.spawn(inNs("atftp", ...opts, "-g", "-r", file, "-l", out, address, "69"), { stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 120_000);
  const code = await p.exited;
  clearTimeout(timer);
  return code === 0 && (out === "/dev/null" || statSync(out).size === statSync(join(rootDir, file)).size);
}

let rootDir = "";

/** MB/s of one transfer of big.bin from each server, alternating (ours, dnsmasq, ours, …) so that the machine's load weighs on both alike; medians. */
async function pair(window: boolean, out: string, runs = 5): Promise<{ ours: number; dnsmasq: number }> {
  const rates = { ours: [] as number[], dnsmasq: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const [who, address] of [["ours", OURS], ["dnsmasq", DNSMASQ]] as const) {
      const start = performance.now();
      if (!(await atftp(address, "big.bin", out, window))) throw new Error(`atftp from ${who} failed`);
      rates[who].push(BIG / 1e6 / ((performance.now() - start) / 1000));
    }
  }
  return { ours: median(rates.ours), dnsmasq: median(rates.dnsmasq) };
}

async function concurrent(address: string): Promise<{ rate: number; failures: number }> {
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => atftp(address, "small.bin", "/dev/null", true)));
  const seconds = (performance.now() - start) / 1000;
  const ok = results.filter(Boolean).length;
  return { rate: (ok * SMALL) / 1e6 / seconds, failures: CONCURRENT - ok };
}

export default async function tftp(report: Report): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("needs root (a network namespace, UDP port 69 for both servers)");
  for (const tool of ["/usr/sbin/dnsmasq", "/usr/bin/atftp"]) if (!Bun.file(tool).size) throw new Error(`${tool} missing: apt install dnsmasq-base atftp`);
  const dir = mkdtempSync(join(tmpdir(), "nb-bench-"));
  rootDir = join(dir, "root");
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  try {
    chmodSync(dir, 0o755);
    Bun.spawnSync(["mkdir", "-m", "755", rootDir]);
    writeFileSync(join(rootDir, "big.bin"), randomBytes(BIG));
    writeFileSync(join(rootDir, "small.bin"), randomBytes(SMALL));
    sh(["ip", "netns", "del", NS], true);
    sh(["ip", "netns", "add", NS]);
    sh(inNs("ip", "link", "set", "lo", "up"));
    sh(inNs("ip", "addr", "add", `${OURS}/8`, "dev", "lo"), true);
    procs.push(Bun.spawn(inNs("/usr/sbin/dnsmasq", "--keep-in-foreground", "--port=0", "--enable-tftp", `--tftp-root=${rootDir}`, `--listen-address=${DNSMASQ}`, "--bind-interfaces", "--tftp-max=200", "--quiet-tftp", "--user=root", "--log-facility=-", `--pid-file=${join(dir, "dnsmasq.pid")}`), { stdout: "ignore", stderr: "pipe" }));
    const ours = Bun.spawn(inNs(process.execPath, join(import.meta.dir, "tftp", "serve.ts"), rootDir, OURS, "69"), { stdout: "pipe", stderr: "inherit" });
    procs.push(ours);
    const reader = (ours.stdout as ReadableStream<Uint8Array>).getReader();
    const first = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => null)]);
    if (!first || !new TextDecoder().decode(first.value).startsWith("ready")) throw new Error("our TFTP server did not start");
    await Bun.sleep(300); // dnsmasq binds quickly; give it a moment

    const out = join(dir, "out.bin");
    const plain = await pair(false, out);
    report({ name: "tftp-50MB-atftp-blksize1468", value: plain.ours, unit: "MB/s", peer: { name: "dnsmasq", value: plain.dnsmasq } });
    const win = await pair(true, out);
    report({ name: "tftp-50MB-atftp-blksize1468-windowsize16", value: win.ours, unit: "MB/s", peer: { name: "dnsmasq (no windowsize)", value: win.dnsmasq } });
    const runsC = { ours: [] as { rate: number; failures: number }[], dnsmasq: [] as { rate: number; failures: number }[] };
    for (let i = 0; i < 3; i++) {
      runsC.ours.push(await concurrent(OURS));
      runsC.dnsmasq.push(await concurrent(DNSMASQ));
    }
    const cOurs = { rate: median(runsC.ours.map((r) => r.rate)), failures: runsC.ours.reduce((n, r) => n + r.failures, 0) };
    const cDnsmasq = { rate: median(runsC.dnsmasq.map((r) => r.rate)), failures: runsC.dnsmasq.reduce((n, r) => n + r.failures, 0) };
    report({
      name: `tftp-${CONCURRENT}x10MB-concurrent-windowsize16 (failures in 3 runs: ours ${cOurs.failures}, dnsmasq ${cDnsmasq.failures})`,
      value: cOurs.rate, unit: "MB/s total", peer: { name: "dnsmasq", value: cDnsmasq.rate },
    });
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(3000)])));
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    sh(["ip", "netns", "del", NS], true);
    rmSync(dir, { recursive: true, force: true });
  }
}
