import { describe, expect, test } from "bun:test";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";

async function signedIn(opts: { isSuper?: boolean } = {}) {
  const t = testApp();
  await t.addUser("alice", strong, opts);
  const c = t.client();
  await c.signIn("alice", strong);
  return { t, c };
}

describe("the web shell", () => {
  test("every response carries a strict CSP and the other security headers", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/login");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f]{12}$/);
  });

  test("unknown routes get a translated 404 page, and JSON under /api", async () => {
    const { c } = await signedIn();
    const page = await c.request("GET", "/no/such/page");
    expect(page.status).toBe(404);
    expect(await page.text()).toContain("Cette page n&#x27;existe pas.");
    await c.post("/account/language", { lang: "en" });
    expect(await (await c.request("GET", "/nope")).text()).toContain("This page does not exist.");
    const api = await c.request("GET", "/api/v1/nothing");
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { code: "not_found", message: "This page does not exist." } });
  });

  test("htmx errors land in the flash area as an alert", async () => {
    const { c } = await signedIn();
    const res = await c.request("GET", "/dashboard/widgets/nope", { headers: { "hx-request": "true" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("hx-retarget")).toBe("#flash");
    expect(await res.text()).toContain('role="alert"');
  });

  test("oversize bodies get 413 and malformed ones 400; nothing changes", async () => {
    const { t, c } = await signedIn();
    const big = await c.request("PUT", "/dashboard/layout", { body: "x".repeat(2 << 20), headers: { "content-type": "application/json", "x-csrf-token": c.csrf } });
    expect(big.status).toBe(413);
    const bad = await c.request("PUT", "/dashboard/layout", { body: "{not json", headers: { "content-type": "application/json", "x-csrf-token": c.csrf } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("mal formée");
    expect(t.db.query("SELECT count(*) AS n FROM dashboard_layouts").get()).toEqual({ n: 0 });
  });

  test("the sidebar shows only pages that exist", async () => {
    const { t, c } = await signedIn();
    const { html } = await c.page("/");
    const links = [...html.matchAll(/<nav class="sidebar"[\s\S]*?<\/nav>/g)][0]![0].match(/href="([^"]+)"/g) ?? [];
    for (const l of links) {
      const href = l.slice(6, -1);
      expect(t.app.registry.routes.some((r) => r.method === "GET" && r.path === href)).toBe(true);
    }
  });

  test("static assets are served with an ETag and revalidate", async () => {
    const t = testApp();
    const c = t.client();
    const res = await c.request("GET", "/static/htmx.min.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    const etag = res.headers.get("etag")!;
    expect((await c.request("GET", "/static/htmx.min.js", { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await c.request("GET", "/static/../src/main.ts")).status).toBe(404);
  });

  test("/healthz reports each service", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/healthz");
    expect(await res.json()).toEqual({ status: "ok", services: { web: "running" } });
    t.app.services.set("https", "failed");
    const bad = await t.client().request("GET", "/healthz");
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ status: "degraded", services: { web: "running", https: "failed" } });
  });
});

describe("the registry guards every route", () => {
  test("every non-public route refuses anonymous requests, whatever the method", async () => {
    const t = testApp();
    for (const r of t.app.registry.routes.filter((r) => r.permission !== "public")) {
      const path = r.path.replace(/:(\w+)/g, "1");
      const res = await t.client().request(r.method, path, r.method === "GET" ? {} : { form: {} });
      expect([303, 401, 403]).toContain(res.status);
    }
  });

  test("a route needing a key answers 403 to a user without it and runs for one with it", async () => {
    const t = testApp();
    t.app.registry.permission({ key: "test.secret", category: "menu.section.admin", label: "nav.dashboard" });
    t.app.web.route({ method: "POST", path: "/test/secret", permission: "test.secret", kind: "action", handler: () => new Response("done") });
    await t.addUser("alice", strong);
    const id = await t.addUser("bob", strong);
    t.app.access.setGrants((userId) => new Set(userId === id ? ["test.secret"] : []));
    const alice = t.client();
    await alice.signIn("alice", strong);
    const denied = await alice.post("/test/secret");
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain("pas le droit");
    const bob = t.client();
    await bob.signIn("bob", strong);
    expect(await (await bob.post("/test/secret")).text()).toBe("done");
  });

  test("a route cannot name a permission nobody declared", () => {
    const t = testApp();
    expect(() => t.app.web.route({ method: "GET", path: "/x", permission: "ghost.key", kind: "page", handler: () => "" })).toThrow("undeclared permission ghost.key");
  });
});

describe("the dashboard (G2)", () => {
  test("shows the General widget with its figures", async () => {
    const { c } = await signedIn();
    const { html } = await c.page("/");
    expect(html).toContain('data-widget="general"');
    expect(html).toContain("Nom du serveur");
    expect(html).toContain("Mémoire vive");
    expect(html).toContain('data-live="widget-general"');
  });

  test("saves a layout per user and restores it; refuses unknown widgets or sizes", async () => {
    const { t, c } = await signedIn();
    const put = (widgets: unknown) => c.request("PUT", "/dashboard/layout", { json: { widgets }, headers: { "x-csrf-token": c.csrf } });
    expect((await put([{ id: "general", w: 3, h: 2, hidden: false }])).status).toBe(204);
    expect((await c.page("/")).html).toContain('class="widget w-3 h-2"');
    expect((await put([{ id: "general", w: 9, h: 1, hidden: false }])).status).toBe(422);
    expect((await put([{ id: "ghost", w: 1, h: 1, hidden: false }])).status).toBe(422);
    expect((await put("nope")).status).toBe(422);
    expect((await c.page("/")).html).toContain('class="widget w-3 h-2"');
    expect((await put([{ id: "general", w: 2, h: 1, hidden: true }])).status).toBe(204);
    const hidden = (await c.page("/")).html;
    expect(hidden).toMatch(/data-widget="general" hidden/);
    expect((await c.request("DELETE", "/dashboard/layout", { headers: { "x-csrf-token": c.csrf } })).status).toBe(204);
    expect((await c.page("/")).html).toContain('class="widget w-2 h-1"');
    expect(t.db.query("SELECT count(*) AS n FROM dashboard_layouts").get()).toEqual({ n: 0 });
  });

  test("the event stream sends the live widgets at once, then on their period", async () => {
    const { t, c } = await signedIn();
    const abort = new AbortController();
    const res = await t.app.web.fetch(
      new Request("http://localhost/events", { headers: { cookie: `medulla_session=${c.cookies.get("medulla_session")}` }, signal: abort.signal }),
      { ip: c.ip },
    );
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    const readUntil = async (needle: string, count: number) => {
      while (text.split(needle).length - 1 < count) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil("event: widget-general", 1);
    expect(text).toContain("data: <div class=\"general-widget\">");
    expect(t.app.hub.size).toBe(1);
    await t.clock.advance(5000);
    await readUntil("event: widget-general", 2);
    abort.abort();
    await reader.cancel();
    expect(t.app.hub.size).toBe(0);
  });
});
