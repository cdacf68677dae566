import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Descriptor } from "../../src/features/packages/descriptor.ts";
import { createPackageSource, type PackagesLike } from "../../src/features/deployments/package-source.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { tempDirs } from "../support/tmp.ts";

const tmp = tempDirs("medulla-deploy-");

const strong = "Correct-horse-7";
// Each test signs users in (Argon2): slow on a busy machine.
setDefaultTimeout(30_000);
type Json = any;

function store(): PackagesLike & { add(name: string, version: string, deps?: { name: string; version?: string }[], bytes?: Uint8Array): number } {
  const dir = tmp();
  const pkgs: { id: number; name: string; version: string; d: Descriptor; files: { path: string; sha256: string; size: number }[] }[] = [];
  return {
    add(name, version, deps = [], bytes) {
      const id = pkgs.length + 1;
      const files = [];
      if (bytes) {
        const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
        writeFileSync(join(dir, sha256), bytes);
        files.push({ path: "payload.bin", sha256, size: bytes.byteLength });
      }
      const d: Descriptor = {
        format: "medulla-package/1", name, version, description: "", kind: "install", targetOs: ["linux"], share: "global", transfer: { method: "pull", bandwidthKbps: 800 }, priority: "normal",
        dependencies: deps, inventory: { associate: false }, inventoryAfter: false, removeAfter: false,
        steps: { linux: { install: [{ id: "ok", action: "end_success" }], uninstall: [{ id: "ok", action: "end_success" }] } },
      };
      pkgs.push({ id, name, version, d, files });
      return id;
    },
    list: () => ({ items: pkgs.map((p) => ({ id: p.id, name: p.name, version: p.version })) }),
    find: (id) => pkgs.find((p) => p.id === id) ?? null,
    descriptor: (id) => pkgs.find((p) => p.id === id)!.d,
    files: (id) => pkgs.find((p) => p.id === id)!.files,
    blobPath: (sha) => join(dir, sha),
  };
}

async function setup() {
  const t = testApp();
  const s = store();
  t.app.deployments.usePackages(createPackageSource(s));
  await t.addUser("boss", strong, { isSuper: true });
  const token = async (login: string) => ((await (await t.client().request("POST", "/api/v1/tokens", { json: { username: login, password: strong } })).json()) as { token: string }).token;
  const caller = (bearer: string) => async (method: string, path: string, json?: unknown) => {
    const res = await t.client().request(method, path, { json, headers: { authorization: `Bearer ${bearer}` } });
    return { status: res.status, body: (await res.json().catch(() => null)) as Json };
  };
  const boss = caller(await token("boss"));
  const enroll = async (hostname: string) => {
    const tok = await boss("POST", "/api/v1/enrollment-tokens", {});
    const res = await t.client().request("POST", "/api/v1/agents/enroll", { json: { token: tok.body.token, hostname, os: "linux", arch: "x64" } });
    return (await res.json()) as { machineId: number; jid: string; password: string };
  };
  return { t, s, boss, caller, token, enroll };
}

async function userWith(t: TestApp, login: string, keys: string[]) {
  const id = await t.addUser(login, strong);
  for (const key of keys) t.db.query("INSERT INTO user_grants (user_id, key) VALUES ($id, $key)").run({ id, key });
  t.db.query("INSERT INTO user_entities (user_id, entity_id) VALUES ($id, 1)").run({ id });
  const c = t.client();
  await c.signIn(login, strong);
  return { id, c };
}

