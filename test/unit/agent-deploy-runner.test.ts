import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DeployManager, type RunFile } from "../../agent/src/deploy/runner.ts";
import { reply, request, type Envelope } from "../../src/protocol/envelope.ts";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-agent-runner-");
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;

function manager(dir: string) {
  const events: Record<string, unknown>[] = [];
  let failing = false;
  const m = new DeployManager({ dir, remote: { server: "https://127.0.0.1:1", jid: "a@b", password: "x", ca: "" }, log: quiet, os: "linux", machineId: "m1", reboot: () => {} });
  m.setSender(async (action, data) => {
    if (failing) throw new Error("offline");
    events.push(data);
    return reply(request(action, data), { ack: data.seq as number }) as Envelope;
  });
  return { m, events, setFailing: (v: boolean) => (failing = v) };
}

/** A run saved on disk as if the agent had died in it. */
function savedRun(dir: string, runId: string, steps: unknown[], at: Partial<RunFile>): void {
  const runDir = join(dir, "runs", runId);
  mkdirSync(runDir, { recursive: true });
  const plan = { v: 1, deploymentId: 1, section: "install", os: "linux", packages: [{ ref: "1", name: "P", version: "1", files: [], steps, inventoryAfter: false, removeAfter: false }] };
  writeFileSync(join(runDir, "plan.json"), JSON.stringify(plan));
  const f: RunFile = { runId, deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0, phase: "steps", pkg: 0, step: 0, inStep: false, env: {}, previous: {}, seq: 3, acked: 3, outbox: [], createdAt: Date.now(), ...at };
  writeFileSync(join(runDir, "run.json"), JSON.stringify(f));
}

describe("the agent's deployment runs", () => {
  test("a step the agent died in is not run again: it ends in error and the routing decides", async () => {
    const dir = tmp();
    const marker = join(dir, "ran.txt");
    savedRun(dir, "run-1", [
      { id: "install", action: "command", command: `echo once >> "${marker}"`, next: { error: "failed" } },
      { id: "ok", action: "end_success" },
      { id: "failed", action: "end_error", message: "interrupted install" },
    ], { step: 0, inStep: true });
    const { m, events } = manager(dir);
    await m.start();
    await m.idle();
    await m.flush();
    expect(existsSync(marker)).toBe(false);
    expect(events.at(-1)).toMatchObject({ runId: "run-1", state: "failed", reason: "step", exitCode: -1, detail: "P: END_ERROR: interrupted install (after step with return code -1)" });
    expect(JSON.stringify(events)).toContain("interrupted: the agent stopped during step install");
    const saved = JSON.parse(readFileSync(join(dir, "runs", "run-1", "run.json"), "utf8")) as RunFile;
    expect(saved).toMatchObject({ phase: "done", result: "failed", outbox: [], acked: saved.seq });
  });

  test("resuming after a reboot step goes on at the step after it", async () => {
    const dir = tmp();
    const marker = join(dir, "after.txt");
    savedRun(dir, "run-2", [
      { id: "boot", action: "reboot" },
      { id: "after", action: "command", command: `echo after >> "${marker}"` },
      { id: "ok", action: "end_success" },
    ], { step: 1, inStep: false });
    const { m, events } = manager(dir);
    await m.start();
    await m.idle();
    await m.flush();
    expect(readFileSync(marker, "utf8")).toBe("after\n");
    expect(events.at(-1)).toMatchObject({ state: "succeeded" });
  });

  test("the same deploy twice starts one run; events wait on disk while the server is away", async () => {
    const dir = tmp();
    const { m, events, setFailing } = manager(dir);
    savedRun(dir, "run-3", [{ id: "ok", action: "end_success" }], { phase: "done", result: "succeeded", seq: 2, acked: 1, outbox: [{ runId: "run-3", seq: 2, at: 0, state: "succeeded" }] });
    setFailing(true);
    await m.start();
    await m.flush();
    expect(events).toHaveLength(0);
    const again = await m.accept({ runId: "run-3", deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 0 });
    expect(again).toEqual({ accepted: true, state: "succeeded", lastSeq: 2, transfers: ["pull", "push"] });
    setFailing(false);
    await m.flush();
    expect(events).toEqual([{ runId: "run-3", seq: 2, at: 0, state: "succeeded" }]);
    expect(await m.accept({ runId: "late", deploymentId: 1, planSha256: "0".repeat(64), transfer: "pull", bandwidthKbps: 0, deadline: 1 })).toMatchObject({ accepted: false });
  });
});
