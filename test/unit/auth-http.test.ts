import { describe, expect, test } from "bun:test";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";

describe("sign-in (G1)", () => {
  test("the sign-in page is French by default, with a language choice and a CSRF field", async () => {
    const t = testApp();
    const c = t.client();
    const { res, html } = await c.page("/login");
    expect(res.status).toBe(200);
    expect(html).toContain('lang="fr"');
    expect(html).toContain("Se connecter");
    expect(html).toContain('<option value="en"');
    expect(c.cookies.get("medulla_csrf")).toBe(c.csrf);
    const en = await c.page("/login?lang=en");
    expect(en.html).toContain("Sign in");
    expect(c.cookies.get("medulla_lang")).toBe("en");
  });

  test("signs in by login or e-mail, and the history records it", async () => {
    const t = testApp();
    const id = await t.addUser("alice", strong, { email: "alice@example.org" });
    for (const name of ["alice", "ALICE", "alice@example.org"]) {
      const c = t.client();
      const res = await c.signIn(name, strong);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/");
      const cookie = res.headers.getSetCookie().find((s) => s.startsWith("medulla_session="))!;
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Lax");
      const home = await c.page("/");
      expect(home.res.status).toBe(200);
      expect(home.html).toContain("Tableau de bord");
    }
    const rows = t.db.query("SELECT action, user_id, source_ip, module FROM history WHERE action = 'history.login.success'").all();
    expect(rows).toEqual(Array(3).fill({ action: "history.login.success", user_id: id, source_ip: "192.0.2.10", module: "auth" }));
  });

  test("wrong login and wrong password get the same generic answer and are recorded", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const a = t.client();
    await a.page("/login");
    const r1 = await a.post("/login", { login: "alice", password: "nope" });
    const r2 = await a.post("/login", { login: "nobody", password: strong });
    expect(r1.status).toBe(401);
    expect(r2.status).toBe(401);
    const [h1, h2] = [await r1.text(), await r2.text()];
    expect(h1).toContain("Identifiant ou mot de passe incorrect.");
    expect(h2).toContain("Identifiant ou mot de passe incorrect.");
    expect(a.cookies.has("medulla_session")).toBe(false);
    const n = t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.login.failure'").get() as { n: number };
    expect(n.n).toBe(2);
  });

  test("failures are throttled per account, even with the right password, then released", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    for (let i = 0; i < 5; i++) {
      const c = t.client(`198.51.100.${i}`);
      await c.page("/login");
      expect((await c.post("/login", { login: "alice", password: "bad" })).status).toBe(401);
    }
    const c = t.client("198.51.100.99");
    await c.page("/login");
    const blocked = await c.post("/login", { login: "alice", password: strong });
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toContain("Trop de tentatives");
    await t.clock.advance(16 * 60_000);
    expect((await c.post("/login", { login: "alice", password: strong })).status).toBe(303);
  });

  test("failures are throttled per source address across accounts", async () => {
    const t = testApp();
    await t.addUser("bob", strong);
    const c = t.client("203.0.113.5");
    await c.page("/login");
    for (let i = 0; i < 20; i++) await c.post("/login", { login: `user${i}`, password: "bad" });
    expect((await c.post("/login", { login: "bob", password: strong })).status).toBe(429);
    const other = t.client("203.0.113.6");
    expect((await other.signIn("bob", strong)).status).toBe(303);
  });

  test("the sign-in form refuses a missing or wrong CSRF token and changes nothing", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.page("/login");
    const res = await c.request("POST", "/login", { form: { login: "alice", password: strong, _csrf: "forged" } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Le formulaire a expiré");
    expect(c.cookies.has("medulla_session")).toBe(false);
  });

  test("only local paths are followed after sign-in", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.page("/login");
    const res = await c.post("/login", { login: "alice", password: strong, next: "//evil.example/x" });
    expect(res.headers.get("location")).toBe("/");
  });

  test("htmx sign-in swaps the form on failure and redirects with HX-Redirect on success", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.page("/login");
    const bad = await c.post("/login", { login: "alice", password: "x" }, { "hx-request": "true" });
    const html = await bad.text();
    expect(html.startsWith('<form id="login-form"')).toBe(true);
    const good = await c.post("/login", { login: "alice", password: strong, next: "/" }, { "hx-request": "true" });
    expect(good.headers.get("hx-redirect")).toBe("/");
  });
});

