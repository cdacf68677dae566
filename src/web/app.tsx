/**
 * @module web/app
 * The Elysia application and the one gate every request passes. `web.fetch` builds the
 * request's context (id, address, principal, language), hands it to Elysia, then adds the
 * security headers and cookies and logs one line. The principal is the cookie session, or
 * under /api an API token sent as `Authorization: Bearer` (a bad one is a 401, never a
 * fall-back to the cookie). `web.route` registers a route in the registry and wraps its
 * handler with the checks, in order: signed in, password not pending change, second factor
 * not pending enrollment, permission, CSRF token (cookie sessions only: a bearer call
 * carries no ambient authority). `web.api` does the same for JSON routes with schemas
 * (./api.ts). Errors of any kind end in one handler.
 */
import type { Children } from "@kitajs/html";
import { Elysia } from "elysia";
import type { Database } from "bun:sqlite";
import type { TSchema } from "@sinclair/typebox";
import type { Access } from "../access.ts";
import type { Clock } from "../clock.ts";
import { AppError, CsrfFailed, Forbidden, TooLarge, Unauthorized } from "../errors.ts";
import type { AuthService, Session } from "../features/auth/service.ts";
import type { Recorder } from "../features/history/service.ts";
import { translator } from "../i18n/index.ts";
import type { Logger } from "../log.ts";
import type { Registry, RouteDef } from "../registry.ts";
import type { Scheduler } from "../scheduler/index.ts";
import { Shell, type MenuItem } from "../../views/shell/layout.tsx";
import { registerApi, type ApiSpec } from "./api.ts";
import { registerOpenApi } from "./openapi.ts";
import { bearerToken, langFor, parseCookies, setContext, ctxOf, type RequestContext } from "./context.ts";
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
  /** The appliance's time zone, for times shown in pages (stored times are UTC). */
  timeZone?: string;
}

/** Turns an API token into the principal it acts for, or null when unknown, expired or revoked. */
export type BearerResolver = (token: string, ip: string) => Session | null;

export interface Req {
  request: Request;
  ctx: RequestContext;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

export type Handler = (req: Req) => Response | JSX.Element | Promise<Response | JSX.Element>;

/** What the guard reads of a route. */
export interface GuardSpec {
  permission: RouteDef["permission"];
  /** Reachable while a generated password must still be changed. */
  duringPasswordChange?: boolean;
  /** Reachable while a super-administrator must still enroll a second factor. */
  duringSecondFactorSetup?: boolean;
}

export interface RouteSpec extends RouteDef, GuardSpec {
  handler: Handler;
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
  /** The JSON routes declared with `api()`, with their schemas: what openapi.json is made of. */
  readonly apiSpecs: ApiSpec<TSchema, TSchema, TSchema, TSchema>[] = [];
  #bearer: BearerResolver | null = null;
  #bodyLimits = new Map<string, number>();

  constructor(readonly deps: WebDeps) {
    this.app.onError(({ error, code, request }) => {
      const ctx = ctxOf(request);
      let err: unknown = error;
      if (code === "NOT_FOUND") err = new AppError(404, "not_found", "error.notFound");
      else if (code === "PARSE") err = new AppError(400, "bad_request", "error.badRequest");
      else if (code === "VALIDATION") err = new AppError(400, "bad_request", "error.badRequest");
      return renderError(this, ctx, err, request);
    });
    registerOpenApi(this);
  }

  /** The feature that owns API tokens installs how to resolve them; until then every token is refused. */
  useBearer(resolve: BearerResolver): void {
    this.#bearer = resolve;
  }

  /** A body limit other than `maxBodyBytes` for one exact path (uploads, inventories). */
  limitBody(path: string, maxBytes: number): void {
    this.#bodyLimits.set(path, maxBytes);
  }

  /** A JSON route with TypeBox schemas; see ./api.ts. */
  api<P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema>(spec: ApiSpec<P, Q, B, R>): this {
    registerApi(this, spec);
    return this;
  }

