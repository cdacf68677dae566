/**
 * @module auth
 * Routes of sign-in (SPEC G1) and its second step for accounts with two-factor sign-in,
 * sign-out, one's own password and language. The password step of a two-step sign-in
 * hands the browser a short-lived pending token in its own cookie, never the session
 * cookie: until the code is checked, nothing is signed in.
 */
import { Invalid } from "../../errors.ts";
import { isLang } from "../../i18n/index.ts";
import type { Web } from "../../web/app.tsx";
import { CSRF_COOKIE, SESSION_COOKIE } from "../../web/app.tsx";
import { cookie, withLang, type RequestContext } from "../../web/context.ts";
import { html, redirect, safeNext } from "../../web/respond.ts";
import { LoginForm, LoginPage, type LoginProps } from "../../../views/auth/login.tsx";
import { OtpForm, OtpPage } from "../../../views/auth/otp.tsx";
import { PasswordForm } from "../../../views/auth/password.tsx";
import { randomToken, type Session } from "./service.ts";

export const PENDING_COOKIE = "medulla_2fa";

const str = (v: unknown, max = 1024): string => (typeof v === "string" ? v.slice(0, max) : "");

/** The anonymous CSRF token for the sign-in form, minted when the browser has none. */
function anonCsrf(ctx: RequestContext): string {
  if (!ctx.anonCsrf) {
    ctx.anonCsrf = randomToken();
    ctx.setCookies.push(cookie(CSRF_COOKIE, ctx.anonCsrf, { secure: ctx.isHttps }));
  }
  return ctx.anonCsrf;
}