describe("sessions", () => {
  test("pages need a session; the redirect keeps where the user was going", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/?x=1");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?next=%2F%3Fx%3D1");
    const htmx = await t.client().request("GET", "/", { headers: { "hx-request": "true" } });
    expect(htmx.headers.get("hx-redirect")).toStartWith("/login");
  });

  test("a session ends after 30 idle minutes and after 12 hours whatever happens", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    await t.clock.advance(29 * 60_000);
    expect((await c.request("GET", "/")).status).toBe(200);
    await t.clock.advance(31 * 60_000);
    const expired = await c.request("GET", "/");
    expect(expired.headers.get("location")).toContain("expired=1");
    const c2 = t.client();
    await c2.signIn("alice", strong);
    for (let i = 0; i < 25; i++) await t.clock.advance(29 * 60_000).then(() => c2.request("GET", "/"));
    expect((await c2.request("GET", "/")).status).toBe(303);
  });

  test("signing out ends the session and is recorded", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    const res = await c.post("/logout");
    expect(res.headers.get("location")).toBe("/login?out=1");
    expect(c.cookies.has("medulla_session")).toBe(false);
    expect((await c.page("/login?out=1")).html).toContain("Vous êtes déconnecté.");
    expect(t.db.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 0 });
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.logout'").get()).toEqual({ n: 1 });
  });

  test("state-changing requests without the session's CSRF token are refused", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    const noToken = await c.request("POST", "/logout", { form: {} });
    expect(noToken.status).toBe(403);
    const wrong = await c.request("PUT", "/dashboard/layout", { json: { widgets: [] }, headers: { "x-csrf-token": "x".repeat(43) } });
    expect(wrong.status).toBe(403);
    expect(t.db.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 1 });
    expect((await c.request("GET", "/")).status).toBe(200);
  });
});

describe("passwords", () => {
  test("a generated password must be changed before anything else", async () => {
    const t = testApp();
    const password = (await t.app.auth.ensureRoot(undefined))!;
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    const c = t.client();
    await c.page("/login");
    const res = await c.post("/login", { login: "root", password });
    expect(res.headers.get("location")).toBe("/account/password");
    await c.page("/account/password");
    expect((await c.request("GET", "/")).headers.get("location")).toBe("/account/password");
    const weak = await c.post("/account/password", { current: password, password: "short", confirm: "short" });
    expect(weak.status).toBe(422);
    expect(await weak.text()).toContain("Mot de passe trop faible");
    const mismatch = await c.post("/account/password", { current: password, password: strong, confirm: `${strong}x` });
    expect(await mismatch.text()).toContain("ne correspondent pas");
    const wrong = await c.post("/account/password", { current: "nope", password: strong, confirm: strong });
    expect(await wrong.text()).toContain("actuel est incorrect");
    const ok = await c.post("/account/password", { current: password, password: strong, confirm: strong });
    expect(ok.headers.get("location")).toBe("/");
    expect((await c.request("GET", "/")).status).toBe(200);
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.password.changed'").get()).toEqual({ n: 1 });
  });

  test("MEDULLA_ADMIN_PASSWORD sets root's password with no forced change, once", async () => {
    const t = testApp();
    expect(await t.app.auth.ensureRoot("Given-password-1")).toBeNull();
    expect(await t.app.auth.ensureRoot("Other-password-2")).toBeNull();
    const c = t.client();
    expect((await c.signIn("root", "Given-password-1")).headers.get("location")).toBe("/");
  });

  test("changing one's password signs out one's other sessions", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const a = t.client("192.0.2.1");
    const b = t.client("192.0.2.2");
    await a.signIn("alice", strong);
    await b.signIn("alice", strong);
    await a.post("/account/password", { current: strong, password: "Another-pass-8", confirm: "Another-pass-8" });
    expect((await a.request("GET", "/")).status).toBe(200);
    expect((await b.request("GET", "/")).status).toBe(303);
  });

  test("reset-password gives a new generated password to change at next sign-in", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const pw = await t.app.auth.resetPassword("alice");
    const c = t.client();
    expect((await c.signIn("alice", pw)).headers.get("location")).toBe("/account/password");
    expect(t.app.auth.resetPassword("ghost")).rejects.toThrow('no user with login "ghost"');
  });
});

describe("language", () => {
  test("a user's language follows it and switches from the user menu", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    expect((await c.page("/")).html).toContain("Tableau de bord");
    const res = await c.post("/account/language", { lang: "en" }, { referer: "http://localhost/" });
    expect(res.headers.get("location")).toBe("/");
    expect((await c.page("/")).html).toContain("Dashboard");
    const bad = await c.post("/account/language", { lang: "de" });
    expect(bad.status).toBe(422);
  });
});
