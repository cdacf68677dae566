/**
 * @module test/e2e/machine-groups-browser
 * Machine groups in a real Chromium against the built binary. Three machines are
 * inventoried as GLPI agents do it; an administrator builds a dynamic group with the query
 * builder (the preview counts the machines as the condition is typed), saves it as a
 * favourite (it appears in the menu), and imports a group from a CSV file: the check lists
 * the row that matches no machine, creation is refused until the user keeps only the rows
 * recognised, then the group holds the machine. No page may log an error, a
 * Content-Security-Policy violation included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { fixtureText } from "../fixtures/inventory/factory.ts";
import { launchChromium, openPage, signIn, startMedulla, tempDir, waitFor, type Chromium, type Medulla, type TempDir } from "./helpers.ts";

const PASSWORD = "Groups-admin-2026";
const STEP = 60_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
let tmp: TempDir;
const problems: string[] = [];

const cells = (selector: string) => page.locator(selector).allInnerTexts();
/** The preview's count, or "" while it shows a refusal or nothing yet. */
const previewCount = async () => ((await page.locator("#query-preview-count").count()) ? await page.locator("#query-preview-count").innerText() : "");

describe("machine groups in Chromium", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    const ca = await medulla.ca();
    for (const name of ["glpi-windows-laptop.json", "glpi-linux-server.json", "glpi-mac.json"]) {
      const res = await fetch(medulla.url("/inventory"), { method: "POST", headers: { "content-type": "application/json" }, body: fixtureText(name), tls: { ca } });
      expect([name, res.status]).toEqual([name, 200]);
      await res.arrayBuffer();
    }
    tmp = tempDir("medulla-mg-");
    browser = await launchChromium();
    // The refused import answers 422 on purpose: the browser logs the status, not a fault.
    ({ page } = await openPage(browser, { problems, ignore: /status of 422/ }));
    await signIn(page, medulla, "root", PASSWORD);
  }, STEP);

  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
    tmp?.[Symbol.dispose]();
  });

  test("a dynamic group built with the query builder, with its live count", async () => {
    await page.getByRole("link", { name: "Tous les groupes" }).click();
    await page.waitForURL((u) => u.pathname === "/machine-groups");
    await page.getByRole("link", { name: "Groupe dynamique" }).click();
    await page.waitForURL((u) => u.pathname === "/machine-groups/new/dynamic");
    await page.locator("#name").fill("Hors Windows");
    await page.locator("#favourite").check();

    await page.locator('#query-builder [data-role="add-rule"]').first().click();
    await page.locator('#query-builder [data-role="field"]').first().selectOption("os.name");
    await page.locator('#query-builder [data-role="op"]').first().selectOption("notContains");
    await page.locator('#query-builder [data-role="value"]').first().fill("windows");
    await waitFor("the preview counts two machines", async () => (await previewCount()) === "2");
    expect(await page.locator("#query-preview").innerText()).toContain("MBP-Graphisme, srv-files-01");

    // A second condition in an OR block narrows nothing; an AND on software narrows to one.
    await page.locator('#query-builder [data-role="add-rule"]').first().click();
    await page.locator('#query-builder [data-role="field"]').nth(1).selectOption("software");
    await page.locator('#query-builder [data-role="value"]').nth(1).fill("openssh-server");
    await waitFor("the preview counts one machine", async () => (await previewCount()) === "1");
    expect(JSON.parse(await page.locator("#query").inputValue())).toEqual({
      all: [{ field: "os.name", op: "notContains", value: "windows" }, { field: "software", op: "installed", name: "openssh-server", match: "contains" }],
    });

    await page.getByRole("button", { name: "Enregistrer" }).click();
    await page.waitForURL((u) => /^\/machine-groups\/\d+$/.test(u.pathname));
    expect(await cells("#mgroup-members tbody td:first-child")).toEqual(["srv-files-01"]);
    // Favourite: in the menu, under its own heading.
    await expect(page.locator("nav.sidebar").getByRole("link", { name: "Hors Windows" }).count()).resolves.toBe(1);
  }, STEP);

  test("a static group: machines found by search and ticked, kept across searches; the star", async () => {
    await page.goto(medulla.url("/machine-groups"));
    await page.getByRole("link", { name: "Groupe statique" }).click();
    await page.waitForURL((u) => u.pathname === "/machine-groups/new/static");
    await page.locator("#name").fill("À suivre");
    await page.locator("#mgroup-pick-search").fill("srv-files");
    await page.locator('#mgroup-picker input[type="checkbox"]').first().waitFor();
    await page.getByRole("button", { name: "Tout cocher" }).click();
    await page.locator("#mgroup-pick-search").fill("MBP-");
    await waitFor("the second search's results", async () => (await cells("#mgroup-picker li")).some((t) => t.includes("MBP-Graphisme")));
    await page.locator('#mgroup-picker input[type="checkbox"]').first().check();
    expect((await cells("#mgroup-current li")).map((t) => t.trim().split(/\s+/)[0])).toEqual(["srv-files-01", "MBP-Graphisme"]);
    await page.getByRole("button", { name: "Enregistrer" }).click();
    await page.waitForURL((u) => /^\/machine-groups\/\d+$/.test(u.pathname));
    expect(await cells("#mgroup-members tbody td:first-child")).toEqual(["MBP-Graphisme", "srv-files-01"]);

    // The star on the list makes it a favourite: the menu shows it on the next page.
    await page.goto(medulla.url("/machine-groups"));
    const row = page.locator("tr", { hasText: "À suivre" });
    await row.getByRole("button", { name: "Ajouter aux favoris" }).click();
    await row.getByRole("button", { name: "Retirer des favoris" }).waitFor();
    await page.reload();
    await expect(page.locator("nav.sidebar").getByRole("link", { name: "À suivre" }).count()).resolves.toBe(1);
  }, STEP);

  test("a group imported from a CSV file: rows checked, all or nothing", async () => {
    const file = join(tmp.path, "parc.csv");
    writeFileSync(file, "Nom du poste;Utilisateur\r\nPC-COMPTA-07;\r\nPC-DISPARU;jdoe\r\n");
    await page.goto(medulla.url("/machine-groups"));
    await page.getByRole("link", { name: "Importer un fichier" }).click();
    await page.locator("#name").fill("Compta importée");
    await page.locator("#file").setInputFiles(file);
    await page.getByRole("button", { name: "Lire le fichier" }).click();
    await page.waitForURL((u) => /^\/machine-groups\/import$/.test(u.pathname));
    expect(await page.locator("#col-0").inputValue()).toBe("hostname");
    expect(await page.locator("#col-1").inputValue()).toBe("user");
    await page.locator("#col-1").selectOption("ignore");
    await page.getByRole("button", { name: "Vérifier" }).click();
    await page.locator("#import-summary").waitFor();
    expect(await page.locator("#import-summary").innerText()).toBe("1 ligne(s) reconnue(s), 1 ligne(s) en erreur.");
    expect(await cells("#import-bad tbody td")).toEqual(["3", "PC-DISPARU · jdoe", "aucune machine ne correspond"]);

    await page.getByRole("button", { name: "Créer le groupe" }).click();
    await page.locator(".alert-error").waitFor();
    expect(await page.locator(".alert-error").innerText()).toContain("Le groupe n'a pas été créé");
    await page.locator("#allowPartial").check();
    await page.getByRole("button", { name: "Créer le groupe" }).click();
    await page.waitForURL((u) => /^\/machine-groups\/\d+$/.test(u.pathname));
    expect(await cells("#mgroup-members tbody td:first-child")).toEqual(["PC-COMPTA-07"]);
    expect(await page.locator(".badge").first().innerText()).toBe("Statique (import)");
  }, STEP);

  test("no page logged an error", () => {
    expect(problems).toEqual([]);
  });
});
