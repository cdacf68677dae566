/**
 * @module test/e2e/computers-browser
 * The agent channel from end to end with the compiled binaries: an administrator creates
 * an enrollment token, the agent enrolls with the printed command (CA pinned) and runs;
 * the Computers page in a real Chromium shows it online without a reload, its XMPP console
 * talks to it, it goes offline when the agent stops, and once banned it cannot come back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { agentBinary, runAgentProcess, launchChromium, openPage, signIn, startMedulla, tempDir, waitFor, type Chromium, type Medulla } from "./helpers.ts";

const PASSWORD = "Fleet-admin-2026";
const STEP = 90_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
let agent: ReturnType<typeof Bun.spawn> | null = null;
const agentDir = tempDir("medulla-agent-");
const config = join(agentDir.path, "agent.ini");
const agentLog: string[] = [];
const problems: string[] = [];

function runAgent() {
  return runAgentProcess(config, agentLog);
}

async function stopAgent() {
  if (!agent) return;
  agent.kill("SIGTERM");
  await agent.exited;
  agent = null;
}

const state = () => page.locator("[id^=machine-state-]").first().innerText();

describe("an agent calling home, seen in Chromium", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    browser = await launchChromium();
    ({ page } = await openPage(browser, { problems }));
  }, STEP);

  afterAll(async () => {
    await stopAgent();
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
    agentDir[Symbol.dispose]();
  });

  test("the Computers page explains how to add machines while there are none", async () => {
    await signIn(page, medulla, "root", PASSWORD);
    await page.goto(medulla.url("/computers"));
    expect(await page.locator(".empty-state").innerText()).toContain("Installez l'agent");
  }, STEP);

  test("a token made on the enrollment page enrolls the compiled agent", async () => {
    await page.goto(medulla.url("/enrollment"));
    await page.locator("#name").fill("lab");
    await page.locator("#maxUses").fill("2");
    await page.getByRole("button", { name: "Créer un jeton" }).click();
    const linux = await page.locator(".command pre").first().innerText();
    // The printed command, pointed at this test's config file instead of the system one.
    // (It downloads the agent first when the appliance has agent files to serve: keep the enroll step.)
    const step = linux.split("&&").find((part) => / enroll /.test(part))!.trim().replace(/^sudo\s+/, "");
    const args = step.split(/\s+/).slice(1).map((a) => a.replace(/^'(.*)'$/, "$1"));
    expect(args.slice(0, 1)).toEqual(["enroll"]);
    expect(args).toContain("--ca");
    const enroll = Bun.spawnSync([agentBinary, ...args, "--config", config], { stdout: "pipe", stderr: "pipe" });
    expect({ code: enroll.exitCode, out: enroll.stdout.toString() + enroll.stderr.toString() }).toMatchObject({ code: 0, out: expect.stringContaining("enrolled as") });
  }, STEP);

  test("the running agent appears online without a reload, and its console answers", async () => {
    // Enrollment made the machine: it is listed, offline, before its agent runs.
    await page.goto(medulla.url("/computers"));
    expect(await state()).toBe("Hors ligne");
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent !== "");
    agent = runAgent();
    await waitFor("the machine online in the open page", async () => (await state()) === "En ligne");

    await page.locator("table.data tbody a").first().click();
    await page.getByRole("button", { name: "Version de l'agent" }).click();
    await page.locator(".console-result").waitFor();
    expect(await page.locator(".console-result").innerText()).toContain('"action": "resultagentversion"');
  }, STEP);

  test("stopping the agent turns it offline in the open page", async () => {
    await page.goto(medulla.url("/computers"));
    await waitFor("online", async () => (await state()) === "En ligne");
    await stopAgent();
    await waitFor("the machine offline in the page", async () => (await state()) === "Hors ligne");
  }, STEP);

  test("a banned machine's agent is refused: it never comes back online", async () => {
    // Banned while offline; a connected agent being cut off at once is covered by the
    // relay's interop tests and test/e2e/agent-relay.test.ts.
    await page.goto(medulla.url("/computers"));
    await page.locator("table.data tbody a").first().click();
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Bannir" }).click();
    await page.waitForLoadState();
    await waitFor("the banned badge", async () => (await page.locator("[id^=machine-state-]").first().innerText()) === "Bannie");
    agent = runAgent();
    await waitFor("the agent refused", () => agentLog.some((l) => /refused|not-authorized|account-disabled/i.test(l)), 30_000);
    const api = await fetch(medulla.url("/api/v1/tokens"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: PASSWORD }), tls: { ca: await medulla.ca() } });
    const { token } = (await api.json()) as { token: string };
    const machines = await (await fetch(medulla.url("/api/v1/machines"), { headers: { authorization: `Bearer ${token}` }, tls: { ca: await medulla.ca() } })).json();
    expect(machines).toMatchObject({ items: [{ online: false, banned: true }] });
  }, STEP);

  test("no page logged an error", () => {
    expect(problems).toEqual([]);
  });
});
