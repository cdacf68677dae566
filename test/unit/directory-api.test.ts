/**
 * The JSON API of users, user groups, entities and the history (/api/v1/users, /groups,
 * /entities, /logs): CRUD with bearer tokens, the same validation and rights as the
 * pages, the history read within one's modules, and openapi.json listing every route.
 */
import { describe, expect, test } from "bun:test";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";

// Bodies are read loosely: each test states exactly what it expects of them.
type Json = Record<string, any>;

interface Call {
  status: number;
  body: Json;
  res: Response;
}

/** A fresh appliance with the super-administrator `boss` and its token; `as(login)` gets another user's. */
async function setup() {
  const t = testApp();
  const bossId = await t.addUser("boss", strong, { isSuper: true });
  const token = async (login: string, password = strong) => {
    const res = await t.client().request("POST", "/api/v1/tokens", { json: { username: login, password } });
    const body = (await res.json()) as { token?: string; error?: { code: string } };
    if (!body.token) throw new Error(`no token for ${login}: ${res.status} ${JSON.stringify(body)}`);
    return body.token;
  };
  const caller = (bearer: string) => async (method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<Call> => {
    const res = await t.client().request(method, path, { json, headers: { authorization: `Bearer ${bearer}`, ...headers } });
    const text = await res.clone().text();
    return { status: res.status, body: text && res.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as Json) : {}, res };
  };
  const boss = caller(await token("boss"));
  /** A user created over the API by boss, with `keys` granted, and its API caller. */
  const user = async (login: string, keys: string[], fields: Json = {}) => {
    const created = await boss("POST", "/api/v1/users", { login, password: strong, entityIds: [1], isRecursive: true, ...fields });
    if (created.status !== 201) throw new Error(`creating ${login}: ${created.status} ${JSON.stringify(created.body)}`);
    const rights = await boss("PUT", `/api/v1/users/${created.body.id}/rights`, { keys });
    expect(rights.status).toBe(200);
    return { id: created.body.id as number, api: caller(await token(login)) };
  };
  const count = (sql: string) => (t.db.query(sql).get() as { n: number }).n;
  return { t, bossId, boss, user, token, caller, count };
}

const fieldsOf = (c: Call) => (c.body.error?.fields ?? {}) as Record<string, string>;

