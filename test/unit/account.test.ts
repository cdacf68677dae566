import { describe, expect, test } from "bun:test";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";
const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const htmx = { "hx-request": "true" };

async function signedIn(opts: { isSuper?: boolean } = {}) {
  const t = testApp();
  const id = await t.addUser("alice", strong, opts);
  const c = t.client();
  await c.signIn("alice", strong);
  await c.page("/account");
  return { t, c, id };
}

describe("the account page", () => {
  test("is linked from the user menu and shows sessions, tokens and two-factor sign-in", async () => {
    const { c } = await signedIn();
    const home = await c.page("/");
    expect(home.html).toContain('<a href="/account">Mon compte</a>');
    expect(home.html).toContain('<a href="/account/password">Changer mon mot de passe</a>');
    const { res, html } = await c.page("/account");
    expect(res.status).toBe(200);
    for (const id of ["account-sessions", "account-tokens", "account-totp"]) expect(html).toContain(`<section id="${id}"`);
    expect(html).not.toContain("account-security");
    await c.post("/account/language", { lang: "en" });
    const en = await c.page("/account");
    expect(en.html).toContain("<h1>My account</h1>");
    expect(en.html).toContain("Active sessions");
  });

  test("super-administrators also get the sign-in security setting", async () => {
    const { c } = await signedIn({ isSuper: true });
    expect((await c.page("/account")).html).toContain('<section id="account-security"');
  });
});

describe("active sessions", () => {
  test("lists one's sessions with browser, address and times, this one marked", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const other = t.client("198.51.100.7");
    await other.page("/login");
    await other.post("/login", { login: "alice", password: strong }, { "user-agent": firefox });
    const c = t.client();
    await c.signIn("alice", strong);
    const res = await c.request("GET", "/account/sessions", { headers: htmx });
    const html = await res.text();
    expect(html).toStartWith('<section id="account-sessions"');
    expect(html).toContain("Firefox 128 sous Linux");
    expect(html).toContain("198.51.100.7");
    expect(html).toContain('<time datetime="2026-06-01T12:00:00.000Z">');
    expect(html.match(/Cette session/g)).toHaveLength(1);
    expect(html.match(/\/revoke"/g)?.length).toBe(2); // one per row except this session, plus "close all others"
  });

  test("closes another session, then all others; needs the CSRF token; recorded", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const [a, b, d] = [t.client("192.0.2.1"), t.client("192.0.2.2"), t.client("192.0.2.3")];
    for (const c of [a, b, d]) await c.signIn("alice", strong);
    const handleOf = (html: string) => /\/account\/sessions\/([0-9a-f]{16})\/revoke/.exec(html)![1]!;
    const { html } = await a.page("/account");
    const handle = handleOf(html);
    expect((await a.request("POST", `/account/sessions/${handle}/revoke`, { form: {} })).status).toBe(403);
    const res = await a.post(`/account/sessions/${handle}/revoke`, {}, htmx);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Session fermée.");
    expect(t.db.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 2 });
    expect((await a.post(`/account/sessions/${handle}/revoke`, {}, htmx)).status).toBe(404);
    const all = await a.post("/account/sessions/revoke-others", {}, htmx);
    expect(await all.text()).toContain("Autres sessions fermées : 1.");
    for (const c of [b, d]) expect((await c.request("GET", "/")).status).toBe(303);
    expect((await a.request("GET", "/")).status).toBe(200);
    const actions = (t.db.query("SELECT action FROM history WHERE action LIKE 'history.session.%' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(["history.session.revoked", "history.session.revokedOthers"]);
  });

  test("one cannot close someone else's session by its handle", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    await t.addUser("bob", strong);
    const bob = t.client("192.0.2.9");
    await bob.signIn("bob", strong);
    const bobHandle = (t.db.query("SELECT substr(id_hash, 1, 16) AS h FROM sessions").get() as { h: string }).h;
    const alice = t.client();
    await alice.signIn("alice", strong);
    expect((await alice.post(`/account/sessions/${bobHandle}/revoke`, {}, htmx)).status).toBe(404);
    expect((await bob.request("GET", "/")).status).toBe(200);
  });
});

describe("API tokens on the account page", () => {
  test("creates a token whose secret is shown once, lists it, revokes it", async () => {
    const { t, c } = await signedIn();
    const res = await c.post("/account/tokens", { name: "nightly", ttlDays: "7" }, htmx);
    const html = await res.text();
    expect(res.status).toBe(200);
    const secret = /id="new-token" readonly value="(mdl_[^"]+)"/.exec(html)?.[1];
    expect(secret).toBeDefined();
    expect(html).toContain("il ne sera plus jamais affiché");
    expect(html).toContain('data-copy="new-token"');
    const api = await t.client().request("GET", "/api/v1/account", { headers: { authorization: `Bearer ${secret}` } });
    expect(api.status).toBe(200);
    const again = await (await c.request("GET", "/account/tokens", { headers: htmx })).text();
    expect(again).not.toContain(secret!);
    expect(again).toContain("nightly");
    expect(again).toContain('<time datetime="2026-06-08T12:00:00.000Z">');
    const id = (t.db.query("SELECT id FROM api_tokens").get() as { id: number }).id;
    const revoked = await c.post(`/account/tokens/${id}/revoke`, {}, htmx);
    expect(await revoked.text()).toContain("Aucun jeton actif.");
    expect((await t.client().request("GET", "/api/v1/account", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  test("a bad validity re-renders the form with the reason and the values typed", async () => {
    const { t, c } = await signedIn();
    for (const ttlDays of ["0", "400", "abc"]) {
      const res = await c.post("/account/tokens", { name: 'x" autofocus="', ttlDays }, htmx);
      expect(res.status).toBe(422);
      const html = await res.text();
      expect(html).toContain("La validité doit être un nombre entier de jours, de 1 à 365.");
      expect(html).toContain('value="x&#34; autofocus=&#34;"');
    }
    expect(t.db.query("SELECT count(*) AS n FROM api_tokens").get()).toEqual({ n: 0 });
  });

  test("without htmx the whole page comes back, the secret in it", async () => {
    const { c } = await signedIn();
    const res = await c.post("/account/tokens", { name: "", ttlDays: "30" });
    const html = await res.text();
    expect(html).toContain("<h1>Mon compte</h1>");
    expect(html).toMatch(/id="new-token" readonly value="mdl_/);
  });

  test("one cannot revoke another user's token from the page", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    await t.addUser("bob", strong);
    const bob = t.client();
    await bob.signIn("bob", strong);
    await bob.post("/account/tokens", { ttlDays: "30" }, htmx);
    const alice = t.client();
    await alice.signIn("alice", strong);
    expect((await alice.post("/account/tokens/1/revoke", {}, htmx)).status).toBe(404);
    expect(t.db.query("SELECT revoked_at FROM api_tokens").get()).toEqual({ revoked_at: null });
  });
});
