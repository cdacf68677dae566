import { describe, expect, test } from "bun:test";
import { createAccess } from "../../src/access.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { Forbidden, Invalid } from "../../src/errors.ts";
import type { Cursor, HistoryFilter } from "../../src/features/history/model.ts";
import { ALL_LOGS_KEYS, HISTORY_MODULES, logsKey } from "../../src/features/history/permissions.ts";
import { PURGE_BATCH, createHistoryService, createRecorder, type HistoryEntry } from "../../src/features/history/service.ts";

const NOW = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;
const all: HistoryFilter = { module: null, from: null, to: null, criterion: null, search: "" };
const viewer = { id: 7, isSuper: false };

function setup(grants: readonly string[] = ALL_LOGS_KEYS) {
  const db = openDatabase(":memory:");
  db.query("INSERT INTO users (id, login, password_hash, created_at, updated_at) VALUES (7, 'ann', 'x', 0, 0)").run();
  const clock = new ManualClock(NOW);
  const recorder = createRecorder(db, () => clock.now());
  let keys = new Set(grants);
  const access = createAccess(() => keys);
  const service = createHistoryService({ db, clock, access, recorder });
  const add = (e: Partial<HistoryEntry> = {}) =>
    recorder.record({ module: "auth", action: "history.login.success", params: { login: "alice" }, userLogin: "alice", ...e });
  const ids = (f: HistoryFilter = all, size: 10 | 25 | 50 | 100 | 500 = 500) => service.page(viewer, f, { size, cursor: null }).rows.map((r) => r.id);
  return { db, clock, service, add, ids, grant: (next: readonly string[]) => (keys = new Set(next)) };
}

describe("history service: filters (SPEC L2)", () => {
  test("rows come newest first, and module, criterion, period and search each narrow them", () => {
    const h = setup();
    const a = h.add({ at: NOW - 3 * DAY, module: "auth", criterion: "user" });
    const b = h.add({ at: NOW - 2 * DAY, module: "imaging", criterion: "master", who: "PC-0042" });
    const c = h.add({ at: NOW - 1 * DAY, module: "inventory", criterion: "newmachine", who: "PC-0099", target: { type: "machine", id: 99, name: "accounting-7" } });
    const d = h.add({ at: NOW, module: "inventory", criterion: "inventory", userLogin: "bernard" });
    expect(h.ids()).toEqual([d, c, b, a]);
    expect(h.ids({ ...all, module: "inventory" })).toEqual([d, c]);
    expect(h.ids({ ...all, criterion: "newmachine" })).toEqual([c]);
    expect(h.ids({ ...all, criterion: "none" })).toEqual([]);
    expect(h.ids({ ...all, from: NOW - 2 * DAY, to: NOW })).toEqual([c, b]);
    expect(h.ids({ ...all, from: NOW - 2 * DAY + 1 })).toEqual([d, c]);
    expect(h.ids({ ...all, to: NOW - 2 * DAY + 1 })).toEqual([b, a]);
    expect(h.ids({ ...all, module: "inventory", criterion: "inventory", from: NOW - DAY })).toEqual([d]);
  });

  test("search looks in the text, the login, who acted and the target's name; % and _ are literal", () => {
    const h = setup();
    const byText = h.add({ params: { login: "zoé" } });
    const byLogin = h.add({ userLogin: "bernard", params: { login: "x" } });
    const byWho = h.add({ who: "PC-0042", params: { login: "x" } });
    const byTarget = h.add({ target: { type: "machine", id: 1, name: "accounting-7" }, params: { login: "x" } });
    const percent = h.add({ params: { login: "100%_sure" } });
    expect(h.ids({ ...all, search: "zoé" })).toEqual([byText]);
    expect(h.ids({ ...all, search: "BERNARD" })).toEqual([byLogin]);
    expect(h.ids({ ...all, search: "pc-0042" })).toEqual([byWho]);
    expect(h.ids({ ...all, search: "counting" })).toEqual([byTarget]);
    expect(h.ids({ ...all, search: "0%_s" })).toEqual([percent]);
    expect(h.ids({ ...all, search: "%" })).toEqual([percent]);
    expect(h.ids({ ...all, search: "nothing like this" })).toEqual([]);
  });
});

