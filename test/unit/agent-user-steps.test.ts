/**
 * The user-facing steps on the agent with a scripted desktop: answers, timeouts and "no user
 * session" route by the descriptor; a postponement ends the run as `deferred` with the step
 * it came from; the server's grant (count, deadline) is obeyed; the kiosk kind stays distinct.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeployManager, type RunFile } from "../../agent/src/deploy/runner.ts";
import { defaultLabels, runUserStep } from "../../agent/src/deploy/user-steps.ts";
import type { Desktop, Prompt, PromptResult } from "../../agent/src/desktop/prompt.ts";
import { reply, request, type Envelope } from "../../src/protocol/envelope.ts";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-agent-user-steps-");
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;
const signal = new AbortController().signal;

/** Waits (bounded) until the run is done and its last events are acknowledged and saved: no write is left to happen after the test. */
async function drained(dir: string, runId: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      const f = JSON.parse(readFileSync(join(dir, "runs", runId, "run.json"), "utf8")) as RunFile;
      if (f.phase === "done" && f.outbox.length === 0) return;
    } catch {
      // being replaced
    }
    if (Date.now() > until) throw new Error(`run ${runId} not drained`);
    await Bun.sleep(10);
  }
}

function scripted(answer: Partial<PromptResult>): Desktop & { asked: Prompt[]; notified: Prompt[] } {
  const asked: Prompt[] = [];
  const notified: Prompt[] = [];
  return {
    asked, notified,
    async ask(p) {
      asked.push(p);
      return { sessions: ["alice on x11:0"], notes: [], outcome: "answered", ...answer } as PromptResult;
    },
    async notify(p) {
      notified.push(p);
      return { sessions: ["alice on x11:0"], notes: [], outcome: "shown" };
    },
  };
}

const ask = { id: "q", action: "ask_user" as const, question: "Close Firefox?", timeout: 60, default: "no" as const };
const defer = { id: "d", action: "defer" as const, message: "Updates are ready", maxDeferrals: 3, delayMinutes: 60, timeout: 120 };

describe("user steps", () => {
  test("ask_user: the user's answer; timeout and no session take the default, said so", async () => {
    const yes = await runUserStep(ask, { desktop: scripted({ answer: "yes", by: "alice on x11:0" }), signal });
    expect(yes).toMatchObject({ ok: true, code: 0, interaction: { kind: "ask_user", outcome: "answered", answer: "yes", by: "alice on x11:0" } });
    expect(yes.notes[0]).toBe('question "Close Firefox?": the user answered "yes" (alice on x11:0)');
    const late = await runUserStep(ask, { desktop: scripted({ outcome: "timeout" }), signal });
    expect(late).toMatchObject({ ok: false, code: 1, output: "answer: no (default: timed out)", interaction: { outcome: "timeout", applied: "default no" } });
    expect(late.notes[0]).toContain("timed out → default \"no\"");
    const nobody = await runUserStep({ ...ask, default: "yes" }, { desktop: scripted({ outcome: "no_session", sessions: [] }), signal });
    expect(nobody).toMatchObject({ ok: true, code: 0, interaction: { outcome: "no_session", applied: "default yes" } });
    expect(nobody.notes[0]).toContain("no user session → default \"yes\"");
  });

  test("defer: postpone carries the interval; install now, timeout and nobody go on; the count left is on the button", async () => {
    const d = scripted({ answer: "no", by: "alice on x11:0" });
    const r = await runUserStep(defer, { desktop: d, signal, deferral: { used: 1, allowed: true } });
    expect(r).toMatchObject({ ok: true, defer: { delayMinutes: 60, maxDeferrals: 3 }, interaction: { kind: "defer", answer: "no", applied: "postponed 2 of 3" } });
    expect(d.asked[0]!.no).toBe(`${defaultLabels().postpone} (2)`);
    expect(d.asked[0]!.timeoutSeconds).toBe(120);
    for (const a of [{ answer: "yes" as const }, { outcome: "timeout" as const }, { outcome: "no_session" as const }]) {
      const x = await runUserStep(defer, { desktop: scripted(a), signal, deferral: { used: 0, allowed: true } });
      expect(x.ok).toBe(true);
      expect(x.defer).toBeUndefined();
      expect(x.interaction.applied).toBe("installing now");
    }
  });

  test("defer: no postponement left (count or deadline) → not asked; atLimit notify / silent / error", async () => {
    const d = scripted({});
    const limit = await runUserStep(defer, { desktop: d, signal, deferral: { used: 3, allowed: false, why: "used" } });
    expect(d.asked).toHaveLength(0);
    expect(d.notified).toHaveLength(1);
    expect(limit).toMatchObject({ ok: true, interaction: { outcome: "limit" } });
    const near = await runUserStep({ ...defer, atLimit: "silent" }, { desktop: d, signal, deferral: { used: 1, allowed: false, why: "the deadline is near" } });
    expect(near).toMatchObject({ ok: true, interaction: { outcome: "deadline" } });
    expect(near.notes[0]).toContain("the deadline is near");
    expect(d.notified).toHaveLength(1);
    const err = await runUserStep({ ...defer, atLimit: "error" }, { desktop: d, signal, deferral: { used: 3, allowed: true } });
    expect(err).toMatchObject({ ok: false, code: 2 });
  });

  test("notifications never fail the step; the kiosk kind stays distinct", async () => {
    const d = scripted({});
    const k = await runUserStep({ id: "k", action: "kiosk_notify", message: "New software in your kiosk" }, { desktop: d, signal });
    expect(k).toMatchObject({ ok: true, interaction: { kind: "kiosk_notify", outcome: "shown" } });
    expect(d.notified[0]!.kind).toBe("kiosk_notify");
    expect(k.notes[0]).toContain("no kiosk application yet");
    const none: Desktop = { ask: d.ask, notify: async () => ({ outcome: "no_session", sessions: [], notes: [] }) };
    expect(await runUserStep({ id: "u", action: "user_notify", message: "m" }, { desktop: none, signal })).toMatchObject({ ok: true, interaction: { outcome: "no_session" } });
  });
});

