/**
 * @module test/e2e/packages-browser
 * Packages in a real Chromium against the built binary: an administrator adds an empty
 * package, opens the step editor, adds a command step (placed before END_SUCCESS), gets
 * validation errors for a return-code rule going nowhere, fixes it, adds and moves an
 * END_ERROR step, saves, then removes a step (each click waits for the form htmx swaps in); the descriptor saved is checked through the
 * API. Then a Medulla package is imported from the page and its warnings shown. No page may
 * log an error, a Content-Security-Policy violation included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { makeZip } from "../support/zip.ts";
import { launchChromium, signIn, startMedulla, type Chromium, type Medulla } from "./helpers.ts";

const PASSWORD = "Packages-admin-2026";
const STEP = 60_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
let packageId = 0;
const problems: string[] = [];

const actions = () => page.locator("#steps-list > li").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));

/**
 * Clicks one of the step editor's buttons and waits for the form htmx swaps in: the form on
 * the page is marked first, so what is read next is the answer, never the form before it
 * (an earlier answer's #step-issues is still there while the request runs).
 */
async function submit(button: string): Promise<void> {
  await page.locator("#step-editor").evaluate((form) => form.setAttribute("data-stale", ""));
  await page.getByRole("button", { name: button }).click();
  await page.locator("#step-editor:not([data-stale])").waitFor();
}

describe("packages in Chromium", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    page.on("console", (m) => {
      // Saving invalid steps answers 422 on purpose (the editor shows why): Chromium logs it.
      if (m.type() === "error" && !/status of 422/.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
    await signIn(page, medulla, "root", PASSWORD);
  }, STEP);

  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
  });

  test("add an empty package from the menu", async () => {
    await page.getByRole("link", { name: "Ajouter un package" }).first().click();
    await page.waitForURL((u) => u.pathname === "/packages/new");
    // Only the chosen origin's fields show.
    expect(await page.locator("#file").isVisible()).toBe(true);
    await page.getByLabel("Faire un package vide").check();
    expect(await page.locator("#file").isVisible()).toBe(false);
    await page.locator("#name").fill("E2E_Steps");
    await page.locator("#version").fill("1.0.0");
    await page.locator("#description").fill("Built in Chromium");
    await page.getByRole("button", { name: "Ajouter", exact: true }).click();
    await page.waitForURL((u) => /^\/packages\/\d+$/.test(u.pathname));
    packageId = Number(new URL(page.url()).pathname.split("/")[2]);
    expect(await page.locator(".alert-success").innerText()).toContain("E2E_Steps 1.0.0");
  }, STEP);

  test("the step editor: add, validate, fix, move, save, remove", async () => {
    await page.getByRole("link", { name: "Étapes" }).first().click();
    await page.waitForURL((u) => u.pathname === `/packages/${packageId}/steps`);
    expect(await actions()).toEqual(["end_success"]);
    // Add a command: it goes before END_SUCCESS.
    await page.locator("#newAction").selectOption("command");
    await submit("Ajouter l'étape");
    expect(await actions()).toEqual(["command", "end_success"]);
    // The new step is checked at once: its command is still empty.
    expect(await page.locator("#step-issues").innerText()).toMatch(/command : /);
    await page.locator('[name="s.0.command"]').fill('"{{package_dir}}/setup.exe" /S');
    await page.locator('[name="s.0.codes"]').fill("==3010 NOWHERE");
    await submit("Vérifier");
    const issues = await page.locator("#step-issues").innerText();
    expect(issues).toContain("NOWHERE");
    expect(issues).not.toMatch(/command : /);
    expect(await page.locator("#step-0.step-invalid").count()).toBe(1);
    // Saving is refused while invalid; the input is kept.
    await submit("Enregistrer les étapes");
    expect(await page.locator("#step-issues").innerText()).toContain("NOWHERE");
    expect(await page.locator('[name="s.0.command"]').inputValue()).toBe('"{{package_dir}}/setup.exe" /S');
    // Fix the rule, add an END_ERROR step, move it up, then back down.
    await page.locator('[name="s.0.codes"]').fill("==3010 END_SUCCESS");
    await page.locator("#newAction").selectOption("end_error");
    await submit("Ajouter l'étape");
    expect(await actions()).toEqual(["command", "end_success", "end_error"]);
    await submit("Monter END_ERROR");
    expect(await actions()).toEqual(["command", "end_error", "end_success"]);
    await submit("Descendre END_ERROR");
    expect(await actions()).toEqual(["command", "end_success", "end_error"]);
    await page.locator('[name="s.0.error"]').selectOption("END_ERROR");
    await submit("Vérifier");
    await page.getByText("Les étapes sont valides.").waitFor();
    await submit("Enregistrer les étapes");
    await page.getByText("Package enregistré.").waitFor();
    const saved = (await page.evaluate(async (id) => (await fetch(`/api/v1/packages/${id}`)).json(), packageId)) as { descriptor: { steps: { windows: { install: { id: string; action: string; command?: string; next?: unknown }[] } } } };
    const install = saved.descriptor.steps.windows.install;
    expect(install.map((s) => s.id)).toEqual(["command", "END_SUCCESS", "END_ERROR"]);
    expect(install[0]).toMatchObject({ action: "command", command: '"{{package_dir}}/setup.exe" /S', next: { error: "END_ERROR", codes: [{ when: "==3010", goto: "END_SUCCESS" }] } });
    // Remove the command step: END_SUCCESS is first again.
    await submit("Retirer command");
    expect(await actions()).toEqual(["end_success", "end_error"]);
  }, STEP);

  test("import a Medulla package from the page and see what could not be converted", async () => {
    const base = join(import.meta.dir, "..", "fixtures", "medulla", "agent-config-linux");
    const zip = makeZip(readdirSync(base).map((f) => ({ name: f, data: new Uint8Array(readFileSync(join(base, f))) })));
    const file = join(medulla.dir, "medulla-linux.zip");
    writeFileSync(file, zip);
    await page.goto(medulla.url("/packages/import"));
    await page.locator("#import-file").setInputFiles(file);
    await page.getByRole("button", { name: "Importer" }).click();
    await page.locator("#import-result").waitFor();
    const text = await page.locator("#import-result").innerText();
    expect(text).toContain("Configuration agent Linux 2.1");
    expect(text).toContain("action_set_config_file");
    await page.goto(medulla.url("/packages"));
    expect(await page.locator("#packages-list tbody tr").count()).toBe(2);
    expect(problems).toEqual([]);
  }, STEP);
});
