/**
 * The engine's side of user postponements (src/features/deployments/prompts.ts) on the
 * ManualClock: a postponed machine waits until its resume time and runs again with a new
 * run id; the count kept by the server caps it; the deadline shortens the last one; a
 * restart in between changes nothing; prompts are recorded.
 */
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Database } from "../../src/db/index.ts";
import { createEngine, type Engine } from "../../src/features/deployments/engine.ts";
import { freeze } from "../../src/features/deployments/plan.ts";
import { decideDeferral, grantFor, graceMs } from "../../src/features/deployments/prompts.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { machinesRepo } from "../../src/features/machines/repo.ts";
import { reply } from "../../src/protocol/envelope.ts";
import { Scheduler } from "../../src/scheduler/index.ts";
import { FakeChannel } from "../support/fake-agent-channel.ts";

const T0 = Date.UTC(2026, 5, 1, 10);
const MIN = 60_000;
const quiet = { info() {}, warn() {}, error() {} };

/** The engine's agents accept a deploy and start with the plan. */
function newChannel(): FakeChannel {
  const c = new FakeChannel();
  c.answer = (_j, env) => reply(env, { accepted: true, state: "plan" });
  return c;
}

/** What each deploy told the agent: its run and the postponements it may still grant. */
const deploysOf = (c: FakeChannel) => c.deploys().map((s) => s.env.data as { runId: string; deferral?: { used: number; allowed: boolean; why?: string } });

const STEPS = [
  { id: "ask", action: "defer", message: "Update?", maxDeferrals: 2, delayMinutes: 60, timeout: 60 },
  { id: "run", action: "command", command: "true" },
  { id: "ok", action: "end_success" },
];
const PLAN = freeze("install", [{ ref: "p1", name: "pkg", version: "1", files: [], steps: { linux: STEPS }, inventoryAfter: false, removeAfter: false }] as never);