  route(spec: RouteSpec): this {
    this.deps.registry.route(spec);
    this.app.route(spec.method, spec.path, async (c: { request: Request; params?: unknown; query?: unknown; body?: unknown }) => {
      const ctx = ctxOf(c.request);
      const body = (c.body && typeof c.body === "object" ? c.body : {}) as Record<string, unknown>;
      const detour = this.enrollmentDetour(spec, ctx, c.request, body);
      if (detour) return detour;
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

  /** The guard, except that a page or htmx request that must enroll a second factor first is sent there. */
  private enrollmentDetour(spec: GuardSpec, ctx: RequestContext, request: Request, body: Record<string, unknown>): Response | null {
    try {
      this.guard(spec, ctx, request, body);
      return null;
    } catch (err) {
      if (!(err instanceof SecondFactorSetupRequired) || ctx.isApi || (request.method !== "GET" && !ctx.isHtmx)) throw err;
      return redirect(ctx, "/account/two-factor");
    }
  }

  guard(spec: GuardSpec, ctx: RequestContext, request: Request, body: Record<string, unknown>): void {
    if (spec.permission !== "public") {
      const session = ctx.session;
      if (!session) throw new Unauthorized();
      if (session.user.mustChangePassword && !spec.duringPasswordChange) throw new PasswordChangeRequired();
      if (!spec.duringSecondFactorSetup && this.deps.auth.secondFactor.mustEnroll(session.user)) throw new SecondFactorSetupRequired();
      if (spec.permission !== null && !this.deps.access.can(session.user, spec.permission)) throw new Forbidden();
    }
    if (safeMethods.has(request.method)) return;
    // CSRF protects what a browser sends on its own: a cookie. A bearer token, or an API
    // call with no session at all, carries no such ambient authority.
    if (ctx.session?.via === "bearer" || (ctx.isApi && !ctx.session)) return;
    const sent = request.headers.get("x-csrf-token") ?? (typeof body._csrf === "string" ? body._csrf : null);
    const expected = ctx.session ? ctx.session.csrf : ctx.anonCsrf;
    if (!sameToken(sent, expected)) throw new CsrfFailed();
  }

  /** Menu entries of the registry that this user may open. */
  menuFor(ctx: RequestContext, current?: string): MenuItem[] {
    const user = ctx.session?.user;
    if (!user) return [];
    const fixed = this.deps.registry.menu
      .filter((m) => m.permission === null || [m.permission].flat().some((key) => this.deps.access.can(user, key)))
      .map((m) => ({ order: m.order, label: ctx.t(m.label), section: ctx.t(m.section), href: m.href, current: m.href === current }));
    const personal = this.deps.registry.menuSources.flatMap((source) => source(user, ctx.t))
      .map((m) => ({ order: m.order, label: m.label, section: ctx.t(m.section), href: m.href, current: m.href === current }));
    return [...fixed, ...personal].sort((a, b) => a.order - b.order).map(({ order: _order, ...m }) => m);
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
    const isApi = url.pathname.startsWith("/api/");
    const bearer = isApi ? bearerToken(request.headers.get("authorization")) : null;
    const token = bearer === null ? cookies.get(SESSION_COOKIE) : undefined;
    const session = bearer !== null ? (bearer ? (this.#bearer?.(bearer, info.ip) ?? null) : null) : this.deps.auth.resolve(token);
    const lang = langFor(session, cookies, isApi ? request.headers.get("accept-language") : null);
    const ctx: RequestContext = {
      id: Bun.randomUUIDv7().slice(-12),
      ip: info.ip,
      isHttps: info.isHttps ?? url.protocol === "https:",
      isHtmx: request.headers.get("hx-request") === "true",
      isApi,
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
      if (bearer !== null && !session) throw new Unauthorized("api.token.invalid");
      const bounded = await boundedBody(request, this.#bodyLimits.get(url.pathname) ?? this.deps.maxBodyBytes ?? 1 << 20);
      if (bounded !== request) setContext(bounded, ctx);
      res = await this.app.handle(bounded);
    } catch (err) {
      res = await renderError(this, ctx, err, request);
    }
    for (const [k, v] of Object.entries(securityHeaders)) if (!res.headers.has(k)) res.headers.set(k, v);
    if (ctx.isHttps) res.headers.set("strict-transport-security", "max-age=15552000");
    if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-store");
    res.headers.set("x-request-id", ctx.id);
    if (isApi && res.status === 401 && !res.headers.has("www-authenticate")) {
      res.headers.set("www-authenticate", bearer ? 'Bearer realm="medulla", error="invalid_token"' : 'Bearer realm="medulla"');
    }
    for (const c of ctx.setCookies) res.headers.append("set-cookie", c);
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.deps.log.info(
      { req: ctx.id, method: request.method, path: url.pathname, status: res.status, ms, ip: ctx.ip, user: session?.user.login },
      "request",
    );
    return res;
  }
}

/** Bodies allowed past this size are streamed through a counter instead of buffered in memory. */
const BUFFERED_BODY_MAX = 4 << 20;

/**
 * The request with its body limited to `max` bytes, or `TooLarge`. A declared length is
 * trusted to refuse early. A body without one (chunked) is counted as it streams in: small
 * limits read it whole here (form parsing wants the bytes anyway), large ones (uploads) pass
 * it on as a stream that fails with `TooLarge` once past the limit, so a multi-gigabyte
 * chunked upload goes to disk without sitting in memory first.
 */
export async function boundedBody(request: Request, max: number): Promise<Request> {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > max) throw new TooLarge();
    return request;
  }
  if (max > BUFFERED_BODY_MAX) {
    let size = 0;
    const counted = request.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > max) controller.error(new TooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Request(request, { body: counted, duplex: "half" } as RequestInit);
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

/** A super-administrator without a second factor while the setting makes it compulsory. */
export class SecondFactorSetupRequired extends AppError {
  constructor() {
    super(403, "second_factor_setup_required", "totp.mustEnroll");
  }
}
