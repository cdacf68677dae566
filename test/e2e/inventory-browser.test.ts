/**
 * @module test/e2e/inventory-browser
 * The inventory's pages in a real Chromium against the built binary: three machines are
 * inventoried the way GLPI agents do it (their JSON posted to /inventory from loopback),
 * then an administrator opens one machine's inventory and switches tabs (the address
 * follows), searches its software as he types, opens the inventory-only computers view,
 * filters it and downloads its CSV, searches software across the fleet with a version
 * comparison and opens a group, and sees the Inventory widget. No page may log an error,
 * a Content-Security-Policy violation included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { fixtureText } from "../fixtures/inventory/factory.ts";
import { launchChromium, openPage, signIn, startMedulla, waitFor, type Chromium, type Medulla } from "./helpers.ts";

const PASSWORD = "Inventory-admin-2026";
const STEP = 60_000;

let medulla: Medulla;
let browser: Chromium;
let page: Page;
const problems: string[] = [];

const path = () => new URL(page.url()).pathname + new URL(page.url()).search;
const cells = (selector: string) => page.locator(selector).allInnerTexts();

describe("the inventory in Chromium", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    const ca = await medulla.ca();
    for (const name of ["glpi-windows-laptop.json", "glpi-linux-server.json", "glpi-mac.json"]) {
      const res = await fetch(medulla.url("/inventory"), { method: "POST", headers: { "content-type": "application/json" }, body: fixtureText(name), tls: { ca } });
      expect([name, res.status]).toEqual([name, 200]);
      await res.arrayBuffer();
    }
    browser = await launchChromium();
    ({ page } = await openPage(browser, { problems }));
    await signIn(page, medulla, "root", PASSWORD);
  }, STEP);

  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]();
    await medulla?.[Symbol.asyncDispose]();
  });

  test("the dashboard's Inventory widget counts the three machines as up to date", async () => {
    await page.goto(medulla.url("/"));
    const widget = page.locator('[data-widget="inventory"]');
    await widget.waitFor();
    expect(await widget.locator(".legend").innerText()).toContain("Inventoriées (≤ 10 jours) 3");
  }, STEP);

  test("the inventory-only view lists the machines, filters them, and exports the filtered list", async () => {
    await page.getByRole("link", { name: "Tous les ordinateurs (inventaire)" }).click();
    await page.waitForURL((u) => u.pathname === "/inventory");
    expect(await cells("#inventory-table tbody td:nth-child(2)")).toEqual(["MBP-Graphisme", "PC-COMPTA-07", "srv-files-01"]);
    await page.locator("#inventory-search").fill("latitude");
    await waitFor("the search applied", async () => (await cells("#inventory-table tbody td:nth-child(2)")).join() === "PC-COMPTA-07");
    expect(path()).toBe("/inventory?q=latitude");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Exporter en CSV" }).click()]);
    const csv = readFileSync((await download.path())!, "utf8");
    const lines = csv.replace(/^\uFEFF/, "").trim().split("\r\n");
    expect(lines.length).toBe(2);
    expect(lines[0]).toStartWith("Nom,État,Système");
    expect(lines[1]).toStartWith("PC-COMPTA-07,Hors ligne,Microsoft Windows 11 Professionnel,Dell Inc.,Latitude 5430,8GZ8HX3");
    // The other filters apply as soon as they change.
    await page.locator("#inventory-age").selectOption("stale");
    await waitFor("no stale machine", async () => (await page.locator("#inventory-table").innerText()).includes("Aucune machine ne correspond à ces filtres."));
    expect(path()).toBe("/inventory?age=stale&q=latitude");
    await page.locator("#inventory-age").selectOption("all");
    await page.locator("#inventory-state").getByText("Hors ligne").click();
    await waitFor("the offline machines", async () => path() === "/inventory?state=offline&q=latitude");
    expect(await cells("#inventory-table tbody td:nth-child(2)")).toEqual(["PC-COMPTA-07"]);
  }, STEP);

  test("a machine's inventory: tabs swap in place and the address follows; software search as one types", async () => {
    await page.getByRole("link", { name: "PC-COMPTA-07" }).click();
    await page.waitForURL((u) => /^\/computers\/\d+\/inventory$/.test(u.pathname));
    const base = new URL(page.url()).pathname;
    expect(await page.locator("h1").innerText()).toBe("Inventaire de PC-COMPTA-07");
    expect(await page.locator(".tab-panel .facts").first().innerText()).toContain("Latitude 5430");

    await page.getByRole("link", { name: "Matériel", exact: true }).click();
    await waitFor("the hardware tab", () => path() === `${base}?tab=hardware`);
    await page.locator('[data-panel="hardware"]').waitFor();
    expect(await page.locator('.tabs a[aria-current="page"]').innerText()).toBe("Matériel");

    await page.getByRole("link", { name: "Stockage", exact: true }).click();
    await page.locator('[data-panel="storage"] svg.usage-bar').first().waitFor();
    expect(await page.locator('[data-panel="storage"] svg.usage-bar').first().getAttribute("aria-label")).toBe("59 % utilisés");

    await page.getByRole("link", { name: "Logiciels", exact: true }).click();
    await page.locator("#software-q").waitFor();
    expect(await page.locator("#software-count").innerText()).toMatch(/^\d+ logiciels$/);
    await page.locator("#software-q").pressSequentially("7-zip");
    await waitFor("the filtered list", async () => (await cells("#software-list tbody td:first-child")).join() === "7-Zip 23.01 (x64)");
    expect(path()).toBe(`${base}?tab=software&q=7-zip`);
    // The box typed in was not replaced: it keeps its text and the focus.
    expect(await page.locator("#software-q").inputValue()).toBe("7-zip");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("software-q");

    // A reload opens the same tab with the same search; Back goes through the tabs seen.
    await page.reload();
    expect(await cells("#software-list tbody td:first-child")).toEqual(["7-Zip 23.01 (x64)"]);
    await page.goBack();
    await waitFor("the unfiltered software tab", () => path() === `${base}?tab=software`);
    await page.goBack();
    await waitFor("the storage tab again", () => path() === `${base}?tab=storage`);
    await page.locator('[data-panel="storage"] svg.usage-bar').first().waitFor();
  }, STEP);

  test("software across the fleet: a version comparison, a group opened onto its machines", async () => {
    await page.getByRole("link", { name: "Recherche de logiciels" }).click();
    await page.waitForURL((u) => u.pathname === "/inventory/software");
    await page.locator("#sws-name").fill("vlc");
    await page.locator("#sws-op").selectOption("lt");
    await page.locator("#sws-version").fill("4");
    await page.getByRole("button", { name: "Rechercher" }).click();
    await waitFor("two VLC groups", async () => (await cells("#software-results tbody td:first-child")).length === 2);
    expect(await cells("#software-results tbody td:first-child")).toEqual(["VLC", "VLC media player"]);
    await page.locator("#software-results details summary").first().click();
    await waitFor("the group's machines", async () => (await page.locator("#group-0").innerText()).includes("MBP-Graphisme"));
    await page.locator("#sws-version").fill("3");
    await page.getByRole("button", { name: "Rechercher" }).click();
    await waitFor("no match below 3", async () => (await page.locator("#software-results").innerText()).includes("Aucun logiciel installé ne correspond."));
  }, STEP);

  test("no page logged an error or a CSP violation", () => {
    expect(problems).toEqual([]);
  });
});
