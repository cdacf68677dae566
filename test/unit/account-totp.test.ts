import { describe, expect, test } from "bun:test";
import { base32Decode, totp } from "../../src/features/auth/totp.ts";
import { testApp, type Client, type TestApp } from "../support/app.ts";

const strong = "Correct-horse-7";
const htmx = { "hx-request": "true" };

const secretOf = (t: TestApp, login: string) => (t.db.query("SELECT totp_secret AS s FROM users WHERE login = ?").get(login) as { s: string }).s;
const codeFor = (t: TestApp, login: string, offsetMs = 0) => totp(base32Decode(secretOf(t, login))!, t.clock.now() + offsetMs);
const wrong = (code: string) => (code === "000000" ? "111111" : "000000");

/** A user with two-factor sign-in on, enrolled through the account page. */
async function enrolled(opts: { isSuper?: boolean } = {}) {
  const t = testApp();
  const id = await t.addUser("alice", strong, opts);
  const c = t.client();
  await c.signIn("alice", strong);
  await c.page("/account");
  await c.post("/account/two-factor/enroll", {}, htmx);
  const res = await c.post("/account/two-factor/confirm", { code: codeFor(t, "alice") }, htmx);
  expect(await res.text()).toContain("Double authentification activée.");
  // The code just used cannot serve again: later sign-ins happen in a later step.
  await t.clock.advance(30_000);
  return { t, c, id };
}

/** Password step of a two-step sign-in from a fresh browser. */
async function passwordStep(t: TestApp, ip = "192.0.2.30"): Promise<Client> {
  const c = t.client(ip);
  await c.page("/login");
  const res = await c.post("/login", { login: "alice", password: strong, next: "/account" });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/login/otp?next=%2Faccount");
  await c.page("/login/otp?next=%2Faccount");
  return c;
}

describe("enrolling", () => {
  test("shows a QR code, the key and the otpauth link; nothing changes until a code confirms", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    await c.page("/account");
    const res = await c.post("/account/two-factor/enroll", {}, htmx);
    const html = await res.text();
    const secret = secretOf(t, "alice");
    expect(html).toStartWith('<section id="account-totp"');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="qr"');
    expect(html).toContain(secret.replace(/(.{4})/g, "$1 ").trim());
    expect(html).toContain(`otpauth://totp/Medulla:alice?secret=${secret}&amp;issuer=Medulla`);
    expect(t.db.query("SELECT totp_enabled FROM users").get()).toEqual({ totp_enabled: 0 });
    // Still a one-step sign-in while not confirmed.
    expect((await t.client().signIn("alice", strong)).headers.get("location")).toBe("/");
    const bad = await c.post("/account/two-factor/confirm", { code: wrong(codeFor(t, "alice")) }, htmx);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Code incorrect ou déjà utilisé.");
    const ok = await c.post("/account/two-factor/confirm", { code: codeFor(t, "alice") }, htmx);
    expect(ok.status).toBe(200);
    expect(t.db.query("SELECT totp_enabled FROM users").get()).toEqual({ totp_enabled: 1 });
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.totp.enabled'").get()).toEqual({ n: 1 });
  });

  test("enrolling needs the CSRF token", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    expect((await c.request("POST", "/account/two-factor/enroll", { form: {} })).status).toBe(403);
    expect(t.db.query("SELECT totp_secret FROM users").get()).toEqual({ totp_secret: null });
  });
});

describe("signing in with a second factor", () => {
  test("the password opens a pending step that grants nothing; the code signs in", async () => {
    const { t } = await enrolled();
    const c = await passwordStep(t);
    expect(c.cookies.has("medulla_session")).toBe(false);
    expect(t.db.query("SELECT count(*) AS n FROM sessions WHERE second_factor_pending = 1").get()).toEqual({ n: 1 });
    // The pending token, even presented as a session cookie, opens nothing.
    const pending = c.cookies.get("medulla_2fa")!;
    const sneaky = t.client();
    sneaky.cookies.set("medulla_session", pending);
    expect((await sneaky.request("GET", "/account")).status).toBe(303);
    expect((await sneaky.request("GET", "/api/v1/account")).status).toBe(401);
    const res = await c.post("/login/otp", { code: codeFor(t, "alice"), next: "/account" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account");
    expect(c.cookies.has("medulla_2fa")).toBe(false);
    expect(c.cookies.get("medulla_session")).not.toBe(pending);
    expect((await c.request("GET", "/account")).status).toBe(200);
    expect(t.db.query("SELECT count(*) AS n FROM sessions WHERE second_factor_pending = 1").get()).toEqual({ n: 0 });
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.login.success'").get()).toEqual({ n: 2 });
  });

  test("a code works once: replaying it in another browser fails", async () => {
    const { t } = await enrolled();
    const code = codeFor(t, "alice");
    const a = await passwordStep(t, "192.0.2.31");
    const b = await passwordStep(t, "192.0.2.32");
    expect((await a.post("/login/otp", { code })).status).toBe(303);
    const replay = await b.post("/login/otp", { code });
    expect(replay.status).toBe(401);
    expect(await replay.text()).toContain("Code incorrect ou déjà utilisé.");
  });

  test("wrong codes count as sign-in failures and end in throttling", async () => {
    const { t } = await enrolled();
    const c = await passwordStep(t);
    const bad = wrong(codeFor(t, "alice"));
    for (let i = 0; i < 4; i++) {
      const res = await c.post("/login/otp", { code: bad }, htmx);
      expect(res.status).toBe(401);
      expect(await res.text()).toStartWith('<form id="otp-form"');
    }
    const fifth = await c.post("/login/otp", { code: bad });
    expect(fifth.status).toBe(429);
    expect(await fifth.text()).toContain("Trop de tentatives");
    expect(c.cookies.has("medulla_2fa")).toBe(false);
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.login.otpFailure'").get()).toEqual({ n: 5 });
    // The password alone no longer helps either, from anywhere.
    const other = t.client("198.51.100.99");
    await other.page("/login");
    expect((await other.post("/login", { login: "alice", password: strong })).status).toBe(429);
  });

  test("the pending step expires after five minutes", async () => {
    const { t } = await enrolled();
    const c = await passwordStep(t);
    await t.clock.advance(5 * 60_000 + 1);
    const res = await c.post("/login/otp", { code: codeFor(t, "alice") });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("Cette étape de connexion a expiré.");
    expect(c.cookies.has("medulla_session")).toBe(false);
    expect(t.db.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 1 });
  });

  test("the code page without a pending step sends back to sign-in", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/login/otp");
    expect(res.headers.get("location")).toBe("/login");
  });
});