/** Every item of a list, following `next` with `limit` per page. */
async function all(call: (method: string, path: string) => Promise<Call>, path: string, limit: number): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let next: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const r: Call = await call("GET", `${path}${sep}limit=${limit}${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
    expect(r.status).toBe(200);
    items.push(...r.body.items);
    next = r.body.next;
    pages++;
  } while (next !== null && pages < 50);
  return { items, pages };
}

describe("/api/v1/users", () => {
  test("create, read, change part of, and delete a user; every step is in the history", async () => {
    const { t, boss, count } = await setup();
    const group = await boss("POST", "/api/v1/groups", { name: "helpdesk" });
    const other = await boss("POST", "/api/v1/groups", { name: "techs" });
    const paris = await boss("POST", "/api/v1/entities", { name: "Paris", parentId: 1 });
    expect([group.status, other.status, paris.status]).toEqual([201, 201, 201]);

    const created = await boss("POST", "/api/v1/users", {
      login: "ada", password: strong, email: "ada@example.org", firstName: "Ada", lastName: "Lovelace", phone: "+33 1 23 45 67 89", mobile: "06 00 00 00 00",
      primaryGroupId: group.body.id, secondaryGroupIds: [other.body.id], entityIds: [paris.body.id], isPublic: true, isRecursive: true, hasStatistics: true,
    });
    expect(created.status).toBe(201);
    const ada = created.body;
    expect(ada).toEqual({
      id: expect.any(Number), login: "ada", firstName: "Ada", lastName: "Lovelace", email: "ada@example.org", phone: "+33 1 23 45 67 89", mobile: "06 00 00 00 00",
      isSuper: false, disabled: false, hasPhoto: false, primaryGroupId: group.body.id, secondaryGroupIds: [other.body.id], entityIds: [paris.body.id],
      isPublic: true, isRecursive: true, hasStatistics: true, lang: "fr", totpEnabled: false,
    });
    expect((await boss("GET", `/api/v1/users/${ada.id}`)).body).toEqual(ada);

    // The list has no password hash, no photo bytes: only the declared fields.
    const list = await boss("GET", "/api/v1/users");
    expect(list.status).toBe(200);
    expect(list.body.next).toBeNull();
    expect(list.body.items.map((u: Json) => u.login)).toEqual(["boss", "ada"]);
    expect(Object.keys(list.body.items[1]).sort()).toEqual(["disabled", "email", "firstName", "hasPhoto", "id", "isSuper", "lastName", "login", "mobile", "phone"]);
    expect(await list.res.clone().text()).not.toMatch(/password|hash|"photo"|\$argon/i);

    // PATCH: what is not sent keeps its value, groups and entities included.
    const patched = await boss("PATCH", `/api/v1/users/${ada.id}`, { firstName: "Augusta", isPublic: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...ada, firstName: "Augusta", isPublic: false });
    const cleared = await boss("PATCH", `/api/v1/users/${ada.id}`, { primaryGroupId: null, secondaryGroupIds: [], email: "" });
    expect([cleared.body.primaryGroupId, cleared.body.secondaryGroupIds, cleared.body.email, cleared.body.entityIds]).toEqual([null, [], null, [paris.body.id]]);

    // A new password set by someone else must be changed at the next sign-in.
    const hashBefore = t.db.query("SELECT password_hash AS h FROM users WHERE id = ?").get(ada.id);
    expect((await boss("PATCH", `/api/v1/users/${ada.id}`, { password: "Another-horse-8" })).status).toBe(200);
    expect(t.db.query("SELECT password_hash AS h FROM users WHERE id = ?").get(ada.id)).not.toEqual(hashBefore);
    expect(t.db.query("SELECT must_change_password AS m FROM users WHERE id = ?").get(ada.id)).toEqual({ m: 1 });

    const deleted = await boss("DELETE", `/api/v1/users/${ada.id}`);
    expect([deleted.status, await deleted.res.text()]).toEqual([204, ""]);
    expect((await boss("GET", `/api/v1/users/${ada.id}`)).status).toBe(404);
    const actions = (t.db.query("SELECT action FROM history WHERE module = 'users' AND target_type = 'user' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(["users.history.created", "users.history.updated", "users.history.updated", "users.history.updated", "users.history.deleted"]);
    expect(count("SELECT count(*) AS n FROM users")).toBe(1);
  });

  test("refuses what the form refuses, with each field's reason in the caller's language", async () => {
    const { t, bossId, boss, count } = await setup();
    expect((await boss("POST", "/api/v1/users", { login: "ada", password: strong })).status).toBe(201);
    const dup = await boss("POST", "/api/v1/users", { login: "ADA", password: strong });
    expect([dup.status, dup.body.error.code, fieldsOf(dup)]).toEqual([422, "invalid", { login: "Cet identifiant est déjà utilisé." }]);
    const mismatch = await boss("POST", "/api/v1/users", { login: "bob", password: strong, confirm: "Correct-horse-8" });
    expect(fieldsOf(mismatch)).toEqual({ confirm: "Les deux mots de passe ne correspondent pas." });
    const weak = await boss("POST", "/api/v1/users", { login: "bob", password: "short" });
    expect(fieldsOf(weak)).toEqual({ password: expect.stringContaining("Mot de passe trop faible") });
    const bad = await boss("POST", "/api/v1/users", { login: "b o b", password: strong, email: "nope", phone: "call me", primaryGroupId: 99, secondaryGroupIds: [98], entityIds: [97] });
    expect(Object.keys(fieldsOf(bad)).sort()).toEqual(["email", "entityIds", "login", "phone", "primaryGroupId", "secondaryGroupIds"]);
    expect(fieldsOf(bad).primaryGroupId).toBe("Choisissez un groupe existant.");
    // Wrong types and unknown fields are refused before the service sees them.
    const typed = await boss("POST", "/api/v1/users", { login: "bob", password: strong, isSuper: "yes", groups: [1] });
    expect(fieldsOf(typed)).toEqual({ isSuper: "Une valeur vrai/faux est attendue.", groups: "Champ inconnu." });
    const missing = await boss("POST", "/api/v1/users", {});
    expect(fieldsOf(missing)).toEqual({ login: "Ce champ est obligatoire.", password: "Ce champ est obligatoire." });
    expect(count("SELECT count(*) AS n FROM users")).toBe(2);

    // Unknown ids are 404 everywhere; a change that breaks a rule changes nothing.
    for (const [m, p, b] of [["GET", "/api/v1/users/999"], ["PATCH", "/api/v1/users/999", { firstName: "x" }], ["DELETE", "/api/v1/users/999"], ["GET", "/api/v1/users/999/rights"], ["PUT", "/api/v1/users/999/rights", { keys: [] }]] as const) {
      const r = await boss(m, p, b);
      expect([m, p, r.status, r.body.error.code]).toEqual([m, p, 404, "not_found"]);
    }
    const adaId = (t.db.query("SELECT id FROM users WHERE login = 'ada'").get() as { id: number }).id;
    const clash = await boss("PATCH", `/api/v1/users/${adaId}`, { login: "boss", firstName: "Changed" });
    expect(fieldsOf(clash)).toEqual({ login: "Cet identifiant est déjà utilisé." });
    expect(t.db.query("SELECT login, first_name FROM users WHERE id = ?").get(adaId)).toEqual({ login: "ada", first_name: "" });

    // Oneself and the last super-administrator cannot be deleted: 409.
    const self = await boss("DELETE", `/api/v1/users/${bossId}`);
    expect([self.status, self.body.error]).toEqual([409, { code: "conflict", message: "Vous ne pouvez pas supprimer votre propre compte." }]);

    // An English-speaking caller reads English reasons.
    t.db.query("UPDATE users SET lang = 'en' WHERE login = 'boss'").run();
    const en = await boss("POST", "/api/v1/users", { login: "ada", password: strong });
    expect(en.body.error).toEqual({ code: "invalid", message: "Some values are invalid.", fields: { login: "This login is already used." } });
  });

  test("lists page by page with opaque cursors, and searches", async () => {
    const { boss } = await setup();
    for (const login of ["ann", "ben", "cat", "dan", "eve"]) await boss("POST", "/api/v1/users", { login, password: strong, lastName: login === "cat" ? "Catalan" : "" });
    const { items, pages } = await all(boss, "/api/v1/users", 2);
    expect(items.map((u) => u.login)).toEqual(["boss", "ann", "ben", "cat", "dan", "eve"]);
    expect(pages).toBe(3);
    expect((await boss("GET", "/api/v1/users?search=catal")).body.items.map((u: Json) => u.login)).toEqual(["cat"]);
    const broken = await boss("GET", "/api/v1/users?cursor=not-a-cursor");
    expect([broken.status, fieldsOf(broken)]).toEqual([422, { cursor: "Ce curseur n'est pas valide : reprenez la liste depuis le début." }]);
  });

  test("rights: the page's keys guard each route, and a refused call changes nothing", async () => {
    const { t, boss, user, count } = await setup();
    const viewer = await user("viewer", ["users.view"]);
    const none = await user("nobody", []);
    expect((await none.api("GET", "/api/v1/users")).status).toBe(403);
    expect((await viewer.api("GET", "/api/v1/users")).status).toBe(200);
    const before = count("SELECT count(*) AS n FROM users");
    const refused = await viewer.api("POST", "/api/v1/users", { login: "zed", password: strong });
    expect([refused.status, refused.body.error]).toEqual([403, { code: "forbidden", message: expect.any(String) }]);
    expect((await viewer.api("PATCH", `/api/v1/users/${none.id}`, { firstName: "Hacked" })).status).toBe(403);
    expect((await viewer.api("DELETE", `/api/v1/users/${none.id}`)).status).toBe(403);
    expect((await viewer.api("GET", `/api/v1/users/${none.id}/rights`)).status).toBe(403);
    expect((await viewer.api("PUT", `/api/v1/users/${viewer.id}/rights`, { keys: ["users.view", "users.edit"] })).status).toBe(403);
    expect(count("SELECT count(*) AS n FROM users")).toBe(before);
    expect(t.db.query("SELECT first_name FROM users WHERE id = ?").get(none.id)).toEqual({ first_name: "" });
    expect((await boss("GET", `/api/v1/users/${viewer.id}/rights`)).body).toEqual({ keys: ["users.view"], inherited: [] });
  });

  test("a non-super editor makes no super-administrator, touches none, and grants only keys it holds", async () => {
    const { t, bossId, boss, user, count } = await setup();
    const editor = await user("editor", ["users.view", "users.edit", "users.acl", "logs.users"]);
    const target = await user("target", ["entities.delete"]);
    const superUser = await editor.api("POST", "/api/v1/users", { login: "mallory", password: strong, isSuper: true, entityIds: [1] });
    expect([superUser.status, fieldsOf(superUser)]).toEqual([422, { isSuper: "Seul un super-administrateur peut accorder ce droit." }]);
    expect(count("SELECT count(*) AS n FROM users WHERE login = 'mallory'")).toBe(0);
    const promote = await editor.api("PATCH", `/api/v1/users/${target.id}`, { isSuper: true });
    expect(fieldsOf(promote)).toEqual({ isSuper: "Seul un super-administrateur peut accorder ce droit." });
    expect((await editor.api("PATCH", `/api/v1/users/${bossId}`, { firstName: "Owned" })).status).toBe(403);
    expect((await editor.api("PUT", `/api/v1/users/${bossId}/rights`, { keys: [] })).status).toBe(403);

    // Keys: only those it holds; those it lacks keep their state (entities.delete stays).
    const grab = await editor.api("PUT", `/api/v1/users/${target.id}/rights`, { keys: ["users.view", "groups.delete"] });
    expect([grab.status, fieldsOf(grab)]).toEqual([422, { keys: "Vous ne pouvez accorder que des droits que vous avez vous-même." }]);
    const unknown = await editor.api("PUT", `/api/v1/users/${target.id}/rights`, { keys: ["no.such.key"] });
    expect(unknown.status).toBe(422);
    expect((await boss("GET", `/api/v1/users/${target.id}/rights`)).body.keys).toEqual(["entities.delete"]);
    const granted = await editor.api("PUT", `/api/v1/users/${target.id}/rights`, { keys: ["users.view", "logs.users"] });
    expect([granted.status, granted.body]).toEqual([200, { keys: ["entities.delete", "logs.users", "users.view"], inherited: [] }]);
    // The new keys work at once.
    expect((await target.api("GET", "/api/v1/users")).status).toBe(200);
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'users.history.rights'").get()).toEqual({ n: 3 });

    // An entity the editor does not see can be neither granted nor taken away.
    const secret = await boss("POST", "/api/v1/entities", { name: "Secret", parentId: 1 });
    const narrow = await user("narrow", ["users.view", "users.edit"], { entityIds: [], isRecursive: false });
    const lyon = await boss("POST", "/api/v1/entities", { name: "Lyon", parentId: 1 });
    await boss("PATCH", `/api/v1/users/${narrow.id}`, { entityIds: [lyon.body.id] });
    const inLyon = await boss("POST", "/api/v1/users", { login: "lyonnais", password: strong, entityIds: [lyon.body.id, secret.body.id] });
    const grantSecret = await narrow.api("PATCH", `/api/v1/users/${inLyon.body.id}`, { entityIds: [secret.body.id] });
    expect(fieldsOf(grantSecret)).toEqual({ entityIds: "Vous ne pouvez accorder que des entités que vous voyez." });
    const keep = await narrow.api("PATCH", `/api/v1/users/${inLyon.body.id}`, { firstName: "Jean" });
    expect([keep.status, keep.body.entityIds]).toEqual([200, [secret.body.id, lyon.body.id]]);
    // Users outside its entities: invisible (403), and absent from its list.
    expect((await narrow.api("GET", `/api/v1/users/${target.id}`)).status).toBe(403);
    expect((await narrow.api("GET", "/api/v1/users")).body.items.map((u: Json) => u.login)).toEqual(["narrow", "lyonnais"]);
  });

  test("cookie calls need the CSRF token; bearer calls do not", async () => {
    const { t } = await setup();
    const c = t.client();
    await c.signIn("boss", strong);
    const without = await c.request("POST", "/api/v1/users", { json: { login: "ada", password: strong } });
    expect([without.status, ((await without.json()) as Json).error.code]).toEqual([403, "csrf"]);
    const withToken = await c.request("POST", "/api/v1/users", { json: { login: "ada", password: strong }, headers: { "x-csrf-token": c.csrf } });
    expect(withToken.status).toBe(201);
    expect((await c.request("GET", "/api/v1/users")).status).toBe(200);
    expect((await t.client().request("GET", "/api/v1/users")).status).toBe(401);
  });
});

describe("/api/v1/groups", () => {
  test("create, list, read, change, members, rights, delete", async () => {
    const { t, boss, user } = await setup();
    const created = await boss("POST", "/api/v1/groups", { name: "helpdesk", description: "First line" });
    expect([created.status, created.body]).toEqual([201, { id: expect.any(Number), name: "helpdesk", description: "First line", entityId: 1, members: 0 }]);
    const g = created.body.id as number;
    for (const name of ["techs", "admins", "interns"]) await boss("POST", "/api/v1/groups", { name });
    const { items, pages } = await all(boss, "/api/v1/groups", 3);
    expect([items.map((x) => x.name), pages]).toEqual([["admins", "helpdesk", "interns", "techs"], 2]);
    expect((await boss("GET", "/api/v1/groups?search=first")).body.items.map((x: Json) => x.name)).toEqual(["helpdesk"]);

    const patched = await boss("PATCH", `/api/v1/groups/${g}`, { description: "Support" });
    expect(patched.body).toEqual({ ...created.body, description: "Support" });

    // Members: a primary member shows, secondary ones are added and removed.
    const ada = await boss("POST", "/api/v1/users", { login: "ada", password: strong, primaryGroupId: g });
    const bob = await boss("POST", "/api/v1/users", { login: "bob", password: strong });
    const added = await boss("POST", `/api/v1/groups/${g}/members`, { userId: bob.body.id });
    expect([added.status, added.body]).toEqual([201, { id: bob.body.id, login: "bob", firstName: "", lastName: "", isPrimary: false }]);
    const again = await boss("POST", `/api/v1/groups/${g}/members`, { userId: bob.body.id });
    expect(again.status).toBe(200);
    const members = await boss("GET", `/api/v1/groups/${g}/members`);
    expect(members.body).toEqual({ items: [{ id: ada.body.id, login: "ada", firstName: "", lastName: "", isPrimary: true }, added.body], next: null });
    expect((await boss("GET", `/api/v1/groups/${g}`)).body.members).toBe(2);
    const nobody = await boss("POST", `/api/v1/groups/${g}/members`, { userId: 999 });
    expect([nobody.status, fieldsOf(nobody)]).toEqual([422, { userId: "Choisissez un utilisateur existant." }]);
    expect((await boss("DELETE", `/api/v1/groups/${g}/members/${bob.body.id}`)).status).toBe(204);
    expect((await boss("DELETE", `/api/v1/groups/${g}/members/${bob.body.id}`)).status).toBe(404);
    expect((await boss("DELETE", `/api/v1/groups/${g}/members/${ada.body.id}`)).status).toBe(204);
    expect((await boss("GET", `/api/v1/users/${ada.body.id}`)).body.primaryGroupId).toBeNull();

    // Rights: the group's keys add to its members'.
    await boss("POST", `/api/v1/groups/${g}/members`, { userId: bob.body.id });
    const bobApi = await user("carl", []); // a user without keys of its own, made a member below
    await boss("POST", `/api/v1/groups/${g}/members`, { userId: bobApi.id });
    expect((await bobApi.api("GET", "/api/v1/groups")).status).toBe(403);
    const rights = await boss("PUT", `/api/v1/groups/${g}/rights`, { keys: ["groups.view"] });
    expect([rights.status, rights.body]).toEqual([200, { keys: ["groups.view"] }]);
    expect((await boss("GET", `/api/v1/groups/${g}/rights`)).body).toEqual({ keys: ["groups.view"] });
    expect((await bobApi.api("GET", "/api/v1/groups")).status).toBe(200);
    expect((await boss("GET", `/api/v1/users/${bobApi.id}/rights`)).body.inherited).toEqual([{ key: "groups.view", group: "helpdesk" }]);

    expect((await boss("DELETE", `/api/v1/groups/${g}`)).status).toBe(204);
    expect((await boss("GET", `/api/v1/groups/${g}`)).status).toBe(404);
    expect((await bobApi.api("GET", "/api/v1/groups")).status).toBe(403);
    const actions = (t.db.query("SELECT action FROM history WHERE target_type = 'group' AND target_id = ? ORDER BY id").all(String(g)) as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual([
      "groups.history.created", "groups.history.updated", "groups.history.memberAdded", "groups.history.memberRemoved", "groups.history.memberRemoved",
      "groups.history.memberAdded", "groups.history.memberAdded", "groups.history.rights", "groups.history.deleted",
    ]);
  });

  test("the name rule, duplicates, unknown ids and entities", async () => {
    const { boss, count } = await setup();
    const bad = await boss("POST", "/api/v1/groups", { name: "Help-Desk" });
    expect([bad.status, fieldsOf(bad)]).toEqual([422, { name: "Le nom doit commencer par une lettre et ne contenir que des lettres minuscules et des chiffres." }]);
    expect(fieldsOf(await boss("POST", "/api/v1/groups", { name: "1st" })).name).toBeDefined();
    const ok = await boss("POST", "/api/v1/groups", { name: "helpdesk" });
    expect(fieldsOf(await boss("POST", "/api/v1/groups", { name: "helpdesk" }))).toEqual({ name: "Un groupe porte déjà ce nom." });
    expect(fieldsOf(await boss("POST", "/api/v1/groups", { name: "techs", entityId: 999 }))).toEqual({ entityId: "Choisissez une entité existante que vous pouvez voir." });
    expect(fieldsOf(await boss("PATCH", `/api/v1/groups/${ok.body.id}`, { name: "Bad Name" })).name).toBeDefined();
    expect((await boss("GET", `/api/v1/groups/${ok.body.id}`)).body.name).toBe("helpdesk");
    expect(count("SELECT count(*) AS n FROM user_groups")).toBe(1);
    for (const [m, p, b] of [["GET", "/api/v1/groups/999"], ["PATCH", "/api/v1/groups/999", { description: "x" }], ["DELETE", "/api/v1/groups/999"], ["GET", "/api/v1/groups/999/members"], ["POST", "/api/v1/groups/999/members", { userId: 1 }], ["DELETE", "/api/v1/groups/999/members/1"], ["PUT", "/api/v1/groups/999/rights", { keys: [] }]] as const) {
      expect([m, p, (await boss(m, p, b)).status]).toEqual([m, p, 404]);
    }
  });

  test("rights: view, edit, delete and acl keys; keys granted only when held", async () => {
    const { boss, user, count } = await setup();
    const g = (await boss("POST", "/api/v1/groups", { name: "helpdesk" })).body.id as number;
    const viewer = await user("viewer", ["groups.view", "groups.acl"]);
    expect((await viewer.api("GET", `/api/v1/groups/${g}`)).status).toBe(200);
    expect((await viewer.api("POST", "/api/v1/groups", { name: "other" })).status).toBe(403);
    expect((await viewer.api("PATCH", `/api/v1/groups/${g}`, { name: "renamed" })).status).toBe(403);
    expect((await viewer.api("DELETE", `/api/v1/groups/${g}`)).status).toBe(403);
    expect((await viewer.api("POST", `/api/v1/groups/${g}/members`, { userId: viewer.id })).status).toBe(403);
    const grab = await viewer.api("PUT", `/api/v1/groups/${g}/rights`, { keys: ["users.delete"] });
    expect([grab.status, fieldsOf(grab)]).toEqual([422, { keys: "Vous ne pouvez accorder que des droits que vous avez vous-même." }]);
    expect((await viewer.api("PUT", `/api/v1/groups/${g}/rights`, { keys: ["groups.view"] })).body).toEqual({ keys: ["groups.view"] });
    expect(count("SELECT count(*) AS n FROM user_groups WHERE name = 'helpdesk'")).toBe(1);
    expect(count("SELECT count(*) AS n FROM user_group_members")).toBe(0);
  });
});

describe("/api/v1/entities", () => {
  test("the tree in order with parent, depth and path; add, rename, move, delete", async () => {
    const { t, boss } = await setup();
    const paris = (await boss("POST", "/api/v1/entities", { name: "Paris", parentId: 1 })).body;
    expect(paris).toEqual({ id: expect.any(Number), name: "Paris", parentId: 1, depth: 1, path: "Root › Paris", usage: [] });
    const lyon = (await boss("POST", "/api/v1/entities", { name: "Lyon", parentId: 1 })).body;
    const office = (await boss("POST", "/api/v1/entities", { name: "Bureau", parentId: paris.id })).body;
    const list = await boss("GET", "/api/v1/entities");
    expect(list.body).toEqual({
      items: [
        { id: 1, name: "Root", parentId: null, depth: 0, path: "Root" },
        { id: lyon.id, name: "Lyon", parentId: 1, depth: 1, path: "Root › Lyon" },
        { id: paris.id, name: "Paris", parentId: 1, depth: 1, path: "Root › Paris" },
        { id: office.id, name: "Bureau", parentId: paris.id, depth: 2, path: "Root › Paris › Bureau" },
      ],
      next: null,
    });
    const paged = await all(boss, "/api/v1/entities", 3);
    expect([paged.items, paged.pages]).toEqual([list.body.items, 2]);
    expect((await boss("GET", "/api/v1/entities?search=bur")).body.items.map((e: Json) => e.path)).toEqual(["Root › Paris › Bureau"]);

    expect((await boss("GET", `/api/v1/entities/${paris.id}`)).body.usage).toEqual([{ kind: "children", label: expect.any(String), count: 1 }]);
    const renamed = await boss("PATCH", `/api/v1/entities/${office.id}`, { name: "Bureaux" });
    expect([renamed.status, renamed.body.path]).toEqual([200, "Root › Paris › Bureaux"]);
    const moved = await boss("PATCH", `/api/v1/entities/${office.id}`, { parentId: lyon.id });
    expect([moved.body.name, moved.body.parentId, moved.body.path]).toEqual(["Bureaux", lyon.id, "Root › Lyon › Bureaux"]);
    const cycle = await boss("PATCH", `/api/v1/entities/${lyon.id}`, { parentId: office.id });
    expect([cycle.status, fieldsOf(cycle)]).toEqual([422, { parentId: "Une entité ne peut pas être déplacée sous elle-même ou une de ses sous-entités." }]);
    // Rename and move together: both or neither.
    const both = await boss("PATCH", `/api/v1/entities/${office.id}`, { name: "Annexe", parentId: 999 });
    expect(both.status).toBe(422);
    expect((await boss("GET", `/api/v1/entities/${office.id}`)).body.name).toBe("Bureaux");
    const dup = await boss("POST", "/api/v1/entities", { name: "paris", parentId: 1 });
    expect(fieldsOf(dup)).toEqual({ name: "Une entité de ce nom existe déjà à cet endroit." });
    expect(fieldsOf(await boss("POST", "/api/v1/entities", { name: "X", parentId: 999 }))).toEqual({ parentId: "Choisissez une entité existante que vous pouvez voir." });
    expect(fieldsOf(await boss("POST", "/api/v1/entities", { name: "", parentId: 1 }))).toEqual({ name: "Au moins 1 caractère(s)." });

    // In use (a sub-entity, a user's rights), Root: 409; empty: 204.
    const inUse = await boss("DELETE", `/api/v1/entities/${lyon.id}`);
    expect([inUse.status, inUse.body.error]).toEqual([409, { code: "conflict", message: "L'entité « Lyon » ne peut pas être supprimée : des éléments lui appartiennent encore." }]);
    expect((await boss("DELETE", "/api/v1/entities/1")).status).toBe(409);
    expect((await boss("PATCH", "/api/v1/entities/1", { parentId: paris.id })).status).toBe(409);
    const ada = await boss("POST", "/api/v1/users", { login: "ada", password: strong, entityIds: [paris.id] });
    expect((await boss("DELETE", `/api/v1/entities/${paris.id}`)).status).toBe(409);
    await boss("DELETE", `/api/v1/users/${ada.body.id}`);
    expect((await boss("DELETE", `/api/v1/entities/${paris.id}`)).status).toBe(204);
    expect((await boss("GET", `/api/v1/entities/${paris.id}`)).status).toBe(404);
    expect((await boss("DELETE", `/api/v1/entities/${paris.id}`)).status).toBe(404);
    const actions = (t.db.query("SELECT action FROM history WHERE target_type = 'entity' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(["entities.history.created", "entities.history.created", "entities.history.created", "entities.history.renamed", "entities.history.moved", "entities.history.deleted"]);
  });

  test("a user sees and changes only its entities, with the entities keys", async () => {
    const { boss, user, count } = await setup();
    const paris = (await boss("POST", "/api/v1/entities", { name: "Paris", parentId: 1 })).body;
    const sub = (await boss("POST", "/api/v1/entities", { name: "Nord", parentId: paris.id })).body;
    const lyon = (await boss("POST", "/api/v1/entities", { name: "Lyon", parentId: 1 })).body;
    const local = await user("local", ["entities.view", "entities.edit"], { entityIds: [paris.id], isRecursive: true });
    expect((await local.api("GET", "/api/v1/entities")).body.items.map((e: Json) => e.path)).toEqual(["Root › Paris", "Root › Paris › Nord"]);
    expect((await local.api("GET", `/api/v1/entities/${lyon.id}`)).status).toBe(403);
    expect((await local.api("POST", "/api/v1/entities", { name: "Annexe", parentId: lyon.id })).status).toBe(403);
    expect((await local.api("POST", "/api/v1/entities", { name: "Sud", parentId: paris.id })).status).toBe(201);
    expect((await local.api("DELETE", `/api/v1/entities/${sub.id}`)).status).toBe(403); // no entities.delete
    const none = await user("none", []);
    expect((await none.api("GET", "/api/v1/entities")).status).toBe(403);
    expect((await none.api("POST", "/api/v1/entities", { name: "Nope", parentId: 1 })).status).toBe(403);
    expect(count("SELECT count(*) AS n FROM entities")).toBe(5);
  });
});

describe("/api/v1/logs", () => {
  test("each caller reads only the modules it holds a key for, with the page's filters", async () => {
    const { t, boss, user } = await setup();
    const reader = await user("reader", ["logs.auth"]);
    const nobody = await user("nobody", []);
    const start = t.clock.now();
    await t.clock.advance(60_000);
    t.app.recorder.record({ module: "imaging", action: "history.firstStart", who: "PC-0042" });
    await t.clock.advance(60_000);
    const c = t.client("198.51.100.9");
    await c.signIn("reader", strong);

    const mine = await reader.api("GET", "/api/v1/logs");
    expect(mine.status).toBe(200);
    expect(new Set(mine.body.items.map((e: Json) => e.module))).toEqual(new Set(["auth"]));
    const signIn = mine.body.items[0];
    expect(signIn).toEqual({
      id: expect.any(Number), date: new Date(t.clock.now()).toISOString(), user: "reader", who: "", module: "auth", moduleLabel: "Authentification",
      criterion: "user", text: "Connexion réussie de reader", sourceIp: "198.51.100.9", target: { type: "user", id: String(reader.id), name: "reader" },
    });
    // Another module, or none at all: 403, as on the page.
    const other = await reader.api("GET", "/api/v1/logs?module=users");
    expect([other.status, other.body.error.code]).toEqual([403, "forbidden"]);
    expect((await nobody.api("GET", "/api/v1/logs")).status).toBe(403);
    expect((await nobody.api("GET", "/api/v1/logs/export.csv")).status).toBe(403);

    // The super-administrator reads every module; filters narrow it down.
    const everything = await all(boss, "/api/v1/logs", 5);
    expect(new Set(everything.items.map((e) => e.module))).toEqual(new Set(["auth", "users", "imaging"]));
    expect(everything.items.map((e) => e.date)).toEqual([...everything.items.map((e) => e.date)].sort().reverse());
    expect(new Set(everything.items.map((e) => e.id)).size).toBe(everything.items.length);
    const imaging = await boss("GET", "/api/v1/logs?module=imaging");
    expect(imaging.body.items.map((e: Json) => [e.who, e.text])).toEqual([["PC-0042", "Premier démarrage : compte root créé"]]);
    const window = await boss("GET", `/api/v1/logs?start=${new Date(start + 30_000).toISOString()}&end=${encodeURIComponent(new Date(start + 90_000).toISOString().replace("Z", "+00:00"))}`);
    expect(window.body.items.map((e: Json) => e.module)).toEqual(["imaging"]);
    const searched = await boss("GET", "/api/v1/logs?module=auth&search=reader&criterion=user");
    expect(searched.body.items.length).toBeGreaterThan(0);
    expect(searched.body.items.every((e: Json) => e.module === "auth" && `${e.user} ${e.text}`.includes("reader"))).toBe(true);
    const users = await boss("GET", "/api/v1/logs?module=users&search=nobody");
    expect(users.body.items.map((e: Json) => e.text)).toEqual(["Droits de nobody : —", "Utilisateur nobody créé"]);

    const bad = await boss("GET", "/api/v1/logs?module=weather&start=yesterday&criterion=maybe");
    expect([bad.status, Object.keys(fieldsOf(bad)).sort()]).toEqual([422, ["criterion", "module", "start"]]);
    const local = await boss("GET", "/api/v1/logs?start=2026-06-01T12:00:00");
    expect(Object.keys(fieldsOf(local))).toEqual(["start"]);
    const backwards = await boss("GET", `/api/v1/logs?start=${new Date(start).toISOString()}&end=${new Date(start - 1000).toISOString()}`);
    expect(fieldsOf(backwards)).toEqual({ end: "La date de fin précède la date de début." });

    // In English for an English-speaking caller.
    t.db.query("UPDATE users SET lang = 'en' WHERE login = 'reader'").run();
    expect((await reader.api("GET", "/api/v1/logs?limit=1")).body.items[0].text).toBe("reader signed in");
  });

  test("export.csv: the filtered rows as the page exports them", async () => {
    const { t, user } = await setup();
    const reader = await user("reader", ["logs.auth", "logs.users"]);
    await t.client("198.51.100.9").signIn("reader", strong);
    const res = await reader.api("GET", "/api/v1/logs/export.csv?module=auth&search=reader");
    expect(res.status).toBe(200);
    expect(res.res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.res.headers.get("content-disposition")).toMatch(/^attachment; filename="medulla-history-\d{8}-\d{4}\.csv"$/);
    const lines = (await res.res.text()).replace(/^\uFEFF/, "").trimEnd().split("\r\n");
    expect(lines[0]).toBe("Date,Utilisateur,Qui,Module,Texte,IP source,Cible");
    expect(lines.slice(1).some((l) => l.includes("Connexion réussie de reader") && l.includes("198.51.100.9"))).toBe(true);
    expect(lines.slice(1).every((l) => l.includes(",Authentification,"))).toBe(true);
    expect((await reader.api("GET", "/api/v1/logs/export.csv?module=imaging")).status).toBe(403);
    expect((await reader.api("GET", "/api/v1/logs/export.csv?end=nope")).status).toBe(422);
  });
});

test("openapi.json lists every route of users, groups, entities and logs", async () => {
  const { t } = await setup();
  const doc = (await (await t.client().request("GET", "/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { tags?: string[]; "x-permission"?: string }>> };
  const expected = [
    "GET /api/v1/users", "POST /api/v1/users", "GET /api/v1/users/{id}", "PATCH /api/v1/users/{id}", "DELETE /api/v1/users/{id}",
    "GET /api/v1/users/{id}/rights", "PUT /api/v1/users/{id}/rights",
    "GET /api/v1/groups", "POST /api/v1/groups", "GET /api/v1/groups/{id}", "PATCH /api/v1/groups/{id}", "DELETE /api/v1/groups/{id}",
    "GET /api/v1/groups/{id}/members", "POST /api/v1/groups/{id}/members", "DELETE /api/v1/groups/{id}/members/{userId}",
    "GET /api/v1/groups/{id}/rights", "PUT /api/v1/groups/{id}/rights",
    "GET /api/v1/entities", "POST /api/v1/entities", "GET /api/v1/entities/{id}", "PATCH /api/v1/entities/{id}", "DELETE /api/v1/entities/{id}",
    "GET /api/v1/logs", "GET /api/v1/logs/export.csv",
  ];
  for (const route of expected) {
    const [method, path] = route.split(" ") as [string, string];
    expect([route, Boolean(doc.paths[path]?.[method.toLowerCase()])]).toEqual([route, true]);
  }
  expect(doc.paths["/api/v1/users"]!.post!["x-permission"]).toBe("users.edit");
  expect(doc.paths["/api/v1/entities/{id}"]!.delete!["x-permission"]).toBe("entities.delete");
  expect(doc.paths["/api/v1/groups/{id}/rights"]!.put!["x-permission"]).toBe("groups.acl");
});
