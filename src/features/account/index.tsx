/**
 * @module account
 * "My account" (/account): one's sessions, API tokens, two-factor sign-in and, for
 * super-administrators, the setting that makes two-factor sign-in compulsory for them.
 * Each section is a fragment: an htmx action answers its section, a plain form post the
 * whole page. Also installs the bearer resolver, the API routes (./api.ts) and the daily
 * purge of tokens expired or revoked a month ago.
 */
import type { Children } from "@kitajs/html";
import { Invalid } from "../../errors.ts";
import type { Web } from "../../web/app.tsx";
import type { RequestContext } from "../../web/context.ts";
import { html, redirect } from "../../web/respond.ts";
import { AccountPage } from "../../../views/account/account.tsx";
import { SecuritySection } from "../../../views/account/security.tsx";
import { SessionsSection } from "../../../views/account/sessions.tsx";
import { formatTime } from "../../../views/account/time.ts";
import { TokensSection, type TokensProps } from "../../../views/account/tokens.tsx";
import { TwoFactorSection, type TwoFactorProps } from "../../../views/account/two-factor.tsx";
import { registerAccountApi } from "./api.ts";
import { qrSvg } from "./qr.ts";
import { createTokensService, DEFAULT_TTL_DAYS } from "./tokens.ts";
import { summarizeUserAgent } from "./user-agent.ts";

const str = (v: unknown, max = 1024): string => (typeof v === "string" ? v.slice(0, max) : "");

type Section = "sessions" | "tokens" | "totp" | "security";