function world(opts: { db?: Database; clock?: ManualClock; channel?: FakeChannel } = {}) {
  const db = opts.db ?? openDatabase(":memory:");
  const clock = opts.clock ?? new ManualClock(T0);
  const channel = opts.channel ?? newChannel();
  const scheduler = new Scheduler({ db, clock, log: quiet, timeZone: "UTC", random: () => 0 });
  const repo = machinesRepo(db);
  const engine = createEngine({
    db, clock, log: quiet, scheduler, channel, recorder: createRecorder(db, () => clock.now()), timeZone: "UTC",
    machines: { getById: (id) => repo.find(id), onChange: () => {} },
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { db, clock, channel, scheduler, engine, settle };
}

function addMachine(db: Database, channel: FakeChannel, name: string): number {
  channel.up.add(`${name}@test`);
  return (db.query("INSERT INTO machines (hostname, jid, os, online, created_at, updated_at) VALUES (?, ?, 'linux', 1, 0, 0) RETURNING id").get(name, `${name}@test`) as { id: number }).id;
}
const launch = (e: Engine, m: number, deadlineAt?: number) =>
  e.launch({ title: "pkg 1", packageRef: "p1", packageName: "pkg", packageVersion: "1", section: "install", plan: PLAN, transfer: "pull", bandwidthKbps: 0, priority: "normal", machineIds: [m], by: { id: null, login: "admin" }, ...(deadlineAt ? { deadlineAt } : {}) });

/** The agent postpones at the defer step (package 0, step 0) of `runId`. */
function postpone(c: FakeChannel, runId: string, by = "alice on x11:0") {
  return c.event("pc1@test", {
    runId, seq: 2, state: "deferred", step: 0, deferral: { pkg: 0, step: 0 },
    interaction: { kind: "defer", step: 0, asked: "Update?", outcome: "answered", answer: "no", by, applied: "postponed" },
    log: [{ kind: "step", text: "ask: postponed", step: 0 }],
  });
}

describe("postponed by the user", () => {
  test("postpone → held until the interval has passed, then a new run (count told to the agent); the answer is recorded", async () => {
    const w = world();
    const m = addMachine(w.db, w.channel, "pc1");
    w.scheduler.start();
    const d = launch(w.engine, m);
    await w.settle();
    const first = deploysOf(w.channel)[0]!;
    expect(first.deferral).toEqual({ used: 0, allowed: true });
    w.channel.event("pc1@test", { runId: first.runId, seq: 1, state: "running", step: 0 });
    expect(postpone(w.channel, first.runId).data).toEqual({ ack: 2 });
    const t = w.engine.repo.targets(d)[0]!;
    expect(t.state).toBe("queued");
    expect(t.run_id).not.toBe(first.runId);
    expect(t.detail).toContain("deferred by the user until 2026-06-01T11:00:00.000Z (1 of 2)");
    expect(w.engine.prompts.deferral(t.id)).toMatchObject({ used: 1, max_deferrals: 2, delay_minutes: 60, resume_at: T0 + 60 * MIN, capped: 0 });
    expect(w.engine.prompts.heldCount(d, w.clock.now())).toBe(1);
    expect(w.engine.prompts.prompts(t.id)).toEqual([expect.objectContaining({ kind: "defer", outcome: "answered", answer: "no", by_whom: "alice on x11:0", run_id: first.runId })]);
    const h = w.db.query("SELECT module, action, params FROM history WHERE action = 'deploy.history.machineDeferred'").all() as { module: string; params: string }[];
    expect(h).toHaveLength(1);
    expect(JSON.parse(h[0]!.params)).toMatchObject({ machine: "pc1", by: "alice on x11:0", used: 1, max: 2, until: "2026-06-01T11:00:00.000Z" });
    // The sweep does not send it before its time.
    await w.clock.advance(30 * MIN);
    await w.scheduler.tick();
    await w.settle();
    expect(deploysOf(w.channel)).toHaveLength(1);
    // At the resume time, the job sends the new run with the count.
    await w.clock.advance(30 * MIN);
    await w.scheduler.tick();
    await w.settle();
    expect(deploysOf(w.channel)).toHaveLength(2);
    expect(deploysOf(w.channel)[1]).toMatchObject({ runId: t.run_id, deferral: { used: 1, allowed: true } });
    expect(w.engine.repo.targets(d)[0]!.state).toBe("transferring");
    // An old run's event is answered "stop", never applied to the new run.
    expect(w.channel.event("pc1@test", { runId: first.runId, seq: 3, state: "running" }).data).toMatchObject({ stop: true });
    await w.scheduler.stop();
  });

  test("limit reached: the next run may not ask; an agent that postpones anyway is refused and run again at once", async () => {
    const w = world();
    const m = addMachine(w.db, w.channel, "pc1");
    w.scheduler.start();
    const d = launch(w.engine, m);
    await w.settle();
    for (let i = 0; i < 2; i++) {
      postpone(w.channel, deploysOf(w.channel).at(-1)!.runId);
      await w.clock.advance(60 * MIN);
      await w.scheduler.tick();
      await w.settle();
    }
    const third = deploysOf(w.channel).at(-1)!;
    expect(deploysOf(w.channel)).toHaveLength(3);
    expect(third.deferral).toEqual({ used: 2, allowed: false, why: "the 2 postponement(s) allowed are used" });
    // A misbehaving agent postpones a third time: the server keeps the count.
    postpone(w.channel, third.runId);
    await w.settle();
    const t = w.engine.repo.targets(d)[0]!;
    expect(w.engine.prompts.deferral(t.id)).toMatchObject({ used: 2, resume_at: null });
    expect(deploysOf(w.channel)).toHaveLength(4);
    expect(deploysOf(w.channel)[3]!.deferral).toMatchObject({ used: 2, allowed: false });
    expect(w.engine.repo.logs(t.id).some((l) => l.text.includes("postponement refused (the 2 postponement(s) allowed are used)"))).toBe(true);
    await w.scheduler.stop();
  });

  test("the deadline: the last postponement is shortened to resume before it, and that run does not ask", async () => {
    const w = world();
    const m = addMachine(w.db, w.channel, "pc1");
    w.scheduler.start();
    const deadline = T0 + 100 * MIN;
    const d = launch(w.engine, m, deadline);
    await w.settle();
    const grace = graceMs({ start_at: T0, deadline_at: deadline });
    expect(grace).toBe(25 * MIN);
    postpone(w.channel, deploysOf(w.channel)[0]!.runId);
    const t = w.engine.repo.targets(d)[0]!;
    expect(w.engine.prompts.deferral(t.id)).toMatchObject({ used: 1, resume_at: T0 + 60 * MIN, capped: 0 });
    await w.clock.advance(60 * MIN);
    await w.scheduler.tick();
    await w.settle();
    postpone(w.channel, deploysOf(w.channel)[1]!.runId);
    // Wanted T0+120 min, past the deadline: resumes at the deadline minus the grace.
    expect(w.engine.prompts.deferral(t.id)).toMatchObject({ used: 2, resume_at: deadline - grace, capped: 1 });
    await w.clock.advance(15 * MIN);
    await w.scheduler.tick();
    await w.settle();
    expect(deploysOf(w.channel)).toHaveLength(3);
    expect(deploysOf(w.channel)[2]!.deferral).toMatchObject({ allowed: false });
    expect(w.engine.repo.find(d)!.status).toBe("running");
    await w.scheduler.stop();
  });

  test("restart while postponed: a new engine on the same database resumes it at its time, once", async () => {
    const db = openDatabase(":memory:");
    const clock = new ManualClock(T0);
    const w1 = world({ db, clock });
    const m = addMachine(db, w1.channel, "pc1");
    const d = launch(w1.engine, m);
    await w1.settle();
    postpone(w1.channel, deploysOf(w1.channel)[0]!.runId);
    const runId = w1.engine.repo.targets(d)[0]!.run_id;
    // "Restart".
    const channel2 = newChannel();
    channel2.up.add("pc1@test");
    const w2 = world({ db, clock, channel: channel2 });
    w2.scheduler.start();
    await clock.advance(59 * MIN);
    await w2.scheduler.tick();
    await w2.settle();
    expect(deploysOf(channel2)).toHaveLength(0);
    await clock.advance(1 * MIN);
    await w2.scheduler.tick();
    await w2.settle();
    await clock.advance(1 * MIN);
    await w2.scheduler.tick();
    await w2.settle();
    expect(deploysOf(channel2)).toHaveLength(1);
    expect(deploysOf(channel2)[0]).toMatchObject({ runId, deferral: { used: 1, allowed: true } });
    await w2.scheduler.stop();
  });

  test("a postponement that names a step that is not a deferral is refused", () => {
    const d = { start_at: T0, deadline_at: T0 + 24 * 60 * MIN };
    expect(decideDeferral(d, null, { action: "command", command: "x" }, T0)).toMatchObject({ ok: false });
    expect(decideDeferral(d, null, undefined, T0)).toMatchObject({ ok: false });
    expect(decideDeferral(d, null, STEPS[0], T0)).toMatchObject({ ok: true, used: 1, resumeAt: T0 + 60 * MIN, capped: false });
    expect(grantFor(d, null, d.deadline_at - 10 * MIN)).toMatchObject({ allowed: false, why: "the deadline is near" });
  });
});
