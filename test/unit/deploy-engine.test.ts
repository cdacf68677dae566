import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Database } from "../../src/db/index.ts";
import { createEngine, inWindow, minuteOfDay, TIMING, type Engine } from "../../src/features/deployments/engine.ts";
import { freeze } from "../../src/features/deployments/plan.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { machinesRepo, type MachineRow } from "../../src/features/machines/repo.ts";
import type { MachineListener } from "../../src/features/machines/service.ts";
import { reply } from "../../src/protocol/envelope.ts";
import { Scheduler } from "../../src/scheduler/index.ts";
import { FakeChannel } from "../support/fake-agent-channel.ts";

const T0 = Date.UTC(2026, 5, 1, 10);
const quiet = { info() {}, warn() {}, error() {} };

function world(opts: { db?: Database; clock?: ManualClock; channel?: FakeChannel; wake?: boolean; members?: Record<number, number[]> } = {}) {
  const db = opts.db ?? openDatabase(":memory:");
  const clock = opts.clock ?? new ManualClock(T0);
  const channel = opts.channel ?? new FakeChannel();
  const scheduler = new Scheduler({ db, clock, log: quiet, timeZone: "UTC", random: () => 0 });
  const repo = machinesRepo(db);
  const listeners: MachineListener[] = [];
  const woken: number[][] = [];
  const engine = createEngine({
    db, clock, log: quiet, scheduler, channel, recorder: createRecorder(db, () => clock.now()), timeZone: "UTC",
    machines: { getById: (id) => repo.find(id), onChange: (l) => void listeners.push(l) },
    membersOf: (g) => opts.members?.[g] ?? [],
    wake: opts.wake === false ? undefined : (ids) => void woken.push(ids),
  });
  const addMachine = (name: string, online: boolean, os = "linux"): number => {
    const jid = `${name}@test`;
    const id = (db.query("INSERT INTO machines (hostname, jid, os, online, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0) RETURNING id").get(name, jid, os, online ? 1 : 0) as { id: number }).id;
    if (online) channel.up.add(jid);
    return id;
  };
  const setOnline = (id: number, online: boolean) => {
    const m = repo.find(id)!;
    db.query("UPDATE machines SET online = ? WHERE id = ?").run(online ? 1 : 0, id);
    if (online) channel.up.add(m.jid!);
    else channel.up.delete(m.jid!);
    for (const l of listeners) l(repo.find(id) as MachineRow, online ? "online" : "offline");
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const target = (d: number, machine: number) => engine.repo.targets(d).find((t) => t.machine_id === machine)!;
  return { db, clock, channel, scheduler, engine, addMachine, setOnline, settle, target, woken, listeners };
}

const PLAN = freeze("install", [{ ref: "p1", name: "pkg", version: "1", files: [], steps: { linux: [{ id: "s1", action: "end_success" }] }, inventoryAfter: false, removeAfter: false }]);
const launch = (e: Engine, machineIds: number[], extra: Partial<Parameters<Engine["launch"]>[0]> = {}) =>
  e.launch({ title: "pkg 1", packageRef: "p1", packageName: "pkg", packageVersion: "1", section: "install", plan: PLAN, transfer: "pull", bandwidthKbps: 0, priority: "normal", machineIds, by: { id: null, login: "admin" }, ...extra });

describe("deployment engine", () => {
  test("an online machine gets the run, acknowledges, and its events drive it to success", async () => {
    const w = world();
    const m = w.addMachine("pc1", true);
    const d = launch(w.engine, [m]);
    await w.settle();
    expect(w.channel.deploys()).toHaveLength(1);
    const runId = (w.channel.deploys()[0]!.env.data as { runId: string }).runId;
    expect(w.target(d, m).state).toBe("transferring");
    expect(w.channel.event("pc1@test", { runId, seq: 1, state: "running", step: 0, stepLabel: "s1" }).data).toEqual({ ack: 1 });
    expect(w.target(d, m)).toMatchObject({ state: "running", step: 0 });
    // A resent event is acknowledged and not applied again.
    expect(w.channel.event("pc1@test", { runId, seq: 1, state: "running", step: 0, log: [{ kind: "output", text: "again" }] }).data).toEqual({ ack: 1 });
    expect(w.engine.repo.logs(w.target(d, m).id).some((l) => l.text === "again")).toBe(false);
    w.channel.event("pc1@test", { runId, seq: 2, state: "succeeded", exitCode: 0, log: [{ kind: "step", text: "END_SUCCESS", step: 0 }] });
    expect(w.target(d, m).state).toBe("succeeded");
    expect(w.engine.repo.find(d)!.status).toBe("done");
  });

  test("scheduled: nothing is sent before the start; the start job sends it", async () => {
    const w = world();
    const m = w.addMachine("pc1", true);
    w.scheduler.start();
    const d = launch(w.engine, [m], { startAt: T0 + 3600_000 });
    await w.settle();
    expect(w.engine.repo.find(d)!.status).toBe("scheduled");
    expect(w.channel.deploys()).toHaveLength(0);
    await w.clock.advance(3600_000);
    await w.scheduler.tick();
    await w.settle();
    expect(w.engine.repo.find(d)!.status).toBe("running");
    expect(w.channel.deploys()).toHaveLength(1);
    await w.scheduler.stop();
  });

  test("offline: Wake-on-LAN tries, then waiting; comes online → sent; never online → expired with reason offline", async () => {
    const w = world();
    const a = w.addMachine("pc-a", false);
    const b = w.addMachine("pc-b", false);
    const d = launch(w.engine, [a, b], { deadlineAt: T0 + 3600_000 });
    await w.settle();
    expect(w.target(d, a)).toMatchObject({ state: "waking", wake_tries: 1 });
    expect(w.woken).toEqual([[a, b]]);
    for (let i = 0; i < TIMING.wakeTries; i++) {
      await w.clock.advance(TIMING.wakeRetryMs);
      w.engine.advance(d);
      await w.settle();
    }
    expect(w.target(d, a)).toMatchObject({ state: "waiting", wake_tries: TIMING.wakeTries });
    expect(w.woken).toHaveLength(TIMING.wakeTries);
    w.setOnline(a, true);
    await w.settle();
    expect(w.target(d, a).state).toBe("transferring");
    await w.clock.advance(3600_000);
    w.engine.advance(d);
    expect(w.target(d, b)).toMatchObject({ state: "expired", reason: "offline" });
    // a is still running at the deadline: expired too, told to stop.
    expect(w.target(d, a)).toMatchObject({ state: "expired", reason: "expired" });
    expect(w.channel.sent.some((s) => s.env.action === "deploystop")).toBe(true);
    expect(w.engine.repo.find(d)!.status).toBe("expired");
  });

  test("restart: a new engine on the same database resends an unacknowledged run with the same run id, and finishes it", async () => {
    const db = openDatabase(":memory:");
    const clock = new ManualClock(T0);
    const channel = new FakeChannel();
    channel.answer = () => "silence";
    const w1 = world({ db, clock, channel });
    const m = w1.addMachine("pc1", true);
    const d = launch(w1.engine, [m]);
    await w1.settle();
    const runId = (channel.deploys()[0]!.env.data as { runId: string }).runId;
    expect(w1.target(d, m)).toMatchObject({ state: "queued", send_count: 1 });
    // "Restart": a second engine and scheduler over the same database.
    const channel2 = new FakeChannel();
    channel2.up.add("pc1@test");
    const w2 = world({ db, clock, channel: channel2 });
    w2.scheduler.start();
    await clock.advance(TIMING.resendMs);
    await w2.scheduler.tick();
    await w2.settle();
    expect(channel2.deploys()).toHaveLength(1);
    expect((channel2.deploys()[0]!.env.data as { runId: string }).runId).toBe(runId);
    expect(w2.target(d, m)).toMatchObject({ state: "transferring", send_count: 2 });
    channel2.event("pc1@test", { runId, seq: 1, state: "succeeded" });
    expect(w2.engine.repo.find(d)!.status).toBe("done");
    await w2.scheduler.stop();
  });

  test("an agent that never answers validly fails with reason agent after the allowed tries", async () => {
    const w = world();
    w.channel.answer = (_j, env) => ({ ...reply(env, { bogus: 1 }), ret: 0, data: { accepted: "yes" } as never });
    const m = w.addMachine("pc1", true);
    const d = launch(w.engine, [m]);
    await w.settle();
    expect(w.target(d, m)).toMatchObject({ state: "failed", reason: "agent" });
    const w2 = world();
    w2.channel.answer = () => "silence";
    const m2 = w2.addMachine("pc2", true);
    const d2 = launch(w2.engine, [m2]);
    for (let i = 0; i < TIMING.maxSends + 1; i++) {
      await w2.clock.advance(TIMING.resendMs);
      w2.engine.advance(d2);
      await w2.settle();
    }
    expect(w2.target(d2, m2)).toMatchObject({ state: "failed", reason: "agent" });
    expect(w2.channel.deploys()).toHaveLength(TIMING.maxSends);
  });

  test("a machine deleted mid-run fails as vanished; an event for another machine's run is refused", async () => {
    const w = world();
    const m = w.addMachine("pc1", true);
    const other = w.addMachine("pc2", true);
    const d = launch(w.engine, [m]);
    await w.settle();
    const runId = (w.channel.deploys()[0]!.env.data as { runId: string }).runId;
    expect(w.channel.event("pc2@test", { runId, seq: 1, state: "succeeded" }).ret).toBe(403);
    expect(w.target(d, m).state).toBe("transferring");
    w.db.query("DELETE FROM machines WHERE id = ?").run(m);
    w.engine.advance(d);
    const t = w.engine.repo.targets(d)[0]!;
    expect(t).toMatchObject({ state: "failed", reason: "vanished", machine_id: null });
    expect(w.engine.repo.find(d)!.status).toBe("done");
    void other;
  });

  test("failed steps carry their reason; stop; relaunch only the failed ones with a new run id", async () => {
    const w = world();
    const ok = w.addMachine("ok", true);
    const bad = w.addMachine("bad", true);
    const d = launch(w.engine, [ok, bad]);
    await w.settle();
    const run = (jid: string) => (w.channel.deploys(jid).at(-1)!.env.data as { runId: string }).runId;
    w.channel.event("ok@test", { runId: run("ok@test"), seq: 1, state: "succeeded" });
    const oldRun = run("bad@test");
    w.channel.event("bad@test", { runId: oldRun, seq: 1, state: "failed", reason: "checksum", detail: "sha256 mismatch" });
    expect(w.target(d, bad)).toMatchObject({ state: "failed", reason: "checksum", detail: "sha256 mismatch" });
    expect(w.engine.relaunchFailed(d, { id: null, login: "admin" })).toBe(1);
    await w.settle();
    expect(w.target(d, ok).state).toBe("succeeded");
    expect(w.target(d, bad)).toMatchObject({ state: "transferring", attempt: 2 });
    expect(run("bad@test")).not.toBe(oldRun);
    // An old run's late event is acknowledged, told to stop, and changes nothing.
    expect(w.channel.event("bad@test", { runId: oldRun, seq: 2, state: "succeeded" }).data).toMatchObject({ stop: true });
    w.engine.stop(d, { id: null, login: "admin" });
    expect(w.target(d, bad)).toMatchObject({ state: "stopped", reason: "stopped" });
    expect(w.channel.sent.at(-1)!.env.action).toBe("deploystop");
    // The agent's own "stopped" arrives afterwards: acknowledged with stop.
    expect(w.channel.event("bad@test", { runId: run("bad@test"), seq: 1, state: "stopped" }).data).toEqual({ ack: 1, stop: true });
    expect(w.engine.repo.find(d)!.status).toBe("stopped");
  });

  test("rules: outside the window nothing is sent; max parallel holds the rest back", async () => {
    const w = world();
    const ids = [w.addMachine("a", true), w.addMachine("b", true), w.addMachine("c", true)];
    const now = minuteOfDay(T0, "UTC");
    w.engine.repo.insertRule({ name: "night", description: "", enabled: 1, os: "windows", group_id: null, window_start: 0, window_end: 60, max_parallel: null }, T0);
    const rid = w.engine.repo.insertRule({ name: "two", description: "", enabled: 1, os: "linux", group_id: null, window_start: now, window_end: now + 60, max_parallel: 2 }, T0);
    const d = launch(w.engine, ids);
    await w.settle();
    expect(w.channel.deploys()).toHaveLength(2);
    const held = w.engine.repo.targets(d).find((t) => t.sent_at === null)!;
    expect(held.detail).toContain("2 deployments at once");
    const first = w.engine.repo.targets(d).find((t) => t.sent_at !== null)!;
    w.channel.event(`${first.hostname}@test`, { runId: first.run_id, seq: 1, state: "succeeded" });
    w.engine.advance(d);
    await w.settle();
    expect(w.channel.deploys()).toHaveLength(3);
    // Outside the window: moved to 5 hours from now.
    w.engine.repo.updateRule(rid, { name: "two", description: "", enabled: 1, os: "linux", group_id: null, window_start: (now + 300) % 1440, window_end: (now + 360) % 1440, max_parallel: null }, T0);
    const d2 = launch(w.engine, [ids[0]!]);
    await w.settle();
    expect(w.target(d2, ids[0]!).detail).toContain("outside its time window");
    expect(inWindow(23 * 60, 22 * 60, 6 * 60)).toBe(true);
    expect(inWindow(12 * 60, 22 * 60, 6 * 60)).toBe(false);
  });

  test("a machine that goes offline during its run is waited for, then expires as vanished", async () => {
    const w = world({ wake: false });
    const m = w.addMachine("pc1", true);
    const d = launch(w.engine, [m], { deadlineAt: T0 + 3600_000 });
    await w.settle();
    const runId = (w.channel.deploys()[0]!.env.data as { runId: string }).runId;
    w.channel.event("pc1@test", { runId, seq: 1, state: "running", step: 2, stepLabel: "install" });
    w.setOnline(m, false);
    await w.clock.advance(1800_000);
    w.engine.advance(d);
    expect(w.target(d, m)).toMatchObject({ state: "running", step: 2 });
    await w.clock.advance(1800_000);
    w.engine.advance(d);
    const t = w.target(d, m);
    expect(t).toMatchObject({ state: "expired", reason: "vanished" });
    expect(t.detail).toContain("went offline during the run (running step 2)");
  });

  test("a machine whose OS the package has no steps for fails as refused, with the reason", async () => {
    const w = world();
    const m = w.addMachine("mac1", true, "darwin");
    const d = launch(w.engine, [m]);
    await w.settle();
    expect(w.target(d, m)).toMatchObject({ state: "failed", reason: "refused", detail: "pkg 1 has no install steps for macos" });
    expect(w.channel.deploys()).toHaveLength(0);
  });

  test("groups: targets are the group's members at launch", async () => {
    const w = world({ members: {} });
    const a = w.addMachine("a", true);
    const b = w.addMachine("b", true);
    const w2 = world({ db: w.db, clock: w.clock, channel: w.channel, members: { 7: [a, b] } });
    const d = w2.engine.launch({ title: "g", packageRef: "p1", packageName: "pkg", packageVersion: "1", section: "install", plan: PLAN, transfer: "pull", bandwidthKbps: 0, priority: "normal", groupId: 7, targetLabel: "labo", by: { id: null, login: "x" } });
    expect(w2.engine.repo.targets(d).map((t) => t.hostname).sort()).toEqual(["a", "b"]);
    expect(w2.engine.repo.find(d)).toMatchObject({ target_type: "group", target_id: 7, target_label: "labo" });
  });
});
