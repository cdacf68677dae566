/**
 * @module account/api
 * `/api/v1/tokens` (DESIGN.md "JSON API"): get a token with one's credentials, list
 * one's live tokens, revoke one (anyone's for a super-administrator); and `/api/v1/account`,
 * who a token acts as. Schemas here are the single source of the shapes.
 */
import { Type } from "@sinclair/typebox";
import { decodeCursor, ListQuery, Page, pageOf } from "../../web/api.ts";
import type { Web } from "../../web/app.tsx";
import { DEFAULT_TTL_DAYS, MAX_NAME_LENGTH, MAX_TTL_DAYS, type TokensService } from "./tokens.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const DateTime = Type.String({ format: "date-time" });

export const TokenRequest = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: "Login or e-mail" }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  otp: Type.Optional(Type.String({ maxLength: 10, description: "The current code, when the account has two-factor sign-in" })),
  name: Type.Optional(Type.String({ maxLength: MAX_NAME_LENGTH, description: "What the token is for" })),
  ttlDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TTL_DAYS, default: DEFAULT_TTL_DAYS, description: "Validity in days" })),
});

export const IssuedToken = Type.Object({
  id: Type.Integer(),
  token: Type.String({ description: "The secret, shown this once: send it as `Authorization: Bearer <token>`" }),
  name: Type.String(),
  expiresAt: DateTime,
});

export const Token = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  createdAt: DateTime,
  expiresAt: DateTime,
  lastUsedAt: Type.Union([DateTime, Type.Null()]),
  sourceIp: Type.String({ description: "Where it was last used from (created from, until used)" }),
});

export const Account = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  displayName: Type.String(),
  lang: Type.Union([Type.Literal("fr"), Type.Literal("en")]),
  isSuper: Type.Boolean(),
  totpEnabled: Type.Boolean(),
});

const TokenCursor = Type.Object({ id: Type.Integer() });

export function registerAccountApi(web: Web, tokens: TokensService): void {
  web.api({
    method: "POST", path: "/api/v1/tokens", permission: "public", status: 201, tags: ["tokens"],
    summary: "Get an API token",
    description:
      "Checks the credentials like the sign-in form (same throttling, same history); `otp` is required when the account has two-factor sign-in (401 `otp_required` without it). 30 days by default, 365 at most.",
    body: TokenRequest,
    response: IssuedToken,
    handler: async ({ ctx, body }) => {
      const issued = await tokens.issue({ ...body, ip: ctx.ip });
      return { id: issued.id, token: issued.token, name: issued.name, expiresAt: iso(issued.expiresAt) };
    },
  });

  web.api({
    method: "GET", path: "/api/v1/tokens", permission: null, tags: ["tokens"],
    summary: "List one's live API tokens, newest first",
    query: ListQuery,
    response: Page(Token),
    handler: ({ ctx, query }) => {
      const limit = query.limit ?? 50;
      const after = decodeCursor(TokenCursor, query.cursor);
      const rows = tokens.list(ctx.session!.user.id, limit + 1, after?.id);
      return pageOf(rows, limit, (r) => ({ id: r.id }), (r) => {
        const i = tokens.info(r);
        return { ...i, createdAt: iso(i.createdAt), expiresAt: iso(i.expiresAt), lastUsedAt: i.lastUsedAt === null ? null : iso(i.lastUsedAt) };
      });
    },
  });

  web.api({
    method: "DELETE", path: "/api/v1/tokens/:id", permission: null, status: 204, tags: ["tokens"],
    summary: "Revoke an API token (one's own; anyone's for a super-administrator)",
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    handler: ({ ctx, params }) => {
      tokens.revoke(ctx.session!.user, params.id, ctx.ip);
    },
  });

  web.api({
    method: "GET", path: "/api/v1/account", permission: null, tags: ["tokens"],
    summary: "Who the caller is",
    response: Account,
    handler: ({ ctx }) => ctx.session!.user,
  });
}
