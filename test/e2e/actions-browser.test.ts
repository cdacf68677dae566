/**
 * @module test/e2e/actions-browser
 * Quick actions, the machine page's system actions and the remote shell, end to end with
 * the compiled appliance and the compiled agent: the agent enrolls and runs; quick actions
 * run through the API (exit code, stderr, timeout, output cap, wrong OS refused) and from
 * the machine page in Chromium, whose run page fills in live; processes, disk usage,
 * netstat, agent version, reboot (dry run) and the configuration file editor (a bad file
 * refused, a good one saved with a backup); then the remote shell in Chromium: a command
 * typed into xterm.js and its output read back, Ctrl-C, a resize, and the session logged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { agentBinary, enrollArgs, launchChromium, openPage, signIn, startMedulla, tempDir, waitFor, type Chromium, type Medulla } from "./helpers.ts";

const PASSWORD = "Fleet-admin-2026";
const STEP = 120_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
let agent: ReturnType<typeof Bun.spawn> | null = null;
let token = "";
let ca = "";
let machineId = 0;
const agentDir = tempDir("medulla-agent-");
const config = join(agentDir.path, "agent.ini");
const agentLog: string[] = [];
const problems: string[] = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(medulla.url(path), {
    method, tls: { ca },
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

interface RunResult { machineId: number; status: string; exitCode: number | null; output: string; truncated: boolean; durationMs: number | null; error: string }

async function runQuickAction(input: Record<string, unknown>): Promise<RunResult> {
  const created = await api<{ id: number }>("POST", "/api/v1/quick-actions", input);
  expect(created.status).toBe(201);
  const run = await api<{ runId: number }>("POST", `/api/v1/quick-actions/${created.json.id}/runs`, { machineIds: [machineId] });
  expect(run.status).toBe(202);
  const done = await waitFor("the run's result", async () => {
    const r = await api<{ finished: boolean; results: RunResult[] }>("GET", `/api/v1/quick-action-runs/${run.json.runId}`);
    return r.json.finished ? r.json.results : undefined;
  }, 60_000);
  return done[0]!;
}

describe("quick actions, system actions and the remote shell with a real agent", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    ca = await medulla.ca();
    const login = await fetch(medulla.url("/api/v1/tokens"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: PASSWORD }), tls: { ca } });
    token = ((await login.json()) as { token: string }).token;
    const enrollment = await api<{ commands: Record<string, string> }>("POST", "/api/v1/enrollment-tokens", { name: "actions", maxUses: 1 });
    const args = enrollArgs(enrollment.json.commands["linux-x64"] ?? Object.values(enrollment.json.commands)[0]!);
    const enroll = Bun.spawnSync([agentBinary, ...args, "--config", config], { stdout: "pipe", stderr: "pipe" });
    expect({ code: enroll.exitCode, out: enroll.stdout.toString() + enroll.stderr.toString() }).toMatchObject({ code: 0 });
    agent = Bun.spawn([agentBinary, "run", "--config", config], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, MEDULLA_AGENT_POWER_DRYRUN: "1", SHELL: "/bin/bash" } });
    for (const stream of [agent.stdout, agent.stderr]) {
      void (async () => {
        const decoder = new TextDecoder();
        const reader = (stream as ReadableStream<Uint8Array>).getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) agentLog.push(...decoder.decode(r.value).split("\n"));
      })();
    }
    machineId = await waitFor("the machine online", async () => {
      const list = await api<{ items: { id: number; online: boolean }[] }>("GET", "/api/v1/machines");
      return list.json.items.find((m) => m.online)?.id;
    }, 60_000);

    browser = await launchChromium();
    ({ page } = await openPage(browser, { problems, timeoutMs: 20_000 }));
    await signIn(page, medulla, "root", PASSWORD);
  }, STEP);

  afterAll(async () => {
    if (agent) {
      agent.kill("SIGTERM");
      await agent.exited;
    }
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
    agentDir[Symbol.dispose]();
  });

  test("a shell quick action: exit code, stdout and stderr, duration", async () => {
    const r = await runQuickAction({ name: "hello", os: "linux", interpreter: "shell", script: "echo hello-$((6*7))\necho oops >&2\nexit 3", description: "says hello" });
    expect(r).toMatchObject({ status: "failed", exitCode: 3, truncated: false });
    expect(r.output).toContain("hello-42");
    expect(r.output).toContain("oops");
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  }, STEP);

  test("a Python quick action succeeds", async () => {
    const r = await runQuickAction({ name: "py", os: "linux", interpreter: "python", script: "import sys\nprint('py', sys.version_info[0])" });
    expect(r).toMatchObject({ status: "done", exitCode: 0 });
    expect(r.output).toContain("py 3");
  }, STEP);

  test("past its timeout the action is killed; big output is capped and marked truncated", async () => {
    const slow = await runQuickAction({ name: "slow", os: "linux", interpreter: "shell", script: "echo started; sleep 60", timeoutSeconds: 2 });
    expect(slow).toMatchObject({ status: "timeout", exitCode: null });
    expect(slow.output).toContain("started");
    const big = await runQuickAction({ name: "big", os: "linux", interpreter: "shell", script: "head -c 200000 /dev/zero | tr '\\0' x" });
    expect(big).toMatchObject({ status: "done", truncated: true });
    expect(big.output.length).toBe(32_000);
  }, STEP);

  test("a command for another OS is refused with a clear message, and never sent", async () => {
    const r = await runQuickAction({ name: "win", os: "windows", interpreter: "cmd", script: "shutdown /r /t 0" });
    expect(r.status).toBe("refused");
    expect(r.error).toContain("wrong OS");
    const bad = await api<{ error: { fields: Record<string, string> } }>("POST", "/api/v1/quick-actions", { name: "sh on windows", os: "windows", interpreter: "shell", script: "ls" });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.error.fields)).toContain("interpreter");
    const dup = await api<{ error: { fields: Record<string, string> } }>("POST", "/api/v1/quick-actions", { name: "HELLO", os: "linux", interpreter: "shell", script: "ls" });
    expect(dup.status).toBe(422);
  }, STEP);

  test("from the machine page: a quick action runs and its run page fills in live", async () => {
    await page.goto(medulla.url(`/computers/${machineId}`));
    await page.locator("#qa-pick").selectOption({ label: "py" });
    await page.locator(".qa-run-form button[type=submit]").click();
    await page.waitForURL(/\/quick-actions\/runs\/\d+$/);
    const row = page.locator(`tr[id$="-${machineId}"]`);
    await waitFor("the result row done", async () => (await row.getAttribute("data-status")) === "done", 30_000);
    expect(await row.innerText()).toContain("py 3");
    await page.goto(medulla.url("/quick-actions/runs"));
    expect(await page.locator("main").innerText()).toContain("hello");
  }, STEP);

  test("a run page open while the action runs shows its result without a reload", async () => {
    const created = await api<{ id: number }>("POST", "/api/v1/quick-actions", { name: "late", os: "linux", interpreter: "shell", script: "sleep 3; echo done-late" });
    const run = await api<{ runId: number }>("POST", `/api/v1/quick-actions/${created.json.id}/runs`, { machineIds: [machineId] });
    await page.goto(medulla.url(`/quick-actions/runs/${run.json.runId}`));
    const row = page.locator(`tr[id$="-${machineId}"]`);
    expect(await row.getAttribute("data-status")).toBe("running");
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent !== "");
    await waitFor("the live result", async () => (await page.locator(`tr[id$="-${machineId}"]`).getAttribute("data-status")) === "done", 30_000);
    expect(await page.locator(`tr[id$="-${machineId}"]`).innerText()).toContain("done-late");
  }, STEP);

  test("system actions on the machine page: processes, disk usage, netstat, version, reboot", async () => {
    await page.goto(medulla.url(`/computers/${machineId}`));
    await page.getByRole("button", { name: "Processus" }).click();
    await page.locator("#process-list").waitFor();
    expect(await page.locator("#process-list").innerText()).toContain("medulla-agent");
    await page.getByRole("button", { name: "Espace disque" }).click();
    await page.locator("#disk-usage").waitFor();
    expect(await page.locator("#disk-usage tbody tr").count()).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Netstat" }).click();
    await page.locator("#netstat").waitFor();
    expect(await page.locator("#netstat").innerText()).toContain("LISTEN");
    await page.locator("#system-actions").getByRole("button", { name: "Version installée de l'agent" }).click();
    await waitFor("the version", async () => (await page.locator("#system-output").innerText()).includes("Agent "));
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Redémarrer" }).click();
    await waitFor("the reboot answer", async () => (await page.locator("#system-output").innerText()).includes("dry run: shutdown -r now"));
  }, STEP);

  test("the agent's configuration file: a bad one is refused, a good one saved with a backup", async () => {
    await page.goto(medulla.url(`/computers/${machineId}`));
    await page.getByRole("button", { name: "Fichier de configuration" }).click();
    const area = page.locator("#config-editor textarea");
    await area.waitFor();
    const original = await area.inputValue();
    expect(original).toContain("[xmpp]");
    expect(original).toContain("********");
    expect(original).not.toContain(readFileSync(config, "utf8").match(/^password\s*=\s*(.*)$/m)![1]!);
    await area.fill(original.replace(/^heartbeat\s*=.*$/m, "heartbeat = 1"));
    await page.getByRole("button", { name: "Enregistrer le fichier" }).click();
    await waitFor("the refusal", async () => (await page.locator("#system-output").innerText()).includes("L'agent a refusé le fichier"));
    expect(await page.locator("#system-output").innerText()).toContain("heartbeat");
    expect(existsSync(`${config}.bak`)).toBe(false);
    const area2 = page.locator("#config-editor textarea");
    await area2.fill(original.replace(/^heartbeat\s*=.*$/m, "heartbeat = 45"));
    await page.getByRole("button", { name: "Enregistrer le fichier" }).click();
    await waitFor("saved", async () => (await page.locator("#system-output").innerText()).includes("l'ancien est conservé dans"));
    const saved = readFileSync(config, "utf8");
    expect(saved).toMatch(/^heartbeat = 45$/m);
    expect(saved).not.toContain("********"); // the password was kept, not overwritten by the mask
    expect(readFileSync(`${config}.bak`, "utf8")).toMatch(/^heartbeat = 60$/m);
  }, STEP);

  test("the remote shell: type a command in xterm.js and read its output; Ctrl-C; resize", async () => {
    await page.goto(medulla.url(`/computers/${machineId}/shell`));
    await page.locator("#shell-transcript").check();
    await page.getByRole("button", { name: "Ouvrir le terminal" }).click();
    await waitFor("the terminal ready", async () => (await page.locator("#terminal").getAttribute("data-state")) === "ready", 30_000);
    const screen = () => page.evaluate(() => {
      const term = (window as unknown as { medullaTerminal: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).medullaTerminal;
      const lines: string[] = [];
      for (let i = 0; i < term.buffer.active.length; i++) lines.push(term.buffer.active.getLine(i)?.translateToString(true) ?? "");
      return lines.join("\n");
    });
    await page.locator(".xterm-helper-textarea").focus();
    await page.keyboard.type("echo $((6*7))-from-the-shell\n");
    await waitFor("the command's output", async () => (await screen()).includes("42-from-the-shell"), 20_000);
    // Ctrl-C interrupts a running program and the shell takes the next command.
    await page.keyboard.type("sleep 300\n");
    await Bun.sleep(300);
    await page.keyboard.press("Control+C");
    await page.keyboard.type("echo after-$((1+1))-ctrl-c\n");
    await waitFor("the shell back after Ctrl-C", async () => (await screen()).includes("after-2-ctrl-c"), 20_000);
    // The pseudo-terminal follows the browser's size: once xterm.js has fitted the new
    // viewport (the fit runs after the resize event, not during it), stty agrees with it.
    const termSize = () => page.evaluate(() => {
      const t = (window as unknown as { medullaTerminal: { cols: number; rows: number } }).medullaTerminal;
      return `${t.rows} ${t.cols}`;
    });
    const before = await termSize();
    await page.setViewportSize({ width: 900, height: 600 });
    await page.evaluate(() => window.dispatchEvent(new Event("resize")));
    await waitFor("xterm.js fitted to the new viewport", async () => (await termSize()) !== before, 10_000);
    await Bun.sleep(500);
    const size = await termSize();
    await page.keyboard.type("echo size=$(stty size)\n");
    await waitFor("stty reports the new size", async () => (await screen()).includes(`size=${size}`), 20_000);
    // A full-screen program draws and quits.
    await page.keyboard.type("top -d 1\n");
    await waitFor("top's screen", async () => /load average/.test(await screen()), 20_000);
    await page.keyboard.type("q");
    // top quits and the shell's prompt is back on the last line.
    await waitFor("the prompt after top", async () => /[#$]\s*$/.test((await screen()).trimEnd()), 20_000);
    await page.keyboard.type("exit\n");
    await waitFor("the session ended", async () => (await page.locator("#terminal").getAttribute("data-state")) === "ended", 20_000);
  }, STEP);

  test("the session is logged with its transcript", async () => {
    await page.goto(medulla.url("/shell-sessions"));
    const row = page.locator("#shell-sessions tbody tr").first();
    expect(await row.innerText()).toContain("root");
    const href = await row.locator("a").getAttribute("href");
    const transcript = await (await fetch(medulla.url(href!), { headers: { cookie: (await browser.context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ") }, tls: { ca } })).text();
    expect(transcript).toContain("42-from-the-shell");
    const logs = await api<{ items: { text: string }[] }>("GET", "/api/v1/logs?module=remotedesktop");
    expect(logs.json.items.map((i) => i.text).join("\n")).toContain("Terminal ouvert");
  }, STEP);

  test("the shell's WebSocket refuses a missing CSRF token and a foreign origin", async () => {
    const cookie = (await browser.context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const wsUrl = medulla.url(`/computers/${machineId}/shell/ws`).replace(/^http/, "ws");
    const host = new URL(wsUrl).host;
    const tryOpen = (url: string, origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { headers: { cookie, origin }, tls: { ca } } as never);
        ws.onopen = () => (ws.close(), resolve("open"));
        ws.onerror = () => resolve("refused");
      });
    expect(await tryOpen(wsUrl, `https://${host}`)).toBe("refused");
    expect(await tryOpen(`${wsUrl}?csrf=x`, "https://evil.example")).toBe("refused");
  }, STEP);

  test("no page logged an error (the CSP let xterm.js draw)", () => {
    expect(problems).toEqual([]);
    expect(agentLog.filter((l) => /ERROR/.test(l))).toEqual([]);
  });
});
