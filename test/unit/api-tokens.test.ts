import { describe, expect, test } from "bun:test";
import { base32Decode, totp } from "../../src/features/auth/totp.ts";
import { testApp, type TestApp } from "../support/app.ts";

const strong = "Correct-horse-7";
const DAY = 86_400_000;

interface Issued {
  id: number;
  token: string;
  name: string;
  expiresAt: string;
}

async function issue(t: TestApp, body: Record<string, unknown>, ip = "192.0.2.20") {
  const res = await t.client(ip).request("POST", "/api/v1/tokens", { json: body });
  return { res, body: (await res.json()) as Issued & { error: { code: string; message: string } } };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("POST /api/v1/tokens", () => {
  test("gives a token valid 30 days by default, shown once and stored only as a hash, and records it", async () => {
    const t = testApp();
    const id = await t.addUser("alice", strong);
    const { res, body } = await issue(t, { username: "alice", password: strong, name: "backup script" });
    expect(res.status).toBe(201);
    expect(body as unknown).toEqual({ id: 1, token: expect.stringMatching(/^mdl_[A-Za-z0-9_-]{43}$/), name: "backup script", expiresAt: new Date(t.clock.now() + 30 * DAY).toISOString() });
    const row = t.db.query("SELECT user_id, token_hash, name, source_ip FROM api_tokens").get() as Record<string, unknown>;
    expect(row).toEqual({ user_id: id, token_hash: new Bun.CryptoHasher("sha256").update(body.token).digest("hex"), name: "backup script", source_ip: "192.0.2.20" });
    expect(JSON.stringify(t.db.query("SELECT * FROM api_tokens").all())).not.toContain(body.token);
    const h = t.db.query("SELECT module, action, user_id, text FROM history WHERE action LIKE 'history.token.%'").all();
    expect(h).toEqual([{ module: "auth", action: "history.token.created", user_id: id, text: "Jeton d'API « backup script » créé par alice" }]);
    const list = await t.client().request("GET", "/api/v1/tokens", { headers: bearer(body.token) });
    expect(JSON.stringify(await list.json())).not.toContain(body.token);
  });

  test("takes a validity of 1 to 365 days", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const year = await issue(t, { username: "alice", password: strong, ttlDays: 365 });
    expect(year.body.expiresAt).toBe(new Date(t.clock.now() + 365 * DAY).toISOString());
    for (const ttlDays of [0, 366, 2.5, "10"]) {
      const { res, body } = await issue(t, { username: "alice", password: strong, ttlDays });
      expect([ttlDays, res.status, body.error.code]).toEqual([ttlDays, 422, "invalid"]);
    }
  });

  test("a wrong password or an unknown account gets the same 401 and is recorded as an API failure", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const wrong = await issue(t, { username: "alice", password: "nope" });
    const unknown = await issue(t, { username: "nobody", password: strong });
    expect([wrong.res.status, unknown.res.status]).toEqual([401, 401]);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toEqual({ error: { code: "unauthorized", message: "Identifiant ou mot de passe incorrect." } } as never);
    expect(t.db.query("SELECT count(*) AS n FROM history WHERE action = 'history.api.failure'").get()).toEqual({ n: 2 });
  });

  test("failures over the API and on the sign-in form add up to the same throttle", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    for (let i = 0; i < 3; i++) expect((await issue(t, { username: "alice", password: "bad" }, `198.51.100.${i}`)).res.status).toBe(401);
    for (let i = 3; i < 5; i++) {
      const c = t.client(`198.51.100.${i}`);
      await c.page("/login");
      expect((await c.post("/login", { login: "alice", password: "bad" })).status).toBe(401);
    }
    const blocked = await issue(t, { username: "alice", password: strong }, "198.51.100.50");
    expect(blocked.res.status).toBe(429);
    expect(blocked.body.error).toEqual({ code: "too_many_requests", message: "Trop de tentatives. Réessayez dans 15 min." });
    const c = t.client("198.51.100.51");
    await c.page("/login");
    expect((await c.post("/login", { login: "alice", password: strong })).status).toBe(429);
    await t.clock.advance(16 * 60_000);
    expect((await issue(t, { username: "alice", password: strong })).res.status).toBe(201);
  });

  test("an account with two-factor sign-in must add its current code, once", async () => {
    const t = testApp();
    const id = await t.addUser("alice", strong);
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    t.db.query("UPDATE users SET totp_secret = ?, totp_enabled = 1 WHERE id = ?").run(secret, id);
    const code = totp(base32Decode(secret)!, t.clock.now());
    const missing = await issue(t, { username: "alice", password: strong });
    expect([missing.res.status, missing.body.error.code]).toEqual([401, "otp_required"]);
    const wrongCode = code === "000000" ? "111111" : "000000";
    const wrong = await issue(t, { username: "alice", password: strong, otp: wrongCode });
    expect([wrong.res.status, wrong.body.error.code]).toEqual([401, "unauthorized"]);
    expect(t.db.query("SELECT count(*) AS n FROM login_failures WHERE login = 'alice'").get()).toEqual({ n: 1 });
    expect((await issue(t, { username: "alice", password: strong, otp: code })).res.status).toBe(201);
    const replay = await issue(t, { username: "alice", password: strong, otp: code });
    expect(replay.res.status).toBe(401);
  });

  test("an account whose password must change, or a super-administrator who must enroll, gets no token", async () => {
    const t = testApp();
    await t.addUser("alice", strong, { mustChange: true });
    await t.addUser("root", strong, { isSuper: true });
    const a = await issue(t, { username: "alice", password: strong });
    expect([a.res.status, a.body.error.code]).toEqual([403, "password_change_required"]);
    t.db.query("INSERT INTO settings (key, value, updated_at) VALUES ('security.totp_required_for_admins', '1', 0)").run();
    const r = await issue(t, { username: "root", password: strong });
    expect([r.res.status, r.body.error.code]).toEqual([403, "second_factor_setup_required"]);
    expect(t.db.query("SELECT count(*) AS n FROM api_tokens").get()).toEqual({ n: 0 });
  });
});

