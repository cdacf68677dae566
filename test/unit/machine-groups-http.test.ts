/**
 * Machine groups over HTTP, in process: the pages (list, editors, group page, preview
 * fragment, favourites in the menu), rights (403 without them; machines outside the
 * reader's entities neither counted nor picked), the JSON API with its refusals, the
 * import in two steps (all or nothing), export CSV, and re-evaluation when an inventory
 * arrives over POST /inventory.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testApp, type Client, type TestApp } from "../support/app.ts";

const strong = "Correct-horse-7";
const fixtures = join(import.meta.dir, "../fixtures");

function addMachine(t: TestApp, hostname: string, o: { os?: string; online?: boolean; entity?: number; serial?: string } = {}): number {
  return (t.db.query("INSERT INTO machines (hostname, os, online, entity_id, serial, created_at, updated_at) VALUES ($h, $os, $on, $e, $s, 0, 0) RETURNING id")
    .get({ h: hostname, os: o.os ?? "", on: o.online ? 1 : 0, e: o.entity ?? 1, s: o.serial ?? "" }) as { id: number }).id;
}

async function setup() {
  const t = testApp();
  await t.addUser("boss", strong, { isSuper: true });
  const boss = t.client();
  await boss.signIn("boss", strong);
  const ids = {
    w1: addMachine(t, "PC-COMPTA-01", { os: "windows", online: true, serial: "CZC1234ABC" }),
    w2: addMachine(t, "PC-COMPTA-02", { os: "windows", serial: "CZC1234ABD" }),
    l1: addMachine(t, "LAB-07", { os: "linux", online: true }),
  };
  const api = async (method: string, path: string, json?: unknown) => {
    const res = await boss.request(method, path, { json, headers: { "x-csrf-token": boss.csrf } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return { t, boss, ids, api };
}

const WINDOWS = JSON.stringify({ all: [{ field: "os.family", op: "equals", value: "windows" }] });

describe("pages", () => {
  test("create a dynamic group from the form; preview; the group page lists its members", async () => {
    const { boss, ids } = await setup();
    expect((await boss.page("/machine-groups")).html).toContain("Aucun groupe pour l&#x27;instant");
    const form = await boss.page("/machine-groups/new/dynamic");
    expect(form.res.status).toBe(200);
    expect(form.html).toContain('src="/static/machine-groups.js"');
    expect(form.html).toContain('id="query-builder"');

    const preview = await boss.post("/machine-groups/preview", { query: WINDOWS }, { "hx-request": "true" });
    expect(await preview.text()).toContain('<strong id="query-preview-count">2</strong>');
    const hostile = await boss.post("/machine-groups/preview", { query: '{"all":[{"field":"m.id) OR (1","op":"equals","value":"x"}]}' }, { "hx-request": "true" });
    expect(await hostile.text()).toContain("Critère inconnu");

    const created = await boss.post("/machine-groups/dynamic", { name: "Postes Windows", favourite: "on", query: WINDOWS });
    expect(created.status).toBe(303);
    const location = created.headers.get("location")!;
    expect(location).toMatch(/^\/machine-groups\/\d+\?created=1$/);
    const page = await boss.page(location);
    expect(page.html).toContain("PC-COMPTA-01");
    expect(page.html).toContain("PC-COMPTA-02");
    expect(page.html).not.toContain("LAB-07");
    expect(page.html).toContain("Exporter en CSV");
    // Favourites are in the menu, under their own heading.
    expect(page.html).toContain("Groupes favoris");
    expect(page.html).toMatch(/<a href="\/machine-groups\/\d+"[^>]*>Postes Windows<\/a>/);
    void ids;
  });

  test("a refused query shows the form again with the reason; nothing is created", async () => {
    const { t, boss } = await setup();
    await boss.page("/machine-groups/new/dynamic");
    const res = await boss.post("/machine-groups/dynamic", { name: "Tout", query: '{"all":[]}' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("aucune condition");
    expect(t.db.query("SELECT count(*) AS n FROM machine_groups").get()).toEqual({ n: 0 });
  });

  test("static group: pick machines, edit, favourite star, delete", async () => {
    const { t, boss, ids } = await setup();
    await boss.page("/machine-groups/new/static");
    const picker = await boss.request("GET", "/machine-groups/picker?q=compta", { headers: { "hx-request": "true" } });
    const found = await picker.text();
    expect(found).toContain("PC-COMPTA-01");
    expect(found).not.toContain("LAB-07");
    const res = await boss.request("POST", "/machine-groups/static", { body: new URLSearchParams([["_csrf", boss.csrf], ["name", "Pilote"], ["machines", String(ids.w1)], ["machines", String(ids.l1)]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(303);
    const id = Number(/\/machine-groups\/(\d+)/.exec(res.headers.get("location")!)![1]);
    expect(t.app.machineGroups.service.members(id)).toEqual([ids.w1, ids.l1]);
    expect(t.app.machineGroups.service.groupsOf(ids.l1)).toEqual([id]);

    const edit = await boss.page(`/machine-groups/${id}/edit`);
    expect(edit.html).toContain('value="' + ids.w1 + '" checked');
    const saved = await boss.request("POST", `/machine-groups/${id}`, { body: new URLSearchParams([["_csrf", boss.csrf], ["name", "Pilote"], ["machines", String(ids.w2)]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(saved.status).toBe(303);
    expect(t.app.machineGroups.service.members(id)).toEqual([ids.w2]);

    const star = await boss.post(`/machine-groups/${id}/favourite`, { on: "1" }, { "hx-request": "true" });
    expect(await star.text()).toContain('aria-pressed="true"');
    expect((await boss.page("/machine-groups")).html).toContain("Groupes favoris");

    const del = await boss.request("DELETE", `/machine-groups/${id}`, { headers: { "hx-request": "true", "x-csrf-token": boss.csrf } });
    expect(del.status).toBe(200);
    expect(t.db.query("SELECT change, count(*) AS n FROM machine_group_events GROUP BY change ORDER BY change").all()).toEqual([{ change: "entered", n: 3 }, { change: "left", n: 3 }]);
  });

  test("without the rights: 403 on pages and API; no CSRF token: refused", async () => {
    const { t, boss } = await setup();
    await t.addUser("clerk", strong);
    const clerk = t.client("192.0.2.11");
    await clerk.signIn("clerk", strong);
    for (const path of ["/machine-groups", "/machine-groups/new/dynamic", "/machine-groups/import", "/api/v1/machine-groups"]) {
      expect([path, (await clerk.request("GET", path)).status]).toEqual([path, 403]);
    }
    expect((await boss.request("POST", "/machine-groups/dynamic", { form: { name: "x", query: WINDOWS } })).status).toBe(403);
  });

  test("machines outside the reader's entities are not counted, shown or exported", async () => {
    const { t, boss, ids } = await setup();
    const other = (t.db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ('Autre', 1, 0, 0) RETURNING id").get() as { id: number }).id;
    const hidden = addMachine(t, "SECRET-01", { os: "windows", entity: other });
    const site = (t.db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ('Site', 1, 0, 0) RETURNING id").get() as { id: number }).id;
    t.db.query("UPDATE machines SET entity_id = $s WHERE id IN ($a, $b)").run({ s: site, a: ids.w1, b: ids.w2 });
    await boss.page("/machine-groups/new/dynamic");
    await boss.post("/machine-groups/dynamic", { name: "Windows", query: WINDOWS });
    const id = (t.db.query("SELECT id FROM machine_groups").get() as { id: number }).id;
    expect(t.app.machineGroups.service.members(id)).toEqual([ids.w1, ids.w2, hidden]);

    const userId = await t.addUser("tech", strong);
    t.db.query("INSERT INTO user_entities (user_id, entity_id) VALUES ($u, $e)").run({ u: userId, e: site });
    for (const key of ["machinegroups.view", "machinegroups.export", "machines.view"]) t.db.query("INSERT INTO user_grants (user_id, key) VALUES ($u, $k)").run({ u: userId, k: key });
    const tech = t.client("192.0.2.12");
    await tech.signIn("tech", strong);
    const page = await tech.page(`/machine-groups/${id}`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("PC-COMPTA-01");
    expect(page.html).not.toContain("SECRET-01");
    const csv = await (await tech.request("GET", `/machine-groups/${id}/actions/export-csv`)).text();
    expect(csv).toContain("PC-COMPTA-02");
    expect(csv).not.toContain("SECRET-01");
    expect(csv.split("\r\n")[0]).toBe("hostname,state,os,entity,user,ip,serial,agent_version,last_seen,inventoried,member_since");
  });
});

describe("import", () => {
  const upload = (c: Client, name: string, file: string, type: string) => {
    const form = new FormData();
    form.set("_csrf", c.csrf);
    form.set("name", name);
    form.set("file", new File([readFileSync(join(fixtures, "machine-groups", file))], file, { type }));
    return c.request("POST", "/machine-groups/import", { body: form });
  };

  test("LibreOffice workbook: columns guessed from the titles; bad rows listed; all or nothing", async () => {
    const { t, boss, ids } = await setup();
    await boss.page("/machine-groups/import");
    const res = await upload(boss, "Comptabilité", "parc-libreoffice.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("6 ligne(s) lue(s) de parc-libreoffice.xlsx");
    const token = /action="\/machine-groups\/import\/([\w-]+)"/.exec(html)![1]!;
    expect(html).toMatch(/<select id="col-0" name="col0">[\s\S]*?<option value="hostname" selected/);
    expect(html).toMatch(/<select id="col-1" name="col1">[\s\S]*?<option value="serial" selected/);
    const mapping = { name: "Comptabilité", header: "on", col0: "hostname", col1: "serial", col2: "ignore", col3: "ignore", col4: "ignore", col5: "ignore", col6: "ignore", col7: "ignore" };
    const check = await (await boss.post(`/machine-groups/import/${token}/preview`, mapping, { "hx-request": "true" })).text();
    expect(check).toContain("3 ligne(s) reconnue(s), 2 ligne(s) en erreur.");
    expect(check).toContain("aucune machine ne correspond");
    expect(check).toContain("aucune colonne d&#x27;identification n&#x27;est remplie");

    const refused = await boss.post(`/machine-groups/import/${token}`, mapping);
    expect(refused.status).toBe(422);
    expect(t.db.query("SELECT count(*) AS n FROM machine_groups").get()).toEqual({ n: 0 });
    const created = await boss.post(`/machine-groups/import/${token}`, { ...mapping, allowPartial: "on" });
    expect(created.status).toBe(303);
    const g = t.db.query("SELECT id, origin FROM machine_groups").get() as { id: number; origin: string };
    expect(g.origin).toBe("import");
    expect(t.app.machineGroups.service.members(g.id)).toEqual([ids.w1, ids.w2, ids.l1]);
    // The table read is gone once used.
    expect((await boss.post(`/machine-groups/import/${token}`, mapping)).status).toBe(404);
  });

  test("files that are not tables are refused with a clear message", async () => {
    const { boss } = await setup();
    await boss.page("/machine-groups/import");
    for (const [file, text] of [["old-format.xls", "Ancien format Excel"], ["hostile-path.xlsx", "sort de l&#x27;archive"], ["hostile-bomb.xlsx", "taille démesurée"]] as const) {
      const res = await upload(boss, "X", file, "application/octet-stream");
      expect([file, res.status]).toEqual([file, 422]);
      expect(await res.text()).toContain(text);
    }
  });

  test("the API import: dry run, then all or nothing", async () => {
    const { t, boss, ids } = await setup();
    const call = (extra: Record<string, string>) => {
      const form = new FormData();
      form.set("file", new File([readFileSync(join(fixtures, "machine-groups", "parc-inline-strings.xlsx"))], "p.xlsx"));
      form.set("name", "Inline");
      form.set("columns", "hostname,serial,mac,ignore,ignore,ignore");
      form.set("header", "true");
      for (const [k, v] of Object.entries(extra)) form.set(k, v);
      return boss.request("POST", "/api/v1/machine-groups/import", { body: form, headers: { "x-csrf-token": boss.csrf } });
    };
    const dry = await call({ dryRun: "true" });
    expect(dry.status).toBe(200);
    const body = (await dry.json()) as { matched: number; bad: number; rows: { row: number; machineId: number | null; error: string | null }[] };
    expect(body.rows.map((r) => [r.row, r.machineId])).toEqual([[2, ids.w1], [3, ids.l1], [5, null]]);
    expect(body.bad).toBe(1);
    expect((await call({})).status).toBe(422);
    const ok = await call({ allowPartial: "true" });
    expect(ok.status).toBe(201);
    const { groupId } = (await ok.json()) as { groupId: number };
    expect(t.app.machineGroups.service.members(groupId)).toEqual([ids.w1, ids.l1]);
  });
});

describe("API", () => {
  test("create, list, members, preview, events, refusals", async () => {
    const { t, api, ids } = await setup();
    const created = await api("POST", "/api/v1/machine-groups", { name: "Linux", kind: "dynamic", query: { all: [{ field: "os.family", op: "equals", value: "linux" }] } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Linux", kind: "dynamic", members: 1, query: { all: [{ field: "os.family", op: "equals", value: "linux" }] } });
    const list = await api("GET", "/api/v1/machine-groups");
    expect(list.body.items.map((g: { name: string }) => g.name)).toEqual(["Linux"]);
    expect((await api("GET", `/api/v1/machine-groups/${created.body.id}/members`)).body.items.map((m: { hostname: string }) => m.hostname)).toEqual(["LAB-07"]);
    expect((await api("POST", "/api/v1/machine-groups/preview", { query: JSON.parse(WINDOWS) })).body).toEqual({ count: 2, total: 2, sample: ["PC-COMPTA-01", "PC-COMPTA-02"] });

    const bad = await api("POST", "/api/v1/machine-groups", { name: "Bad", kind: "dynamic", query: { all: [{ field: "hw.memoryMb", op: ">", value: "lots" }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.fields).toEqual({ query: "Valeur manquante ou invalide (#.1 (hw.memoryMb))." });
    const pilot = await api("POST", "/api/v1/machine-groups", { name: "Pilot", kind: "static", machineIds: [ids.w1] });
    const chained = await api("POST", "/api/v1/machine-groups", { name: "Linux or pilot", kind: "dynamic", query: { any: [{ field: "group", op: "in", value: created.body.id }, { field: "group", op: "in", value: pilot.body.id }] } });
    expect(chained.body.members).toBe(2);
    expect((await api("DELETE", `/api/v1/machine-groups/${pilot.body.id}`)).status).toBe(409);
    const cycle = await api("PUT", `/api/v1/machine-groups/${created.body.id}`, { name: "Linux", query: { all: [{ field: "group", op: "in", value: chained.body.id }] } });
    expect(cycle.status).toBe(422);

    // A machine deleted from the Computers view leaves its groups (machines' change events are wired).
    const online = await api("POST", "/api/v1/machine-groups", { name: "Online", kind: "dynamic", query: { all: [{ field: "agent.online", op: "is", value: true }] } });
    expect(online.body.members).toBe(2);
    const del = await api("POST", `/computers/${ids.l1}/delete`, {});
    expect(del.status).toBe(303);
    await Promise.resolve();
    const events = await api("GET", `/api/v1/machine-groups/${online.body.id}/events`);
    expect(events.body.items.map((e: { change: string; machineId: number }) => [e.change, e.machineId])).toEqual([["left", ids.l1], ["entered", ids.l1], ["entered", ids.w1]]);
    expect(t.app.machineGroups.service.groupsOf(ids.l1)).toEqual([]);
  });

  test("an inventory received over POST /inventory re-evaluates the machine's groups", async () => {
    const { t, api } = await setup();
    const created = await api("POST", "/api/v1/machine-groups", { name: "OpenSSH", kind: "dynamic", query: { all: [{ field: "software", op: "installed", name: "openssh-server", match: "equals" }] } });
    expect(created.body.members).toBe(0);
    const doc = readFileSync(join(fixtures, "inventory", "glpi-linux-server.json"));
    const res = await t.client("127.0.0.1").request("POST", "/inventory", { body: doc, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    await Promise.resolve();
    const members = t.app.machineGroups.service.members(created.body.id);
    expect(members.length).toBe(1);
    expect((t.db.query("SELECT hostname FROM machines WHERE id = $id").get({ id: members[0]! }) as { hostname: string }).hostname).toBe("srv-files-01");
  });
});
