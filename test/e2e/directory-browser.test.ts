/**
 * @module test/e2e/directory-browser
 * Users, groups, rights, entities and the history of every action, in a real Chromium over
 * HTTPS: root adds the entity Paris, the group helpdesk (after the naming rule refused
 * "Help-Desk"), the user alice with rights on Paris and only a few keys; alice then sees
 * only what those keys open, reads the history of her modules, filters it and downloads
 * it as CSV and PDF. The tests run in order on one tab; every page it opens is watched
 * for CSP violations, script errors and server errors, checked at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Download, Page } from "playwright-core";
import { launchChromium, signIn, startMedulla, type Chromium, type Medulla } from "./helpers.ts";

const ROOT_PASSWORD = "Root-password-42";
const ALICE_PASSWORD = "Alice-password-7";
const STEP = 30_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
const downloads = mkdtempSync(join(tmpdir(), "medulla-downloads-"));
const cspViolations: string[] = [];
const scriptErrors: string[] = [];
const serverErrors: string[] = [];

const path = () => new URL(page.url()).pathname + new URL(page.url()).search;
const menuLinks = () => page.locator("nav.sidebar a").evaluateAll((links) => links.map((a) => a.getAttribute("href")));


/** Clicks `link` and saves the file it downloads; returns the saved path and the suggested name. */
async function download(link: ReturnType<Page["locator"]>): Promise<{ file: string; name: string }> {
  const [d]: [Download, void] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), link.click()]);
  const file = join(downloads, d.suggestedFilename());
  await d.saveAs(file);
  return { file, name: d.suggestedFilename() };
}