describe("the runner with user steps", () => {
  function manager(dir: string, desktop: Desktop) {
    const events: Record<string, unknown>[] = [];
    const m = new DeployManager({ dir, remote: { server: "https://127.0.0.1:1", jid: "a@b", password: "x", ca: "" }, log: quiet, os: "linux", machineId: "m1", reboot: () => {}, desktop });
    m.setSender(async (action, data) => {
      events.push(data);
      return reply(request(action, data), { ack: data.seq as number }) as Envelope;
    });
    return { m, events };
  }
  function savedRun(dir: string, runId: string, steps: unknown[], at: Partial<RunFile>): void {
    const runDir = join(dir, "runs", runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "plan.json"), JSON.stringify({ v: 1, deploymentId: 1, section: "install", os: "linux", packages: [{ ref: "1", name: "P", version: "1", files: [], steps, inventoryAfter: false, removeAfter: false }] }));
    const f: RunFile = { runId, deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0, phase: "steps", pkg: 0, step: 0, inStep: false, env: {}, previous: {}, seq: 0, acked: 0, outbox: [], createdAt: Date.now(), ...at };
    writeFileSync(join(runDir, "run.json"), JSON.stringify(f));
  }

  test("a postponement ends the run as deferred, naming the defer step; nothing after it runs", async () => {
    const dir = tmp();
    const marker = join(dir, "ran.txt");
    savedRun(dir, "r1", [{ id: "note", action: "user_notify", message: "hi" }, defer, { id: "go", action: "command", command: `echo x > "${marker}"` }, { id: "ok", action: "end_success" }], { deferral: { used: 0, allowed: true } });
    const { m, events } = manager(dir, scripted({ answer: "no", by: "alice on x11:0" }));
    await m.start();
    await m.idle();
    await m.flush();
    await drained(dir, "r1");
    await m.settled();
    expect(await Bun.file(marker).exists()).toBe(false);
    expect(events.find((e) => (e.interaction as { kind?: string })?.kind === "user_notify")).toMatchObject({ state: "running", interaction: { step: 0, outcome: "shown" } });
    expect(events.at(-1)).toMatchObject({ state: "deferred", step: 1, deferral: { pkg: 0, step: 1 }, interaction: { kind: "defer", step: 1, answer: "no", by: "alice on x11:0" } });
  });

  test("a question routes by its answer's return code", async () => {
    const dir = tmp();
    savedRun(dir, "r2", [{ ...ask, next: { codes: [{ when: "==0", goto: "yes" }, { when: "==1", goto: "no" }] } }, { id: "yes", action: "end_success" }, { id: "no", action: "end_error", message: "declined" }], {});
    const { m, events } = manager(dir, scripted({ outcome: "timeout" }));
    await m.start();
    await m.idle();
    await m.flush();
    await drained(dir, "r2");
    await m.settled();
    expect(events.at(-1)).toMatchObject({ state: "failed", detail: expect.stringContaining("declined") });
    expect(JSON.stringify(events)).toContain("timed out → default");
  });
});

describe("a question the agent died in", () => {
  test("is asked again after the restart (asking twice is harmless)", async () => {
    const dir = tmp();
    const runDir = join(dir, "runs", "r3");
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "plan.json"), JSON.stringify({ v: 1, deploymentId: 1, section: "install", os: "linux", packages: [{ ref: "1", name: "P", version: "1", files: [], steps: [{ ...ask, next: { codes: [{ when: "==0", goto: "ok" }] } }, { id: "ok", action: "end_success" }], inventoryAfter: false, removeAfter: false }] }));
    const f: RunFile = { runId: "r3", deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0, phase: "steps", pkg: 0, step: 0, inStep: true, env: {}, previous: {}, seq: 2, acked: 2, outbox: [], createdAt: Date.now() };
    writeFileSync(join(runDir, "run.json"), JSON.stringify(f));
    const d = scripted({ answer: "yes", by: "alice on x11:0" });
    const events: Record<string, unknown>[] = [];
    const m = new DeployManager({ dir, remote: { server: "https://127.0.0.1:1", jid: "a@b", password: "x", ca: "" }, log: quiet, os: "linux", machineId: "m1", reboot: () => {}, desktop: d });
    m.setSender(async (action, data) => (events.push(data), reply(request(action, data), { ack: data.seq as number }) as Envelope));
    await m.start();
    await m.idle();
    await m.flush();
    await drained(dir, "r3");
    await m.settled();
    expect(d.asked).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ state: "succeeded" });
  });
});
