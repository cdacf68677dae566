/**
 * The inventory document and what decides when and what is sent: the GLPI shape of every
 * captured machine (checked against glpi-project/inventory_format's own schema) and its
 * units, the content hash (stable across runs, blind to uptime and to small moves of free
 * space), the jittered schedule, the runner (full, unchanged, 409 → full, busy, follow-up
 * runs, bounded retries, 4xx not retried) with a fake clock, the state file shared with a
 * detached writer, the `inventory` action, and the `[inventory]` config key.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "../../src/protocol/envelope.ts";
import { configFromText, configToIni } from "../../agent/src/config.ts";
import { handleBody, type HandlerContext } from "../../agent/src/handlers.ts";
import { COLLECTORS, inventoryDocument } from "../../agent/src/inventory/collect.ts";
import { CONTENT_PARTS, type InventoryDocument } from "../../agent/src/inventory/format.ts";
import { ipv4Mask, ipv4Prefix, ipv4Subnet, ipv6Mask, ipv6Subnet } from "../../agent/src/inventory/addresses.ts";
import { bodyHash, canonicalJson, contentHash } from "../../agent/src/inventory/hash.ts";
import type { PostOutcome } from "../../agent/src/inventory/post.ts";
import { InventoryRunner, type RunnerDeps } from "../../agent/src/inventory/runner.ts";
import { dueTime, firstRun, nextAfterFailure, nextAfterSuccess } from "../../agent/src/inventory/schedule.ts";
import { memoryLogger } from "../../agent/src/log.ts";
import { formatStatus, type Status } from "../../agent/src/status.ts";
import { detachedStore, readState, StateFile, stateFileStore, type InventoryState, type InventoryStore } from "../../agent/src/state.ts";
import { seededRandom } from "../../agent/src/backoff.ts";
import { glpiSchemaErrors, loadMachine, machines } from "../fixtures/agent/inventory/fixtures.ts";

const NOW = new Date("2024-04-08T10:00:00Z");
const OSES = [["linux", "linux"], ["windows", "windows"], ["darwin", "macos"]] as const;

function docOf(os: "linux" | "windows" | "darwin", dir: "linux" | "windows" | "macos", machine: string, now = NOW): InventoryDocument {
  return inventoryDocument(COLLECTORS[os]!.build(loadMachine(dir, machine), now, () => {}), "42", "fallback");
}

describe("the GLPI document of every captured machine", () => {
  for (const [os, dir] of OSES) {
    for (const m of machines(dir)) {
      test(`${dir}/${m}: follows the schema, every part present, sizes in the format's units`, () => {
        const doc = docOf(os, dir, m);
        expect(glpiSchemaErrors(doc)).toEqual([]);
        expect(Object.keys(doc)).toEqual(["deviceid", "itemtype", "content"]);
        expect(doc.itemtype).toBe("Computer");
        const c = doc.content;
        expect(c.versionclient).toMatch(/^Medulla-Agent_v\d+\.\d+\.\d+/);
        expect(c.medulla).toEqual({ agentId: "42" });
        for (const part of CONTENT_PARTS) expect(c[part]).toBeDefined();
        expect(c.hardware.name).toBeTruthy();
        expect(c.operatingsystem.name).toBeTruthy();
        expect(c.cpus.length).toBeGreaterThan(0);
        expect(c.softwares.length).toBeGreaterThan(0);
        // Memory in MiB: the modules add up to about what the OS reports.
        const modules = c.memories.reduce((n, mem) => n + (mem.capacity ?? 0), 0);
        if (modules) expect(c.hardware.memory! / modules).toBeWithin(0.9, 1.0001);
        expect(c.hardware.memory!).toBeWithin(1024, 4 * 1024 * 1024);
        for (const cpu of c.cpus) if (cpu.speed) expect(cpu.speed).toBeWithin(500, 6000);
        for (const d of c.drives) expect(d.free!).toBeLessThanOrEqual(d.total!);
        // Disks in MB as their makers count (10^6 bytes), file systems in MiB: never more MiB than the disks hold.
        const disks = c.storages.reduce((n, s) => n + (s.disksize ?? 0), 0);
        const local = c.drives.filter((d) => d.volumn?.startsWith("/dev/") || d.type === "Local Disk").reduce((n, d) => n + d.total!, 0);
        if (disks && dir !== "macos") expect(local * 1.048576).toBeLessThanOrEqual(disks * 1.01);
        for (const s of c.softwares) expect(s.name.trim()).toBe(s.name);
      });
    }
  }

  test("the envelope: deviceid from host name and agent id; no agent id, no medulla part", () => {
    const content = COLLECTORS.linux!.build(loadMachine("linux", "rhel-vm"), NOW, () => {});
    expect(inventoryDocument(content, "42", "x").deviceid).toBe("app-erp-02-42");
    const bare = inventoryDocument({ ...content, hardware: {} }, "", "Host-9");
    expect(bare.deviceid).toBe("host-9");
    expect(bare.content.medulla).toBeUndefined();
  });
});

describe("addresses", () => {
  test("masks and subnets both ways", () => {
    expect([ipv4Mask(24), ipv4Mask(0), ipv4Mask(32), ipv4Mask(20)]).toEqual(["255.255.255.0", "0.0.0.0", "255.255.255.255", "255.255.240.0"]);
    expect([ipv4Prefix("255.255.240.0"), ipv4Prefix("0.0.0.0"), ipv4Prefix("255.255.255.255")]).toEqual([20, 0, 32]);
    expect([ipv4Prefix("255.0.255.0"), ipv4Prefix("255.256.0.0"), ipv4Prefix("64")]).toEqual([undefined, undefined, undefined]);
    expect([ipv4Subnet("172.17.3.9", 16), ipv4Subnet("1.2.3", 8)]).toEqual(["172.17.0.0", undefined]);
    expect([ipv6Mask(64), ipv6Mask(128), ipv6Mask(0), ipv6Mask(56)]).toEqual(["ffff:ffff:ffff:ffff::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::", "ffff:ffff:ffff:ff00::"]);
    expect([ipv6Subnet("2001:db8:10::21", 64), ipv6Subnet("fe80::1%en0", 64), ipv6Subnet("2001:db8:0:0:1:0:0:1", 128), ipv6Subnet("nope", 64)]).toEqual(["2001:db8:10::", "fe80::", "2001:db8::1:0:0:1", undefined]);
  });
});

describe("content hash", () => {
  test("the same machine twice, or later with another uptime, hashes the same", () => {
    const first = docOf("linux", "linux", "debian-server");
    const later = docOf("linux", "linux", "debian-server", new Date(NOW.getTime() + 6 * 3_600_000));
    expect(later.content.operatingsystem.boot_time).not.toBe(first.content.operatingsystem.boot_time);
    expect(contentHash(later)).toBe(contentHash(first));
    const raw = loadMachine("linux", "debian-server");
    const rebooted = inventoryDocument(COLLECTORS.linux!.build({ ...raw, uptime: "120.5 200.1\n" }, NOW, () => {}), "42", "x");
    expect(contentHash(rebooted)).toBe(contentHash(first));
    expect(contentHash(first)).toMatch(/^[0-9a-f]{64}$/);
  });

  test("order does not matter; real changes do; free space and battery wear only in coarse steps", () => {
    const doc = docOf("windows", "windows", "win11-laptop");
    const h = contentHash(doc);
    const same = structuredClone(doc);
    same.content.softwares.reverse();
    same.content.networks.reverse();
    expect(contentHash(same)).toBe(h);
    const upgraded = structuredClone(doc);
    upgraded.content.softwares.find((s) => s.name === "VLC media player")!.version = "3.0.21";
    expect(contentHash(upgraded)).not.toBe(h);
    const removed = structuredClone(doc);
    removed.content.softwares = removed.content.softwares.filter((s) => s.name !== "Spotify");
    expect(contentHash(removed)).not.toBe(h);
    const fuller = structuredClone(doc);
    fuller.content.drives[0]!.free = 287572 - 300; // a few hundred MiB of logs
    expect(contentHash(fuller)).toBe(h);
    fuller.content.drives[0]!.free = 287572 - 5000;
    expect(contentHash(fuller)).not.toBe(h);
    const signatures = structuredClone(doc);
    signatures.content.antivirus[0]!.base_version = "1.409.99.0";
    signatures.content.antivirus[0]!.base_creation = "2024-04-09";
    signatures.content.batteries[0]!.real_capacity = 51100;
    expect(contentHash(signatures)).toBe(h);
  });

  test("canonical JSON sorts keys and lists; the body hash is the SHA-256 of the exact JSON", () => {
    expect(canonicalJson({ b: [3, 1, { d: 1, c: 2 }], a: "x", u: undefined })).toBe('{"a":"x","b":[1,3,{"c":2,"d":1}]}');
    const json = JSON.stringify({ unchanged: "x" });
    expect(bodyHash(json)).toBe(createHash("sha256").update(json).digest("hex"));
  });
});

describe("schedule", () => {
  const DAY = 86_400_000;
  test("after a success: between half and one and a half intervals; after a failure: within the hour", () => {
    const random = seededRandom(7);
    const gaps = Array.from({ length: 1000 }, () => nextAfterSuccess(0, DAY, random));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(DAY / 2);
    expect(Math.max(...gaps)).toBeLessThan(1.5 * DAY);
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length / DAY).toBeWithin(0.95, 1.05);
    expect(nextAfterSuccess(0, DAY, () => 0)).toBe(DAY / 2);
    expect(nextAfterFailure(0, DAY, () => 0.999)).toBeLessThan(1.5 * 3_600_000);
    expect(nextAfterFailure(0, DAY, () => 0)).toBe(1_800_000);
  });

  test("first run: never inventoried within ten minutes (one at least); a lost due time within an interval", () => {
    expect(firstRun(0, DAY, false, () => 0)).toBe(60_000);
    expect(firstRun(0, DAY, false, () => 0.999)).toBeLessThan(600_000);
    expect(firstRun(0, DAY, true, () => 0.5)).toBe(DAY / 2);
    expect(dueTime(undefined, 0, DAY, false, () => 0.5)).toEqual({ at: 300_000, fresh: true });
    expect(dueTime(new Date(5000).toISOString(), 0, DAY, true, () => 0.5)).toEqual({ at: 5000, fresh: false });
    // Further away than the schedule allows (interval shortened, clock moved back): rescheduled.
    expect(dueTime(new Date(3 * DAY).toISOString(), 0, DAY, true, () => 0.5)).toEqual({ at: DAY, fresh: true });
  });
});

/** A runner around fakes: a clock that sleeping advances, a memory store, a scripted server. */
/** Waits for `done` with a real-time deadline: a runner that stopped fails the test instead of hanging it. */
async function until(what: string, done: () => boolean, log: unknown, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; runner log: ${JSON.stringify(log)}`);
    await Bun.sleep(1);
  }
}

function rig(o: { answers?: (PostOutcome | (() => PostOutcome))[]; intervalMs?: number; store?: InventoryStore; doc?: () => InventoryDocument; collect?: RunnerDeps["collect"]; retry?: RunnerDeps["retry"] } = {}) {
  let now = NOW.getTime();
  const sleeps: number[] = [];
  const sent: unknown[] = [];
  const sentAt: number[] = [];
  let state: InventoryState = {};
  const store: InventoryStore = o.store ?? { read: async () => structuredClone(state), update: async (p) => void (state = JSON.parse(JSON.stringify({ ...state, ...p }))) };
  const answers = [...(o.answers ?? [])];
  const log = memoryLogger();
  const abort = new AbortController();
  let doc = o.doc?.() ?? docOf("linux", "linux", "rhel-vm");
  const runner = new InventoryRunner({
    collect: o.collect ?? (async () => structuredClone(doc)),
    send: async (json) => {
      sent.push(JSON.parse(json));
      sentAt.push(now);
      const a = answers.shift() ?? { kind: "accepted", changes: 0 };
      return typeof a === "function" ? a() : a;
    },
    store,
    log,
    intervalMs: o.intervalMs ?? 86_400_000,
    retry: o.retry ?? { attempts: 3, backoff: { baseMs: 1000, capMs: 8000 } },
    now: () => now,
    random: seededRandom(1),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      // Yield through the timer queue, as a real timer would: a chain of setImmediate
      // callbacks can starve the test's own timer-based wait and never let it abort us.
      await new Promise((res) => setTimeout(res, 0));
    },
    signal: abort.signal,
  });
  return {
    runner, sent, sentAt, sleeps, log, abort, store,
    state: () => state,
    setDoc: (d: InventoryDocument) => void (doc = d),
    doc: () => doc,
    advance: (ms: number) => void (now += ms),
    now: () => now,
  };
}

describe("the runner", () => {
  test("first a full document; then `unchanged` naming what the server stored; `force` sends it whole", async () => {
    const r = rig({ answers: [{ kind: "accepted", changes: 57 }, { kind: "accepted", changes: 0 }, { kind: "accepted", changes: 0 }] });
    expect(await r.runner.inventoryNow("enrollment")).toEqual({ status: "sent", changes: 57 });
    expect(r.sent[0]).toEqual(r.doc());
    const body = JSON.stringify(r.doc());
    expect(r.state()).toMatchObject({ contentHash: contentHash(r.doc()), bodyHash: bodyHash(body), lastResult: "sent (57 changes)", lastAt: NOW.toISOString(), lastFullAt: NOW.toISOString() });
    const next = Date.parse(r.state().nextAt!) - NOW.getTime();
    expect(next).toBeWithin(43_200_000, 129_600_000);

    r.advance(86_400_000);
    expect(await r.runner.inventoryNow("schedule")).toEqual({ status: "unchanged" });
    expect(r.sent[1]).toEqual({ unchanged: bodyHash(body) });
    expect(r.state().bodyHash).toBe(bodyHash(body));
    expect(r.state().lastResult).toBe("unchanged");

    expect(await r.runner.inventoryNow("server request", { force: true })).toEqual({ status: "sent", changes: 0 });
    expect(r.sent[2]).toEqual(r.doc());
    expect(r.log.lines.filter((l) => l.includes("INFO  inventory sent") || l.includes("INFO  inventory unchanged"))).toHaveLength(3);
  });

  test("a changed inventory is sent whole; a 409 to `unchanged` (the server lost it) sends it whole at once", async () => {
    const r = rig({ answers: [{ kind: "accepted" }, { kind: "conflict", status: 409, message: "send the full inventory" }, { kind: "accepted", changes: 0 }] });
    await r.runner.inventoryNow("first");
    expect(await r.runner.inventoryNow("again")).toEqual({ status: "sent", changes: 0 });
    expect(r.sent.map((s) => ("unchanged" in (s as object) ? "unchanged" : "full"))).toEqual(["full", "unchanged", "full"]);
    expect(r.log.lines.some((l) => l.includes("does not hold the last inventory"))).toBe(true);

    const changed = structuredClone(r.doc());
    changed.content.softwares.push({ name: "htop", version: "3.2.1-1.el9", from: "rpm" });
    r.setDoc(changed);
    await r.runner.inventoryNow("after deployment");
    expect(r.sent.at(-1)).toEqual(changed);
  });

  test("a 4xx is logged and not retried; the next try is within the hour", async () => {
    const r = rig({ answers: [{ kind: "refused", status: 401, message: "wrong password for agent m42" }] });
    expect(await r.runner.inventoryNow("schedule")).toEqual({ status: "refused", error: "HTTP 401: wrong password for agent m42" });
    expect(r.sent).toHaveLength(1);
    expect(r.sleeps).toEqual([]);
    expect(r.state()).toMatchObject({ lastError: "HTTP 401: wrong password for agent m42", lastErrorAt: NOW.toISOString() });
    expect(r.state().contentHash).toBeUndefined();
    expect(Date.parse(r.state().nextAt!) - NOW.getTime()).toBeWithin(1_800_000, 5_400_000);
    expect(r.log.lines.some((l) => l.includes("ERROR inventory not sent: HTTP 401"))).toBe(true);
  });

  test("network errors are retried with bounded, growing backoff; a success in between is kept", async () => {
    const down: PostOutcome = { kind: "failed", message: "cannot reach https://medulla.lan:8443: ECONNREFUSED" };
    const r = rig({ answers: [down, down, down] });
    expect(await r.runner.inventoryNow("schedule")).toEqual({ status: "failed", error: down.message });
    expect(r.sent).toHaveLength(3);
    expect(r.sleeps).toHaveLength(2);
    expect(r.sleeps[0]).toBeLessThan(1000);
    expect(r.sleeps[1]).toBeLessThan(2000);
    expect(r.log.lines.filter((l) => l.includes("WARN  inventory: cannot reach"))).toHaveLength(2);

    const flaky = rig({ answers: [{ kind: "failed", message: "HTTP 503: restarting" }, { kind: "accepted", changes: 3 }] });
    expect(await flaky.runner.inventoryNow("schedule")).toEqual({ status: "sent", changes: 3 });
    expect(flaky.sent).toHaveLength(2);
    expect(flaky.state().lastError).toBeUndefined();
  });

  test("stopping mid-run records nothing, so the next start runs it again", async () => {
    const r = rig({
      answers: [
        () => {
          r.abort.abort();
          return { kind: "failed", message: "cannot reach https://medulla.lan:8443: The operation was aborted." };
        },
      ],
    });
    await r.store.update({ nextAt: NOW.toISOString() });
    expect(await r.runner.inventoryNow("schedule")).toEqual({ status: "failed", error: "interrupted: the agent is stopping" });
    expect(r.sent).toHaveLength(1);
    expect(r.state()).toEqual({ nextAt: NOW.toISOString() });
  });

  test("a collector that throws fails the run without posting", async () => {
    const r = rig({ collect: async () => { throw new Error("spawn EACCES"); } });
    expect(await r.runner.inventoryNow("x")).toEqual({ status: "failed", error: "collecting the inventory failed: spawn EACCES" });
    expect(r.sent).toEqual([]);
  });

  test("the server's request is answered at once: accepted, or busy while one runs; inventoryNow queues one follow-up", async () => {
    let release!: () => void;
    let collects = 0;
    const gate = new Promise<void>((res) => (release = res));
    const r = rig({
      collect: async () => {
        collects++;
        if (collects === 1) await gate;
        return docOf("linux", "linux", "rhel-vm");
      },
    });
    expect(r.runner.request(false)).toEqual({ accepted: true });
    expect(r.runner.isBusy).toBe(true);
    expect(r.runner.request(true)).toEqual({ accepted: false, reason: "busy" });
    const a = r.runner.inventoryNow("deployment 1");
    const b = r.runner.inventoryNow("deployment 2", { force: true });
    expect(a).toBe(b);
    release();
    expect(await a).toEqual({ status: "sent", changes: 0 });
    expect(collects).toBe(2);
    // The follow-up was forced by the second ask: a full document, not `unchanged`.
    expect(r.sent).toHaveLength(2);
    expect(r.sent[1]).toEqual(docOf("linux", "linux", "rhel-vm"));
    expect(r.runner.isBusy).toBe(false);
    expect(r.runner.request(false)).toEqual({ accepted: true });
  });

  test("the schedule waits for the due time kept in the state, so a restart does not inventory at once", async () => {
    const r = rig();
    const loop = r.runner.runSchedule();
    // Never inventoried: the first run comes within ten minutes.
    await until("two inventories sent", () => r.sent.length >= 2, r.log);
    r.abort.abort();
    await loop;
    expect(r.sentAt[0]! - NOW.getTime()).toBeWithin(60_000, 600_001);
    expect(r.sentAt[1]! - r.sentAt[0]!).toBeWithin(43_200_000, 129_600_000);
    expect(r.sent[1]).toEqual({ unchanged: r.state().bodyHash });
    // Naps are bounded, so a due time moved by another run is seen soon.
    expect(Math.max(...r.sleeps)).toBeLessThanOrEqual(15 * 60_000);

    // "Restart" right after the second run: a new runner over the same state sleeps until the stored due time.
    const again = rig({ store: r.store });
    again.advance(r.sentAt[1]! - NOW.getTime());
    const due = Date.parse((await r.store.read()).nextAt!);
    expect(due - r.sentAt[1]!).toBeWithin(43_200_000, 129_600_000);
    const loop2 = again.runner.runSchedule();
    await until("the inventory after the restart", () => again.sent.length >= 1, again.log);
    expect(again.sentAt[0]).toBeGreaterThanOrEqual(due);
    expect(again.sentAt[0]! - due).toBeLessThan(15 * 60_000);
    again.abort.abort();
    await loop2;
    expect(again.sent[0]).toEqual({ unchanged: (await r.store.read()).bodyHash });
  });

  test("interval 0: no scheduled inventory, requests still served", async () => {
    const r = rig({ intervalMs: 0 });
    await r.runner.runSchedule();
    expect(r.sent).toEqual([]);
    expect(await r.runner.inventoryNow("server request")).toEqual({ status: "sent", changes: 0 });
    expect(r.state().nextAt).toBeUndefined();
  });
});

describe("the state file", () => {
  test("connection updates and a detached inventory writer never erase each other's sections", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-inv-state-"));
    try {
      const path = join(dir, "agent.state.json");
      const file = new StateFile(path);
      await file.update({ state: "connected", connectedSince: NOW.toISOString() });
      await stateFileStore(file).update({ nextAt: "2024-04-09T03:00:00.000Z", contentHash: "a".repeat(64) });
      const cli = detachedStore(path);
      expect(await cli.read()).toEqual({ nextAt: "2024-04-09T03:00:00.000Z", contentHash: "a".repeat(64) });
      await cli.update({ bodyHash: "b".repeat(64), lastError: undefined });
      await file.update({ state: "disconnected", lastError: "heartbeat: no answer" });
      const s = await readState(path);
      expect(s).toMatchObject({ state: "disconnected", lastError: "heartbeat: no answer", pid: process.pid, inventory: { nextAt: "2024-04-09T03:00:00.000Z", contentHash: "a".repeat(64), bodyHash: "b".repeat(64) } });
      await stateFileStore(file).update({ lastError: "x", lastErrorAt: "y" });
      await stateFileStore(file).update({ lastError: undefined, lastErrorAt: undefined });
      expect((await readState(path))!.inventory).toEqual({ nextAt: "2024-04-09T03:00:00.000Z", contentHash: "a".repeat(64), bodyHash: "b".repeat(64) });
      // A detached writer with no state file yet writes a valid one.
      const alone = join(dir, "other.state.json");
      await detachedStore(alone).update({ lastAt: NOW.toISOString() });
      expect(JSON.parse(readFileSync(alone, "utf8"))).toMatchObject({ state: "stopped", inventory: { lastAt: NOW.toISOString() } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("status", () => {
  test("shows the last inventory, when the next is due, and the last error", () => {
    const s: Status = {
      config: { path: "/etc/medulla-agent/agent.ini", found: true, problems: [] }, enrolled: false, service: { installed: true },
      connection: {
        pid: 1, state: "connected", updatedAt: NOW.toISOString(), processAlive: true, connectedSince: NOW.toISOString(),
        inventory: { lastAt: "2024-04-08T09:59:00.000Z", lastResult: "unchanged", nextAt: "2024-04-09T07:12:00.000Z", lastError: "HTTP 503: restarting", lastErrorAt: "2024-04-08T09:00:00.000Z" },
      },
    };
    expect(formatStatus(s, NOW.getTime()).slice(-2)).toEqual([
      "inventory:     unchanged, 2024-04-08T09:59:00.000Z (60 s ago); next due 2024-04-09T07:12:00.000Z",
      "  last error:  HTTP 503: restarting at 2024-04-08T09:00:00.000Z",
    ]);
    expect(formatStatus({ ...s, connection: { ...s.connection!, inventory: { nextAt: "2024-04-08T10:05:00.000Z" } } }, NOW.getTime()).at(-1)).toBe("inventory:     none accepted yet; next due 2024-04-08T10:05:00.000Z");
  });
});

describe("the `inventory` action", () => {
  const base: Omit<HandlerContext, "inventory"> = { facts: async () => ({}) as never, version: { version: "0", os: "linux", arch: "x64" }, now: () => 0 };
  const body = (data: unknown) => JSON.stringify(request("inventory", data as Record<string, unknown>, "s1"));

  test("accepted at once, busy while one runs, refused when there is no runner, bad data answered 422", async () => {
    const asked: boolean[] = [];
    let busy = false;
    const inventory = { request: (force = false) => (asked.push(force), busy ? { accepted: false, reason: "busy" } : { accepted: true }), inventoryNow: async () => ({ status: "unchanged" as const }) };
    const ctx: HandlerContext = { ...base, inventory };
    expect(await handleBody(body({ force: true }), ctx)).toEqual({ kind: "answer", envelope: { v: 1, action: "resultinventory", sessionid: "s1", data: { accepted: true }, ret: 0 } });
    busy = true;
    expect(await handleBody(body({}), ctx)).toMatchObject({ envelope: { data: { accepted: false, reason: "busy" }, ret: 0 } });
    expect(asked).toEqual([true, false]);
    expect(await handleBody(body({}), base)).toMatchObject({ envelope: { data: { accepted: false, reason: "this agent runs no inventory" }, ret: 0 } });
    expect(await handleBody(body({ force: "yes" }), ctx)).toMatchObject({ envelope: { action: "resultinventory", ret: 422 } });
  });
});

describe("configuration", () => {
  const ini = (extra: string) =>
    `[server]\nurl = https://m.lan:8443\ncafingerprint = sha256:${"a".repeat(64)}\ncafile = /x/agent.ca.pem\n[xmpp]\njid = m1@m.lan\npassword = p\nhost = m.lan\ndomain = m.lan\nserverjid = medulla@m.lan\n[agent]\nid = 1\n${extra}`;
  test("[inventory] interval: absent means daily; 0 switches the schedule off; too short is refused; kept on rewrite", () => {
    const none = configFromText("/x/agent.ini", ini(""));
    expect(none.kind === "ok" && none.config.inventory).toBeUndefined();
    const weekly = configFromText("/x/agent.ini", ini("[inventory]\ninterval = 604800\n"));
    expect(weekly.kind === "ok" && weekly.config.inventory).toEqual({ intervalSeconds: 604800 });
    expect(configFromText("/x/agent.ini", ini("[inventory]\ninterval = 0\n"))).toMatchObject({ kind: "ok", config: { inventory: { intervalSeconds: 0 } } });
    expect(configFromText("/x/agent.ini", ini("[inventory]\ninterval = 60\n"))).toMatchObject({ kind: "invalid", problems: ["/x/agent.ini: [inventory] interval must be 0 (no scheduled inventory) or at least 600 seconds, not 60"] });
    expect(configFromText("/x/agent.ini", ini("[inventory]\ninterval = daily\n")).kind).toBe("invalid");
    if (weekly.kind !== "ok") throw new Error("unreachable");
    expect(configToIni(weekly.config)).toContain("[inventory]\ninterval = 604800");
  });
});
