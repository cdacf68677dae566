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
 *
 * The push line: `BENCH_DEPLOY_PUSH_MB` (default 10) pushed by the appliance to
 * `BENCH_DEPLOY_PUSH_AGENTS` (default 10) clients over their XMPP connections (a real push
 * deployment through the engine; each client answers `deploy`, takes the blocks, hashes
 * them, acknowledges, checks the SHA-256 at `pushclose`), beside the same bytes pulled over
 * HTTPS by the same number of clients (the peer). `BENCH_DEPLOY_PUSH_MB=0` skips it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pacer } from "../../agent/src/deploy/transfer.ts";
import { createXmppClient, xml, type Element } from "../../agent/src/xmpp/client.ts";
import { parseEnvelope, reply } from "../../src/protocol/envelope.ts";
import type { Report } from "../bench.ts";

const MB = Number(process.env.BENCH_DEPLOY_MB ?? 100);
const AGENTS = Number(process.env.BENCH_DEPLOY_AGENTS ?? 200);
const KBPS = Number(process.env.BENCH_DEPLOY_KBPS ?? 0);
const CLK_TCK = 100;
const PUSH_MB = Number(process.env.BENCH_DEPLOY_PUSH_MB ?? 10);
const PUSH_AGENTS = Math.min(Number(process.env.BENCH_DEPLOY_PUSH_AGENTS ?? 10), AGENTS);

/** A push receiver as small as it gets: answers `deploy`, hashes the blocks, checks the end. */
async function pushClient(o: { port: number; domain: string; serverJid: string; ca: string; jid: string; password: string; sha256: string; onDone: (ok: boolean) => void }) {
  const client = createXmppClient({ host: "127.0.0.1", port: o.port, domain: o.domain, username: o.jid.split("@")[0]!, password: o.password, ca: o.ca, resource: "bench", timeoutMs: 20_000 });
  await client.start();
  await client.entity.send(xml("presence", {}, xml("priority", {}, "0")));
  const hashers = new Map<string, { sha: string; h: Bun.CryptoHasher }>();
  client.entity.on("stanza", (st: Element) => {
    const body = st.is("message") ? st.getChildText("body") : null;
    if (!body) return;
    const parsed = parseEnvelope(body);
    if (!parsed.ok) return;
    const env = parsed.envelope;
    const d = env.data as Record<string, any>;
    let out: Record<string, unknown> = {};
    if (env.action === "deploy") out = { accepted: true, state: "plan", lastSeq: 0, transfers: ["pull", "push"] };
    else if (env.action === "pushopen") {
      hashers.set(d.sid, { sha: d.sha256, h: new Bun.CryptoHasher("sha256") });
      out = { accepted: true, offset: 0 };
    } else if (env.action === "pushdata") {
      const s = hashers.get(d.sid)!;
      s.h.update(Buffer.from(d.data, "base64"));
      out = { ack: d.seq, have: 0 };
    } else if (env.action === "pushclose") {
      const s = hashers.get(d.sid)!;
      const ok = s.h.digest("hex") === s.sha;
      out = { ok };
      if (s.sha === o.sha256) o.onDone(ok);
    } else if (env.action.startsWith("result")) return;
    client.entity.send(xml("message", { to: st.attrs.from, type: "chat" }, xml("body", {}, JSON.stringify(reply(env, out))))).catch(() => undefined);
  });
  return client;
}

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
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "deploy-server.ts"), dir, String(MB), String(AGENTS), String(KBPS), String(PUSH_MB), String(PUSH_AGENTS)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  try {
    const reader = child.stdout.getReader();
    let line = "";
    while (!line.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error("the bench appliance exited before it was ready");
      line += new TextDecoder().decode(r.value);
    }
    const info = JSON.parse(line.trim()) as {
      url: string; plain: string; sha256: string; size: number; creds: { jid: string; password: string }[]; ca: string;
      push: { xmppPort: number; domain: string; serverJid: string; sha256: string; size: number } | null;
    };
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
    const pushReport = async () => {
      if (!info.push) return;
      const p = info.push;
      const creds = info.creds.slice(0, PUSH_AGENTS);
      // The peer first: the same bytes pulled over HTTPS by as many clients.
      const pullCpu0 = cpuSeconds(child.pid);
      const t0 = performance.now();
      await Promise.all(creds.map((c) => pull(`${info.url}/api/v1/agents/files/${p.sha256}`, auth(c), ca, p.sha256, p.size, 0)));
      const pullSeconds = (performance.now() - t0) / 1000;
      const pullCpu = cpuSeconds(child.pid) - pullCpu0;
      let done = 0;
      let bad = 0;
      let finished: () => void = () => {};
      const all = new Promise<void>((r) => (finished = r));
      const clients = await Promise.all(creds.map((c) => pushClient({ port: p.xmppPort, domain: p.domain, serverJid: p.serverJid, ca, jid: c.jid, password: c.password, sha256: p.sha256, onDone: (ok) => {
        if (!ok) bad++;
        if (++done === creds.length) finished();
      } })));
      try {
        await Bun.sleep(500); // their presence reaches the engine
        const cpu0 = cpuSeconds(child.pid);
        const t1 = performance.now();
        child.stdin.write("push\n");
        child.stdin.flush();
        await Promise.race([all, Bun.sleep(600_000).then(() => Promise.reject(new Error("push bench: not finished in 10 minutes")))]);
        const pushSeconds = (performance.now() - t1) / 1000;
        const cpu = cpuSeconds(child.pid) - cpu0;
        if (bad) console.error(`deploy bench: ${bad} push client(s) got a wrong SHA-256`);
        report({ name: `deploy push ${PUSH_MB} MB to ${creds.length} agents over XMPP, wall time-lower-better`, value: pushSeconds, unit: "s", peer: { name: "the same pulled over HTTPS", value: pullSeconds } });
        report({ name: `deploy push ${PUSH_MB} MB to ${creds.length} agents over XMPP, appliance CPU-lower-better`, value: cpu, unit: "CPU s", peer: { name: "the same pulled over HTTPS", value: pullCpu } });
      } finally {
        await Promise.all(clients.map((c) => c.stop(2000)));
      }
    };
    if (process.env.BENCH_DEPLOY_ONLY === "push") return await pushReport();

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
    await pushReport();
  } finally {
    child.kill();
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
