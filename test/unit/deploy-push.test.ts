/**
 * Push transfers: the appliance's sender (src/features/deployments/push.ts) and the
 * agent's receiver (agent/src/deploy/push.ts) talking through the real envelope parsing
 * and the agent's handlers (a channel that hands each request to `handleBody`): a whole
 * transfer with several blocks in flight, a resume from the bytes already held, a file
 * whose bytes are wrong (sent twice, then a checksum failure), a file missing from the
 * store, hostile blocks, an agent too old for push, and the engine's refusals.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PushReceiver } from "../../agent/src/deploy/push.ts";
import { TransferError } from "../../agent/src/deploy/transfer.ts";
import { handleBody, type HandlerContext } from "../../agent/src/handlers.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createEngine } from "../../src/features/deployments/engine.ts";
import { freeze } from "../../src/features/deployments/plan.ts";
import { createPusher, fileReader, type PushItem } from "../../src/features/deployments/push.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { machinesRepo } from "../../src/features/machines/repo.ts";
import type { AgentChannel } from "../../src/protocol/channel.ts";
import { errorReply, parseEnvelope, reply, request, type Envelope } from "../../src/protocol/envelope.ts";
import { Scheduler } from "../../src/scheduler/index.ts";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-push-");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sha = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

/** A channel whose one agent is the real handler code with this receiver; every message is JSON both ways. */
function channelTo(receiver: PushReceiver | null, opts: { tamper?: (env: Envelope) => Envelope } = {}) {
  const seen: Envelope[] = [];
  const ctx: HandlerContext = {
    facts: async () => ({}) as never, version: { version: "t", os: "linux", arch: "x64" }, now: () => 0,
    deploy: receiver ? { accept: async () => ({ accepted: true }), stop: () => ({ stopped: false }), push: receiver } : undefined,
  };
  const channel: AgentChannel = {
    serverJid: "medulla@test",
    send: () => true,
    async request(_jid, env) {
      const out = opts.tamper ? opts.tamper(env) : env;
      seen.push(out);
      if (!receiver) return errorReply({ code: "unknown_action", action: out.action, sessionid: out.sessionid });
      const handled = await handleBody(JSON.stringify(out), ctx);
      if (handled.kind !== "answer") throw new Error("no answer");
      const parsed = parseEnvelope(JSON.stringify(handled.envelope));
      if (!parsed.ok) throw new Error(`unreadable answer ${parsed.error.code}`);
      return parsed.envelope;
    },
    onMessage: () => {},
    onPresence: () => {},
    isOnline: () => true,
    online: () => [],
    disconnect: () => {},
  };
  return { channel, seen };
}

function pusherWith(channel: AgentChannel, extra: { window?: number; blockSize?: number } = {}) {
  const logs: string[] = [];
  const unsupported: string[] = [];
  const delivered: string[] = [];
  const p = createPusher({
    onSent: (_t, _r, item) => void delivered.push(item.label),
    channel, log: { info() {}, warn: (_o: object, m?: string) => void logs.push(`warn ${m}`) }, blockSize: extra.blockSize ?? 4096, window: extra.window ?? 4,
    onLog: (_t, _r, text) => void logs.push(text), onUnsupported: (_t, _r, d) => void unsupported.push(d), stillWanted: () => true,
  });
  return { p, logs, unsupported, delivered };
}

async function until(what: string, f: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await Bun.sleep(5);
  }
}

function item(path: string, data: Uint8Array, label = "payload.bin", claimed?: string): PushItem {
  writeFileSync(path, data);
  return { sha256: claimed ?? sha(data), size: data.byteLength, kind: "file", label, read: fileReader(path) };
}