describe("history service: keyset paging", () => {
  test("walks forward and back through equal timestamps with no gap and no repeat", () => {
    const h = setup();
    // 23 rows, five per millisecond: the cursor must tell them apart by id.
    const made = Array.from({ length: 23 }, (_, i) => h.add({ at: NOW - Math.floor(i / 5) * 1000 }));
    const expected = [...made].sort((x, y) => {
      const at = (id: number) => NOW - Math.floor(made.indexOf(id) / 5) * 1000;
      return at(y) - at(x) || y - x;
    });
    const pages: number[][] = [];
    let cursor: Cursor | null = null;
    for (;;) {
      const page = h.service.page(viewer, all, { size: 5, cursor });
      pages.push(page.rows.map((r) => r.id));
      expect(page.newer === null).toBe(cursor === null);
      if (!page.older) break;
      const [at, id] = page.older.split(".").map(Number) as [number, number];
      cursor = { dir: "after", at, id };
    }
    expect(pages.flat()).toEqual(expected);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);

    // Back from the last page to the first, page by page.
    const back: number[][] = [pages.at(-1)!];
    let newer = h.service.page(viewer, all, { size: 5, cursor: cursor! }).newer;
    while (newer) {
      const [at, id] = newer.split(".").map(Number) as [number, number];
      const page = h.service.page(viewer, all, { size: 5, cursor: { dir: "before", at, id } });
      back.unshift(page.rows.map((r) => r.id));
      newer = page.newer;
    }
    expect(back).toEqual(pages);
  });

  test("a page before a cursor near the top is the first page, full", () => {
    const h = setup();
    const made = Array.from({ length: 8 }, (_, i) => h.add({ at: NOW + i }));
    const page = h.service.page(viewer, all, { size: 5, cursor: { dir: "before", at: NOW + 5, id: made[5]! } });
    expect(page.rows.map((r) => r.id)).toEqual([...made].reverse().slice(0, 5));
    expect(page.newer).toBeNull();
  });
});

describe("history service: rights (SPEC U3)", () => {
  test("a reader sees only the modules it holds a logs key for", () => {
    const h = setup(["logs.auth", "logs.users"]);
    const auth = h.add({ module: "auth" });
    const users = h.add({ module: "users" });
    h.add({ module: "imaging" });
    h.add({ module: "inventory" });
    h.add({ module: "some-undeclared-module" });
    expect(h.ids()).toEqual([users, auth]);
    expect(h.ids({ ...all, search: "alice" })).toEqual([users, auth]);
    expect(h.service.readable(viewer)).toEqual(["auth", "users"]);
  });

  test("asking for a module without its key, or holding no key, is Forbidden before any row is read", () => {
    const h = setup(["logs.auth"]);
    expect(() => h.service.page(viewer, { ...all, module: "imaging" }, { size: 10, cursor: null })).toThrow(Forbidden);
    expect(() => h.service.reader(viewer, { ...all, module: "imaging" }, { cap: 10 })).toThrow(Forbidden);
    h.grant(["logs.settings"]);
    expect(() => h.service.page(viewer, all, { size: 10, cursor: null })).toThrow(Forbidden);
  });

  test("the super-administrator reads every declared module", () => {
    const h = setup([]);
    const made = HISTORY_MODULES.map((module) => h.add({ module }));
    expect(h.service.page({ id: 1, isSuper: true }, all, { size: 500, cursor: null }).rows.map((r) => r.id)).toEqual([...made].reverse());
  });
});

