/**
 * @module web/context
 * What the web layer knows about one request, built once before routing: its id, the
 * client's address, whether it came over HTTPS, the principal (a cookie session or, under
 * /api, an API token: `session.via` tells which), the language and a bound translator. Kept in a WeakMap keyed by the Request so Elysia's context types stay plain.
 */
import { defaultLang, isLang, translator, type Lang, type T } from "../i18n/index.ts";
import type { Session } from "../features/auth/service.ts";

export interface RequestContext {
  id: string;
  ip: string;
  isHttps: boolean;
  isHtmx: boolean;
  isApi: boolean;
  cookies: Map<string, string>;
  session: Session | null;
  /** Double-submit token for forms shown before sign-in (the sign-in form itself). */
  anonCsrf: string | null;
  lang: Lang;
  t: T;
  /** Cookies to add to the response. */
  setCookies: string[];
  /** A session cookie came but its session is gone (expired or revoked). */
  sessionExpired: boolean;
}

const contexts = new WeakMap<Request, RequestContext>();

export function setContext(request: Request, ctx: RequestContext): void {
  contexts.set(request, ctx);
}

export function ctxOf(request: Request): RequestContext {
  const ctx = contexts.get(request);
  if (!ctx) throw new Error("request context missing: requests must go through web.fetch");
  return ctx;
}

export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie we did not write: ignore it rather than fail the request.
    }
  }
  return out;
}

export function cookie(name: string, value: string, opts: { secure: boolean; maxAge?: number; httpOnly?: boolean }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, "Path=/", "SameSite=Lax"];
  if (opts.httpOnly !== false) parts.push("HttpOnly");
  if (opts.secure) parts.push("Secure");
  if (opts.maxAge !== undefined) parts.push(`Max-Age=${opts.maxAge}`);
  return parts.join("; ");
}

/**
 * The signed-in user's language; else the one chosen on the sign-in page; else, for API
 * clients, the first of ours their Accept-Language names; else French.
 */
export function langFor(session: Session | null, cookies: Map<string, string>, acceptLanguage?: string | null): Lang {
  if (session) return session.user.lang;
  const chosen = cookies.get("medulla_lang");
  if (isLang(chosen)) return chosen;
  for (const part of (acceptLanguage ?? "").split(",")) {
    const tag = part.split(";")[0]!.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return defaultLang;
}

/**
 * The token of an `Authorization: Bearer <token>` header: null when the header is absent
 * or another scheme (agents use Basic), "" when it says Bearer but carries no usable token.
 */
export function bearerToken(header: string | null): string | null {
  if (!header || !/^bearer(\s|$)/i.test(header)) return null;
  const token = header.slice(6).trim();
  return /^[A-Za-z0-9._~+/-]{1,200}=*$/.test(token) ? token : "";
}

export function withLang(ctx: RequestContext, lang: Lang): void {
  ctx.lang = lang;
  ctx.t = translator(lang);
}
