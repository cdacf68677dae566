/**
 * Quick actions, system actions, Wake-on-LAN and the shell, in process: the quick action
 * pages and API (create, validation, unique names, hostile text escaped, edit, delete), the
 * rights (403 without them, CSRF), runs on offline and wrong-OS machines (settled at once
 * with the reason), the run page and the logs, the machine page's panel, the Wake-on-LAN
 * page and its scheduled wake, and every refusal of the shell's WebSocket upgrade.
 */
import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { testApp, type Client, type TestApp } from "../support/app.ts";

const strong = "Correct-horse-7";

async function signedIn(t: TestApp, login: string, opts: { isSuper?: boolean; keys?: string[] } = {}): Promise<Client> {
  const id = await t.addUser(login, strong, { isSuper: opts.isSuper });
  for (const key of opts.keys ?? []) t.db.query("INSERT INTO user_grants (user_id, key) VALUES ($id, $key)").run({ id, key });
  const c = t.client();
  await c.signIn(login, strong);
  return c;
}

function addMachine(t: TestApp, hostname: string, os: string, mac?: string): number {
  const id = (t.db.query("INSERT INTO machines (hostname, os, jid, created_at, updated_at) VALUES (?, ?, ?, 0, 0) RETURNING id").get(hostname, os, `${hostname}@localhost`) as { id: number }).id;
  if (mac) t.db.query("INSERT INTO machine_macs (mac, machine_id) VALUES (?, ?)").run(mac, id);
  return id;
}

const form = { os: "linux", name: "Disk check", interpreter: "shell", script: "df -h", description: "free space", timeoutSeconds: "60" };

