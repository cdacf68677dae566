/**
 * A fresh appliance in memory for in-process tests, and a small browser-like client with
 * a cookie jar that reads the CSRF token from pages, as a user's browser would.
 */
import { buildApp, type App } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Database } from "../../src/db/index.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { silentLogger } from "../../src/log.ts";

export interface TestApp {
  app: App;
  db: Database;
  clock: ManualClock;
  /** A browser-like client; `https` makes its requests arrive as over the HTTPS listener. */
  client(ip?: string, opts?: { https?: boolean }): Client;
  addUser(login: string, password: string, opts?: { isSuper?: boolean; mustChange?: boolean; email?: string }): Promise<number>;
}

export function testApp(): TestApp {
  const db = openDatabase(":memory:");
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const app = buildApp({ db, clock, log: silentLogger });
  return {
    app, db, clock,
    client: (ip = "192.0.2.10", opts = {}) => new Client(app, ip, opts.https ?? false),
    async addUser(login, password, opts = {}) {
      const row = db
        .query(
          `INSERT INTO users (login, email, password_hash, is_super, must_change_password, created_at, updated_at)
           VALUES ($login, $email, $hash, $isSuper, $mustChange, 0, 0) RETURNING id`,
        )
        .get({ login, email: opts.email ?? null, hash: await hashPassword(password), isSuper: opts.isSuper ? 1 : 0, mustChange: opts.mustChange ? 1 : 0 }) as { id: number };
      return row.id;
    },
  };
}

export class Client {
  readonly cookies = new Map<string, string>();
  csrf = "";

  constructor(
    readonly app: App,
    readonly ip: string,
    readonly https = false,
  ) {}

  async request(method: string, path: string, opts: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; body?: BodyInit } = {}): Promise<Response> {
    const headers = new Headers(opts.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    let body: BodyInit | undefined = opts.body;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers.set("content-type", "application/x-www-form-urlencoded");
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers.set("content-type", "application/json");
    }
    const res = await this.app.web.fetch(new Request(`${this.https ? "https" : "http"}://localhost${path}`, { method, headers, body }), { ip: this.ip });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** GET a page and remember its CSRF token (meta tag or hidden field). */
  async page(path: string): Promise<{ res: Response; html: string }> {
    const res = await this.request("GET", path);
    const html = await res.text();
    const token = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { res, html };
  }

  post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
    return this.request("POST", path, { form: { _csrf: this.csrf, ...form }, headers });
  }

  async signIn(login: string, password: string): Promise<Response> {
    await this.page("/login");
    const res = await this.post("/login", { login, password });
    // Every signed-in user may open this page, even before a forced password change.
    if (this.cookies.has("medulla_session")) await this.page("/account/password");
    return res;
  }
}