describe("push transfers over the agent's XMPP connection", () => {
  test("the plan and a file arrive whole, several blocks in flight, checked and renamed into place", async () => {
    const dir = tmp();
    const rx = new PushReceiver({ filesDir: join(dir, "files"), log: quiet as never, refuses: () => null });
    const { channel, seen } = channelTo(rx);
    const { p, delivered } = pusherWith(channel);
    const data = bytes(50_000);
    const plan = JSON.stringify({ plan: true });
    const items: PushItem[] = [
      { sha256: sha(plan), size: plan.length, kind: "plan", label: "plan", read: async (a, b) => new Uint8Array(Buffer.from(plan).subarray(a, b)) },
      item(join(dir, "store.bin"), data),
    ];
    const progress: number[] = [];
    const got = Promise.all([rx.want(sha(plan), new AbortController().signal), rx.want(sha(data), new AbortController().signal, (n) => progress.push(n))]);
    expect(p.ensure({ targetId: 1, runId: "r", jid: "a@test", kbps: 0, items })).toBe(true);
    expect(p.ensure({ targetId: 1, runId: "r", jid: "a@test", kbps: 0, items })).toBe(false);
    await got;
    expect(readFileSync(join(dir, "files", sha(data)))).toEqual(Buffer.from(data));
    expect(readFileSync(join(dir, "files", sha(plan)), "utf8")).toBe(plan);
    expect(existsSync(join(dir, "files", `${sha(data)}.part`))).toBe(false);
    const blocks = seen.filter((e) => e.action === "pushdata");
    expect(blocks.length).toBe(Math.ceil(plan.length / 4096) + Math.ceil(50_000 / 4096));
    expect(blocks.every((b) => (b.data.data as string).length <= 60_000)).toBe(true);
    expect(progress.at(-1)).toBe(50_000);
    // The file (not the plan) goes to the history like a pulled one.
    await until("recorded", () => delivered.length > 0);
    expect(delivered).toEqual(["payload.bin"]);
    await until("the session ends", () => !p.active(1));
    // Open again: the agent has it all, nothing is sent.
    const before = seen.length;
    p.ensure({ targetId: 1, runId: "r", jid: "a@test", kbps: 0, items });
    await until("the second session ends", () => !p.active(1));
    expect(seen.slice(before).map((e) => e.action)).toEqual(["pushopen", "pushopen"]);
  });

  test("a transfer cut short resumes from the bytes the agent holds, not from zero", async () => {
    const dir = tmp();
    const data = bytes(40_000, 7);
    mkdirSync(join(dir, "files"), { recursive: true });
    writeFileSync(join(dir, "files", `${sha(data)}.part`), data.subarray(0, 12_288));
    const rx = new PushReceiver({ filesDir: join(dir, "files"), log: quiet as never, refuses: () => null });
    const { channel, seen } = channelTo(rx);
    const { p, logs } = pusherWith(channel);
    const got = rx.want(sha(data), new AbortController().signal);
    p.ensure({ targetId: 2, runId: "r2", jid: "a@test", kbps: 0, items: [item(join(dir, "s.bin"), data)] });
    await got;
    expect(readFileSync(join(dir, "files", sha(data)))).toEqual(Buffer.from(data));
    expect(logs).toContain("push of payload.bin resumed at byte 12288 of 40000 (the agent already held them)");
    const first = seen.find((e) => e.action === "pushdata")!;
    expect(first.data.offset).toBe(12_288);
    const sent = seen.filter((e) => e.action === "pushdata").reduce((n, e) => n + Buffer.from(e.data.data as string, "base64").length, 0);
    expect(sent).toBe(40_000 - 12_288);
  });

  test("wrong bytes are sent once more, then the run fails with a checksum error; a missing file with a download error", async () => {
    const dir = tmp();
    const rx = new PushReceiver({ filesDir: join(dir, "files"), log: quiet as never, refuses: () => null });
    const { channel, seen } = channelTo(rx);
    const { p, logs } = pusherWith(channel);
    const claimed = "a".repeat(64);
    const got = rx.want(claimed, new AbortController().signal).then(() => null, (e) => e);
    p.ensure({ targetId: 3, runId: "r3", jid: "a@test", kbps: 0, items: [item(join(dir, "bad.bin"), bytes(5000), "bad.bin", claimed)] });
    const err = await got;
    expect(err).toBeInstanceOf(TransferError);
    expect(err.reason).toBe("checksum");
    expect(seen.filter((e) => e.action === "pushopen")).toHaveLength(2);
    expect(logs.some((l) => l.includes("found its SHA-256 wrong; sending it again"))).toBe(true);
    expect(existsSync(join(dir, "files", claimed))).toBe(false);
    expect(existsSync(join(dir, "files", `${claimed}.part`))).toBe(false);
    await until("the session ends", () => !p.active(3));

    const missing = "b".repeat(64);
    const got2 = rx.want(missing, new AbortController().signal).then(() => null, (e) => e);
    p.ensure({ targetId: 4, runId: "r4", jid: "a@test", kbps: 0, items: [{ sha256: missing, size: 10, kind: "file", label: "gone.bin", read: null }] });
    const err2 = await got2;
    expect(err2.reason).toBe("download");
    expect(err2.message).toContain("does not hold gone.bin");
  });

  test("hostile blocks are refused with the reason; the session is then broken; nothing lands", async () => {
    const dir = tmp();
    const rx = new PushReceiver({ filesDir: join(dir, "files"), log: quiet as never, refuses: (runId) => (runId === "nope" ? "run nope is unknown to this agent" : null) });
    const s = sha("x");
    expect(await rx.open({ runId: "nope", sid: "s0", sha256: s, size: 10, blockSize: 1024 })).toMatchObject({ accepted: false, reason: "run nope is unknown to this agent" });
    expect(await rx.open({ runId: "r", sid: "s1", sha256: s, size: 10, blockSize: 1024 })).toEqual({ accepted: true, offset: 0 });
    await expect(rx.data({ sid: "zz", seq: 0, offset: 0, data: "AAAA" })).rejects.toThrow("no open push session zz");
    await expect(rx.data({ sid: "s1", seq: 1, offset: 0, data: "AAAA" })).rejects.toThrow("out of order: expected block 0");
    // Broken from then on, even for a good block: the server opens a new session.
    await expect(rx.data({ sid: "s1", seq: 0, offset: 0, data: "eA==" })).rejects.toThrow("out of order");
    expect(await rx.open({ runId: "r", sid: "s2", sha256: s, size: 10, blockSize: 1024 })).toEqual({ accepted: true, offset: 0 });
    await expect(rx.data({ sid: "s2", seq: 0, offset: 0, data: "!!not base64!!" })).rejects.toThrow("not base64");
    expect(await rx.open({ runId: "r", sid: "s3", sha256: s, size: 1, blockSize: 1024 })).toEqual({ accepted: true, offset: 0 });
    await expect(rx.data({ sid: "s3", seq: 0, offset: 0, data: "eHh4" })).rejects.toThrow("goes past the announced 1 bytes");
    expect(await rx.open({ runId: "r", sid: "s4", sha256: s, size: 5000, blockSize: 1024 })).toEqual({ accepted: true, offset: 0 });
    await expect(rx.data({ sid: "s4", seq: 0, offset: 0, data: Buffer.alloc(2048).toString("base64") })).rejects.toThrow("the block size is 1024");
    expect(await rx.close({ sid: "s4" })).toMatchObject({ ok: false, reason: "download" });
    expect(existsSync(join(dir, "files", s))).toBe(false);
    // Through the envelope: a block too big for the declared schema never reaches the receiver.
    const handled = await handleBody(JSON.stringify(request("pushdata", { sid: "s1", seq: 0, offset: 0, data: "A".repeat(60_004) })), { facts: async () => ({}) as never, version: { version: "t", os: "l", arch: "x" }, now: () => 0 });
    expect(handled.kind === "answer" && handled.envelope.ret).toBe(422);
  });

  test("an agent that does not know the push actions is reported as such", async () => {
    const { channel } = channelTo(null);
    const { p, unsupported } = pusherWith(channel);
    p.ensure({ targetId: 5, runId: "r5", jid: "old@test", kbps: 0, items: [{ sha256: "c".repeat(64), size: 1, kind: "plan", label: "plan", read: async () => new Uint8Array(1) }] });
    await until("reported", () => unsupported.length > 0);
    expect(unsupported[0]).toContain("does not know push transfers");
  });
});

