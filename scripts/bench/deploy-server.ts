/**
 * @module scripts/bench/deploy-server
 * The appliance side of the deploy benchmark, in its own process so that its CPU time is
 * its own: a real appliance (startServer: HTTPS listener, engine, agent file route) with
 * a one-package store holding a random payload, `AGENTS` machines with agent accounts,
 * a deployment to all of them already sent (so each may fetch the file), and beside it a
 * plain HTTPS static file server serving the same bytes (the peer). For the push line:
 * a second, smaller payload (`PUSH_MB`) in a pull deployment too (the HTTPS peer of the
 * push) and, when the bench writes "push" on stdin, a push deployment of it launched to
 * the first `PUSH_AGENTS` machines (their bench clients log in over XMPP first). Prints
 * one JSON line with what the clients need, then serves until killed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultNames, ensureCertificates } from "../../src/certs/index.ts";
import { loadConfig } from "../../src/config.ts";
import { createPackageSource } from "../../src/features/deployments/package-source.ts";
import { freeze } from "../../src/features/deployments/plan.ts";
import type { Descriptor } from "../../src/features/packages/descriptor.ts";
import { startServer } from "../../src/server.ts";

const [dir, mbArg, agentsArg, kbpsArg, pushMbArg, pushAgentsArg] = process.argv.slice(2);
const PUSH_MB = Number(pushMbArg ?? 0);
const PUSH_AGENTS = Number(pushAgentsArg ?? 0);
const MB = Number(mbArg);
const AGENTS = Number(agentsArg);
const KBPS = Number(kbpsArg);
mkdirSync(join(dir!, "blobs"), { recursive: true });
const bytes = new Uint8Array(MB * 1024 * 1024);
for (let off = 0; off < bytes.length; off += 65_536) crypto.getRandomValues(bytes.subarray(off, Math.min(off + 65_536, bytes.length)));
const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const blob = join(dir!, "blobs", sha256);
writeFileSync(blob, bytes);

const free = () => {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port;
  s.stop(true);
  return p;
};
const https = free();
const xmppPort = PUSH_MB > 0 ? free() : 0;
const flags = new Map([
  ["MEDULLA_DATA_DIR", join(dir!, "data")], ["MEDULLA_BIND", "127.0.0.1"], ["MEDULLA_HTTP_PORT", "0"], ["MEDULLA_HTTPS_PORT", String(https)], ["MEDULLA_XMPP_PORT", String(xmppPort)],
  ["MEDULLA_TFTP_PORT", "0"], ["MEDULLA_ADMIN_PASSWORD", "Bench-admin-2026"], ["MEDULLA_LOG_LEVEL", "error"], ["MEDULLA_PUBLIC_URL", `https://127.0.0.1:${https}`],
]);
const server = await startServer(loadConfig(flags, {}), { print: () => {} });
const d: Descriptor = {
  format: "medulla-package/1", name: "Bench", version: "1", description: "", kind: "install", targetOs: ["linux"], share: "global", transfer: { method: "pull", bandwidthKbps: KBPS },
  priority: "normal", dependencies: [], inventory: { associate: false }, inventoryAfter: false, removeAfter: false, steps: { linux: { install: [{ id: "ok", action: "end_success" }] } },
};
// The push payload: its own blob and two packages, push and pull, holding it.
const pushBytes = new Uint8Array(PUSH_MB * 1024 * 1024);
for (let off = 0; off < pushBytes.length; off += 65_536) crypto.getRandomValues(pushBytes.subarray(off, Math.min(off + 65_536, pushBytes.length)));
const pushSha = new Bun.CryptoHasher("sha256").update(pushBytes).digest("hex");
const pushBlob = join(dir!, "blobs", pushSha);
if (PUSH_MB > 0) writeFileSync(pushBlob, pushBytes);
const descriptors: Record<number, Descriptor> = { 1: d, 2: { ...d, name: "BenchPush", transfer: { method: "push", bandwidthKbps: 0 } }, 3: { ...d, name: "BenchPushPeer" } };
const source = createPackageSource({
  list: () => ({ items: [1, 2, 3].map((id) => ({ id, name: descriptors[id]!.name, version: "1" })) }), find: (id) => ({ id, name: descriptors[id]!.name, version: "1" }), descriptor: (id) => descriptors[id]!,
  files: (id) => (id === 1 ? [{ path: "payload.bin", sha256, size: bytes.length }] : [{ path: "push.bin", sha256: pushSha, size: pushBytes.length }]), blobPath: (sha) => (sha === pushSha ? pushBlob : blob),
});
server.app.deployments.usePackages(source);
const { db } = server;
const accounts = server.app.relay.accounts;
const creds: { jid: string; password: string }[] = [];
const ids: number[] = [];
for (let i = 0; i < AGENTS; i++) {
  const username = `bench${i}`;
  const jid = `${username}@${server.app.relay.channel.serverJid.split("@")[1] ?? "localhost"}`;
  const id = (db.query("INSERT INTO machines (hostname, jid, os, created_at, updated_at) VALUES (?, ?, 'linux', 0, 0) RETURNING id").get(`bench-${i}`, jid) as { id: number }).id;
  const password = `pw-${crypto.randomUUID()}`;
  await accounts.create(username, password, id);
  creds.push({ jid, password });
  ids.push(id);
}
const resolved = source.resolve("1", "install");
const deploymentId = server.app.deployments.engine.launch({
  title: "bench", packageRef: "1", packageName: "Bench", packageVersion: "1", section: "install", plan: freeze("install", resolved.packages), transfer: "pull",
  bandwidthKbps: KBPS, priority: "normal", machineIds: ids, by: { id: null, login: "bench" },
});
db.query("UPDATE deployment_targets SET sent_at = 1 WHERE deployment_id = ?").run(deploymentId);
if (PUSH_MB > 0) {
  // The push line's HTTPS peer: the same payload in a pull deployment the clients may fetch from.
  const peer = source.resolve("3", "install");
  const peerId = server.app.deployments.engine.launch({
    title: "bench push peer", packageRef: "3", packageName: "BenchPushPeer", packageVersion: "1", section: "install", plan: freeze("install", peer.packages), transfer: "pull",
    bandwidthKbps: 0, priority: "normal", machineIds: ids.slice(0, PUSH_AGENTS), by: { id: null, login: "bench" },
  });
  db.query("UPDATE deployment_targets SET sent_at = 1, state = 'transferring' WHERE deployment_id = ?").run(peerId);
  // "push" on stdin: the push deployment to the clients logged in over XMPP.
  void (async () => {
    for await (const line of console) {
      if (line.trim() !== "push") continue;
      const r = source.resolve("2", "install");
      server.app.deployments.engine.launch({
        title: "bench push", packageRef: "2", packageName: "BenchPush", packageVersion: "1", section: "install", plan: freeze("install", r.packages), transfer: "push",
        bandwidthKbps: 0, priority: "normal", machineIds: ids.slice(0, PUSH_AGENTS), by: { id: null, login: "bench" },
      });
    }
  })();
}

// The peer: the same bytes as a plain static file over HTTPS, same certificate, no auth.
const bundle = await ensureCertificates(join(dir!, "data", "certs"), defaultNames(`https://127.0.0.1:${https}`));
const tls = { cert: bundle.cert, key: bundle.key };
const plain = Bun.serve({
  hostname: "127.0.0.1", port: 0, tls, idleTimeout: 60,
  fetch: (req) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
    const file = Bun.file(blob);
    return m ? new Response(file.slice(Number(m[1])), { status: 206, headers: { "content-range": `bytes ${m[1]}-${file.size - 1}/${file.size}` } }) : new Response(file);
  },
});
console.log(JSON.stringify({
  url: `https://127.0.0.1:${https}`, plain: `https://127.0.0.1:${plain.port}`, sha256, size: bytes.length, creds, ca: join(dir!, "data", "certs", "ca.crt"),
  push: PUSH_MB > 0 ? { xmppPort, domain: server.app.relay.channel.serverJid.split("@")[1] ?? "localhost", serverJid: server.app.relay.channel.serverJid, sha256: pushSha, size: pushBytes.length } : null,
}));
