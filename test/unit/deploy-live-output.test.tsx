/**
 * A running step's output sent while it runs: the agent's batching (an injected timer),
 * the agent's runner turning batches into numbered events, the server applying each once
 * in order (stale, repeated and oversize batches refused with a reason), the follow
 * page's tail and the machine's log.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LIVE, LiveOutput, type SetTimer } from "../../agent/src/deploy/live.ts";
import { DeployManager, type RunFile } from "../../agent/src/deploy/runner.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createEngine } from "../../src/features/deployments/engine.ts";
import { liveOutputStore, SERVER_LIVE } from "../../src/features/deployments/live-output.ts";
import { freeze } from "../../src/features/deployments/plan.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { machinesRepo } from "../../src/features/machines/repo.ts";
import { translator } from "../../src/i18n/index.ts";
import type { AgentChannel } from "../../src/protocol/channel.ts";
import { parseEnvelope, reply, request, type Envelope } from "../../src/protocol/envelope.ts";
import { Scheduler } from "../../src/scheduler/index.ts";
import { TargetRow } from "../../views/deployments/follow.tsx";
import { mergeLiveIntoLog } from "../../views/deployments/live.tsx";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-live-output-");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A timer the test fires by hand. */
function manualTimer() {
  const timers = new Set<{ ms: number; fn: () => void }>();
  const set: SetTimer = (ms, fn) => {
    const t = { ms, fn };
    timers.add(t);
    return () => void timers.delete(t);
  };
  const fire = () => {
    const all = [...timers];
    timers.clear();
    for (const t of all) t.fn();
  };
  return { set, fire, pending: () => timers.size };
}

const lines = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => `line ${a + i}`);

