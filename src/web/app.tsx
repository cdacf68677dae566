/**
 * @module web/app
 * The Elysia application and the one gate every request passes. `web.fetch` builds the
 * request's context (id, address, session, language), hands it to Elysia, then adds the
 * security headers and cookies and logs one line. `web.route` registers a route in the
 * registry and wraps its handler with the checks, in order: signed in, password not
 * pending change, permission, CSRF token. Errors of any kind end in one handler.
 */
import type { Children } from "@kitajs/html";
import { Elysia } from "elysia";
import type { Database } from "bun:sqlite";
import type { Access } from "../access.ts";
import type { Clock } from "../clock.ts";
import { AppError, CsrfFailed, Forbidden, TooLarge, Unauthorized } from "../errors.ts";
import type { AuthService } from "../features/auth/service.ts";
import type { Recorder } from "../features/history/service.ts";
import { translator } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import type { Registry, RouteDef } from "../registry.ts";
import type { Scheduler } from "../scheduler/index.ts";
import { Shell, type MenuItem } from "../../views/shell/layout.tsx";
import { langFor, parseCookies, setContext, ctxOf, type RequestContext } from "./context.ts";
import { renderError } from "./errors.tsx";
import type { EventHub } from "./events.ts";
import { html, redirect, sameToken, securityHeaders } from "./respond.ts";

export const SESSION_COOKIE = "medulla_session";
export const CSRF_COOKIE = "medulla_csrf";

export interface WebDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  registry: Registry;
  access: Access;
  auth: AuthService;
  recorder: Recorder;
  hub: EventHub;
  scheduler: Scheduler;
  version: string;
  /** Largest accepted request body; routes that take uploads declare their own. */
  maxBodyBytes?: number;
}

export interface Req {
  request: Request;
  ctx: RequestContext;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

export type Handler = (req: Req) => Response | JSX.Element | Promise<Response | JSX.Element>;

export interface RouteSpec extends RouteDef {
  handler: Handler;
  /** Reachable while a generated password must still be changed. */
  duringPasswordChange?: boolean;
}

export interface PageOptions {
  title: string;
  body: Children;
  current?: string;
  scripts?: string[];
  status?: number;
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export class Web {
  readonly app = new Elysia();

  constructor(readonly deps: WebDeps) {
    this.app.onError(({ error, code, request }) => {
      const ctx = ctxOf(request);
      let err: unknown = error;
      if (code === "NOT_FOUND") err = new AppError(404, "not_found", "error.notFound");
      else if (code === "PARSE") err = new AppError(400, "bad_request", "error.badRequest");
      else if (code === "VALIDATION") err = new AppError(400, "bad_request", "error.badRequest");
      return renderError(this, ctx, err, request);
    });
  }

  route(spec: RouteSpec): this {
    this.deps.registry.route(spec);
    this.app.route(spec.method, spec.path, async (c: { request: Request; params?: unknown; query?: unknown; body?: unknown }) => {
      const ctx = ctxOf(c.request);
      const body = (c.body && typeof c.body === "object" ? c.body : {}) as Record<string, unknown>;
      this.guard(spec, ctx, c.request, body);
      const out = await spec.handler({
        request: c.request,
        ctx,
        params: (c.params ?? {}) as Record<string, string>,
        query: (c.query ?? {}) as Record<string, string | undefined>,
        body,
      });
      return out instanceof Response ? out : html(await out);
    });
    return this;
  }

  guard(spec: RouteSpec, ctx: RequestContext, request: Request, body: Record<string, unknown>): void {
    if (spec.permission !== "public") {
      const session = ctx.session;
      if (!session) throw new Unauthorized();
      if (session.user.mustChangePassword && !spec.duringPasswordChange) throw new PasswordChangeRequired();
      if (spec.permission !== null && !this.deps.access.can(session.user, spec.permission)) throw new Forbidden();
    }
    if (safeMethods.has(request.method)) return;
    const sent = request.headers.get("x-csrf-token") ?? (typeof body._csrf === "string" ? body._csrf : null);
    const expected = ctx.session ? ctx.session.csrf : ctx.anonCsrf;
    if (!sameToken(sent, expected)) throw new CsrfFailed();
  }

  /** Menu entries of the registry that this user may open. */
  menuFor(ctx: RequestContext, current?: string): MenuItem[] {
    const user = ctx.session?.user;
    if (!user) return [];
    return this.deps.registry.menu
      .filter((m) => m.permission === null || this.deps.access.can(user, m.permission))
      .map((m) => ({ label: ctx.t(m.label), section: ctx.t(m.section), href: m.href, current: m.href === current }));
  }

  async page(ctx: RequestContext, opts: PageOptions): Promise<Response> {
    const user = ctx.session?.user ?? null;
    const body = await (
      <Shell t={ctx.t} lang={ctx.lang} title={opts.title} csrf={ctx.session?.csrf ?? ctx.anonCsrf ?? ""} user={user} menu={this.menuFor(ctx, opts.current)} scripts={opts.scripts}>
        {opts.body}
      </Shell>
    );
    return html(body, opts.status);
  }

  /** The single entry point: real servers and in-process tests both call this. */
  async fetch(request: Request, info: { ip: string; isHttps?: boolean }): Promise<Response> {
    const started = performance.now();
    const url = new URL(request.url);
    const cookies = parseCookies(request.headers.get("cookie"));
    const token = cookies.get(SESSION_COOKIE);
    const session = this.deps.auth.resolve(token);
    const lang = langFor(session, cookies);
    const ctx: RequestContext = {
      id: Bun.randomUUIDv7().slice(-12),
      ip: info.ip,
      isHttps: info.isHttps ?? url.protocol === "https:",
      isHtmx: request.headers.get("hx-request") === "true",
      isApi: url.pathname.startsWith("/api/"),
      cookies,
      session,
      anonCsrf: cookies.get(CSRF_COOKIE) ?? null,
      lang,
      t: translator(lang),
      setCookies: [],
      sessionExpired: Boolean(token) && !session,
    };
    setContext(request, ctx);
    let res: Response;
    try {
      const bounded = await boundedBody(request, this.deps.maxBodyBytes ?? 1 << 20);
      if (bounded !== request) setContext(bounded, ctx);
      res = await this.app.handle(bounded);
    } catch (err) {
      res = await renderError(this, ctx, err, request);
    }
    for (const [k, v] of Object.entries(securityHeaders)) if (!res.headers.has(k)) res.headers.set(k, v);
    if (ctx.isHttps) res.headers.set("strict-transport-security", "max-age=15552000");
    if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    res.headers.set("x-request-id", ctx.id);
    for (const c of ctx.setCookies) res.headers.append("set-cookie", c);
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.deps.log.info(
      { req: ctx.id, method: request.method, path: url.pathname, status: res.status, ms, ip: ctx.ip, user: session?.user.login },
      "request",
    );
    return res;
  }
}

/**
 * The request with its body read up to `max` bytes, or `TooLarge`. A declared length is
 * trusted to refuse early; a body without one (chunked) is counted as it streams in.
 */
async function boundedBody(request: Request, max: number): Promise<Request> {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > max) throw new TooLarge();
    return request;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return new Request(request, { body: Buffer.concat(chunks) });
}

/** The account's password was generated and must be changed before anything else. */
export class PasswordChangeRequired extends AppError {
  constructor() {
    super(403, "password_change_required", "password.mustChange");
  }
}