export function registerAccount(web: Web) {
  const { db, clock, recorder, auth } = web.deps;
  const tokens = createTokensService({ db, clock, recorder, auth });
  const secondFactor = auth.secondFactor;
  web.useBearer((token, ip) => tokens.resolve(token, ip));
  web.deps.scheduler.register("account.tokens.purge", () => void tokens.purge());
  web.deps.scheduler.schedule("account.tokens.purge", "account.tokens.purge", "daily:03:40");
  registerAccountApi(web, tokens);

  const base = (ctx: RequestContext) => ({ t: ctx.t, csrf: ctx.session!.csrf });
  const fmt = (ctx: RequestContext) => (ms: number) => formatTime(ms, ctx.lang, web.deps.timeZone);

  const sessions = (ctx: RequestContext, notice?: string) => {
    const list = auth.sessionsOf(ctx.session!).map((s) => {
      const ua = summarizeUserAgent(s.userAgent);
      const browser = ua.browser && ua.os ? ctx.t("account.ua.on", { browser: ua.browser, os: ua.os }) : (ua.browser ?? ua.os ?? ctx.t("account.ua.unknown"));
      return { handle: s.handle, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, ip: s.ip, browser, current: s.current };
    });
    return <SessionsSection {...base(ctx)} fmt={fmt(ctx)} sessions={list} notice={notice} />;
  };

  const tokensSection = (ctx: RequestContext, extra: Partial<TokensProps> = {}) => {
    const list = tokens.list(ctx.session!.user.id, 200).map((r) => {
      const i = tokens.info(r);
      return { id: i.id, name: i.name, createdAt: i.createdAt, expiresAt: i.expiresAt, lastUsedAt: i.lastUsedAt, ip: i.sourceIp };
    });
    return <TokensSection {...base(ctx)} fmt={fmt(ctx)} tokens={list} {...extra} />;
  };

  const totpSection = (ctx: RequestContext, extra: Partial<TwoFactorProps> = {}) => {
    const user = ctx.session!.user;
    const state = secondFactor.state(user.id, user.login);
    const pending = state.pending ? { ...state.pending, safeQrSvg: qrSvg(state.pending.uri, { title: ctx.t("account.totp.qrAlt") }) } : null;
    const required = user.isSuper && secondFactor.requiredForAdmins();
    return <TwoFactorSection {...base(ctx)} enabled={state.enabled} pending={pending} required={required} {...extra} />;
  };

  const security = (ctx: RequestContext, notice?: string) =>
    ctx.session!.user.isSuper ? <SecuritySection {...base(ctx)} totpRequired={secondFactor.requiredForAdmins()} notice={notice} /> : "";

  /** The section alone for htmx, else the page with that section as given. */
  async function answer(ctx: RequestContext, section: Section, body: JSX.Element, status = 200): Promise<Response> {
    if (ctx.isHtmx) return html(await body, status);
    if (section === "totp") return twoFactorPage(ctx, body, status);
    const pick = (name: Section, fresh: () => JSX.Element) => (name === section ? body : fresh());
    const content: Children = [pick("sessions", () => sessions(ctx)), pick("tokens", () => tokensSection(ctx)), pick("totp", () => totpSection(ctx)), pick("security", () => security(ctx))];
    return web.page(ctx, { title: ctx.t("account.title"), body: <AccountPage t={ctx.t} login={ctx.session!.user.login}>{content}</AccountPage>, status });
  }

  /** The two-factor section alone on a page: where a super-administrator is sent to enroll. */
  function twoFactorPage(ctx: RequestContext, section: JSX.Element, status = 200): Promise<Response> {
    const back = secondFactor.mustEnroll(ctx.session!.user) ? "" : <p><a href="/account" safe>{ctx.t("account.title")}</a></p>;
    return web.page(ctx, { title: ctx.t("account.totp.title"), body: <div class="stack">{section}{back}</div>, status });
  }

  /** Runs an action; its `Invalid` re-renders the section with the field reasons (422). */
  async function attempt(ctx: RequestContext, section: Section, action: () => Promise<JSX.Element> | JSX.Element, onInvalid: (err: Invalid) => JSX.Element) {
    try {
      return await answer(ctx, section, await action());
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      return answer(ctx, section, onInvalid(err), 422);
    }
  }

  web.route({
    method: "GET", path: "/account", permission: null, kind: "page",
    handler: ({ ctx }) => answer(ctx, "sessions", sessions(ctx)),
  });

  web.route({ method: "GET", path: "/account/sessions", permission: null, kind: "fragment", handler: ({ ctx }) => answer(ctx, "sessions", sessions(ctx)) });

  web.route({
    method: "POST", path: "/account/sessions/:handle/revoke", permission: null, kind: "action",
    handler: ({ ctx, params }) => {
      auth.revokeSession(ctx.session!, params.handle ?? "", ctx.ip);
      return answer(ctx, "sessions", sessions(ctx, ctx.t("account.sessions.revoked")));
    },
  });

  web.route({
    method: "POST", path: "/account/sessions/revoke-others", permission: null, kind: "action",
    handler: ({ ctx }) => {
      const count = auth.revokeOtherSessions(ctx.session!, ctx.ip);
      return answer(ctx, "sessions", sessions(ctx, ctx.t("account.sessions.revokedOthers", { count })));
    },
  });

  web.route({ method: "GET", path: "/account/tokens", permission: null, kind: "fragment", handler: ({ ctx }) => answer(ctx, "tokens", tokensSection(ctx)) });

  web.route({
    method: "POST", path: "/account/tokens", permission: null, kind: "action",
    handler: ({ ctx, body }) => {
      const values = { name: str(body.name, 200), ttlDays: str(body.ttlDays, 10) || String(DEFAULT_TTL_DAYS) };
      return attempt(
        ctx, "tokens",
        () => {
          const ttlDays = /^\d{1,4}$/.test(values.ttlDays.trim()) ? Number(values.ttlDays) : Number.NaN;
          const issued = tokens.create(ctx.session!.user, { name: values.name, ttlDays }, ctx.ip);
          return tokensSection(ctx, { issued: { name: issued.name, token: issued.token } });
        },
        (err) => tokensSection(ctx, { values, errors: err.fields }),
      );
    },
  });

  web.route({
    method: "POST", path: "/account/tokens/:id/revoke", permission: null, kind: "action",
    handler: ({ ctx, params }) => {
      tokens.revoke(ctx.session!.user, Number(params.id) || 0, ctx.ip);
      return answer(ctx, "tokens", tokensSection(ctx, { notice: ctx.t("account.tokens.revoked") }));
    },
  });

  // Two-factor sign-in: reachable while a super-administrator is made to enroll.
  web.route({
    method: "GET", path: "/account/two-factor", permission: null, kind: "page", duringSecondFactorSetup: true,
    handler: async ({ ctx }) => (ctx.isHtmx ? html(await totpSection(ctx)) : twoFactorPage(ctx, totpSection(ctx))),
  });

  web.route({
    method: "POST", path: "/account/two-factor/enroll", permission: null, kind: "action", duringSecondFactorSetup: true,
    handler: ({ ctx }) => {
      secondFactor.begin(ctx.session!.user);
      return answer(ctx, "totp", totpSection(ctx));
    },
  });

  web.route({
    method: "POST", path: "/account/two-factor/confirm", permission: null, kind: "action", duringSecondFactorSetup: true,
    handler: ({ ctx, body }) =>
      attempt(
        ctx, "totp",
        () => {
          secondFactor.confirm(ctx.session!.user, str(body.code, 20), ctx.ip);
          ctx.session!.user.totpEnabled = true;
          return totpSection(ctx, { notice: ctx.t("account.totp.enabled") });
        },
        (err) => totpSection(ctx, { errors: err.fields }),
      ),
  });

  web.route({
    method: "POST", path: "/account/two-factor/disable", permission: null, kind: "action",
    handler: ({ ctx, body }) =>
      attempt(
        ctx, "totp",
        async () => {
          await secondFactor.disable(ctx.session!.user, { code: str(body.code, 20).trim() || undefined, password: str(body.password) || undefined }, ctx.ip);
          ctx.session!.user.totpEnabled = false;
          return totpSection(ctx, { notice: ctx.t("account.totp.disabled") });
        },
        (err) => totpSection(ctx, { errors: err.fields }),
      ),
  });

  web.route({
    method: "POST", path: "/account/security", permission: null, kind: "action",
    handler: ({ ctx, body }) => {
      secondFactor.setRequiredForAdmins(ctx.session!.user, body.totpRequired === "on", ctx.ip);
      // Turned on by a super-administrator who has no second factor yet: enroll now.
      if (secondFactor.mustEnroll(ctx.session!.user)) return redirect(ctx, "/account/two-factor");
      return answer(ctx, "security", security(ctx, ctx.t("account.security.saved")));
    },
  });

  return { tokens };
}