describe("turning it off", () => {
  test("needs a current code or the password; a wrong proof is counted", async () => {
    const { t, c } = await enrolled();
    const bad = await c.post("/account/two-factor/disable", { password: "nope" }, htmx);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Code ou mot de passe incorrect.");
    expect(t.db.query("SELECT count(*) AS n FROM login_failures").get()).toEqual({ n: 1 });
    const ok = await c.post("/account/two-factor/disable", { code: codeFor(t, "alice") }, htmx);
    expect(await ok.text()).toContain("Double authentification désactivée.");
    expect(t.db.query("SELECT totp_enabled, totp_secret FROM users").get()).toEqual({ totp_enabled: 0, totp_secret: null });
    expect((await t.client().signIn("alice", strong)).headers.get("location")).toBe("/");
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.totp.disabled'").get()).toEqual({ n: 1 });
  });

  test("works with the password when the phone is lost", async () => {
    const { t, c } = await enrolled();
    await c.post("/account/two-factor/disable", { password: strong }, htmx);
    expect(t.db.query("SELECT totp_enabled FROM users").get()).toEqual({ totp_enabled: 0 });
  });
});

describe("compulsory for super-administrators", () => {
  async function requiredOn(t: TestApp) {
    await t.addUser("boss", strong, { isSuper: true });
    const c = t.client("192.0.2.77");
    await c.signIn("boss", strong);
    await c.page("/account");
    const res = await c.post("/account/security", { totpRequired: "on" }, htmx);
    return { c, res };
  }

  test("only super-administrators may change the setting, and the change is recorded", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const a = t.client();
    await a.signIn("alice", strong);
    expect((await a.post("/account/security", { totpRequired: "on" }, htmx)).status).toBe(403);
    const { res } = await requiredOn(t);
    expect(res.headers.get("hx-redirect")).toBe("/account/two-factor");
    expect(t.db.query("SELECT value FROM settings WHERE key = 'security.totp_required_for_admins'").get()).toEqual({ value: "1" });
    const h = t.db.query("SELECT action, user_login FROM history WHERE action LIKE 'history.totp.required%'").all();
    expect(h).toEqual([{ action: "history.totp.requiredOn", user_login: "boss" }]);
  });

  test("a super-administrator without it is sent to enroll before anything else, pages and API alike", async () => {
    const t = testApp();
    const { c } = await requiredOn(t);
    const home = await c.request("GET", "/");
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/account/two-factor");
    expect((await c.request("GET", "/account", { headers: htmx })).headers.get("hx-redirect")).toBe("/account/two-factor");
    const api = await c.request("GET", "/api/v1/account");
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("second_factor_setup_required");
    const page = await c.page("/account/two-factor");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("obligatoire pour les super-administrateurs");
    await c.post("/account/two-factor/enroll", {}, htmx);
    await c.post("/account/two-factor/confirm", { code: codeFor(t, "boss") }, htmx);
    expect((await c.request("GET", "/")).status).toBe(200);
    // And it cannot be turned off while compulsory.
    await t.clock.advance(30_000);
    const off = await c.post("/account/two-factor/disable", { code: codeFor(t, "boss") }, htmx);
    expect(off.status).toBe(409);
  });

  test("ordinary users are not concerned", async () => {
    const t = testApp();
    await requiredOn(t);
    await t.addUser("alice", strong);
    const a = t.client();
    await a.signIn("alice", strong);
    expect((await a.request("GET", "/")).status).toBe(200);
  });

  test("signing out and changing one's language stay possible", async () => {
    const t = testApp();
    const { c } = await requiredOn(t);
    expect((await c.post("/account/language", { lang: "en" })).status).toBe(303);
    expect((await c.post("/logout")).headers.get("location")).toBe("/login?out=1");
  });
});
