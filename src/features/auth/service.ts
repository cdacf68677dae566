/**
 * @module auth/service
 * Sign-in, sessions and passwords. Sessions live on the server: the browser holds only a
 * random token whose SHA-256 is the row's key. Sessions end after `idleMs` without a
 * request or `absoluteMs` after sign-in. Failed sign-ins are throttled per account name
 * and per source address; every success, failure and block lands in the history, and
 * the answer to a wrong login or password is always the same.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Invalid } from "../../errors.ts";
import type { Recorder } from "../history/service.ts";
import { authRepo, type UserRow } from "./repo.ts";
import { burnVerifyTime, generatePassword, hashPassword, isStrongPassword, verifyPassword } from "./password.ts";

export interface AuthPolicy {
  idleMs: number;
  absoluteMs: number;
  /** Failures within `windowMs` after which an account name is blocked. */
  maxFailuresPerLogin: number;
  maxFailuresPerIp: number;
  windowMs: number;
}

export const defaultPolicy: AuthPolicy = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
  maxFailuresPerLogin: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
};

export interface AuthDeps {
  db: Database;
  clock: Clock;
  recorder: Recorder;
  policy?: AuthPolicy;
}

export interface SessionUser {
  id: number;
  login: string;
  displayName: string;
  lang: "fr" | "en";
  isSuper: boolean;
  mustChangePassword: boolean;
}

export interface Session {
  idHash: string;
  csrf: string;
  user: SessionUser;
}

export type SignInResult =
  | { ok: true; token: string; session: Session }
  | { ok: false; reason: "failed" }
  | { ok: false; reason: "throttled"; retryMinutes: number };

export function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

export function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

function toSessionUser(u: UserRow): SessionUser {
  const name = `${u.first_name} ${u.last_name}`.trim();
  return {
    id: u.id,
    login: u.login,
    displayName: name || u.login,
    lang: u.lang,
    isSuper: u.is_super === 1,
    mustChangePassword: u.must_change_password === 1,
  };
}