describe("using, listing and revoking tokens", () => {
  test("lists one's own live tokens newest first, page by page", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    await t.addUser("bob", strong);
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) tokens.push((await issue(t, { username: "alice", password: strong, name: `t${i}` })).body.token);
    await issue(t, { username: "bob", password: strong, name: "bob's" });
    const names: string[] = [];
    let cursor: string | null = "";
    let pages = 0;
    while (cursor !== null) {
      const res = await t.client().request("GET", `/api/v1/tokens?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: bearer(tokens[0]!) });
      const page = (await res.json()) as { items: { name: string }[]; next: string | null };
      names.push(...page.items.map((i) => i.name));
      cursor = page.next;
      pages++;
    }
    expect(names).toEqual(["t4", "t3", "t2", "t1", "t0"]);
    expect(pages).toBe(3);
  });

  test("notes the last use at most once a minute, with the address", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const { token } = (await issue(t, { username: "alice", password: strong })).body;
    const lastUsed = () => t.db.query("SELECT last_used_at AS at, source_ip AS ip FROM api_tokens").get();
    expect(lastUsed()).toEqual({ at: null, ip: "192.0.2.20" });
    const start = t.clock.now();
    await t.client("203.0.113.1").request("GET", "/api/v1/account", { headers: bearer(token) });
    expect(lastUsed()).toEqual({ at: start, ip: "203.0.113.1" });
    await t.clock.advance(30_000);
    await t.client("203.0.113.2").request("GET", "/api/v1/account", { headers: bearer(token) });
    expect(lastUsed()).toEqual({ at: start, ip: "203.0.113.1" });
    await t.clock.advance(31_000);
    await t.client("203.0.113.2").request("GET", "/api/v1/account", { headers: bearer(token) });
    expect(lastUsed()).toEqual({ at: start + 61_000, ip: "203.0.113.2" });
  });

  test("an expired token is refused with 401", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const { token } = (await issue(t, { username: "alice", password: strong, ttlDays: 1 })).body;
    expect((await t.client().request("GET", "/api/v1/account", { headers: bearer(token) })).status).toBe(200);
    await t.clock.advance(DAY);
    const res = await t.client().request("GET", "/api/v1/account", { headers: bearer(token) });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Jeton d'API inconnu, expiré ou révoqué." } });
  });

  test("a token of a disabled account is refused", async () => {
    const t = testApp();
    const id = await t.addUser("alice", strong);
    const { token } = (await issue(t, { username: "alice", password: strong })).body;
    t.db.query("UPDATE users SET disabled = 1 WHERE id = ?").run(id);
    expect((await t.client().request("GET", "/api/v1/account", { headers: bearer(token) })).status).toBe(401);
  });

  test("one revokes one's own tokens, not others'; a super-administrator revokes anyone's; all recorded", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    await t.addUser("bob", strong);
    await t.addUser("root", strong, { isSuper: true });
    const a1 = (await issue(t, { username: "alice", password: strong, name: "a1" })).body;
    const a2 = (await issue(t, { username: "alice", password: strong, name: "a2" })).body;
    const b = (await issue(t, { username: "bob", password: strong, name: "b" })).body;
    const root = (await issue(t, { username: "root", password: strong })).body;
    const del = (id: number, token: string) => t.client().request("DELETE", `/api/v1/tokens/${id}`, { headers: bearer(token) });
    expect((await del(b.id, a1.token)).status).toBe(404);
    expect((await del(a2.id, a1.token)).status).toBe(204);
    expect((await del(a2.id, a1.token)).status).toBe(404);
    expect((await t.client().request("GET", "/api/v1/account", { headers: bearer(a2.token) })).status).toBe(401);
    expect((await del(b.id, root.token)).status).toBe(204);
    expect((await t.client().request("GET", "/api/v1/account", { headers: bearer(b.token) })).status).toBe(401);
    expect((await del(a1.id, a1.token)).status).toBe(204);
    expect((await t.client().request("GET", "/api/v1/account", { headers: bearer(a1.token) })).status).toBe(401);
    const bad = await t.client().request("DELETE", "/api/v1/tokens/abc", { headers: bearer(root.token) });
    expect(bad.status).toBe(422);
    const texts = (t.db.query("SELECT text FROM history WHERE action = 'history.token.revoked' ORDER BY id").all() as { text: string }[]).map((r) => r.text);
    expect(texts).toEqual([
      "Jeton d'API « a2 » de alice révoqué par alice",
      "Jeton d'API « b » de bob révoqué par root",
      "Jeton d'API « a1 » de alice révoqué par alice",
    ]);
  });
});
