import { describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import { Invalid } from "../../src/errors.ts";
import { decodeCursor, encodeCursor, ListQuery, Page, pageOf } from "../../src/web/api.ts";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";

/** A test app with one extra API route that exercises coercion, defaults and trimming. */
function appWithProbe() {
  const t = testApp();
  const seen: unknown[] = [];
  t.app.web.api({
    method: "POST", path: "/api/v1/probe/:id", permission: null, summary: "Probe", tags: ["probe"],
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    query: Type.Object({ flag: Type.Optional(Type.Boolean()), size: Type.Integer({ default: 7, maximum: 10 }) }),
    body: Type.Object({ name: Type.String({ minLength: 2, maxLength: 5 }), count: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
    response: Type.Object({ id: Type.Integer(), echo: Type.String() }),
    handler: ({ params, query, body }) => {
      seen.push({ params, query, body });
      // `secret` is not in the response schema: it must not reach the client.
      return { id: params.id, echo: body.name, secret: "leak" } as { id: number; echo: string };
    },
  });
  return { t, seen };
}

async function tokenFor(t: ReturnType<typeof testApp>, login: string) {
  const res = await t.client().request("POST", "/api/v1/tokens", { json: { username: login, password: strong } });
  return ((await res.json()) as { token: string }).token;
}

describe("web.api: validation and serialization", () => {
  test("query strings and path params are coerced and defaulted as the schema says; extra response fields are dropped", async () => {
    const { t, seen } = appWithProbe();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const res = await t.client().request("POST", "/api/v1/probe/12?flag=true", { json: { name: "abc" }, headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ id: 12, echo: "abc" });
    expect(seen).toEqual([{ params: { id: 12 }, query: { flag: true, size: 7 }, body: { name: "abc" } }]);
  });

  test("invalid input is a 422 naming each field, in the caller's language, and the handler never runs", async () => {
    const { t, seen } = appWithProbe();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const auth = { authorization: `Bearer ${token}` };
    const res = await t.client().request("POST", "/api/v1/probe/0?size=99&flag=maybe", { json: { name: "x", count: 1.5, extra: 1 }, headers: auth });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: {
        code: "invalid",
        message: "Certaines valeurs sont invalides.",
        fields: {
          id: "La valeur doit être au moins 1.",
          flag: "Une valeur vrai/faux est attendue.",
          size: "La valeur doit être au plus 10.",
          name: "Au moins 2 caractère(s).",
          count: "Un nombre entier est attendu.",
          extra: "Champ inconnu.",
        },
      },
    });
    const missing = await t.client().request("POST", "/api/v1/tokens", { json: {}, headers: { "accept-language": "en-GB,en;q=0.8" } });
    expect(await missing.json()).toEqual({
      error: { code: "invalid", message: "Some values are invalid.", fields: { username: "This field is required.", password: "This field is required." } },
    });
    const notObject = await t.client().request("POST", "/api/v1/probe/1", { json: [1], headers: auth });
    expect(((await notObject.json()) as { error: { fields: unknown } }).error.fields).toEqual({ body: "Un objet JSON est attendu." });
    const malformed = await t.client().request("POST", "/api/v1/probe/1", { body: "{nope", headers: { ...auth, "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    expect(seen).toEqual([]);
  });

  test("form-encoded bodies are coerced like query strings", async () => {
    const { t, seen } = appWithProbe();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const res = await t.client().request("POST", "/api/v1/probe/3", { form: { name: "abcd", count: "4" }, headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ params: { id: 3 }, query: { size: 7 }, body: { name: "abcd", count: 4 } }]);
  });

  test("rights come before input: an unauthenticated call with bad input is a 401, not a 422", async () => {
    const { t, seen } = appWithProbe();
    const res = await t.client().request("POST", "/api/v1/probe/0", { json: { name: 1 } });
    expect(res.status).toBe(401);
    expect(seen).toEqual([]);
  });
});

describe("bearer tokens and cookies", () => {
  test("an unauthenticated call gets a 401 JSON error, never a redirect", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/api/v1/tokens");
    expect(res.status).toBe(401);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="medulla"');
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "Veuillez vous connecter." } });
  });

  test("a bearer call needs no cookie and no CSRF token; a bad token is a 401 even with a good cookie", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const id = (t.db.query("SELECT id FROM api_tokens").get() as { id: number }).id;
    const c = t.client();
    await c.signIn("alice", strong);
    for (const bad of ["mdl_unknown", "", "not a token at all"]) {
      const res = await c.request("GET", "/api/v1/tokens", { headers: { authorization: `Bearer ${bad}` } });
      expect([bad, res.status]).toEqual([bad, 401]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    const del = await t.client().request("DELETE", `/api/v1/tokens/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(204);
  });

  test("a cookie-authenticated call to /api needs the CSRF token on unsafe methods", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const c = t.client();
    await c.signIn("alice", strong);
    expect((await c.request("GET", "/api/v1/account")).status).toBe(200);
    const created = await c.request("POST", "/api/v1/tokens", { json: { username: "alice", password: strong } });
    expect(created.status).toBe(403);
    expect(((await created.json()) as { error: { code: string } }).error.code).toBe("csrf");
    const ok = await c.request("POST", "/api/v1/tokens", { json: { username: "alice", password: strong }, headers: { "x-csrf-token": c.csrf } });
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as { id: number };
    expect((await c.request("DELETE", `/api/v1/tokens/${id}`)).status).toBe(403);
    expect((await c.request("DELETE", `/api/v1/tokens/${id}`, { headers: { "x-csrf-token": c.csrf } })).status).toBe(204);
  });

  test("bearer tokens do not open pages: outside /api the header is ignored", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const res = await t.client().request("GET", "/account", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toStartWith("/login");
  });

  test("a bearer principal is checked for rights like a session", async () => {
    const t = testApp();
    const key = t.app.registry.permission({ key: "probe.read", category: "app.name", label: "app.name" });
    t.app.web.api({ method: "GET", path: "/api/v1/guarded", permission: key, summary: "Guarded", handler: () => ({ ok: true }) });
    const aliceId = await t.addUser("alice", strong);
    await t.addUser("root", strong, { isSuper: true });
    const alice = await tokenFor(t, "alice");
    const root = await tokenFor(t, "root");
    const call = (token: string) => t.client().request("GET", "/api/v1/guarded", { headers: { authorization: `Bearer ${token}` } });
    expect((await call(alice)).status).toBe(403);
    expect((await call(root)).status).toBe(200);
    t.db.query("INSERT INTO user_grants (user_id, key) VALUES (?, ?)").run(aliceId, key);
    t.app.access.setGrants((id) => new Set(id === aliceId ? [key] : []));
    expect(await (await call(alice)).json()).toEqual({ ok: true });
    const me = await t.client().request("GET", "/api/v1/account", { headers: { authorization: `Bearer ${alice}` } });
    expect(await me.json()).toEqual({ id: aliceId, login: "alice", displayName: "alice", lang: "fr", isSuper: false, totpEnabled: false });
  });
});

describe("lists and cursors", () => {
  test("cursors are opaque base64url, checked against their schema when read back", () => {
    const schema = Type.Object({ id: Type.Integer() });
    const cursor = encodeCursor({ id: 42 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(schema, cursor)).toEqual({ id: 42 });
    expect(decodeCursor(schema, undefined)).toBeUndefined();
    for (const bad of ["%%%", encodeCursor({ id: "x" }), Buffer.from("{not json").toString("base64url")]) {
      expect(() => decodeCursor(schema, bad)).toThrow(Invalid);
    }
  });

  test("pageOf keeps `limit` items and gives a cursor only when more follow", () => {
    const rows = [5, 4, 3].map((id) => ({ id }));
    expect(pageOf(rows, 2, (r) => ({ id: r.id }), (r) => r.id)).toEqual({ items: [5, 4], next: encodeCursor({ id: 4 }) });
    expect(pageOf(rows, 3, (r) => ({ id: r.id }), (r) => r.id)).toEqual({ items: [5, 4, 3], next: null });
    expect(Page(Type.String()).properties.next.anyOf).toHaveLength(2);
    expect(ListQuery.properties.limit.maximum).toBe(200);
  });

  test("a tampered cursor is a 422 on the cursor field", async () => {
    const t = testApp();
    await t.addUser("alice", strong);
    const token = await tokenFor(t, "alice");
    const res = await t.client().request("GET", "/api/v1/tokens?cursor=garbage", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: "invalid", message: "Certaines valeurs sont invalides.", fields: { cursor: "Ce curseur n'est pas valide : reprenez la liste depuis le début." } },
    });
  });
});

describe("openapi.json", () => {
  test("is public, OpenAPI 3.1, and documents every api route with its schemas", async () => {
    const { t } = appWithProbe();
    const res = await t.client().request("GET", "/api/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security: unknown[]; parameters?: unknown[]; requestBody?: unknown; responses: Record<string, { description: string; content?: unknown }> }>>;
      components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    const apiRoutes = t.app.registry.routes.filter((r) => r.kind === "api");
    expect(apiRoutes.length).toBeGreaterThan(4);
    for (const r of apiRoutes) {
      const path = r.path.replace(/:(\w+)/g, "{$1}");
      expect([r.method, path, Boolean(doc.paths[path]?.[r.method.toLowerCase()])]).toEqual([r.method, path, true]);
    }
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
    expect(doc.components.schemas.Error).toEqual(expect.objectContaining({ type: "object", required: ["error"] }));
    const probe = doc.paths["/api/v1/probe/{id}"]!.post!;
    expect(probe.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } },
      { name: "flag", in: "query", required: false, schema: { type: "boolean" } },
      { name: "size", in: "query", required: true, schema: { type: "integer", default: 7, maximum: 10 } },
    ]);
    expect(probe.requestBody).toEqual({
      required: true,
      content: {
        "application/json": {
          schema: {
            type: "object", additionalProperties: false, required: ["name"],
            properties: { name: { type: "string", minLength: 2, maxLength: 5 }, count: { type: "integer" } },
          },
        },
      },
    });
    expect(probe.responses["200"]!.content).toBeDefined();
    expect(probe.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(doc.paths["/api/v1/tokens"]!.post!.security).toEqual([]);
    expect(doc.paths["/api/v1/tokens/{id}"]!.delete!.responses["204"]).toEqual({ description: "No content" });
    expect(JSON.stringify(doc)).not.toContain("$id");
  });
});