export function registerAuth(web: Web): void {
  const { auth } = web.deps;

  const signedIn = (ctx: RequestContext, token: string, session: Session, next: string) => {
    ctx.setCookies.push(cookie(SESSION_COOKIE, token, { secure: ctx.isHttps }));
    return redirect(ctx, session.user.mustChangePassword ? "/account/password" : next);
  };

  const otpResponse = async (ctx: RequestContext, next: string, error?: string, status = 200) => {
    const props = { t: ctx.t, lang: ctx.lang, csrf: anonCsrf(ctx), next, error };
    return html(await (ctx.isHtmx ? <OtpForm {...props} /> : <OtpPage {...props} />), status);
  };

  const loginResponse = async (ctx: RequestContext, props: Omit<LoginProps, "t" | "lang" | "csrf">, status = 200) => {
    const full = { t: ctx.t, lang: ctx.lang, csrf: anonCsrf(ctx), ...props };
    return html(await (ctx.isHtmx ? <LoginForm {...full} /> : <LoginPage {...full} />), status);
  };

  web.route({
    method: "GET", path: "/login", permission: "public", kind: "page",
    handler: ({ ctx, query }) => {
      if (isLang(query.lang)) {
        withLang(ctx, query.lang);
        ctx.setCookies.push(cookie("medulla_lang", query.lang, { secure: ctx.isHttps, maxAge: 365 * 86400 }));
      }
      if (ctx.session) return redirect(ctx, safeNext(query.next));
      const info = query.expired ? ctx.t("login.expired") : query.out ? ctx.t("login.loggedOut") : undefined;
      return loginResponse(ctx, { next: safeNext(query.next), info });
    },
  });

  web.route({
    method: "POST", path: "/login", permission: "public", kind: "action",
    handler: async ({ ctx, body, request }) => {
      const login = str(body.login, 254);
      const lang = isLang(body.lang) ? body.lang : ctx.lang;
      withLang(ctx, lang);
      ctx.setCookies.push(cookie("medulla_lang", lang, { secure: ctx.isHttps, maxAge: 365 * 86400 }));
      const next = safeNext(body.next);
      const result = await auth.signIn({ login, password: str(body.password), ip: ctx.ip, userAgent: request.headers.get("user-agent") ?? "" });
      if (!result.ok) {
        const error = result.reason === "throttled" ? ctx.t("login.throttled", { minutes: result.retryMinutes }) : ctx.t("login.failed");
        return loginResponse(ctx, { login, next, error }, result.reason === "throttled" ? 429 : 401);
      }
      if (result.step === "second_factor") {
        ctx.setCookies.push(cookie(PENDING_COOKIE, result.pendingToken, { secure: ctx.isHttps, maxAge: 300 }));
        return redirect(ctx, `/login/otp?next=${encodeURIComponent(next)}`);
      }
      if (result.session.user.lang !== lang) auth.setLanguage(result.session.user.id, lang);
      return signedIn(ctx, result.token, result.session, next);
    },
  });

  web.route({
    method: "GET", path: "/login/otp", permission: "public", kind: "page",
    handler: ({ ctx, query }) => {
      if (ctx.session) return redirect(ctx, safeNext(query.next));
      if (!ctx.cookies.get(PENDING_COOKIE)) return redirect(ctx, "/login");
      return otpResponse(ctx, safeNext(query.next));
    },
  });

  web.route({
    method: "POST", path: "/login/otp", permission: "public", kind: "action",
    handler: ({ ctx, body, request }) => {
      const next = safeNext(body.next);
      const result = auth.secondStep({
        pendingToken: ctx.cookies.get(PENDING_COOKIE), code: str(body.code, 20), ip: ctx.ip, userAgent: request.headers.get("user-agent") ?? "",
      });
      if (!result.ok && result.reason === "failed") return otpResponse(ctx, next, ctx.t("login.otpFailed"), 401);
      ctx.setCookies.push(cookie(PENDING_COOKIE, "", { secure: ctx.isHttps, maxAge: 0 }));
      if (result.ok) {
        // The language chosen on the sign-in page (its cookie) follows the account, as in one step.
        if (result.session.user.lang !== ctx.lang) auth.setLanguage(result.session.user.id, ctx.lang);
        return signedIn(ctx, result.token, result.session, next);
      }
      if (result.reason === "throttled") return loginResponse(ctx, { next, error: ctx.t("login.throttled", { minutes: result.retryMinutes }) }, 429);
      return loginResponse(ctx, { next, error: ctx.t("login.otpExpired") }, 401);
    },
  });

  web.route({
    method: "POST", path: "/logout", permission: null, kind: "action", duringPasswordChange: true, duringSecondFactorSetup: true,
    handler: ({ ctx }) => {
      auth.signOut(ctx.session!, ctx.ip);
      ctx.setCookies.push(cookie(SESSION_COOKIE, "", { secure: ctx.isHttps, maxAge: 0 }));
      return redirect(ctx, "/login?out=1");
    },
  });

  web.route({
    method: "GET", path: "/account/password", permission: null, kind: "page", duringPasswordChange: true, duringSecondFactorSetup: true,
    handler: ({ ctx }) =>
      web.page(ctx, {
        title: ctx.t("password.changeTitle"),
        body: <PasswordForm t={ctx.t} csrf={ctx.session!.csrf} forced={ctx.session!.user.mustChangePassword} />,
      }),
  });

  web.route({
    method: "POST", path: "/account/password", permission: null, kind: "action", duringPasswordChange: true, duringSecondFactorSetup: true,
    handler: async ({ ctx, body }) => {
      const session = ctx.session!;
      const forced = session.user.mustChangePassword;
      try {
        await auth.changePassword(session, { current: str(body.current), password: str(body.password, 2048), confirm: str(body.confirm, 2048) }, ctx.ip);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        const form = <PasswordForm t={ctx.t} csrf={session.csrf} forced={forced} errors={err.fields} />;
        return ctx.isHtmx ? html(await form, 422) : web.page(ctx, { title: ctx.t("password.changeTitle"), body: form, status: 422 });
      }
      if (forced) return redirect(ctx, "/");
      const form = <PasswordForm t={ctx.t} csrf={session.csrf} forced={false} done />;
      return ctx.isHtmx ? html(await form) : web.page(ctx, { title: ctx.t("password.changeTitle"), body: form });
    },
  });

  web.route({
    method: "POST", path: "/account/language", permission: null, kind: "action", duringPasswordChange: true, duringSecondFactorSetup: true,
    handler: ({ ctx, body, request }) => {
      if (!isLang(body.lang)) throw new Invalid({ lang: "error.field.required" });
      auth.setLanguage(ctx.session!.user.id, body.lang);
      ctx.setCookies.push(cookie("medulla_lang", body.lang, { secure: ctx.isHttps, maxAge: 365 * 86400 }));
      withLang(ctx, body.lang);
      const back = request.headers.get("referer");
      const path = back && new URL(back).origin === new URL(request.url).origin ? new URL(back).pathname : "/";
      return redirect(ctx, path);
    },
  });

}
