/**
 * @module account/tokens
 * API tokens (DESIGN.md "JSON API"): issued to a user who proves who they are (password,
 * and the code when the account has a second factor: the same checks, throttling and
 * history as the sign-in form) or from the account page, shown once, kept as a hash,
 * valid 30 days unless told (365 at most), revocable by their owner and by a
 * super-administrator. `resolve` turns a bearer token into the principal it acts for.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { AppError, Invalid, NotFound, TooManyRequests, Unauthorized } from "../../errors.ts";
import type { AuthService, Session, SessionUser } from "../auth/service.ts";
import { randomToken, sha256 } from "../auth/service.ts";
import type { Recorder } from "../history/service.ts";
import { tokensRepo, type TokenRow } from "./repo.ts";

export const DEFAULT_TTL_DAYS = 30;
export const MAX_TTL_DAYS = 365;
export const MAX_NAME_LENGTH = 100;
const DAY_MS = 86_400_000;

export interface TokenInfo {
  id: number;
  name: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  sourceIp: string;
}

export interface IssuedToken {
  id: number;
  /** The secret: shown once, never stored. */
  token: string;
  name: string;
  expiresAt: number;
}

const info = (r: TokenRow): TokenInfo => ({
  id: r.id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at, sourceIp: r.source_ip,
});

export function createTokensService(deps: { db: Database; clock: Clock; recorder: Recorder; auth: AuthService }) {
  const repo = tokensRepo(deps.db);
  const now = () => deps.clock.now();

  function create(user: { id: number; login: string }, input: { name?: string; ttlDays?: number }, ip: string): IssuedToken {
    const name = (input.name ?? "").trim();
    const ttlDays = input.ttlDays ?? DEFAULT_TTL_DAYS;
    if (name.length > MAX_NAME_LENGTH) throw new Invalid({ name: "error.field.tooLong" });
    if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > MAX_TTL_DAYS) throw new Invalid({ ttlDays: "tokens.ttlRange" });
    const token = `mdl_${randomToken()}`;
    const expiresAt = now() + ttlDays * DAY_MS;
    const id = repo.insert({ userId: user.id, hash: sha256(token), name, now: now(), expiresAt, ip });
    deps.recorder.record({
      module: "auth", action: "history.token.created", params: { login: user.login, name: name || `#${id}` }, criterion: "user",
      userId: user.id, userLogin: user.login, sourceIp: ip, target: { type: "user", id: user.id, name: user.login },
    });
    return { id, token, name, expiresAt };
  }

  return {
    create,

    /** `POST /api/v1/tokens`: credentials in, a token out; refusals as the sign-in form's. */
    async issue(input: { username: string; password: string; otp?: string; name?: string; ttlDays?: number; ip: string }): Promise<IssuedToken> {
      const checked = await deps.auth.checkCredentials({ login: input.username, password: input.password, otp: input.otp, ip: input.ip });
      if (!checked.ok) {
        if (checked.reason === "throttled") throw new TooManyRequests("login.throttled", { minutes: checked.retryMinutes });
        if (checked.reason === "otp_required") throw new AppError(401, "otp_required", "api.otpRequired");
        throw new Unauthorized("login.failed");
      }
      const user: SessionUser = checked.user;
      if (user.mustChangePassword) throw new AppError(403, "password_change_required", "password.mustChange");
      if (deps.auth.secondFactor.mustEnroll(user)) throw new AppError(403, "second_factor_setup_required", "totp.mustEnroll");
      return create(user, input, input.ip);
    },

    /** A user's live tokens (neither revoked nor expired), newest first, `limit` from after `before`. */
    list(userId: number, limit: number, before?: number): TokenRow[] {
      return repo.activeOfUser(userId, now(), limit, before ?? null);
    },

    info,

    /** Revokes one of `actor`'s tokens, or anyone's for a super-administrator; others' look absent. */
    revoke(actor: SessionUser, id: number, ip: string): void {
      const row = repo.findById(id);
      if (!row || row.revoked_at !== null || (row.user_id !== actor.id && !actor.isSuper)) throw new NotFound();
      repo.revoke(id, now());
      const owner = row.user_id === actor.id ? actor.login : (deps.auth.userById(row.user_id)?.login ?? `#${row.user_id}`);
      deps.recorder.record({
        module: "auth", action: "history.token.revoked", params: { login: actor.login, name: row.name || `#${row.id}`, owner }, criterion: "user",
        userId: actor.id, userLogin: actor.login, sourceIp: ip, target: { type: "user", id: row.user_id, name: owner },
      });
    },

    /** The principal of a bearer token, or null; notes its use at most once a minute. */
    resolve(token: string, ip: string): Session | null {
      if (!token.startsWith("mdl_") || token.length > 100) return null;
      const row = repo.findByHash(sha256(token));
      const t = now();
      if (!row || row.revoked_at !== null || row.expires_at <= t) return null;
      const user = deps.auth.userById(row.user_id);
      if (!user) return null;
      if (row.last_used_at === null || t - row.last_used_at > 60_000) repo.touch(row.id, t, ip);
      return { idHash: "", csrf: "", via: "bearer", tokenId: row.id, user };
    },

    /** Housekeeping: tokens expired or revoked more than 30 days ago. */
    purge(): number {
      return repo.purge(now() - 30 * DAY_MS);
    },
  };
}

export type TokensService = ReturnType<typeof createTokensService>;
