import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Database } from "../../src/db/index.ts";
import { retryDelay, Scheduler, type JobContext } from "../../src/scheduler/index.ts";
import { nextRun, parseSchedule } from "../../src/scheduler/schedule.ts";

const T0 = Date.UTC(2026, 0, 1);
const PARIS = "Europe/Paris";

function recordingLog() {
  const entries: { level: string; o: object; msg?: string }[] = [];
  const at = (level: string) => (o: object, msg?: string) => void entries.push({ level, o, msg });
  return { entries, info: at("info"), warn: at("warn"), error: at("error") };
}

function setup(options: { db?: Database; clock?: ManualClock } = {}) {
  const db = options.db ?? openDatabase(":memory:");
  const clock = options.clock ?? new ManualClock(T0);
  const log = recordingLog();
  const scheduler = new Scheduler({ db, clock, log, timeZone: PARIS, random: () => 0 });
  return { db, clock, log, scheduler };
}

/** Records every call a handler gets. */
function recorder(behaviour: (ctx: JobContext) => Promise<void> | void = () => {}) {
  const calls: { payload: unknown; attempt: number; slot: number }[] = [];
  const handler = (payload: unknown, ctx: JobContext) => {
    calls.push({ payload, attempt: ctx.attempt, slot: ctx.slot });
    return behaviour(ctx);
  };
  return { calls, handler };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets promise chains started by a timer settle; no time passes. */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** The job_runs rows of a job, read directly: the scheduler's API shows only the last one. */
function runsOf(db: Database, jobId: number) {
  return db.query("SELECT slot, status FROM job_runs WHERE job_id = ? ORDER BY id").all(jobId);
}

const tempDirs: string[] = [];
function tempDbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "medulla-scheduler-"));
  tempDirs.push(dir);
  return join(dir, "medulla.db");
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("schedule", () => {
  test("parses both formats and rejects bad input clearly", () => {
    expect(parseSchedule("every:60000")).toEqual({ type: "every", ms: 60000 });
    expect(parseSchedule("daily:03:05")).toEqual({ type: "daily", hour: 3, minute: 5 });
    for (const bad of ["every:0", "every:-5", "every:1.5", "daily:24:00", "daily:3:00", "daily:12:60", "hourly", ""]) {
      expect(() => parseSchedule(bad)).toThrow(/invalid schedule/);
    }
  });

  test("every: adds the interval", () => {
    expect(nextRun("every:1000", T0, PARIS)).toBe(T0 + 1000);
  });

  test("daily: spring forward runs a skipped time at the end of the gap", () => {
    // 2026-03-29: Paris goes from 02:00 CET straight to 03:00 CEST (01:00 UTC).
    const runs = [Date.parse("2026-03-27T12:00:00Z")];
    for (let i = 0; i < 3; i++) runs.push(nextRun("daily:02:30", runs.at(-1)!, PARIS));
    expect(runs.slice(1).map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
  });

  test("daily: fall back runs a repeated time once, at its first occurrence", () => {
    // 2026-10-25: Paris goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
    const runs = [Date.parse("2026-10-24T12:00:00Z")];
    for (let i = 0; i < 2; i++) runs.push(nextRun("daily:02:30", runs.at(-1)!, PARIS));
    expect(runs.slice(1).map((t) => new Date(t).toISOString())).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
    // Even from between the two occurrences.
    expect(new Date(nextRun("daily:02:30", Date.parse("2026-10-25T00:45:00Z"), PARIS)).toISOString()).toBe(
      "2026-10-26T01:30:00.000Z",
    );
  });

  test("an unknown time zone is refused up front", () => {
    const deps = { db: openDatabase(":memory:"), clock: new ManualClock(), log: recordingLog() };
    expect(() => new Scheduler({ ...deps, timeZone: "Mars/Olympus" })).toThrow(/unknown time zone "Mars\/Olympus"/);
  });

  test("retry delay doubles from 30 s, caps at an hour, jitters up to 10%", () => {
    const delays = [1, 2, 3, 8, 20].map((attempt) => retryDelay(attempt, () => 0));
    expect(delays).toEqual([30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    expect(retryDelay(1, () => 1)).toBe(33_000);
  });
});

describe("Scheduler", () => {
  test("a one-off job runs once, at its time", async () => {
    const { clock, scheduler } = setup();
    const job = recorder();
    scheduler.register("ping", job.handler);
    const id = scheduler.enqueue("ping", { host: "pc1" }, { runAt: T0 + 1000 });
    scheduler.start();
    await clock.advance(999);
    expect(job.calls).toEqual([]);
    await clock.advance(1);
    await flush();
    expect(job.calls).toEqual([{ payload: { host: "pc1" }, attempt: 1, slot: T0 + 1000 }]);
    await clock.advance(10 * 60_000);
    expect(job.calls).toHaveLength(1);
    expect(scheduler.list()).toEqual([
      {
        id,
        name: null,
        kind: "ping",
        schedule: null,
        status: "done",
        runAt: T0 + 1000,
        attempts: 1,
        maxAttempts: 5,
        lastError: null,
        lastRun: { slot: T0 + 1000, status: "done", startedAt: T0 + 1000, finishedAt: T0 + 1000, error: null },
      },
    ]);
    await scheduler.stop();
  });

  test("one clock timer is armed, for the earliest job, waiting at most a minute", async () => {
    const { clock, scheduler } = setup();
    scheduler.register("ping", () => {});
    scheduler.start();
    expect(clock.pendingTimers).toBe(1);
    scheduler.enqueue("ping", {}, { runAt: T0 + 10 * 60_000 });
    scheduler.enqueue("ping", {}, { runAt: T0 + 5 * 60_000 });
    expect(clock.pendingTimers).toBe(1);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  test("a recurring every: job runs each period", async () => {
    const { clock, scheduler } = setup();
    const job = recorder();
    scheduler.register("beat", job.handler);
    scheduler.schedule("heartbeat", "beat", "every:60000");
    scheduler.start();
    await clock.advance(3 * 60_000);
    await flush();
    expect(job.calls.map((c) => c.slot)).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000]);
    expect(scheduler.list()[0]).toMatchObject({ status: "pending", runAt: T0 + 240_000, attempts: 0 });
    await scheduler.stop();
  });

  test("after downtime over several periods, a recurring job runs once then continues from now", async () => {
    const { clock, scheduler } = setup();
    const job = recorder();
    scheduler.register("beat", job.handler);
    scheduler.schedule("heartbeat", "beat", "every:60000");
    await clock.advance(10 * 60_000 + 5_000); // not started: nothing runs meanwhile
    await scheduler.tick();
    expect(job.calls).toEqual([{ payload: {}, attempt: 1, slot: T0 + 60_000 }]);
    expect(scheduler.list()[0]!.runAt).toBe(T0 + 11 * 60_000 + 5_000);
  });

  test("a daily job follows local time across the spring DST change", async () => {
    const clock = new ManualClock(Date.parse("2026-03-28T12:00:00Z"));
    const { scheduler } = setup({ clock });
    const job = recorder();
    scheduler.register("backup", job.handler);
    scheduler.schedule("nightly-backup", "backup", "daily:02:30");
    expect(scheduler.list()[0]!.runAt).toBe(Date.parse("2026-03-29T01:00:00Z"));
    scheduler.start();
    await clock.advance(2 * 86_400_000);
    await flush();
    expect(job.calls.map((c) => new Date(c.slot).toISOString())).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:30:00.000Z",
    ]);
    await scheduler.stop();
  });

  test("a daily job runs once on the fall DST change", async () => {
    const clock = new ManualClock(Date.parse("2026-10-24T12:00:00Z"));
    const { scheduler } = setup({ clock });
    const job = recorder();
    scheduler.register("backup", job.handler);
    scheduler.schedule("nightly-backup", "backup", "daily:02:30");
    scheduler.start();
    await clock.advance(86_400_000);
    await flush();
    expect(job.calls.map((c) => new Date(c.slot).toISOString())).toEqual(["2026-10-25T00:30:00.000Z"]);
    expect(scheduler.list()[0]!.runAt).toBe(Date.parse("2026-10-26T01:30:00Z"));
    await scheduler.stop();
  });

  test("a failing one-off job is retried with backoff, then marked failed", async () => {
    const { clock, log, scheduler } = setup();
    const job = recorder(() => {
      throw new Error("host unreachable");
    });
    scheduler.register("wake", job.handler);
    const id = scheduler.enqueue("wake", {}, { maxAttempts: 3 });
    await scheduler.tick();
    expect(scheduler.list()[0]).toMatchObject({
      status: "pending",
      runAt: T0 + 30_000,
      attempts: 1,
      lastError: "host unreachable",
    });
    await clock.advance(29_999);
    await scheduler.tick();
    expect(job.calls).toHaveLength(1);
    await clock.advance(1);
    await scheduler.tick();
    expect(scheduler.list()[0]).toMatchObject({ status: "pending", runAt: T0 + 30_000 + 60_000, attempts: 2 });
    await clock.advance(60_000);
    await scheduler.tick();
    expect(job.calls).toEqual([1, 2, 3].map((attempt) => ({ payload: {}, attempt, slot: T0 })));
    expect(scheduler.list()[0]).toMatchObject({ id, status: "failed", attempts: 3, lastError: "host unreachable" });
    const errors = log.entries.filter((e) => e.level === "error").map((e) => e.msg);
    expect(errors).toEqual(["job failed on its last attempt"]);
  });

  test("a recurring job that exhausts its attempts moves on to its next slot", async () => {
    const { clock, log, scheduler } = setup();
    let isBroken = true;
    const job = recorder(() => {
      if (isBroken) throw new Error("disk full");
    });
    scheduler.register("backup", job.handler);
    scheduler.schedule("backup", "backup", "every:600000");
    const slot = T0 + 600_000;
    for (let i = 0; i < 5; i++) {
      await clock.advance(scheduler.list()[0]!.runAt - clock.now());
      await scheduler.tick();
    }
    expect(job.calls.map((c) => [c.attempt, c.slot])).toEqual([1, 2, 3, 4, 5].map((a) => [a, slot]));
    expect(scheduler.list()[0]).toMatchObject({
      status: "pending",
      runAt: slot + 600_000,
      attempts: 0,
      lastError: "disk full",
    });
    expect(log.entries.some((e) => e.level === "error")).toBe(true);
    isBroken = false;
    await clock.advance(scheduler.list()[0]!.runAt - clock.now());
    await scheduler.tick();
    expect(job.calls.at(-1)).toEqual({ payload: {}, attempt: 1, slot: slot + 600_000 });
    expect(scheduler.list()[0]).toMatchObject({ status: "pending", runAt: slot + 1_200_000, lastError: null });
  });

  test("enqueue with a name reuses a pending job, and starts a new one once it finished", async () => {
    const { scheduler } = setup();
    const job = recorder();
    scheduler.register("inventory", job.handler);
    const first = scheduler.enqueue("inventory", { pc: 1 }, { name: "inventory:pc1" });
    expect(scheduler.enqueue("inventory", { pc: 1 }, { name: "inventory:pc1" })).toBe(first);
    await scheduler.tick();
    expect(job.calls).toHaveLength(1);
    const second = scheduler.enqueue("inventory", { pc: 1 }, { name: "inventory:pc1" });
    expect(second).not.toBe(first);
    expect(scheduler.list().map((j) => [j.id, j.name, j.status])).toEqual([
      [first, null, "done"],
      [second, "inventory:pc1", "pending"],
    ]);
    scheduler.schedule("nightly", "inventory", "daily:01:00");
    expect(() => scheduler.enqueue("inventory", {}, { name: "nightly" })).toThrow(/recurring job/);
  });

  test("schedule() is idempotent across restarts and reschedules only when its text changes", async () => {
    const { db, clock, scheduler } = setup();
    const id = scheduler.schedule("nightly-backup", "backup", "daily:03:00", { keep: 7 });
    const [before] = scheduler.list();
    await clock.advance(3_600_000);
    const restarted = setup({ db, clock }).scheduler;
    expect(restarted.schedule("nightly-backup", "backup", "daily:03:00", { keep: 7 })).toBe(id);
    expect(restarted.list()).toEqual([before!]);
    expect(restarted.schedule("nightly-backup", "backup", "daily:04:00", { keep: 7 })).toBe(id);
    // 01:00 UTC is 02:00 in Paris, so 04:00 Paris comes two hours later the same day.
    const fourInParis = Date.parse("2026-01-01T03:00:00Z");
    expect(restarted.list()).toEqual([{ ...before!, schedule: "daily:04:00", runAt: fourInParis }]);
    expect(() => restarted.schedule("bad", "backup", "weekly")).toThrow(/invalid schedule "weekly"/);
  });

  test("a job cut short by a restart runs again once for the same slot", async () => {
    const file = tempDbFile();
    const clock = new ManualClock(T0);
    const crashed = setup({ db: openDatabase(file), clock });
    const stuck = recorder(() => new Promise<void>(() => {}));
    crashed.scheduler.register("deploy", stuck.handler);
    crashed.scheduler.start();
    const id = crashed.scheduler.enqueue("deploy", { pkg: "firefox" });
    void crashed.scheduler.tick();
    expect(stuck.calls).toEqual([{ payload: { pkg: "firefox" }, attempt: 1, slot: T0 }]);
    // The process dies: nothing is stopped or closed cleanly.

    await clock.advance(5_000);
    const db = openDatabase(file);
    const { scheduler } = setup({ db, clock });
    const job = recorder();
    scheduler.register("deploy", job.handler);
    scheduler.start();
    await scheduler.tick();
    await scheduler.tick();
    expect(job.calls).toEqual([{ payload: { pkg: "firefox" }, attempt: 2, slot: T0 }]);
    expect(runsOf(db, id)).toEqual([
      { slot: T0, status: "interrupted" },
      { slot: T0, status: "done" },
    ]);
    expect(scheduler.list()[0]).toMatchObject({ status: "done", attempts: 2 });
    await scheduler.stop();
    db.close();
  });

  test("a slot whose run finished is not run again after a restart", async () => {
    const file = tempDbFile();
    const clock = new ManualClock(T0);
    const first = setup({ db: openDatabase(file), clock });
    const job = recorder();
    first.scheduler.register("report", job.handler);
    const id = first.scheduler.schedule("weekly-report", "report", "every:600000");
    await clock.advance(600_000);
    await first.scheduler.tick();
    expect(job.calls).toHaveLength(1);
    // Simulate a crash after the run was recorded but before its job was updated.
    first.db.run("UPDATE jobs SET status = 'running', run_at = ?, attempts = 1 WHERE id = ?", [T0 + 600_000, id]);

    const db = openDatabase(file);
    const { scheduler } = setup({ db, clock });
    scheduler.register("report", job.handler);
    scheduler.start();
    await scheduler.tick();
    expect(job.calls).toHaveLength(1);
    expect(scheduler.list()[0]).toMatchObject({ status: "pending", runAt: T0 + 1_200_000, attempts: 0 });
    expect(runsOf(db, id)).toEqual([{ slot: T0 + 600_000, status: "done" }]);
    await scheduler.stop();
    db.close();
    first.db.close();
  });

  test("two schedulers on one database never both run a job", async () => {
    const a = setup();
    const b = setup({ db: a.db, clock: a.clock });
    const job = recorder();
    a.scheduler.register("ping", job.handler);
    b.scheduler.register("ping", job.handler);
    a.scheduler.enqueue("ping", {});
    await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(job.calls).toHaveLength(1);
  });

  test("an unknown kind fails the job with a clear error instead of crashing", async () => {
    const { log, scheduler } = setup();
    scheduler.enqueue("teleport", {});
    await scheduler.tick();
    const error = 'no handler registered for job kind "teleport"';
    expect(scheduler.list()[0]).toMatchObject({
      status: "failed",
      lastError: error,
      lastRun: { status: "failed", error },
    });
    expect(log.entries.filter((e) => e.level === "error").map((e) => e.msg)).toEqual([error]);
  });

  test("a handler that outlives its timeout fails and sees its signal abort", async () => {
    const { clock, scheduler } = setup();
    let signal: AbortSignal | undefined;
    scheduler.register("slow", (_payload, ctx) => {
      signal = ctx.signal;
      return new Promise<void>(() => {});
    }, { timeoutMs: 5_000 });
    scheduler.enqueue("slow", {}, { maxAttempts: 1 });
    const ran = scheduler.tick();
    await clock.advance(4_999);
    expect(scheduler.list()[0]!.status).toBe("running");
    await clock.advance(1);
    await ran;
    expect(scheduler.list()[0]).toMatchObject({ status: "failed", lastError: "timed out after 5000 ms" });
    expect(signal?.aborted).toBe(true);
  });

  test("stop() waits for running handlers", async () => {
    const { scheduler } = setup();
    const gate = deferred();
    scheduler.register("long", () => gate.promise);
    scheduler.start();
    scheduler.enqueue("long", {});
    void scheduler.tick();
    let isStopped = false;
    const stopping = scheduler.stop().then(() => (isStopped = true));
    await flush();
    expect(isStopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(scheduler.list()[0]!.status).toBe("done");
  });

  test("runNow makes a job due now and cancel keeps it from running", async () => {
    const { scheduler } = setup();
    const job = recorder();
    scheduler.register("ping", job.handler);
    const later = scheduler.enqueue("ping", { n: 1 }, { runAt: T0 + 86_400_000 });
    const cancelled = scheduler.enqueue("ping", { n: 2 });
    expect(scheduler.cancel(cancelled)).toBe(true);
    expect(scheduler.runNow(later)).toBe(true);
    await scheduler.tick();
    expect(job.calls).toEqual([{ payload: { n: 1 }, attempt: 1, slot: T0 }]);
    expect(scheduler.list().map((j) => j.status)).toEqual(["done", "cancelled"]);
  });
});
