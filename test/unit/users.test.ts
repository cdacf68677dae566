import { describe, expect, test } from "bun:test";
import { testApp, type Client } from "../support/app.ts";

const strong = "Correct-horse-7";
const png = (w: number, h: number) => {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, w);
  new DataView(b.buffer).setUint32(20, h);
  return b;
};

async function admin() {
  const t = testApp();
  await t.addUser("boss", strong, { isSuper: true });
  const c = t.client();
  await c.signIn("boss", strong);
  return { t, c };
}

function multipart(c: Client, path: string, fields: Record<string, string | string[] | Blob>) {
  const fd = new FormData();
  fd.append("_csrf", c.csrf);
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) fd.append(k, one as string | Blob);
  return c.request("POST", path, { body: fd });
}

const userFields = (login: string, extra: Record<string, string | string[] | Blob> = {}) => ({
  login, password: strong, confirm: strong, firstName: "Ada", lastName: "Lovelace", email: `${login}@example.org`, phone: "+33 1 23 45 67 89", mobile: "", ...extra,
});

describe("users (U1, U2)", () => {
  test("the list shows an empty state, then users, searchable, with actions", async () => {
    const { t, c } = await admin();
    const list = await c.page("/users");
    expect(list.html).toContain("Ajouter un utilisateur");
    expect(list.html).toContain("boss");
    const created = await multipart(c, "/users", userFields("ada"));
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/users?created=ada");
    expect((await c.page("/users?created=ada")).html).toContain("Utilisateur ada créé.");
    const search = await c.request("GET", "/users?q=lovel", { headers: { "hx-request": "true" } });
    const frag = await search.text();
    expect(frag.startsWith('<div id="users-table">')).toBe(true);
    expect(frag).toContain("ada");
    expect(frag).not.toContain(">boss<");
    const none = await c.request("GET", "/users?q=zzz", { headers: { "hx-request": "true" } });
    expect(await none.text()).toContain("Aucun utilisateur ne correspond");
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'users.history.created'").get()).toEqual({ n: 1 });
  });

  test("every field of U2 is kept: groups, entity rights, photo", async () => {
    const { t, c } = await admin();
    await c.post("/groups", { name: "helpdesk", description: "Support", entityId: "1" });
    await c.post("/groups", { name: "techs", description: "", entityId: "1" });
    await c.post("/entities", { name: "Public", parentId: "1" });
    const [g1, g2] = (t.db.query("SELECT id FROM user_groups ORDER BY name").all() as { id: number }[]).map((r) => String(r.id));
    const ent = String((t.db.query("SELECT id FROM entities WHERE name = 'Public'").get() as { id: number }).id);
    const res = await multipart(c, "/users", userFields("ada", {
      primaryGroupId: g1!, secondaryGroupIds: [g2!], entityIds: [ent], isPublic: "on", isRecursive: "on", hasStatistics: "on", mobile: "06 00 00 00 00",
      photo: new Blob([png(64, 64)], { type: "image/png" }),
    }));
    expect(res.status).toBe(303);
    const u = t.db.query("SELECT login, email, first_name, last_name, phone, mobile, primary_group_id, is_public, is_recursive, has_statistics, is_super, photo_type FROM users WHERE login = 'ada'").get();
    expect(u).toEqual({ login: "ada", email: "ada@example.org", first_name: "Ada", last_name: "Lovelace", phone: "+33 1 23 45 67 89", mobile: "06 00 00 00 00", primary_group_id: Number(g1), is_public: 1, is_recursive: 1, has_statistics: 1, is_super: 0, photo_type: "image/png" });
    const id = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    expect(t.db.query("SELECT group_id FROM user_group_members WHERE user_id = ?").all(id)).toEqual([{ group_id: Number(g2) }]);
    expect(t.db.query("SELECT entity_id FROM user_entities WHERE user_id = ?").all(id)).toEqual([{ entity_id: Number(ent) }]);
    const photo = await c.request("GET", `/users/${id}/photo`);
    expect(photo.headers.get("content-type")).toBe("image/png");
    expect(photo.headers.get("content-security-policy")).toBe("default-src 'none'");
    const edit = await c.page(`/users/${id}/edit`);
    expect(edit.html).toContain('value="ada"');
    expect(edit.html).toContain(`/users/${id}/photo`);
  });

  const invalid: [string, Record<string, string | Blob>, string, string][] = [
    ["mismatched passwords", { confirm: "Other-horse-8" }, "confirm", "Les deux mots de passe ne correspondent pas."],
    ["weak password", { password: "short", confirm: "short" }, "password", "Mot de passe trop faible"],
    ["bad login", { login: "a b" }, "login", "Identifiant invalide"],
    ["bad e-mail", { email: "not-an-email" }, "email", "Adresse e-mail invalide."],
    ["bad phone", { phone: "call me" }, "phone", "Numéro invalide"],
    ["unknown group", { primaryGroupId: "999" }, "primaryGroupId", "Choisissez un groupe existant."],
    ["non-image photo", { photo: new Blob(["<script>alert(1)</script>"], { type: "image/png" }) }, "photo", "pas une image"],
    ["huge photo", { photo: new Blob([new Uint8Array(600 * 1024)], { type: "image/png" }) }, "photo", "dépasse 512 Kio"],
    ["giant image", { photo: new Blob([png(10000, 10)], { type: "image/png" }) }, "photo", "4096 pixels"],
  ];
  for (const [name, fields, field, message] of invalid) {
    test(`refuses ${name} with a message at the field, nothing changed`, async () => {
      const { t, c } = await admin();
      const before = t.db.query("SELECT count(*) AS n FROM users").get();
      const res = await multipart(c, "/users", userFields("ada", fields));
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain(`id="${field}-error"`);
      expect(html).toContain(message);
      expect(t.db.query("SELECT count(*) AS n FROM users").get()).toEqual(before);
    });
  }

  test("logins are unique whatever their case", async () => {
    const { c } = await admin();
    await multipart(c, "/users", userFields("ada"));
    const res = await multipart(c, "/users", userFields("ADA", { email: "other@example.org" }));
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Cet identifiant est déjà utilisé.");
  });

  test("nobody deletes itself; the last super-administrator is neither deleted nor demoted", async () => {
    const { t, c } = await admin();
    const bossId = (t.db.query("SELECT id FROM users WHERE login = 'boss'").get() as { id: number }).id;
    const self = await c.request("DELETE", `/users/${bossId}`, { headers: { "x-csrf-token": c.csrf } });
    expect(self.status).toBe(409);
    const demote = await multipart(c, `/users/${bossId}`, { login: "boss" });
    expect(demote.status).toBe(422);
    expect(await demote.text()).toContain("vos propres droits de super-administrateur");
    await t.addUser("other", strong, { isSuper: true });
    const otherId = (t.db.query("SELECT id FROM users WHERE login = 'other'").get() as { id: number }).id;
    const c2 = t.client("192.0.2.77");
    await c2.signIn("other", strong);
    expect((await multipart(c2, `/users/${bossId}`, { login: "boss" })).status).toBe(303);
    expect(t.db.query("SELECT is_super FROM users WHERE id = ?").get(bossId)).toEqual({ is_super: 0 });
    const last = await c2.request("DELETE", `/users/${otherId}`, { headers: { "x-csrf-token": c2.csrf } });
    expect(last.status).toBe(409);
    expect(t.db.query("SELECT count(*) AS n FROM users WHERE is_super = 1").get()).toEqual({ n: 1 });
  });

  test("deleting a user over htmx removes its row and is recorded", async () => {
    const { t, c } = await admin();
    await multipart(c, "/users", userFields("ada"));
    const id = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    const res = await c.request("DELETE", `/users/${id}`, { headers: { "x-csrf-token": c.csrf, "hx-request": "true" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(t.db.query("SELECT count(*) AS n FROM users WHERE login = 'ada'").get()).toEqual({ n: 0 });
    expect((await c.request("DELETE", `/users/${id}`, { headers: { "x-csrf-token": c.csrf } })).status).toBe(404);
  });
});

describe("rights (U3) and entities (U5)", () => {
  async function restricted() {
    const { t, c } = await admin();
    await c.post("/entities", { name: "Paris", parentId: "1" });
    const paris = (t.db.query("SELECT id FROM entities WHERE name = 'Paris'").get() as { id: number }).id;
    await c.post("/entities", { name: "Lyon", parentId: "1" });
    const lyon = (t.db.query("SELECT id FROM entities WHERE name = 'Lyon'").get() as { id: number }).id;
    await c.post("/entities", { name: "Montmartre", parentId: String(paris) });
    await multipart(c, "/users", userFields("manager", { entityIds: [String(paris)], isRecursive: "on" }));
    await multipart(c, "/users", userFields("parisian", { entityIds: [String(paris)], email: "p@example.org" }));
    await multipart(c, "/users", userFields("lyonnais", { entityIds: [String(lyon)], email: "l@example.org" }));
    const managerId = (t.db.query("SELECT id FROM users WHERE login = 'manager'").get() as { id: number }).id;
    await c.post(`/users/${managerId}/acl`, { keys: "users.view" });
    const m = t.client("192.0.2.50");
    await m.signIn("manager", strong);
    return { t, c, m, paris, lyon, managerId };
  }

  test("the ACL editor lists every registered key by category and saves them", async () => {
    const { t, c } = await admin();
    await multipart(c, "/users", userFields("ada"));
    const id = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    const page = await c.page(`/users/${id}/acl`);
    expect(page.html).toContain("Édition des ACLs de l&#x27;utilisateur ada");
    for (const key of t.app.registry.permissions.keys()) expect(page.html).toContain(`value="${key}"`);
    const res = await c.request("POST", `/users/${id}/acl`, { body: new URLSearchParams([["_csrf", c.csrf], ["keys", "users.view"], ["keys", "groups.view"]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(res.headers.get("location")).toBe(`/users/${id}/acl?saved=1`);
    expect(t.db.query("SELECT key FROM user_grants WHERE user_id = ? ORDER BY key").all(id)).toEqual([{ key: "groups.view" }, { key: "users.view" }]);
    expect((await c.post(`/users/${id}/acl`, { keys: "no.such.key" })).status).toBe(422);
  });

  test("a restricted user sees only its menu entries, pages and entities", async () => {
    const { m } = await restricted();
    const home = await m.page("/");
    expect(home.html).toContain('href="/users"');
    expect(home.html).not.toContain('href="/groups"');
    expect(home.html).not.toContain('href="/entities"');
    const list = await m.page("/users");
    expect(list.html).toContain("parisian");
    expect(list.html).not.toContain("lyonnais");
    expect(list.html).not.toContain(">boss<");
    expect(list.html).not.toContain("Ajouter un utilisateur");
    expect((await m.request("GET", "/groups")).status).toBe(403);
    expect((await m.request("GET", "/users/new")).status).toBe(403);
  });

  test("rights come from groups too (union), and a change applies at once", async () => {
    const { t, c, m, managerId } = await restricted();
    await c.post("/groups", { name: "auditors", description: "", entityId: "1" });
    const gid = (t.db.query("SELECT id FROM user_groups WHERE name = 'auditors'").get() as { id: number }).id;
    await c.post(`/groups/${gid}/acl`, { keys: "groups.view" });
    expect((await m.request("GET", "/groups")).status).toBe(403);
    await c.post(`/groups/${gid}/members`, { userId: String(managerId) });
    expect((await m.request("GET", "/groups")).status).toBe(200);
    const acl = await c.page(`/users/${managerId}/acl`);
    expect(acl.html).toContain("par le groupe auditors");
  });

  test("recursive rights extend to sub-entities; a user never grants what it does not see or hold", async () => {
    const { t, c, managerId, paris, lyon } = await restricted();
    await c.post(`/users/${managerId}/acl`, { keys: "users.edit" });
    await c.request("POST", `/users/${managerId}/acl`, { body: new URLSearchParams([["_csrf", c.csrf], ["keys", "users.view"], ["keys", "users.edit"], ["keys", "users.acl"]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
    const m = t.client("192.0.2.51");
    await m.signIn("manager", strong);
    const form = await m.page("/users/new");
    expect(form.html).toContain("Montmartre");
    expect(form.html).not.toContain("Lyon");
    const outside = await multipart(m, "/users", userFields("sneaky", { entityIds: [String(lyon)] }));
    expect(outside.status).toBe(422);
    expect(await outside.text()).toContain("que des entités que vous voyez");
    const superTry = await multipart(m, "/users", userFields("sneaky", { entityIds: [String(paris)], isSuper: "on" }));
    expect(superTry.status).toBe(422);
    const parisianId = (t.db.query("SELECT id FROM users WHERE login = 'parisian'").get() as { id: number }).id;
    const grant = await m.post(`/users/${parisianId}/acl`, { keys: "entities.delete" });
    expect(grant.status).toBe(422);
    expect(await grant.text()).toContain("que des droits que vous avez vous-même");
    const lyonnaisId = (t.db.query("SELECT id FROM users WHERE login = 'lyonnais'").get() as { id: number }).id;
    expect((await m.request("GET", `/users/${lyonnaisId}/edit`)).status).toBe(403);
    const bossId = (t.db.query("SELECT id FROM users WHERE login = 'boss'").get() as { id: number }).id;
    expect((await m.post(`/users/${bossId}/acl`, { keys: "users.view" })).status).toBe(403);
    expect(t.db.query("SELECT count(*) AS n FROM users WHERE login = 'sneaky'").get()).toEqual({ n: 0 });
  });

  test("entities: create, rename, move (no cycles), delete refused while in use", async () => {
    const { t, c, paris } = await restricted();
    const montmartre = (t.db.query("SELECT id FROM entities WHERE name = 'Montmartre'").get() as { id: number }).id;
    const cycle = await c.post(`/entities/${paris}`, { name: "Paris", parentId: String(montmartre) });
    expect(cycle.status).toBe(422);
    expect(await cycle.text()).toContain("sous elle-même");
    const dup = await c.post("/entities", { name: "paris", parentId: "1" });
    expect(dup.status).toBe(422);
    const inUse = await c.post(`/entities/${paris}/delete`);
    expect(inUse.status).toBe(409);
    expect(await inUse.text()).toContain("des éléments lui appartiennent encore");
    expect((await c.post(`/entities/${montmartre}`, { name: "Pigalle", parentId: "1" })).status).toBe(303);
    expect(t.db.query("SELECT name, parent_id FROM entities WHERE id = ?").get(montmartre)).toEqual({ name: "Pigalle", parent_id: 1 });
    expect((await c.post(`/entities/${montmartre}/delete`)).status).toBe(303);
    expect((await c.post("/entities/1/delete")).status).toBe(409);
    const moves = t.db.query("SELECT count(*) AS n FROM history WHERE action LIKE 'entities.history.%'").get() as { n: number };
    expect(moves.n).toBeGreaterThanOrEqual(6);
  });
});

describe("groups (U4)", () => {
  for (const bad of ["Admins", "1team", "tech-team", "équipe", "", "a".repeat(65)]) {
    test(`refuses the group name "${bad.slice(0, 12)}"`, async () => {
      const { t, c } = await admin();
      const res = await c.post("/groups", { name: bad, description: "x", entityId: "1" });
      expect(res.status).toBe(422);
      expect(t.db.query("SELECT count(*) AS n FROM user_groups").get()).toEqual({ n: 0 });
    });
  }

  test("list, edit, members, delete", async () => {
    const { t, c } = await admin();
    expect((await c.page("/groups")).html).toContain("Aucun groupe");
    await c.post("/groups", { name: "techs2", description: "Technicians", entityId: "1" });
    const gid = (t.db.query("SELECT id FROM user_groups").get() as { id: number }).id;
    expect((await c.page("/groups")).html).toContain("Technicians");
    expect((await c.post(`/groups/${gid}`, { name: "techs", description: "Field techs", entityId: "1" })).status).toBe(303);
    await multipart(c, "/users", userFields("ada"));
    const ada = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    const added = await c.post(`/groups/${gid}/members`, { userId: String(ada) }, { "hx-request": "true" });
    expect(await added.text()).toContain("ada");
    const removed = await c.request("DELETE", `/groups/${gid}/members/${ada}`, { headers: { "x-csrf-token": c.csrf, "hx-request": "true" } });
    expect(await removed.text()).toContain("aucun membre");
    expect((await c.request("DELETE", `/groups/${gid}`, { headers: { "x-csrf-token": c.csrf } })).status).toBe(303);
    expect(t.db.query("SELECT count(*) AS n FROM user_groups").get()).toEqual({ n: 0 });
  });
});

describe("the registry's routes, walked", () => {
  test("a signed-in user without rights gets 403 on every route that needs a key, and nothing changes", async () => {
    const { t } = await admin();
    await t.addUser("nobody", strong);
    const c = t.client("192.0.2.99");
    await c.signIn("nobody", strong);
    const before = t.db.query("SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM user_groups) AS g, (SELECT count(*) FROM entities) AS e, (SELECT count(*) FROM user_grants) AS k").get();
    const guarded = t.app.registry.routes.filter((r) => r.permission !== null && r.permission !== "public");
    expect(guarded.length).toBeGreaterThan(10);
    for (const r of guarded) {
      const path = r.path.replace(/:(\w+)/g, "1");
      const res = await c.request(r.method, path, r.method === "GET" ? {} : { form: { _csrf: c.csrf, name: "x", login: "x", keys: "users.view" } });
      expect([r.method, r.path, res.status]).toEqual([r.method, r.path, 403]);
    }
    expect(t.db.query("SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM user_groups) AS g, (SELECT count(*) FROM entities) AS e, (SELECT count(*) FROM user_grants) AS k").get()).toEqual(before);
  });
});

describe("a user's API tokens on its page", () => {
  test("a super-administrator sees another user's live tokens and revokes one", async () => {
    const { t, c } = await admin();
    await multipart(c, "/users", userFields("ada"));
    const id = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    const issued = await t.client("192.0.2.8").request("POST", "/api/v1/tokens", { json: { username: "ada", password: strong, name: "backup-script" } });
    expect(issued.status).toBe(201);
    const { token } = (await issued.json()) as { token: string };
    const page = await c.page(`/users/${id}/edit`);
    expect(page.html).toContain("Jetons d&#x27;API de l&#x27;utilisateur");
    expect(page.html).toContain("backup-script");
    const tokenId = (t.db.query("SELECT id FROM api_tokens WHERE user_id = ?").get(id) as { id: number }).id;
    const revoked = await c.post(`/users/${id}/tokens/${tokenId}/revoke`);
    expect(revoked.headers.get("location")).toBe(`/users/${id}/edit`);
    const after = await t.client().request("GET", "/api/v1/account", { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.token.revoked'").get()).toEqual({ n: 1 });
  });
});