describe("users, groups, rights, entities and the history in Chromium", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", ROOT_PASSWORD] });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    page.on("console", (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) cspViolations.push(`${page.url()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => scriptErrors.push(`${page.url()}: ${err.message}`));
    page.on("response", (res) => {
      if (res.status() >= 500) serverErrors.push(`${res.status()} ${res.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
    rmSync(downloads, { recursive: true, force: true });
  });

  test("root adds the entity Paris under Root", async () => {
    await signIn(page, medulla, "root", ROOT_PASSWORD);
    await page.goto(medulla.url("/entities"));
    const add = page.locator('form[action="/entities"]');
    await add.locator("#name").fill("Paris");
    expect(await add.locator("#parentId option:checked").innerText()).toBe("Root");
    await Promise.all([page.waitForURL("**/entities?done=created"), add.locator("button[type=submit]").click()]);
    expect(await page.locator("#entities [role=status], #entities .alert").first().innerText()).toContain("Entité créée.");
    expect(await page.locator("#entities .tree .tree-name").allInnerTexts()).toEqual(["Root (racine)", "Paris"]);
  }, STEP);

  test("the group name rule refuses Help-Desk, with its message; helpdesk is created", async () => {
    await page.goto(medulla.url("/groups/new"));
    const hint = await page.locator("#name-hint").innerText();
    expect(hint).toBe("Commence par une lettre ; uniquement des lettres minuscules et des chiffres.");
    await page.locator("#name").fill("Help-Desk");
    // The browser checks the rule first and sends nothing...
    await page.getByRole("button", { name: "Valider" }).click();
    expect(await page.locator("#name").evaluate((el) => (el as HTMLInputElement).validity.patternMismatch)).toBe(true);
    expect(path()).toBe("/groups/new");
    // ...and the server says why when the browser does not check.
    await page.locator("form[action='/groups']").evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/groups") && r.request().method() === "POST"), page.getByRole("button", { name: "Valider" }).click()]);
    expect(refused.status()).toBe(422);
    await page.locator("#name-error").waitFor();
    expect(await page.locator("#name-error").innerText()).toBe("Le nom doit commencer par une lettre et ne contenir que des lettres minuscules et des chiffres.");
    expect(await page.locator("#name").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#name").inputValue()).toBe("Help-Desk");

    await page.locator("#name").fill("helpdesk");
    await page.locator("#description").fill("Support de premier niveau");
    await Promise.all([page.waitForURL("**/groups?created=1"), page.getByRole("button", { name: "Valider" }).click()]);
    expect(await page.locator("#groups-table").innerText()).toContain("helpdesk");
    expect(await page.locator("#groups-table").innerText()).toContain("Support de premier niveau");
  }, STEP);

  test("the user form creates alice in helpdesk, with recursive rights on Paris", async () => {
    await page.goto(medulla.url("/users"));
    await Promise.all([page.waitForURL("**/users/new"), page.getByRole("link", { name: "Ajouter un utilisateur" }).click()]);
    await page.locator("#login").fill("alice");
    await page.locator("#password").fill(ALICE_PASSWORD);
    await page.locator("#confirm").fill(ALICE_PASSWORD);
    await page.locator("#firstName").fill("Alice");
    await page.locator("#lastName").fill("Martin");
    await page.locator("#email").fill("alice@example.org");
    await page.locator("#primaryGroupId").selectOption({ label: "helpdesk" });
    await page.locator("#entityIds").selectOption([{ label: "Root › Paris" }]);
    await page.locator("#isRecursive").check();
    await Promise.all([page.waitForURL("**/users?created=alice"), page.getByRole("button", { name: "Valider" }).click()]);
    expect(await page.locator("main").innerText()).toContain("Utilisateur alice créé.");
    const row = page.locator("#users-table tr", { hasText: "alice" });
    expect(await row.innerText()).toContain("alice@example.org");

    // The form shows back what was saved.
    await Promise.all([page.waitForURL(/\/users\/\d+\/edit$/), row.getByRole("link", { name: "Modifier" }).click()]);
    expect(await page.locator("#primaryGroupId option:checked").innerText()).toBe("helpdesk");
    expect(await page.locator("#entityIds option:checked").allInnerTexts()).toEqual(["Root › Paris"]);
    expect(await page.locator("#isRecursive").isChecked()).toBe(true);
    expect(await page.locator("#isSuper").isChecked()).toBe(false);
  }, STEP);

  test("alice's ACL editor grants only users.view, logs.auth and logs.users", async () => {
    await page.goto(medulla.url("/users"));
    const acl = page.locator('a[title="Édition des ACLs de l\'utilisateur alice"]');
    await Promise.all([page.waitForURL(/\/users\/\d+\/acl$/), acl.click()]);
    expect(await page.locator("h1").innerText()).toBe("Édition des ACLs de l'utilisateur alice");
    expect(await page.locator("input[name=keys]:checked").count()).toBe(0);
    for (const key of ["users.view", "logs.auth", "logs.users"]) await page.locator(`input[name=keys][value="${key}"]`).check();
    await Promise.all([page.waitForURL(/\/acl\?saved=1$/), page.getByRole("button", { name: "Enregistrer les droits" }).click()]);
    expect(await page.locator("main").innerText()).toContain("Droits enregistrés.");
    const checked = await page.locator("input[name=keys]:checked").evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    expect(checked.sort()).toEqual(["logs.auth", "logs.users", "users.view"]);
  }, STEP);

  test("root signs out; alice signs in and sees only what her rights open", async () => {
    await page.locator("details.user-menu > summary").click();
    await Promise.all([page.waitForURL("**/login?out=1"), page.getByRole("button", { name: "Se déconnecter" }).click()]);

    await signIn(page, medulla, "alice", ALICE_PASSWORD);
    const links = await menuLinks();
    expect(links).toContain("/users");
    expect(links).toContain("/history");
    expect(links).not.toContain("/groups");
    expect(links).not.toContain("/entities");

    await page.goto(medulla.url("/users"));
    expect(await page.locator("#users-table").innerText()).toContain("alice");
    expect(await page.locator("#users-table").innerText()).not.toContain("root");
    expect(await page.getByRole("link", { name: "Ajouter un utilisateur" }).count()).toBe(0);

    for (const forbidden of ["/groups", "/entities", "/users/new"]) {
      const res = await page.goto(medulla.url(forbidden));
      expect([forbidden, res?.status()]).toEqual([forbidden, 403]);
      expect(await page.locator("main").innerText()).toContain("Vous n'avez pas le droit d'accéder à cette page ou d'effectuer cette action.");
    }
  }, STEP);

  test("alice reads the history of her modules only, and filters it", async () => {
    await page.goto(medulla.url("/history"));
    const modules = await page.locator("#history-module option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(modules).toEqual(["", "auth", "users"]);
    const moduleCells = () => page.locator("#history-results tbody tr td:nth-child(4)").allInnerTexts();
    expect(new Set(await moduleCells())).toEqual(new Set(["Authentification", "Utilisateurs et droits"]));
    // Root's entity and group changes are in the users module too; nothing from elsewhere.
    expect(await page.locator("#history-results").innerText()).toContain("Utilisateur alice créé");

    await page.locator("#history-module").selectOption("auth");
    await page.locator("#history-q").fill("alice");
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get("module") === "auth" && u.searchParams.get("q") === "alice"),
      page.getByRole("button", { name: "Filtrer les journaux" }).click(),
    ]);
    await page.waitForFunction(() => {
      const cells = Array.from(document.querySelectorAll("#history-results tbody tr td:nth-child(4)"), (td) => td.textContent);
      return cells.length > 0 && cells.every((c) => c === "Authentification");
    });
    const texts = await page.locator("#history-results tbody tr td.history-text").allInnerTexts();
    expect(texts).toContain("Connexion réussie de alice");
    expect(texts.every((t) => t.includes("alice"))).toBe(true);
    // The filters stay in the address: a reload shows the same.
    await page.reload();
    expect(await page.locator("#history-module").inputValue()).toBe("auth");
    expect(await page.locator("#history-results tbody tr td.history-text").allInnerTexts()).toEqual(texts);
  }, STEP);

  test("the CSV and PDF downloads hold the filtered rows", async () => {
    const csv = await download(page.getByRole("link", { name: "Exporter en CSV" }));
    expect(csv.name).toMatch(/^medulla-history-\d{8}-\d{4}\.csv$/);
    const lines = readFileSync(csv.file, "utf8").replace(/^\uFEFF/, "").trimEnd().split("\r\n");
    expect(lines[0]).toBe("Date,Utilisateur,Qui,Module,Texte,IP source,Cible");
    const rows = lines.slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,alice,,Authentification,Connexion réussie de alice,127\.0\.0\.1,alice$/.test(r))).toBe(true);
    expect(rows.every((r) => r.includes(",Authentification,") && r.includes("alice"))).toBe(true);

    const pdf = await download(page.getByRole("link", { name: "Exporter en PDF" }));
    expect(pdf.name).toMatch(/^medulla-history-\d{8}-\d{4}\.pdf$/);
    expect(readFileSync(pdf.file).subarray(0, 5).toString()).toBe("%PDF-");
    const run = Bun.spawnSync(["pdftotext", "-enc", "UTF-8", "-layout", pdf.file, "-"]);
    expect(run.exitCode).toBe(0);
    const text = run.stdout.toString();
    expect(text).toContain("Historique Medulla");
    expect(text).toContain("Connexion réussie de alice");
    expect(text).toContain("Authentification");
    expect(text).not.toContain("Utilisateur alice créé");
  }, STEP);

  test("no page broke the Content Security Policy, threw a script error or failed on the server", () => {
    expect({ cspViolations, scriptErrors, serverErrors }).toEqual({ cspViolations: [], scriptErrors: [], serverErrors: [] });
  });
});
