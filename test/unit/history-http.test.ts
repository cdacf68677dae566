import { describe, expect, test } from "bun:test";
import type { HistoryEntry } from "../../src/features/history/service.ts";
import { ALL_LOGS_KEYS } from "../../src/features/history/permissions.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testApp, type TestApp } from "../support/app.ts";

/** The text of a PDF as poppler's pdftotext reads it. */
function pdfText(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "medulla-pdf-"));
  try {
    Bun.write(join(dir, "t.pdf"), bytes);
    const run = Bun.spawnSync(["pdftotext", "-enc", "UTF-8", join(dir, "t.pdf"), "-"]);
    expect(run.exitCode).toBe(0);
    return run.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const strong = "Correct-horse-7";
const DAY = 86_400_000;
const htmx = { "hx-request": "true" };

/** A fresh appliance with `ann` (every logs key), `bob` (sign-ins only) and `carl` (none). */
async function setup() {
  const t = testApp();
  const ids = { ann: await t.addUser("ann", strong), bob: await t.addUser("bob", strong), carl: await t.addUser("carl", strong) };
  const grants = new Map<number, string[]>([[ids.ann, [...ALL_LOGS_KEYS]], [ids.bob, ["logs.auth"]]]);
  t.app.access.setGrants((id) => new Set(grants.get(id) ?? []));
  const as = async (login: keyof typeof ids) => {
    const c = t.client();
    await c.signIn(login, strong);
    return c;
  };
  const now = t.clock.now();
  const add = (e: Partial<HistoryEntry> = {}) => t.app.recorder.record({ module: "imaging", action: "history.firstStart", who: "PC-0042", at: now - DAY, ...e });
  return { t, ids, grants, as, add, now };
}

const slot = (html: string, field: string) => new RegExp(`id="history-${field}-error"[^>]*>([^<]*)<`).exec(html)?.[1];
const rowsOf = (html: string) => html.match(/<tr><td class="history-date">/g)?.length ?? 0;

describe("the history page (SPEC L)", () => {
  test("the menu shows the history only to holders of a logs key", async () => {
    const h = await setup();
    expect((await (await h.as("ann")).page("/")).html).toContain('href="/history"');
    expect((await (await h.as("bob")).page("/")).html).toContain('href="/history"');
    expect((await (await h.as("carl")).page("/")).html).not.toContain('href="/history"');
    h.grants.set(h.ids.carl, ["logs.settings"]);
    expect((await (await h.as("carl")).page("/")).html).toContain('href="/history"');
  });

  test("a full page for a browser, only the results fragment for htmx, with the field errors emptied", async () => {
    const h = await setup();
    h.add({ module: "imaging", params: {}, who: "PC-0042" });
    const ann = await h.as("ann");
    const page = await ann.page("/history");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("<!doctype html>");
    expect(page.html).toContain('id="history-filters"');
    expect(page.html).toContain('<option value="imaging">Imaging</option>');
    expect(page.html).toContain("Premier démarrage : compte root créé");
    const fragment = await ann.request("GET", "/history?module=imaging", { headers: htmx });
    const body = await fragment.text();
    expect(body).toStartWith('<div id="history-results"');
    expect(body).not.toContain("<html");
    expect(body).not.toContain('id="history-filters"');
    expect(rowsOf(body)).toBe(1);
    expect(body).toContain('<p class="field-error" id="history-end-error" hx-swap-oob="true"></p>');
    // The back button asks htmx to restore the page: that needs the whole page.
    const restore = await ann.request("GET", "/history?module=imaging", { headers: { ...htmx, "hx-history-restore-request": "true" } });
    expect(await restore.text()).toContain("<!doctype html>");
  });

  test("columns: date in the appliance's zone, user, who, module, text in the reader's language, IP, target", async () => {
    const h = await setup();
    const ann = await h.as("ann");
    h.add({ module: "users", action: "history.login.success", params: { login: "zoé" }, userLogin: "zoé", who: "", sourceIp: "198.51.100.7", target: { type: "user", id: 9, name: "zoé" }, at: Date.UTC(2026, 4, 3, 8, 4, 5) });
    h.add({ module: "users", action: "gone.feature.key" as HistoryEntry["action"], who: "relay-1", at: Date.UTC(2026, 4, 2) });
    const fr = await (await ann.request("GET", "/history?module=users", { headers: htmx })).text();
    expect(fr).toContain('<time datetime="2026-05-03T08:04:05.000Z">3 mai 2026, 08:04:05</time></td><td>zoé</td><td></td><td>Utilisateurs et droits</td><td class="history-text">Connexion réussie de zoé</td><td>198.51.100.7</td><td>zoé</td>');
    // A key no catalogue knows any more: the text stored with the row.
    expect(fr).toContain("<td>relay-1</td><td>Utilisateurs et droits</td><td class=\"history-text\">gone.feature.key</td>");
    await ann.post("/account/language", { lang: "en" });
    const en = await (await ann.request("GET", "/history?module=users", { headers: htmx })).text();
    expect(en).toContain("3 May 2026, 08:04:05");
    expect(en).toContain("zoé signed in");
    expect(en).toContain("Users and rights");
  });

  test("an empty state says what to do", async () => {
    const h = await setup();
    const bob = await h.as("bob");
    const none = await (await bob.request("GET", "/history?q=nothing-matches-this", { headers: htmx })).text();
    expect(none).toContain('class="empty-state"');
    expect(none).toContain("Élargissez la période");
  });

  test("bad input gets its message at its field (422) and nothing else", async () => {
    const h = await setup();
    const ann = await h.as("ann");
    const cases: [string, string, string][] = [
      ["start=2026-05-02T00:00&end=2026-05-01T23:59", "end", "La date de fin précède la date de début."],
      ["start=2026-02-30T10:00", "start", "Date invalide : utilisez le format AAAA-MM-JJ HH:MM."],
      ["end=yesterday", "end", "Date invalide : utilisez le format AAAA-MM-JJ HH:MM."],
      ["module=printers", "module", "Module inconnu : choisissez-en un dans la liste."],
      ["criterion=everything", "criterion", "Critère inconnu : choisissez-en un dans la liste."],
      ["size=7", "size", "Choisissez 10, 25, 50, 100 ou 500 entrées par page."],
      [`q=${"x".repeat(201)}`, "q", "Recherche trop longue : 200 caractères au plus."],
    ];
    for (const [query, field, message] of cases) {
      const full = await ann.request("GET", `/history?${query}`);
      const html = await full.text();
      expect({ query, status: full.status, message: slot(html, field) }).toEqual({ query, status: 422, message: message.replace(/'/g, "&#x27;") });
      expect(html).not.toContain('<table class="data history-table">');
      const partial = await ann.request("GET", `/history?${query}`, { headers: htmx });
      expect(partial.status).toBe(422);
      expect(partial.headers.get("hx-reswap")).toBe("none");
      expect(partial.headers.get("hx-push-url")).toBe("false");
      const body = await partial.text();
      expect(slot(body, field)).toBe(message.replace(/'/g, "&#x27;"));
      expect(body).not.toContain("history-results");
    }
    // Several wrong fields at once: each has its message.
    const both = await (await ann.request("GET", "/history?module=x&size=3", { headers: htmx })).text();
    expect([slot(both, "module"), slot(both, "size"), slot(both, "start")]).toEqual(["Module inconnu : choisissez-en un dans la liste.", "Choisissez 10, 25, 50, 100 ou 500 entrées par page.", ""]);
    // A forged cursor is a bad request.
    expect((await ann.request("GET", "/history?after=1;DROP")).status).toBe(400);
  });
});

describe("history rights (SPEC U3)", () => {
  test("a reader sees only its modules' rows; another module is 403 everywhere; no key at all is 403", async () => {
    const h = await setup();
    h.add({ module: "imaging", action: "history.backup.failed", params: { error: "imaging-secret" } });
    h.add({ module: "auth", action: "history.login.failure", params: { login: "mallory" } });
    const bob = await h.as("bob");
    const page = (await bob.page("/history")).html;
    expect(page).toContain("mallory");
    expect(page).not.toContain("imaging-secret");
    expect(page).not.toContain('<option value="imaging"');
    expect(await (await bob.request("GET", "/history/export.csv")).text()).not.toContain("imaging-secret");
    for (const path of ["/history?module=imaging", "/history/export.csv?module=imaging", "/history/export.pdf?module=imaging"]) {
      expect({ path, status: (await bob.request("GET", path)).status }).toEqual({ path, status: 403 });
    }
    const carl = await h.as("carl");
    for (const path of ["/history", "/history/export.csv", "/history/export.pdf"]) {
      expect({ path, status: (await carl.request("GET", path)).status }).toEqual({ path, status: 403 });
    }
  });

  test("with only logs.settings: the page shows the retention form and explains the missing rights", async () => {
    const h = await setup();
    h.grants.set(h.ids.carl, ["logs.settings"]);
    const { res, html } = await (await h.as("carl")).page("/history");
    expect(res.status).toBe(200);
    expect(html).toContain("Vous ne pouvez lire les journaux d&#x27;aucun module.");
    expect(html).toContain('id="history-retention"');
    expect(html).not.toContain('id="history-filters"');
  });
});

describe("paging over HTTP", () => {
  test("older / newer links carry the filters and a cursor, and walk every row once", async () => {
    const h = await setup();
    for (let i = 0; i < 25; i++) h.add({ module: i % 2 ? "auth" : "imaging", at: h.now - Math.floor(i / 3) * 1000, params: {} });
    const ann = await h.as("ann");
    let url = "/history?module=imaging&size=10";
    let seen = 0;
    const urls: string[] = [];
    for (;;) {
      const body = await (await ann.request("GET", url, { headers: htmx })).text();
      seen += rowsOf(body);
      urls.push(url);
      const next = /<a href="([^"]+)" rel="next"/.exec(body)?.[1]?.replace(/&amp;/g, "&");
      if (!next) break;
      expect(next).toMatch(/^\/history\?module=imaging&size=10&after=\d+\.\d+$/);
      url = next;
    }
    expect(seen).toBe(13);
    const last = await (await ann.request("GET", url, { headers: htmx })).text();
    const prev = /<a href="([^"]+)" rel="prev"/.exec(last)![1]!.replace(/&amp;/g, "&");
    expect(prev).toMatch(/before=/);
    expect(rowsOf(await (await ann.request("GET", prev, { headers: htmx })).text())).toBe(10);
  });
});

describe("exports (SPEC L4)", () => {
  async function withRows(h: Awaited<ReturnType<typeof setup>>) {
    for (let i = 0; i < 60; i++) {
      h.add({ module: i % 3 ? "inventory" : "deployment", criterion: i % 2 ? "newmachine" : "inventory", action: "history.login.success", params: { login: `tech${i}` }, userLogin: `tech${i}`, at: h.now - i * 60_000 });
    }
    h.add({ module: "inventory", action: "history.login.success", params: { login: '=cmd|" /C calc"!A0, "quoted"' }, at: h.now - 3 * DAY });
  }

  test("CSV holds exactly the filtered rows of every page, quoted, with a BOM", async () => {
    const h = await setup();
    await withRows(h);
    const ann = await h.as("ann");
    const res = await ann.request("GET", "/history/export.csv?module=inventory&criterion=newmachine&size=10&start=2026-05-29T00:00");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="medulla-history-20260601-1200.csv"');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.slice(3)).split("\r\n");
    expect(lines[0]).toBe("Date,Utilisateur,Qui,Module,Texte,IP source,Cible");
    expect(lines.at(-1)).toBe("");
    const expected = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 && i % 2);
    expect(lines.slice(1, -1)).toEqual(
      expected.map((i) => `${new Date(h.now - i * 60_000).toISOString().slice(0, 19).replace("T", " ")},tech${i},PC-0042,Inventaire,Connexion réussie de tech${i},,`),
    );
    // The same filters on screen show one page of 10; the export had them all.
    expect(rowsOf(await (await ann.request("GET", "/history?module=inventory&criterion=newmachine&size=10&start=2026-05-29T00:00", { headers: htmx })).text())).toBe(10);
    const hostile = await (await ann.request("GET", "/history/export.csv?q=calc")).text();
    expect(hostile.split("\r\n")[1]).toBe(`2026-05-29 12:00:00,,PC-0042,Inventaire,"Connexion réussie de =cmd|"" /C calc""!A0, ""quoted""",,`);
    const formula = await (await ann.request("GET", "/history/export.csv?q=calc&module=inventory")).text();
    expect(formula).not.toContain(",=cmd");
  });

  test("PDF: the filtered rows, the filters used and the page numbers, read back with pdftotext", async () => {
    const h = await setup();
    await withRows(h);
    const ann = await h.as("ann");
    const res = await ann.request("GET", "/history/export.pdf?module=deployment&q=tech1&start=2026-05-01T00:00&end=2026-06-30T23:59");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const text = pdfText(new Uint8Array(await res.arrayBuffer()));
    expect(text).toContain("Historique Medulla");
    expect(text).toContain("Module : Déploiement");
    expect(text).toContain("Période : 1 mai 2026, 00:00:00 – 30 juin 2026, 23:59:59");
    expect(text).toContain("Recherche : « tech1 »");
    expect(text).toContain("Exporté le 1 juin 2026, 12:00:00 par ann (fuseau UTC).");
    expect(text).toContain("Page 1 / 1");
    const found = [...text.matchAll(/Connexion réussie de (tech\d+)/g)].map((m) => m[1]).sort();
    expect(found).toEqual(["tech12", "tech15", "tech18"]);
  });

  test("invalid export filters get the page with the field's message (422)", async () => {
    const h = await setup();
    const res = await (await h.as("ann")).request("GET", "/history/export.csv?size=3");
    expect(res.status).toBe(422);
    expect(slot(await res.text(), "size")).toBe("Choisissez 10, 25, 50, 100 ou 500 entrées par page.");
  });
});

describe("retention", () => {
  async function retentionSetup(): Promise<{ h: Awaited<ReturnType<typeof setup>>; t: TestApp }> {
    const h = await setup();
    return { h, t: h.t };
  }

  test("holders of logs.settings see and save it (recorded); others neither see nor post it", async () => {
    const { h, t } = await retentionSetup();
    const ann = await h.as("ann");
    expect((await ann.page("/history")).html).toContain('name="days" type="number" min="0" max="36500" step="1" required value="365"');
    const saved = await ann.post("/history/retention", { days: "30" }, htmx);
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain("Durée de conservation enregistrée : 30 jours.");
    expect(t.db.query("SELECT value FROM settings WHERE key = 'history.retention_days'").get()).toEqual({ value: "30" });
    expect((await ann.page("/history?module=system")).html).toContain("Durée de conservation de l&#x27;historique modifiée : 365 → 30 jours");
    const bad = await ann.post("/history/retention", { days: "-4" }, htmx);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('<p class="field-error" id="days-error">Indiquez un nombre entier de jours, de 0 à 36 500.</p>');
    const plain = await ann.post("/history/retention", { days: "0" });
    expect(plain.status).toBe(303);
    expect(t.db.query("SELECT value FROM settings WHERE key = 'history.retention_days'").get()).toEqual({ value: "0" });

    const bob = await h.as("bob");
    expect((await bob.page("/history")).html).not.toContain('id="history-retention"');
    expect((await bob.post("/history/retention", { days: "1" })).status).toBe(403);
    expect(t.db.query("SELECT value FROM settings WHERE key = 'history.retention_days'").get()).toEqual({ value: "0" });
  });

  test("the nightly job purges on the injected clock, at 03:15", async () => {
    const { h, t } = await retentionSetup();
    const ann = await h.as("ann");
    await ann.post("/history/retention", { days: "30" }, htmx);
    const old = h.add({ at: h.now - 31 * DAY });
    const recent = h.add({ at: h.now - 29 * DAY });
    const exists = (id: number) => t.db.query("SELECT 1 AS x FROM history WHERE id = ?").get(id) !== null;
    // Due at the next 03:15 of the scheduler's time zone, not a moment before.
    const runAt = t.app.scheduler.list().find((j) => j.name === "history.purge")!.runAt;
    expect(runAt - h.now).toBeGreaterThan(0);
    expect(runAt - h.now).toBeLessThanOrEqual(DAY);
    await t.clock.advance(runAt - h.now - 1);
    await t.app.scheduler.tick();
    expect(exists(old)).toBe(true);
    await t.clock.advance(1);
    await t.app.scheduler.tick();
    expect([exists(old), exists(recent)]).toEqual([false, true]);
    expect(t.db.query("SELECT params FROM history WHERE action = 'history.purged'").get()).toEqual({ params: '{"count":1,"days":30}' });
    expect(t.app.scheduler.list().find((j) => j.name === "history.purge")).toMatchObject({ schedule: "daily:03:15", status: "pending", lastRun: { status: "done" } });
  });
});