describe("the engine with push deployments", () => {
  function world(answer: (env: Envelope) => Envelope) {
    const db = openDatabase(":memory:");
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 10));
    const sent: Envelope[] = [];
    const handlers: ((from: string, env: Envelope) => void)[] = [];
    const listeners: ((m: any, change: any) => void)[] = [];
    const channel: AgentChannel = {
      serverJid: "medulla@test",
      send: (_jid, env) => (sent.push(env), true),
      request: async (_jid, env) => (sent.push(env), answer(env)),
      onMessage: (h) => void handlers.push(h), onPresence: () => {}, isOnline: () => true, online: () => ["pc1@test"], disconnect: () => {},
    };
    const machines = machinesRepo(db);
    const engine = createEngine({
      db, clock, log: { info() {}, warn() {}, error() {} }, channel, timeZone: "UTC", recorder: createRecorder(db, () => clock.now()),
      scheduler: new Scheduler({ db, clock, log: quiet, timeZone: "UTC", random: () => 0 }), machines: { getById: (id) => machines.find(id), onChange: (l) => void listeners.push(l) },
      filePath: () => null,
    });
    const m = (db.query("INSERT INTO machines (hostname, jid, os, online, created_at, updated_at) VALUES ('pc1', 'pc1@test', 'linux', 1, 0, 0) RETURNING id").get() as { id: number }).id;
    const plan = freeze("install", [{ ref: "p1", name: "pkg", version: "1", files: [{ path: "a.bin", sha256: "d".repeat(64), size: 3 }], steps: { linux: [{ id: "ok", action: "end_success" }] }, inventoryAfter: false, removeAfter: false }]);
    const d = engine.launch({ title: "pkg 1", packageRef: "p1", packageName: "pkg", packageVersion: "1", section: "install", plan, transfer: "push", bandwidthKbps: 0, priority: "normal", machineIds: [m], by: { id: null, login: "admin" } });
    const change = (c: string) => listeners.forEach((l) => l(machines.find(m), c));
    const event = (data: Record<string, unknown>) => handlers.forEach((h) => h("pc1@test/agent", request("deployevent", { runId: engine.repo.targets(d)[0]!.run_id, at: 0, ...data })));
    return { engine, sent, d, m, t: () => engine.repo.targets(d)[0]!, change, event };
  }

  test("an agent whose deploy answer does not list push fails clearly and is told to stop; it may not pull the files", async () => {
    const w = world((env) => reply(env, { accepted: true, state: "plan", lastSeq: 0 }));
    await until("the answer applied", () => w.t().state === "failed");
    expect(w.t()).toMatchObject({ state: "failed", reason: "agent" });
    expect(w.t().detail).toContain("does not know push transfers");
    expect(w.sent.some((e) => e.action === "deploystop")).toBe(true);
    expect(w.engine.machineMayFetch(w.m, "d".repeat(64))).toBe(false);
  });

  test("a push-capable agent gets the plan then the files pushed once it acknowledged", async () => {
    const w = world((env) => {
      if (env.action === "deploy") return reply(env, { accepted: true, state: "plan", lastSeq: 0, transfers: ["pull", "push"] });
      if (env.action === "pushopen") return reply(env, { accepted: true, offset: 0, complete: true });
      return reply(env, {});
    });
    await until("both opened", () => w.sent.filter((e) => e.action === "pushopen").length === 2);
    const opens = w.sent.filter((e) => e.action === "pushopen").map((e) => e.data);
    expect(opens[0]).toMatchObject({ kind: "plan", runId: w.t().run_id });
    expect(opens[1]).toMatchObject({ kind: "file", sha256: "d".repeat(64), size: 3 });
    expect(w.t().state).toBe("transferring");
  });

  test("after the agent came back, its first words (an event, an announce) restart the push; its presence alone does not", async () => {
    let agentUp = true;
    const w = world((env) => {
      if (env.action === "deploy") return reply(env, { accepted: true, state: "plan", lastSeq: 0, transfers: ["pull", "push"] });
      if (!agentUp) throw new Error("not connected");
      if (env.action === "pushopen") return reply(env, { accepted: true, offset: 0, complete: true });
      return reply(env, {});
    });
    await until("first push", () => w.sent.filter((e) => e.action === "pushopen").length === 2);
    agentUp = false;
    w.change("offline");
    w.change("online");
    await Bun.sleep(20);
    const before = w.sent.filter((e) => e.action === "pushopen").length;
    expect(before).toBe(2);
    agentUp = true;
    // The restarted agent reports its transfer: the push goes again.
    w.event({ seq: 1, state: "transferring", bytesDone: 0, bytesTotal: 3 });
    await until("pushed again", () => w.sent.filter((e) => e.action === "pushopen").length === 4);
    // A reconnection without restart: the announce does it.
    w.change("offline");
    w.change("online");
    w.change("updated");
    await until("pushed a third time", () => w.sent.filter((e) => e.action === "pushopen").length === 6);
  });
});