describe("quick action pages", () => {
  test("create, validate, list (escaped), edit, delete; history written", async () => {
    const t = testApp();
    const c = await signedIn(t, "root", { isSuper: true });
    expect((await c.page("/quick-actions")).html).toContain("Aucune action rapide");
    await c.page("/quick-actions/new");
    const bad = await c.post("/quick-actions", { ...form, name: "", os: "windows", interpreter: "shell", script: " ", timeoutSeconds: "0" });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    for (const msg of ["Donnez un nom", "Cet interpréteur n'existe pas", "Saisissez la commande", "Le délai est un nombre"]) expect(badHtml).toContain(msg.replace("'", "&#x27;"));
    const ok = await c.post("/quick-actions", { ...form, name: "<b>bold</b>", description: "<script>alert(1)</script>" });
    expect(ok.status).toBe(303);
    const list = (await c.page("/quick-actions")).html;
    expect(list).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(list).not.toContain("<script>alert(1)</script>");
    expect((await c.post("/quick-actions", { ...form, name: "<B>BOLD</B>" })).status).toBe(422);
    const id = (t.db.query("SELECT id FROM quick_actions").get() as { id: number }).id;
    expect((await c.page(`/quick-actions/${id}`)).html).toContain("df -h");
    expect((await c.post(`/quick-actions/${id}`, { ...form, name: "Disk check 2" })).status).toBe(303);
    expect((await c.page("/quick-actions")).html).toContain("Disk check 2");
    expect((await c.post(`/quick-actions/${id}/delete`)).status).toBe(303);
    expect((t.db.query("SELECT COUNT(*) AS n FROM quick_actions").get() as { n: number }).n).toBe(0);
    const actions = (t.db.query("SELECT action FROM history WHERE module = 'quickaction' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(["qa.history.created", "qa.history.updated", "qa.history.deleted"]);
    expect((await c.page("/quick-actions/999")).res.status).toBe(404);
  });

  test("rights: view only cannot create or run; no CSRF token, no change", async () => {
    const t = testApp();
    const root = await signedIn(t, "root", { isSuper: true });
    await root.page("/quick-actions/new");
    await root.post("/quick-actions", form);
    const viewer = await signedIn(t, "viewer", { keys: ["quickactions.view", "machines.view"] });
    expect((await viewer.page("/quick-actions")).res.status).toBe(200);
    expect((await viewer.page("/quick-actions/new")).res.status).toBe(403);
    expect((await viewer.post("/quick-actions", { ...form, name: "x" })).status).toBe(403);
    expect((await viewer.page("/quick-actions/1/run")).res.status).toBe(403);
    expect((await viewer.post("/quick-actions/1/run", { machines: "1" })).status).toBe(403);
    expect((await viewer.page("/wol")).res.status).toBe(403);
    expect((await viewer.page("/shell-sessions")).res.status).toBe(403);
    const nobody = await signedIn(t, "nobody");
    expect((await nobody.page("/quick-actions")).res.status).toBe(403);
    const noCsrf = await root.request("POST", "/quick-actions", { form: { ...form, name: "y" } });
    expect(noCsrf.status).toBe(403);
    expect((t.db.query("SELECT COUNT(*) AS n FROM quick_actions").get() as { n: number }).n).toBe(1);
  });
});

describe("running quick actions", () => {
  test("offline and wrong-OS machines are settled at once with the reason; run page and logs", async () => {
    const t = testApp();
    const c = await signedIn(t, "root", { isSuper: true });
    const linux = addMachine(t, "lin-1", "linux");
    const win = addMachine(t, "win-1", "windows");
    await c.page("/quick-actions/new");
    await c.post("/quick-actions", form);
    const qa = (t.db.query("SELECT id FROM quick_actions").get() as { id: number }).id;
    const pick = (await c.page(`/quick-actions/${qa}/run`)).html;
    expect(pick).toContain("lin-1");
    expect(pick).not.toContain("win-1");
    expect((await c.post(`/quick-actions/${qa}/run`, {})).status).toBe(422);
    const res = await c.request("POST", `/quick-actions/${qa}/run`, { form: { _csrf: c.csrf, machines: [String(linux), String(win)] as unknown as string } });
    // (a repeated field: the client sends it as two values)
    expect([303, 422]).toContain(res.status);
    const body = new URLSearchParams([["_csrf", c.csrf], ["machines", String(linux)], ["machines", String(win)]]).toString();
    const run = await c.request("POST", `/quick-actions/${qa}/run`, { body, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(run.status).toBe(303);
    const runPath = run.headers.get("location")!;
    const runId = Number(runPath.split("/").pop());
    await t.app.actions.runner.settled(runId);
    const results = t.app.actions.runner.results(runId);
    expect(results.map((r) => [r.hostname, r.status])).toEqual([["lin-1", "offline"], ["win-1", "refused"]]);
    expect(results[1]!.error).toContain("wrong OS: this action is for linux, win-1 runs windows");
    const page = (await c.page(runPath)).html;
    expect(page).toContain("Hors ligne");
    expect(page).toContain("Refusée");
    expect((await c.page("/quick-actions/runs")).html).toContain("Disk check");
    expect((t.db.query("SELECT text FROM history WHERE action = 'qa.history.run'").get() as { text: string }).text).toContain("2 machine(s)");
    // The function other features call (groups): a list of machine ids.
    const viewer = { id: 1, login: "root", isSuper: true };
    const again = t.app.actions.runOnMachines(viewer, qa, [linux], "127.0.0.1");
    await t.app.actions.runner.settled(again);
    expect(t.app.actions.runner.results(again)[0]!.status).toBe("offline");
    expect(() => t.app.actions.runOnMachines(viewer, qa, [], "127.0.0.1")).toThrow();
  });

  test("the API: create, list, run, read results", async () => {
    const t = testApp();
    const c = await signedIn(t, "root", { isSuper: true });
    const m = addMachine(t, "lin-2", "linux");
    await c.page("/");
    const h = { "x-csrf-token": c.csrf };
    const created = await c.request("POST", "/api/v1/quick-actions", { json: { name: "uptime", os: "linux", interpreter: "shell", script: "uptime" }, headers: h });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect(((await (await c.request("GET", "/api/v1/quick-actions")).json()) as { items: unknown[] }).items.length).toBe(1);
    const bad = await c.request("POST", "/api/v1/quick-actions", { json: { name: "x", os: "solaris", interpreter: "shell", script: "x" }, headers: h });
    expect(bad.status).toBe(422);
    const run = await c.request("POST", `/api/v1/quick-actions/${id}/runs`, { json: { machineIds: [m] }, headers: h });
    expect(run.status).toBe(202);
    const { runId } = (await run.json()) as { runId: number };
    await t.app.actions.runner.settled(runId);
    const got = (await (await c.request("GET", `/api/v1/quick-action-runs/${runId}`)).json()) as { finished: boolean; results: { status: string }[] };
    expect(got).toMatchObject({ finished: true, results: [{ status: "offline" }] });
    expect((await c.request("POST", `/api/v1/quick-actions/${id}/runs`, { json: { machineIds: [99_999] }, headers: h })).status).toBe(404);
  });

  test("the machine page shows the system actions to those who may use them", async () => {
    const t = testApp();
    const m = addMachine(t, "lin-3", "linux");
    const root = await signedIn(t, "root", { isSuper: true });
    const html = (await root.page(`/computers/${m}`)).html;
    for (const label of ["Inventaire maintenant", "Processus", "Espace disque", "Netstat", "Redémarrer", "Éteindre", "Fichier de configuration", "Terminal"]) expect(html).toContain(label);
    const viewer = await signedIn(t, "viewer", { keys: ["machines.view"] });
    expect((await viewer.page(`/computers/${m}`)).html).not.toContain("system-actions");
    expect((await viewer.post(`/computers/${m}/system/processes`)).status).toBe(403);
    // Offline: a clear message, not a crash.
    const off = await root.request("POST", `/computers/${m}/system/processes`, { headers: { "x-csrf-token": root.csrf, "hx-request": "true" } });
    expect(off.status).toBe(200);
    expect(await off.text()).toContain("lin-3 n&#x27;est pas connectée");
  });
});

describe("Wake-on-LAN page", () => {
  test("lists machines with a MAC; empty selection and bad dates refused; a scheduled wake is a job", async () => {
    const t = testApp();
    const c = await signedIn(t, "root", { isSuper: true });
    const m = addMachine(t, "sleepy", "linux", "52:54:00:12:34:56");
    addMachine(t, "no-mac", "linux");
    const page = (await c.page("/wol")).html;
    expect(page).toContain("sleepy");
    expect(page).toContain("52:54:00:12:34:56");
    expect(page).not.toContain("no-mac");
    expect((await c.post("/wol/wake", {})).status).toBe(422);
    expect(await (await c.post("/wol/schedule", { machines: String(m), at: "2020-01-01T08:00" })).text()).toContain("à venir");
    expect((await c.post("/wol/schedule", { machines: String(m), at: "not a date" })).status).toBe(422);
    const ok = await c.post("/wol/schedule", { machines: String(m), at: "2026-06-02T07:30" });
    expect(ok.status).toBe(303);
    const jobs = t.app.scheduler.list().filter((j) => j.kind === "wol.wake");
    expect(jobs.length).toBe(1);
    expect(t.db.query("SELECT payload FROM jobs WHERE kind = 'wol.wake'").get()).toEqual({ payload: JSON.stringify({ machineIds: [m], user: "root" }) });
    expect(t.app.actions.wol.recentWake("52:54:00:12:34:56", 60_000)).toBeNull();
  });
});

describe("the shell's WebSocket upgrade", () => {
  test("every refusal, in order of the checks", async () => {
    const t = testApp();
    const m = addMachine(t, "lin-4", "linux");
    const root = await signedIn(t, "root", { isSuper: true });
    const viewer = await signedIn(t, "viewer", { keys: ["machines.view"] });
    let upgraded = 0;
    const server = { upgrade: () => (upgraded++, true) } as unknown as Server<never>;
    const cookie = (c: Client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const up = (path: string, headers: Record<string, string>) => t.app.actions.shell.upgrade(new Request(`http://localhost${path}`, { headers: { upgrade: "websocket", host: "localhost", ...headers } }), server as never, { ip: "127.0.0.1" });
    const path = `/computers/${m}/shell/ws`;
    expect(up("/computers/1/other", {})).toBeNull();
    expect(t.app.actions.shell.upgrade(new Request(`http://localhost${path}`), server as never, { ip: "" })?.status).toBe(426);
    expect(up(path, {})?.status).toBe(403); // no Origin
    expect(up(path, { origin: "https://evil.example" })?.status).toBe(403);
    expect(up(path, { origin: "http://localhost" })?.status).toBe(401); // no session
    expect(up(`${path}?csrf=${viewer.csrf}`, { origin: "http://localhost", cookie: cookie(viewer) })?.status).toBe(403); // no right
    expect(up(`${path}?csrf=wrong`, { origin: "http://localhost", cookie: cookie(root) })?.status).toBe(403);
    expect(up(`/computers/999/shell/ws?csrf=${root.csrf}`, { origin: "http://localhost", cookie: cookie(root) })?.status).toBe(404);
    expect(up(`${path}?csrf=${root.csrf}`, { origin: "http://localhost", cookie: cookie(root) })?.status).toBe(409); // offline
    expect(upgraded).toBe(0);
    expect((await root.page(`/computers/${m}/shell`)).html).toContain("/static/xterm.js");
  });
});