describe("deployments over HTTP", () => {
  test("API: launch resolves dependencies first, freezes the plan, and reports each target", async () => {
    const { t, s, boss, enroll } = await setup();
    const m = await enroll("pc-01");
    s.add("Runtime", "2.0");
    s.add("Runtime", "1.0");
    const app = s.add("App", "1.0", [{ name: "Runtime" }]);
    const r = await boss("POST", "/api/v1/deployments", { packageId: String(app), machineIds: [m.machineId] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ title: "App 1.0", status: "running", targets: [{ hostname: "pc-01", state: "waiting" }] });
    // Frozen at launch: the newest Runtime first, then App.
    const plan = JSON.parse((t.db.query("SELECT plan FROM deployments WHERE id = ?").get(r.body.id) as { plan: string }).plan);
    expect(plan.packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`)).toEqual(["Runtime 2.0", "App 1.0"]);
  });

  test("API: a dependency cycle or a missing dependency is refused with the reason", async () => {
    const { s, boss, enroll } = await setup();
    const m = await enroll("pc-01");
    const a = s.add("A", "1", [{ name: "B" }]);
    s.add("B", "1", [{ name: "A" }]);
    const r = await boss("POST", "/api/v1/deployments", { packageId: String(a), machineIds: [m.machineId] });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain("dependency cycle");
    const c = s.add("C", "1", [{ name: "Nowhere" }]);
    const r2 = await boss("POST", "/api/v1/deployments", { packageId: String(c), machineIds: [m.machineId] });
    expect(JSON.stringify(r2.body)).toContain("Nowhere");
    const r3 = await boss("POST", "/api/v1/deployments", { packageId: String(a), machineIds: [] });
    expect(r3.status).toBe(422);
  });

  test("the launch page launches for the ticked machines and opens the follow page; stop works", async () => {
    const { t, s, enroll } = await setup();
    const m1 = await enroll("pc-01");
    const m2 = await enroll("pc-02");
    const pkg = s.add("Tool", "3.1");
    const { c } = await userWith(t, "tech", ["deploy.launch", "audit.view", "machines.view"]);
    const page = await c.page("/deployments/new");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("Tool 3.1");
    const body = new URLSearchParams([["_csrf", c.csrf], ["package", String(pkg)], ["section", "install"], ["machines", String(m1.machineId)], ["machines", String(m2.machineId)], ["deadline", "2"]]);
    const res = await c.request("POST", "/deployments", { body: body.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(303);
    const where = res.headers.get("location")!;
    expect(where).toMatch(/^\/deployments\/\d+$/);
    const follow = await c.page(where);
    expect(follow.html).toContain("pc-01");
    expect(follow.html).toContain("pc-02");
    expect(follow.html).toContain("En attente de la machine");
    const stop = await c.post(`${where}/stop`);
    expect(stop.status).toBe(303);
    expect((await c.page(where)).html).toContain("arrêté");
    // The audit lists it under my past tasks, found by name.
    const audit = await c.page("/audit?tab=past&q=Tool");
    expect(audit.html).toContain("Tool 3.1");
    expect((await c.page("/audit?tab=past&q=nothing-like-it")).html).not.toContain("Tool 3.1");
    // The table refreshes on its own every 5 minutes by default.
    expect(audit.html).toContain('hx-trigger="every 300s"');
  });

  test("bad launch input re-renders the form with the errors", async () => {
    const { t } = await setup();
    const { c } = await userWith(t, "tech", ["deploy.launch", "machines.view"]);
    await c.page("/deployments/new");
    const res = await c.post("/deployments", { package: "", deadline: "9999", start: "tomorrow" });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("L&#x27;échéance doit être de 1 à 720 heures.");
  });

  test("rights: who may see a deployment, and whose tasks each audit view lists", async () => {
    const { t, s, enroll } = await setup();
    const m = await enroll("pc-01");
    const pkg = s.add("Tool", "1");
    const alice = await userWith(t, "alice", ["deploy.launch", "audit.view", "machines.view"]);
    const bob = await userWith(t, "bob", ["audit.view", "audit.team"]);
    const eve = await userWith(t, "eve", ["audit.view"]);
    // alice and bob share a user group: a team.
    const g = (t.db.query("INSERT INTO user_groups (name, created_at, updated_at) VALUES ('lab', 0, 0) RETURNING id").get() as { id: number }).id;
    for (const u of [alice.id, bob.id]) t.db.query("INSERT INTO user_group_members (group_id, user_id) VALUES (?, ?)").run(g, u);
    await alice.c.page("/deployments/new");
    const res = await alice.c.request("POST", "/deployments", { body: new URLSearchParams([["_csrf", alice.c.csrf], ["package", String(pkg)], ["machines", String(m.machineId)]]).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    const where = res.headers.get("location")!;
    expect((await bob.c.page(where)).res.status).toBe(200);
    expect((await eve.c.page(where)).res.status).toBe(403);
    expect((await bob.c.page("/audit/team?tab=current")).html).toContain("Tool 1");
    expect((await eve.c.page("/audit/team")).res.status).toBe(403);
    expect((await eve.c.page("/audit?tab=current")).html).not.toContain("Tool 1");
    // Only its launcher (or a holder of audit.all) may stop it.
    await bob.c.page(where);
    expect((await bob.c.post(`${where}/stop`)).status).toBe(403);
  });

  test("rules: add, edit, raise/lower, delete, with validation", async () => {
    const { t } = await setup();
    const { c } = await userWith(t, "ops", ["deploy.rules"]);
    await c.page("/deployments/rules");
    expect((await c.post("/deployments/rules", { name: "", windowStart: "25:00", windowEnd: "" })).status).toBe(422);
    for (const name of ["Nuit", "Salles", "Labo"]) expect((await c.post("/deployments/rules", { name, windowStart: "22:00", windowEnd: "06:00", maxParallel: "5", enabled: "on" })).status).toBe(303);
    const ids = () => (t.db.query("SELECT id, name FROM deployment_rules ORDER BY position").all() as { id: number; name: string }[]);
    const labo = ids()[2]!.id;
    await c.post(`/deployments/rules/${labo}/up`);
    expect(ids().map((r) => r.name)).toEqual(["Nuit", "Labo", "Salles"]);
    await c.post(`/deployments/rules/${ids()[0]!.id}/down`);
    expect(ids().map((r) => r.name)).toEqual(["Labo", "Nuit", "Salles"]);
    const edit = await c.page(`/deployments/rules/${labo}/edit`);
    expect(edit.html).toContain('value="22:00"');
    await c.post(`/deployments/rules/${labo}`, { name: "Labo 2", os: "windows", windowStart: "", windowEnd: "", maxParallel: "", enabled: "on" });
    expect(t.db.query("SELECT name, os, window_start, max_parallel FROM deployment_rules WHERE id = ?").get(labo)).toEqual({ name: "Labo 2", os: "windows", window_start: null, max_parallel: null });
    await c.post(`/deployments/rules/${labo}/delete`);
    expect(ids().map((r) => r.name)).toEqual(["Nuit", "Salles"]);
    expect((t.db.query("SELECT count(*) AS n FROM history WHERE module = 'deployment'").get() as { n: number }).n).toBeGreaterThanOrEqual(6);
  });

  test("agents fetch the plan and files of their own runs only, over HTTPS, with ranges", async () => {
    const { t, s, boss, enroll } = await setup();
    const bytes = new Uint8Array(10_000).map((_, i) => i % 251);
    const pkg = s.add("Data", "1", [], bytes);
    const m = await enroll("pc-01");
    const other = await enroll("pc-02");
    t.db.query("UPDATE machines SET online = 1 WHERE id = ?").run(m.machineId);
    // Online in the table is not enough: the channel must see it. Mark it sent by hand instead.
    const d = (await boss("POST", "/api/v1/deployments", { packageId: String(pkg), machineIds: [m.machineId] })).body;
    const target = t.app.deployments.engine.repo.targets(d.id)[0]!;
    t.app.deployments.engine.repo.updateTarget(target.id, { sent_at: t.clock.now() }, t.clock.now());
    const sha = s.files(pkg)[0]!.sha256;
    const auth = (who: { jid: string; password: string }) => ({ authorization: `Basic ${Buffer.from(`${who.jid}:${who.password}`).toString("base64")}` });
    const get = (path: string, headers: Record<string, string>, https = true) => t.client("10.0.0.5", { https }).request("GET", path, { headers });
    expect((await get(`/api/v1/agents/files/${sha}`, auth(m), false)).status).toBe(403);
    expect((await get(`/api/v1/agents/files/${sha}`, {})).status).toBe(401);
    expect((await get(`/api/v1/agents/files/${sha}`, auth({ jid: m.jid, password: "wrong" }))).status).toBe(401);
    expect((await get(`/api/v1/agents/files/${sha}`, auth(other))).status).toBe(403);
    expect((await get(`/api/v1/agents/files/${"a".repeat(64)}`, auth(m))).status).toBe(403);
    expect((await get(`/api/v1/agents/files/not-a-hash`, auth(m))).status).toBe(400);
    const whole = await get(`/api/v1/agents/files/${sha}`, auth(m));
    expect(whole.status).toBe(200);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);
    const part = await get(`/api/v1/agents/files/${sha}`, { ...auth(m), range: "bytes=9000-" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 9000-9999/10000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(9000));
    expect((await get(`/api/v1/agents/files/${sha}`, { ...auth(m), range: "bytes=20000-" })).status).toBe(416);
    const plan = await get(`/api/v1/agents/deployments/${target.run_id}/plan`, auth(m));
    expect(plan.status).toBe(200);
    const text = await plan.text();
    expect(plan.headers.get("x-content-sha256")).toBe(new Bun.CryptoHasher("sha256").update(text).digest("hex"));
    expect(JSON.parse(text)).toMatchObject({ v: 1, os: "linux", section: "install", packages: [{ name: "Data", files: [{ sha256: sha, size: 10_000 }] }] });
    expect((await get(`/api/v1/agents/deployments/${target.run_id}/plan`, auth(other))).status).toBe(404);
    expect((t.db.query("SELECT count(*) AS n FROM history WHERE module = 'download'").get() as { n: number }).n).toBe(1);
  });
});

describe("convergence", () => {
  test("a machine entering the bound group gets the install; leaving gets the uninstall when asked", async () => {
    const { t, s, enroll } = await setup();
    const a = await enroll("pc-a");
    const b = await enroll("pc-b");
    const pkg = s.add("Agent_AV", "5");
    const members: Record<number, number[]> = { 3: [a.machineId] };
    t.app.deployments.useGroups((g) => members[g] ?? [], () => [{ id: 3, name: "Labo" }]);
    const { c } = await userWith(t, "ops", ["deploy.convergences", "audit.view"]);
    await c.page("/deployments/convergences");
    expect((await c.post("/deployments/convergences", { name: "Antivirus", group: "3", package: String(pkg), uninstall: "on" })).status).toBe(303);
    const conv = (kind: string) => t.db.query("SELECT d.section, t.hostname FROM deployments d JOIN deployment_targets t ON t.deployment_id = d.id WHERE d.kind = ? ORDER BY d.id").all(kind);
    // The member at creation got it at once.
    expect(conv("convergence")).toEqual([{ section: "install", hostname: "pc-a" }]);
    t.app.deployments.convergence.membershipChanged(3, b.machineId, "entered");
    t.app.deployments.convergence.membershipChanged(3, a.machineId, "left");
    t.app.deployments.convergence.membershipChanged(99, a.machineId, "entered");
    expect(conv("convergence")).toEqual([{ section: "install", hostname: "pc-a" }, { section: "install", hostname: "pc-b" }, { section: "uninstall", hostname: "pc-a" }]);
    const page = await c.page("/deployments/convergences");
    expect(page.html).toContain("Antivirus");
    expect((await c.page("/audit/convergences?tab=current")).html).toContain("Antivirus (install)");
  });
});

describe("with the packages feature", () => {
  test("a package from the store is deployed, locked, and cannot be deleted while its deployment runs", async () => {
    const t = testApp();
    await t.addUser("boss", strong, { isSuper: true });
    const tok = ((await (await t.client().request("POST", "/api/v1/tokens", { json: { username: "boss", password: strong } })).json()) as { token: string }).token;
    const call = async (method: string, path: string, json?: unknown) => {
      const res = await t.client().request(method, path, { json, headers: { authorization: `Bearer ${tok}` } });
      return { status: res.status, body: (await res.json().catch(() => null)) as Json };
    };
    const enrolled = await call("POST", "/api/v1/enrollment-tokens", {});
    const m = (await (await t.client().request("POST", "/api/v1/agents/enroll", { json: { token: enrolled.body.token, hostname: "pc-01", os: "linux", arch: "x64" } })).json()) as { machineId: number };
    const d: Descriptor = {
      format: "medulla-package/1", name: "Real_pkg", version: "1.0", description: "", kind: "install", targetOs: ["linux"], share: "global", transfer: { method: "pull", bandwidthKbps: 0 },
      priority: "high", dependencies: [], inventory: { associate: false }, inventoryAfter: false, removeAfter: false, steps: { linux: { install: [{ id: "ok", action: "end_success" }] } },
    };
    const viewer = { id: 1, login: "boss", isSuper: true };
    const id = t.app.packages.create(viewer, d, [], "empty");
    const r = await call("POST", "/api/v1/deployments", { packageId: String(id), machineIds: [m.machineId] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ title: "Real_pkg 1.0", status: "running" });
    expect(t.app.packages.isDeployed(id)).toBe(true);
    expect(() => t.app.packages.remove(viewer, id)).toThrow();
    await call("POST", `/api/v1/deployments/${r.body.id}/stop`, {});
    t.app.packages.remove(viewer, id);
    expect(t.app.packages.find(id)).toBeNull();
  });
});