describe("agent: live output batching", () => {
  test("lines wait for the timer or a full batch, whichever first; partial lines wait for their end", () => {
    const timer = manualTimer();
    const out: unknown[] = [];
    const live = new LiveOutput((b) => out.push(b), timer.set, { ...LIVE, flushLines: 3 });
    live.write("a\nb");
    expect(out).toEqual([]);
    expect(timer.pending()).toBe(1);
    live.write("\n");
    timer.fire();
    expect(out).toEqual([{ from: 0, lines: ["a", "b"] }]);
    live.write("c\nd\ne\nf\n");
    // Three lines make a full batch at once; the fourth waits for the timer.
    expect(out).toEqual([{ from: 0, lines: ["a", "b"] }, { from: 2, lines: ["c", "d", "e"] }]);
    timer.fire();
    expect(out.at(-1)).toEqual({ from: 5, lines: ["f"] });
    // stdout and stderr are cut into lines each on its own; the end sends what is left.
    live.write("out-part", "stdout");
    live.write("err line\n", "stderr");
    live.write(" done", "stdout");
    live.end();
    expect(out.slice(-1)).toEqual([{ from: 6, lines: ["err line", "out-part done"] }]);
    live.write("after the end\n");
    timer.fire();
    expect(out).toHaveLength(4);
  });

  test("the cap keeps the first lines, then the newest of each batch, then stops with `capped`", () => {
    const timer = manualTimer();
    const out: { from: number; lines: string[]; capped?: boolean }[] = [];
    const live = new LiveOutput((b) => out.push(b), timer.set, { ...LIVE, headLines: 4, tailLines: 2, flushLines: 100, maxLines: 10, lineChars: 10 });
    live.write(`${lines(0, 20).join("\n")}\n`);
    timer.fire();
    expect(out).toEqual([{ from: 0, lines: lines(0, 4) }, { from: 18, lines: ["line 18", "line 19"] }]);
    live.write(`${lines(20, 30).join("\n")}\n`);
    timer.fire();
    expect(out.at(-1)).toEqual({ from: 28, lines: ["line 28", "line 29"] });
    // 8 sent: two more reach the cap.
    live.write(`${lines(30, 40).join("\n")}\n`);
    timer.fire();
    expect(out.slice(-2)).toEqual([{ from: 38, lines: ["line 38", "line 39"] }, { from: 40, lines: [], capped: true }]);
    live.write(`${"x".repeat(50)}\n`);
    live.end();
    expect(out).toHaveLength(5);
    expect(live.produced).toBe(41);
    // Long lines are cut.
    const one: { lines: string[] }[] = [];
    const l2 = new LiveOutput((b) => one.push(b), timer.set, { ...LIVE, lineChars: 10 });
    l2.write(`${"y".repeat(30)}\n`);
    l2.end();
    expect(one[0]!.lines).toEqual([`${"y".repeat(10)}…`]);
  });

  test("the runner sends a script's lines as numbered events before the step's own end", async () => {
    const dir = tmp();
    const runDir = join(dir, "runs", "run-live");
    mkdirSync(runDir, { recursive: true });
    const steps = [
      { id: "talk", action: "script", language: "shell", timeout: 30, script: "for i in 1 2 3; do echo \"tick $i\"; done; echo oops >&2; exit 0" },
      { id: "ok", action: "end_success" },
    ];
    writeFileSync(join(runDir, "plan.json"), JSON.stringify({ v: 1, deploymentId: 1, section: "install", os: "linux", packages: [{ ref: "1", name: "P", version: "1", files: [], steps, inventoryAfter: false, removeAfter: false }] }));
    const f: RunFile = { runId: "run-live", deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0, phase: "steps", pkg: 0, step: 0, inStep: false, env: {}, previous: {}, seq: 0, acked: 0, outbox: [], createdAt: Date.now() };
    writeFileSync(join(runDir, "run.json"), JSON.stringify(f));
    const events: Record<string, any>[] = [];
    const m = new DeployManager({ dir, remote: { server: "https://127.0.0.1:1", jid: "a@b", password: "x", ca: "" }, log: quiet as never, os: "linux", machineId: "m1", reboot: () => {} });
    m.setSender(async (action, data) => {
      events.push(data);
      return reply(request(action, data), { ack: data.seq as number }) as Envelope;
    });
    await m.start();
    await m.idle();
    await m.flush();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const outputs = events.filter((e) => e.output);
    expect(outputs.length).toBeGreaterThan(0);
    expect(outputs.every((e) => e.output.exec === 1 && e.output.step === 0 && e.state === "running")).toBe(true);
    expect(outputs.flatMap((e) => e.output.lines).sort()).toEqual(["oops", "tick 1", "tick 2", "tick 3"]);
    // Every batch comes before the event that closes the step with its final record.
    const finalIndex = events.findIndex((e) => e.log?.some((l: { kind: string }) => l.kind === "output"));
    expect(finalIndex).toBeGreaterThan(events.indexOf(outputs.at(-1)!));
    expect(events.at(-1)).toMatchObject({ state: "succeeded" });
  });

  test("a step ending while disconnected drops its unsent batches; the final record stays", async () => {
    const dir = tmp();
    const runDir = join(dir, "runs", "run-off");
    mkdirSync(runDir, { recursive: true });
    const steps = [{ id: "talk", action: "command", command: "for i in 1 2 3 4 5; do echo line $i; done" }, { id: "ok", action: "end_success" }];
    writeFileSync(join(runDir, "plan.json"), JSON.stringify({ v: 1, deploymentId: 1, section: "install", os: "linux", packages: [{ ref: "1", name: "P", version: "1", files: [], steps, inventoryAfter: false, removeAfter: false }] }));
    writeFileSync(join(runDir, "run.json"), JSON.stringify({ runId: "run-off", deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0, phase: "steps", pkg: 0, step: 0, inStep: false, env: {}, previous: {}, seq: 0, acked: 0, outbox: [], createdAt: Date.now() }));
    const m = new DeployManager({ dir, remote: { server: "https://127.0.0.1:1", jid: "a@b", password: "x", ca: "" }, log: quiet as never, os: "linux", machineId: "m1", reboot: () => {} });
    await m.start();
    await m.idle();
    const events: Record<string, any>[] = [];
    m.setSender(async (action, data) => {
      events.push(data);
      return reply(request(action, data), { ack: data.seq as number }) as Envelope;
    });
    // setSender starts a flush of its own: wait for it to deliver the run's end.
    for (let i = 0; i < 200 && !events.some((e) => e.state === "succeeded"); i++) await Bun.sleep(10);
    // The step-start event may be the one first in line (kept); no output batch after it.
    expect(events.filter((e) => e.output)).toEqual([]);
    const final = events.find((e) => e.log?.some((l: { kind: string }) => l.kind === "output"))!;
    expect(final.log.find((l: { kind: string }) => l.kind === "output").text).toContain("line 5");
    expect(JSON.stringify(final.log)).toContain("not delivered while disconnected");
  });
});