export function createAuthService(deps: AuthDeps) {
  const repo = authRepo(deps.db);
  const policy = deps.policy ?? defaultPolicy;
  const now = () => deps.clock.now();

  /** Minutes until `name` or `ip` may try again, or 0 when neither is blocked. */
  function blockedFor(name: string, ip: string): number {
    const since = now() - policy.windowMs;
    const byLogin = repo.failuresForLogin(name, since, policy.maxFailuresPerLogin);
    const byIp = repo.failuresForIp(ip, since, policy.maxFailuresPerIp);
    let until = 0;
    if (byLogin.length >= policy.maxFailuresPerLogin) until = Math.max(until, byLogin.at(-1)! + policy.windowMs);
    if (byIp.length >= policy.maxFailuresPerIp) until = Math.max(until, byIp.at(-1)! + policy.windowMs);
    return until > now() ? Math.ceil((until - now()) / 60_000) : 0;
  }

  function startSession(user: UserRow, ip: string, userAgent: string): { token: string; session: Session } {
    const token = randomToken();
    const idHash = sha256(token);
    const csrf = randomToken();
    repo.insertSession({ idHash, userId: user.id, csrf, now: now(), ip, userAgent: userAgent.slice(0, 300) });
    return { token, session: { idHash, csrf, user: toSessionUser(user) } };
  }

  return {
    async signIn(input: { login: string; password: string; ip: string; userAgent: string }): Promise<SignInResult> {
      const name = input.login.trim().slice(0, 254);
      const retryMinutes = blockedFor(name, input.ip);
      if (retryMinutes > 0) {
        deps.recorder.record({ module: "auth", action: "history.login.throttled", params: { login: name }, criterion: "user", sourceIp: input.ip });
        return { ok: false, reason: "throttled", retryMinutes };
      }
      const user = name ? repo.findUserByLoginOrEmail(name) : null;
      const valid = user && user.disabled === 0 ? await verifyPassword(input.password, user.password_hash) : (await burnVerifyTime(input.password), false);
      if (!user || !valid) {
        repo.insertFailure(name, input.ip, now());
        deps.recorder.record({ module: "auth", action: "history.login.failure", params: { login: name }, criterion: "user", sourceIp: input.ip });
        return { ok: false, reason: "failed" };
      }
      repo.clearFailuresForLogin(name);
      deps.recorder.record({
        module: "auth", action: "history.login.success", params: { login: user.login }, criterion: "user",
        userId: user.id, userLogin: user.login, sourceIp: input.ip, target: { type: "user", id: user.id, name: user.login },
      });
      return { ok: true, ...startSession(user, input.ip, input.userAgent) };
    },

    /** The live session for a browser token, or null when unknown or expired (then removed). */
    resolve(token: string | undefined): Session | null {
      if (!token || token.length > 100) return null;
      const idHash = sha256(token);
      const row = repo.findSession(idHash);
      if (!row) return null;
      const t = now();
      if (t - row.last_seen_at > policy.idleMs || t - row.created_at > policy.absoluteMs) {
        repo.deleteSession(idHash);
        return null;
      }
      const user = repo.findUserById(row.user_id);
      if (!user || user.disabled) {
        repo.deleteSession(idHash);
        return null;
      }
      // One write a minute at most: reading pages should not mean writing the database.
      if (t - row.last_seen_at > 60_000) repo.touchSession(idHash, t);
      return { idHash, csrf: row.csrf_token, user: toSessionUser(user) };
    },

    signOut(session: Session, ip: string): void {
      repo.deleteSession(session.idHash);
      deps.recorder.record({
        module: "auth", action: "history.logout", params: { login: session.user.login }, criterion: "user",
        userId: session.user.id, userLogin: session.user.login, sourceIp: ip,
      });
    },

    async changePassword(session: Session, input: { current: string; password: string; confirm: string }, ip: string): Promise<void> {
      const user = repo.findUserById(session.user.id);
      if (!user) throw new Invalid({ current: "password.wrongCurrent" });
      if (!(await verifyPassword(input.current, user.password_hash))) throw new Invalid({ current: "password.wrongCurrent" });
      if (!isStrongPassword(input.password)) throw new Invalid({ password: "password.weak" });
      if (input.password !== input.confirm) throw new Invalid({ confirm: "password.mismatch" });
      if (input.password === input.current) throw new Invalid({ password: "password.sameAsOld" });
      repo.updatePassword(user.id, await hashPassword(input.password), false, now());
      // Other browsers signed in with the old password are signed out.
      repo.deleteOtherSessions(user.id, session.idHash);
      deps.recorder.record({
        module: "auth", action: "history.password.changed", params: { login: user.login }, criterion: "user",
        userId: user.id, userLogin: user.login, sourceIp: ip, target: { type: "user", id: user.id, name: user.login },
      });
    },

    setLanguage(userId: number, lang: "fr" | "en"): void {
      repo.updateLang(userId, lang, now());
    },

    /**
     * First start: creates the super-administrator `root` when there is no account yet.
     * Returns the generated password (to print once), or null when one was given or root exists.
     */
    async ensureRoot(adminPassword: string | undefined): Promise<string | null> {
      if (repo.countUsers() > 0) return null;
      const password = adminPassword ?? generatePassword();
      repo.insertUser({
        login: "root", email: null, hash: await hashPassword(password), firstName: "", lastName: "",
        isSuper: true, mustChange: adminPassword === undefined, now: now(),
      });
      deps.recorder.record({ module: "system", action: "history.firstStart", who: "medulla" });
      return adminPassword === undefined ? password : null;
    },

    /** `medulla admin reset-password <login>`: a new generated password, to change at next sign-in. */
    async resetPassword(login: string): Promise<string> {
      const user = repo.findUserByLoginOrEmail(login);
      if (!user || user.login.toLowerCase() !== login.toLowerCase()) throw new Error(`no user with login "${login}"`);
      const password = generatePassword();
      repo.updatePassword(user.id, await hashPassword(password), true, now());
      repo.clearFailuresForLogin(user.login);
      repo.deleteOtherSessions(user.id, "");
      deps.recorder.record({ module: "auth", action: "history.password.reset", params: { login: user.login }, who: "medulla admin", target: { type: "user", id: user.id, name: user.login } });
      return password;
    },

    /** Housekeeping run by the scheduler: expired sessions and old failures. */
    purge(): { sessions: number; failures: number } {
      const t = now();
      return {
        sessions: repo.deleteExpiredSessions(t - policy.idleMs, t - policy.absoluteMs),
        failures: repo.purgeFailures(t - 24 * 3_600_000),
      };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
