/**
 * @module test/e2e/deploy
 * Deployments from end to end with the real compiled agent: the appliance runs in this
 * process (real HTTPS and XMPP listeners) with a package store of test packages plugged
 * in; the agent enrolls, runs, and is sent deployments. Covered: a package with a script
 * and a file pulled over HTTPS (SHA-256 checked); a reboot step, simulated by the agent
 * process exiting (MEDULLA_AGENT_REBOOT=exit) and being started again, which resumes after
 * the reboot and never runs the earlier steps twice; a failing step routed by its return
 * code to END_ERROR; a file whose bytes do not match their SHA-256; the follow page in
 * a real Chromium updating live, with a running script's output appearing line by line
 * before the step ends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Descriptor, Step } from "../../src/features/packages/descriptor.ts";
import type { PackagesLike } from "../../src/features/deployments/package-source.ts";
import type { Running } from "../../src/server.ts";
import { applianceWithEnrolledAgent, type ApplianceWithAgent } from "./appliance-agent.ts";
import { runAgentProcess, launchChromium, signIn, tempDir, waitFor, type Chromium } from "./helpers.ts";

const PASSWORD = "Deploy-admin-2026";
const STEP = 120_000;
const work = tempDir("medulla-deploy-e2e-");
const config = join(work.path, "agent", "agent.ini");
const out = join(work.path, "out");
const agentLog: string[] = [];
let app: ApplianceWithAgent;
let server: Running;
let base = "";
let ca = "";
let token = "";
let agent: ReturnType<typeof Bun.spawn> | null = null;
let machineId = 0;

// ---- a package store for the test ----
const blobs = join(work.path, "blobs");
const packages: { id: number; name: string; version: string; d: Descriptor; files: { path: string; sha256: string; size: number }[] }[] = [];
function blob(bytes: Uint8Array, claimed?: string): { sha256: string; size: number } {
  const sha256 = claimed ?? new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(blobs, sha256), bytes);
  return { sha256, size: bytes.byteLength };
}
function addPackage(name: string, steps: Step[], files: { path: string; bytes: Uint8Array; claimed?: string }[] = [], transfer: Descriptor["transfer"] = { method: "pull", bandwidthKbps: 0 }): number {
  const id = packages.length + 1;
  const d: Descriptor = {
    format: "medulla-package/1", name, version: "1.0", description: name, kind: "install", targetOs: ["linux"], share: "global", transfer,
    priority: "normal", dependencies: [], inventory: { associate: false }, inventoryAfter: false, removeAfter: false, steps: { linux: { install: steps } },
  };
  packages.push({ id, name, version: "1.0", d, files: files.map((f) => ({ path: f.path, ...blob(f.bytes, f.claimed) })) });
  return id;
}
const store: PackagesLike = {
  list: () => ({ items: packages.map((p) => ({ id: p.id, name: p.name, version: p.version })) }),
  find: (id) => packages.find((p) => p.id === id) ?? null,
  descriptor: (id) => packages.find((p) => p.id === id)!.d,
  files: (id) => packages.find((p) => p.id === id)!.files,
  blobPath: (sha) => join(blobs, sha),
};

function runAgent() {
  return runAgentProcess(config, agentLog, { args: ["--log-level", "debug"], env: { MEDULLA_AGENT_REBOOT: "exit" } });
}

const api = (method: string, path: string, body?: unknown) => app.api(method, path, body);
const deployment = (id: number) => api("GET", `/api/v1/deployments/${id}`);
const finished = (id: number, timeoutMs = 60_000) =>
  waitFor(`deployment ${id} finished`, async () => {
    const d = await deployment(id);
    return d.status !== "running" && d.status !== "scheduled" ? d : false;
  }, timeoutMs);
const online = () => waitFor("the machine online", async () => ((await api("GET", `/api/v1/machines/${machineId}`)).online ? true : false), 30_000);

describe("deployments with the compiled agent", () => {
  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    app = await applianceWithEnrolledAgent({ dir: work.path, password: PASSWORD, packages: store, agentConfig: config });
    ({ server, base, ca, token, machineId } = app);
    agent = runAgent();
    await online();
  }, STEP);

  afterAll(async () => {
    if (agent) {
      agent.kill("SIGTERM");
      await agent.exited;
    }
    await server?.stop();
    work[Symbol.dispose]();
  });

  test("a script with a pulled file, a reboot (agent restarted) and the steps after it, each run once", async () => {
    const marker = join(out, "marker.txt");
    const id = addPackage("Script_reboot", [
      { id: "copy", action: "script", language: "shell", timeout: 60, script: `cat "{{package_dir}}/payload.txt" >> "${marker}"\necho "before reboot" >> "${marker}"\necho script-output-line` },
      { id: "boot", action: "reboot" },
      { id: "after", action: "command", command: `echo "after reboot {{previous_result}}" >> "${marker}"` },
      { id: "ok", action: "end_success" },
    ], [{ path: "payload.txt", bytes: new TextEncoder().encode("payload from the appliance\n") }]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    // The agent "reboots": its process exits once the reboot step is saved and reported.
    const code = await Promise.race([agent!.exited, Bun.sleep(60_000).then(() => "timeout")]);
    expect(code).toBe(0);
    const during = await deployment(d.id);
    expect(during.targets[0]).toMatchObject({ state: "running", detail: "rebooting" });
    agent = runAgent();
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "succeeded", reason: null });
    expect(readFileSync(marker, "utf8")).toBe("payload from the appliance\nbefore reboot\nafter reboot success\n");
    // The script's output came back with its step.
    const page = await fetch(`${base}/api/v1/deployments/${d.id}`, { headers: { authorization: `Bearer ${token}` }, tls: { ca } });
    expect(page.ok).toBe(true);
    const logs = server.app.deployments.engine.repo.logs(server.app.deployments.engine.repo.targets(d.id)[0]!.id);
    expect(logs.some((l) => l.kind === "output" && l.text.includes("script-output-line"))).toBe(true);
    expect(logs.some((l) => l.kind === "download" && l.text.includes("SHA-256 checked"))).toBe(true);
  }, STEP);

  test("a failing step routed by its return code to END_ERROR fails with the reason and the code", async () => {
    const id = addPackage("Fails", [
      { id: "try", action: "command", command: "echo trying; exit 3", next: { codes: [{ when: "==3", goto: "bad" }] } },
      { id: "good", action: "end_success" },
      { id: "bad", action: "end_error", message: "the installer returned 3" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "failed", reason: "step", exitCode: 3 });
    expect(done.targets[0].detail).toContain("the installer returned 3");
    // Relaunch only the failed: a new run, same outcome, attempt 2.
    await api("POST", `/api/v1/deployments/${d.id}/relaunch`, {});
    const again = await finished(d.id);
    expect(again.targets[0]).toMatchObject({ state: "failed", attempt: 2 });
  }, STEP);

  test("a file whose bytes do not match their SHA-256 fails as a checksum error, nothing run", async () => {
    const marker = join(out, "never.txt");
    const id = addPackage("Bad_checksum", [
      { id: "run", action: "command", command: `echo ran > "${marker}"` },
      { id: "ok", action: "end_success" },
    ], [{ path: "data.bin", bytes: new Uint8Array(4096).fill(7), claimed: "0".repeat(63) + "1" }]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "failed", reason: "checksum" });
    expect(await Bun.file(marker).exists()).toBe(false);
  }, STEP);

  test("push: the plan and a file come over the agent's XMPP connection; a script step finds the exact bytes", async () => {
    const data = new Uint8Array(300_000);
    crypto.getRandomValues(data.subarray(0, 65_536));
    for (let i = 65_536; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const digest = new Bun.CryptoHasher("sha256").update(data).digest("hex");
    const marker = join(out, "push-check.txt");
    const id = addPackage("Pushed", [
      { id: "check", action: "command", command: `sha256sum "{{package_dir}}/sub/data.bin" | cut -d" " -f1 > "${marker}"` },
      { id: "ok", action: "end_success" },
    ], [{ path: "sub/data.bin", bytes: data }], { method: "push", bandwidthKbps: 0 });
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const done = await finished(d.id);
    expect(done.targets[0]).toMatchObject({ state: "succeeded" });
    expect(readFileSync(marker, "utf8").trim()).toBe(digest);
    const logs = server.app.deployments.engine.repo.logs(server.app.deployments.engine.repo.targets(d.id)[0]!.id);
    expect(logs.some((l) => l.kind === "download" && l.text.includes("pushed over XMPP"))).toBe(true);
  }, STEP);

  test("push resumes after the agent is killed mid-transfer: from the bytes it held, not from zero", async () => {
    const data = new Uint8Array(3 * 1024 * 1024);
    for (let off = 0; off < data.length; off += 65_536) crypto.getRandomValues(data.subarray(off, off + 65_536));
    const digest = new Bun.CryptoHasher("sha256").update(data).digest("hex");
    const marker = join(out, "push-resume.txt");
    // 4,000 kbit/s: the 3 MiB take about 6 s, time to cut it.
    const id = addPackage("Pushed_resume", [
      { id: "check", action: "command", command: `sha256sum "{{package_dir}}/big.bin" | cut -d" " -f1 > "${marker}"` },
      { id: "ok", action: "end_success" },
    ], [{ path: "big.bin", bytes: data }], { method: "push", bandwidthKbps: 4000 });
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    const repo = server.app.deployments.engine.repo;
    await waitFor("bytes pushed", () => {
      const t = repo.targets(d.id)[0]!;
      return t.state === "transferring" && t.bytes_done > 0 && t.bytes_done < data.length;
    }, 60_000);
    agent!.kill("SIGKILL");
    await agent!.exited;
    agent = runAgent();
    const done = await finished(d.id, 120_000);
    expect(done.targets[0]).toMatchObject({ state: "succeeded" });
    expect(readFileSync(marker, "utf8").trim()).toBe(digest);
    const resumed = repo.logs(repo.targets(d.id)[0]!.id).map((l) => /push of big\.bin resumed at byte (\d+) of (\d+)/.exec(l.text)).find((m) => m);
    expect(resumed).toBeTruthy();
    expect(Number(resumed![1])).toBeGreaterThan(0);
    expect(Number(resumed![2])).toBe(data.length);
  }, STEP);

  test("the follow page in Chromium shows a machine move to success without a reload", async () => {
    await using browser: Chromium = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await signIn(page, { url: (path) => base + path }, "root", PASSWORD);
    const id = addPackage("Slow", [
      { id: "pause", action: "wait", seconds: 4 },
      { id: "ok", action: "end_success" },
    ]);
    // Launched from the launch page, like an administrator would.
    await page.goto(`${base}/deployments/new`);
    await page.locator("#package").selectOption(String(id));
    await page.locator(`input[name=machines][value="${machineId}"]`).check();
    await page.getByRole("button", { name: "Lancer" }).click();
    await page.waitForURL((u) => /^\/deployments\/\d+$/.test(u.pathname));
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent !== "");
    const state = () => page.locator("#deploy-targets tbody tr .state").first().innerText();
    await waitFor("the row says Réussi", async () => (await state()) === "Réussi", 60_000);
    expect(await page.locator(".deploy-progress").innerText()).toContain("1 terminé(s) sur 1");
    // The audit lists it under my tasks.
    await page.goto(`${base}/audit?tab=past`);
    expect(await page.locator("#audit-rows").innerText()).toContain("Slow 1.0");
    expect(problems).toEqual([]);
  }, STEP);

  test("a script's output shows on the follow page while the step runs, in order, then the final record", async () => {
    await using browser: Chromium = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    await signIn(page, { url: (path) => base + path }, "root", PASSWORD);
    // The script prints a line, then waits for the test's go before it ends: the lines
    // must reach the page while the step is still running (no timing assumed).
    const go = join(out, "live-go");
    const id = addPackage("Live_output", [
      { id: "talk", action: "script", language: "shell", timeout: 120, script: `for i in 1 2 3 4 5; do echo "progress line $i"; sleep 0.2; done\nwhile [ ! -e "${go}" ]; do sleep 0.1; done\necho "finished line"` },
      { id: "ok", action: "end_success" },
    ]);
    const d = await api("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [machineId] });
    await page.goto(`${base}/deployments/${d.id}`);
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent !== "");
    const tail = page.locator(".deploy-live pre");
    await waitFor("the live output on the page", async () => ((await tail.count()) > 0 && (await tail.first().innerText()).includes("progress line 5")), 60_000);
    const text = await tail.first().innerText();
    // In order, each once, and the step still running (it waits for the go).
    const at = [1, 2, 3, 4, 5].map((i) => text.indexOf(`progress line ${i}`));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text.split("progress line 3").length).toBe(2);
    expect(text).not.toContain("finished line");
    expect((await deployment(d.id)).targets[0].state).toBe("running");
    writeFileSync(go, "");
    const done = await finished(d.id);
    expect(done.targets[0].state).toBe("succeeded");
    // The finished step keeps its final record; the live batches sit before it in the log, none twice.
    const repo = server.app.deployments.engine.repo;
    const target = repo.targets(d.id)[0]!;
    const final = repo.logs(target.id).find((l) => l.kind === "output")!;
    expect(final.text).toContain("progress line 1");
    expect(final.text).toContain("finished line");
    const liveLines = server.app.deployments.engine.live.rowsOf(target.id).flatMap((r) => (r.line_count ? r.text.split("\n") : []));
    expect(liveLines.filter((l) => l.startsWith("progress line"))).toEqual([1, 2, 3, 4, 5].map((i) => `progress line ${i}`));
    await page.reload();
    await page.locator(`#deploy-target-${target.id} button`).click();
    await waitFor("the machine's log", async () => (await page.locator(`#deploy-log-${target.id} .log-live`).count()) > 0, 20_000);
    expect(await page.locator(`#deploy-log-${target.id}`).innerText()).toContain("progress line 2");
    expect(problems).toEqual([]);
  }, STEP);
});