describe("server: live output applied once, in order", () => {
  function world() {
    const db = openDatabase(":memory:");
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 10));
    const sent: { jid: string; env: Envelope }[] = [];
    const handlers: ((from: string, env: Envelope) => void)[] = [];
    const channel: AgentChannel = {
      serverJid: "medulla@test",
      send: (jid, env) => (sent.push({ jid, env }), true),
      request: async (_jid, env) => reply(env, { accepted: true, state: "plan", transfers: ["pull", "push"] }),
      onMessage: (h) => void handlers.push(h),
      onPresence: () => {},
      isOnline: () => true,
      online: () => ["pc1@test"],
      disconnect: () => {},
    };
    const machines = machinesRepo(db);
    const warnings: string[] = [];
    const log = { info() {}, error() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? "") };
    const updates: (number | null)[] = [];
    const engine = createEngine({
      db, clock, log, channel, timeZone: "UTC", recorder: createRecorder(db, () => clock.now()),
      scheduler: new Scheduler({ db, clock, log: quiet, timeZone: "UTC", random: () => 0 }),
      machines: { getById: (id) => machines.find(id), onChange: () => {} }, onUpdate: (_d, t) => void updates.push(t),
    });
    const m = (db.query("INSERT INTO machines (hostname, jid, os, online, created_at, updated_at) VALUES ('pc1', 'pc1@test', 'linux', 1, 0, 0) RETURNING id").get() as { id: number }).id;
    const plan = freeze("install", [{ ref: "p1", name: "pkg", version: "1", files: [], steps: { linux: [{ id: "s1", action: "command", command: "x" }, { id: "ok", action: "end_success" }] }, inventoryAfter: false, removeAfter: false }]);
    const d = engine.launch({ title: "pkg 1", packageRef: "p1", packageName: "pkg", packageVersion: "1", section: "install", plan, transfer: "pull", bandwidthKbps: 0, priority: "normal", machineIds: [m], by: { id: null, login: "admin" } });
    const t = () => engine.repo.targets(d)[0]!;
    const event = (data: Record<string, unknown>): Envelope => {
      const env = request("deployevent", { runId: t().run_id, at: 0, state: "running", step: 0, ...data });
      // What the relay does first: the envelope checked against the declared schema.
      const parsed = parseEnvelope(JSON.stringify(env));
      if (!parsed.ok) return { v: 1, action: "resultdeployevent", sessionid: env.sessionid, data: { error: parsed.error.code, detail: "detail" in parsed.error ? parsed.error.detail : "" }, ret: 422 };
      for (const h of handlers) h("pc1@test/agent", parsed.envelope);
      return sent.findLast((s) => s.env.sessionid === env.sessionid)!.env;
    };
    return { db, engine, t, event, warnings, updates, d };
  }

  test("batches are stored once; a resent one is acknowledged and ignored; the follow row shows the tail", async () => {
    const w = world();
    await Promise.resolve();
    expect(w.event({ seq: 1, exec: 1 }).data).toEqual({ ack: 1 });
    expect(w.event({ seq: 2, output: { exec: 1, step: 0, from: 0, lines: ["first", "second"] } }).data).toEqual({ ack: 2 });
    expect(w.event({ seq: 2, output: { exec: 1, step: 0, from: 0, lines: ["first", "second"] } }).data).toEqual({ ack: 2 });
    expect(w.event({ seq: 3, output: { exec: 1, step: 0, from: 150, lines: ["line 150"] } }).data).toEqual({ ack: 3 });
    const tail = w.engine.live.tail(w.t().id, w.t().run_id)!;
    expect(tail.lines).toEqual([{ text: "first" }, { text: "second" }, { omitted: 148 }, { text: "line 150" }]);
    expect(w.t().state).toBe("running");
    const t = translator("en");
    const html = await <table><tbody><TargetRow t={t} deploymentId={w.d} r={{ id: w.t().id, hostname: "pc1", machineId: 1, state: "running", step: 0, stepLabel: "s1", reason: null, detail: "", exitCode: null, bytesDone: 0, bytesTotal: 0, attempt: 1, updated: "", lang: "en", live: tail }} /></tbody></table>;
    expect(html).toContain("first\nsecond\n… 148 line(s) omitted …\nline 150");
    // The machine's log: the batches joined in one entry, before the step's final record.
    w.event({ seq: 4, output: { exec: 1, step: 0, from: 151, lines: ["<b>last</b>"] } });
    w.event({ seq: 5, log: [{ kind: "output", text: "final record", step: 0, exitCode: 0 }] });
    const merged = mergeLiveIntoLog(t, "en", w.engine.repo.logs(w.t().id), w.engine.live.rowsOf(w.t().id));
    const liveEntries = merged.filter((e) => e.kind === "live");
    expect(liveEntries).toHaveLength(1);
    expect(liveEntries[0]!.text).toBe("live output (step 0, execution 1)\nfirst\nsecond\n… 148 line(s) omitted …\nline 150\n<b>last</b>");
    expect(merged.findIndex((e) => e.kind === "live")).toBeLessThan(merged.findIndex((e) => e.text === "final record"));
    const row = await <table><tbody><TargetRow t={t} deploymentId={w.d} r={{ id: 1, hostname: "pc1", machineId: 1, state: "running", step: 0, stepLabel: "", reason: null, detail: "", exitCode: null, bytesDone: 0, bytesTotal: 0, attempt: 1, updated: "", live: w.engine.live.tail(w.t().id, w.t().run_id) }} /></tbody></table>;
    expect(row).toContain("&lt;b&gt;last&lt;/b&gt;");
    expect(row).not.toContain("<b>last</b>");
    // The next step starts: its (empty) output replaces the previous step's on the row at once.
    w.event({ seq: 6, exec: 2, step: 1, stepLabel: "s2" });
    expect(w.engine.live.tail(w.t().id, w.t().run_id)).toEqual({ exec: 2, step: 1, lines: [] });
    expect(mergeLiveIntoLog(t, "en", w.engine.repo.logs(w.t().id), w.engine.live.rowsOf(w.t().id)).filter((e) => e.kind === "live")).toHaveLength(1);
    // A late batch of the step before is refused.
    expect(String(w.event({ seq: 7, output: { exec: 1, step: 0, from: 152, lines: ["late"] } }).data.warning)).toContain("after execution 2 had started");
  });

  test("out of order, stale and repeated lines get a reason and are never stored twice", () => {
    const w = world();
    w.event({ seq: 1, output: { exec: 2, step: 1, from: 0, lines: ["a", "b", "c"] } });
    // Lines already stored, under a new sequence number: trimmed, with a log line and a warning back.
    const r = w.event({ seq: 2, output: { exec: 2, step: 1, from: 1, lines: ["b", "c", "d"] } });
    expect(r.data).toMatchObject({ ack: 2 });
    expect(String(r.data.warning)).toContain("already received");
    // An older step execution: refused.
    expect(String(w.event({ seq: 3, output: { exec: 1, step: 0, from: 0, lines: ["old"] } }).data.warning)).toContain("after execution 2 had started");
    const tail = w.engine.live.tail(w.t().id, w.t().run_id)!;
    expect(tail.lines).toEqual(["a", "b", "c", "d"].map((text) => ({ text })));
    expect(w.engine.repo.logs(w.t().id).filter((l) => l.kind === "server" && l.text.startsWith("live output from the agent")).length).toBe(2);
    expect(w.warnings.filter((x) => x.startsWith("deployment live output")).length).toBe(2);
  });

  test("oversize or garbage batches are refused by the protocol check with a clear error, nothing stored", () => {
    const w = world();
    const tooMany = w.event({ seq: 1, output: { exec: 1, step: 0, from: 0, lines: Array.from({ length: 201 }, () => "x") } });
    expect(tooMany.ret).toBe(422);
    expect(tooMany.data.detail).toContain("/output/lines");
    expect(w.event({ seq: 1, output: { exec: 1, step: 0, from: -5, lines: ["x"] } }).ret).toBe(422);
    expect(w.event({ seq: 1, output: { exec: 0, step: 0, from: 0, lines: [1, 2] } }).ret).toBe(422);
    expect(w.event({ seq: 1, output: "garbage" }).ret).toBe(422);
    expect(w.engine.live.rowsOf(w.t().id)).toEqual([]);
    expect(w.t().last_seq).toBe(0);
  });

  test("the server's own cap per step execution holds whatever the agent sends", () => {
    const db = openDatabase(":memory:");
    db.query("INSERT INTO machines (hostname, jid, os, online, created_at, updated_at) VALUES ('pc', 'pc@t', 'linux', 1, 0, 0)").run();
    db.query("INSERT INTO deployments (kind, title, package_ref, package_name, package_version, section, plan, plan_sha256, transfer, bandwidth_kbps, priority, target_type, target_label, start_at, deadline_at, status, created_by_login, created_at, updated_at) VALUES ('deploy', 't', 'p', 'p', '1', 'install', '{}', '', 'pull', 0, 'normal', 'machines', '', 0, 1, 'running', '', 0, 0)").run();
    db.query("INSERT INTO deployment_targets (deployment_id, machine_id, hostname, run_id, updated_at) VALUES (1, 1, 'pc', 'r', 0)").run();
    const store = liveOutputStore(db);
    let from = 0;
    let last: { stored: number; problem?: string } = { stored: 0 };
    while (from < SERVER_LIVE.maxLinesPerExec + 400) {
      last = store.apply(1, "r", { exec: 1, step: 0, from, lines: lines(from, from + 200) }, 0);
      from += 200;
    }
    const total = store.rowsOf(1).reduce((n, r) => n + r.line_count, 0);
    expect(total).toBe(SERVER_LIVE.maxLinesPerExec);
    expect(last.problem).toContain("after its cap");
    expect(store.tail(1, "r")!.lines.at(-1)).toEqual({ capped: true });
  });
});