describe("history service: export reader", () => {
  test("hands every filtered row out batch by batch, in page order", () => {
    const h = setup([logsKey("auth")]);
    const made = Array.from({ length: 25 }, (_, i) => h.add({ at: NOW - i * 10 }));
    h.add({ module: "imaging" });
    const reader = h.service.reader(viewer, all, { cap: 1000, batch: 7 });
    const batches: number[][] = [];
    for (let b = reader.nextBatch(); b.length; b = reader.nextBatch()) batches.push(b.map((r) => r.id));
    expect(batches.map((b) => b.length)).toEqual([7, 7, 7, 4]);
    expect(batches.flat()).toEqual(made);
    expect(reader.isTruncated()).toBe(false);
  });

  test("stops at the cap and says so; exactly the cap is not truncated", () => {
    const h = setup();
    for (let i = 0; i < 10; i++) h.add({ at: NOW - i });
    const drain = (cap: number) => {
      const reader = h.service.reader(viewer, all, { cap, batch: 4 });
      let n = 0;
      for (let b = reader.nextBatch(); b.length; b = reader.nextBatch()) n += b.length;
      return { n, truncated: reader.isTruncated() };
    };
    expect(drain(6)).toEqual({ n: 6, truncated: true });
    expect(drain(10)).toEqual({ n: 10, truncated: false });
    expect(drain(100)).toEqual({ n: 10, truncated: false });
  });
});

describe("history service: retention", () => {
  const actor = { id: 7, isSuper: false, login: "ann" };

  test("defaults to 365 days; a change needs logs.settings, is checked, and is recorded", () => {
    const h = setup(["logs.settings"]);
    expect(h.service.retentionDays()).toBe(365);
    expect(h.service.setRetentionDays(actor, " 90 ", "192.0.2.1")).toBe(90);
    expect(h.service.retentionDays()).toBe(90);
    const row = h.db.query("SELECT module, action, params, user_login, source_ip, criterion FROM history").get();
    expect(row).toEqual({ module: "system", action: "history.retention.changed", params: '{"days":90,"before":365}', user_login: "ann", source_ip: "192.0.2.1", criterion: "user" });
    for (const bad of ["-1", "36501", "1.5", "ten", "1e3"]) {
      expect(() => h.service.setRetentionDays(actor, bad, "")).toThrow(Invalid);
    }
    expect(() => h.service.setRetentionDays(actor, "", "")).toThrow(Invalid);
    expect(h.service.retentionDays()).toBe(90);
    h.grant(["logs.auth"]);
    expect(() => h.service.setRetentionDays(actor, "30", "")).toThrow(Forbidden);
  });

  test("the purge deletes what is older than the retention, in batches, and records it; 0 keeps all", async () => {
    const h = setup(["logs.settings"]);
    const insert = h.db.query("INSERT INTO history (at, module, action, text) VALUES (?, 'inventory', 'x', 'old')");
    const old = PURGE_BATCH * 2 + 5;
    h.db.transaction(() => {
      for (let i = 0; i < old; i++) insert.run(NOW - 400 * DAY + i);
    })();
    const kept = h.add({ at: NOW - 300 * DAY });
    const count = () => (h.db.query("SELECT count(*) AS n FROM history").get() as { n: number }).n;
    const purging = h.service.purge();
    // One batch has gone before the purge lets anything else run.
    expect(count()).toBe(old + 1 - PURGE_BATCH);
    expect(await purging).toBe(old);
    expect(h.db.query("SELECT id FROM history WHERE action <> 'history.purged'").all()).toEqual([{ id: kept }]);
    expect(h.db.query("SELECT module, who, params FROM history WHERE action = 'history.purged'").get()).toEqual({
      module: "system", who: "scheduler", params: JSON.stringify({ count: old, days: 365 }),
    });

    h.service.setRetentionDays(actor, "0", "");
    await h.clock.advance(1000 * DAY);
    expect(await h.service.purge()).toBe(0);
    expect(count()).toBe(3);
  });
});
