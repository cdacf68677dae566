/**
 * @module auth/service
 * Sign-in, sessions and passwords. Sessions live on the server: the browser holds only a
 * random token whose SHA-256 is the row's key. Sessions end after `idleMs` without a
 * request or `absoluteMs` after sign-in. An account with a second factor signs in in two
 * steps: the password opens a pending session that grants nothing and lasts five minutes,
 * and only a valid code turns it into a session (under a new token). Failed sign-ins
 * (passwords and codes, on pages and over the API) are throttled per account name and per
 * source address; every success, failure and block lands in the history, and the answer
 * to a wrong login or password is always the same.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Invalid, NotFound } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { Recorder } from "../history/service.ts";
import { authRepo, type SessionRow, type UserRow } from "./repo.ts";
import { burnVerifyTime, generatePassword, hashPassword, isStrongPassword, verifyPassword } from "./password.ts";
import { createSecondFactor } from "./second-factor.ts";
import { createThrottle, type ThrottlePolicy } from "./throttle.ts";

export interface AuthPolicy extends ThrottlePolicy {
  idleMs: number;
  absoluteMs: number;
  /** How long the password step of a two-step sign-in waits for its code. */
  secondStepMs?: number;
}

export const defaultPolicy: AuthPolicy = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
  maxFailuresPerLogin: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
  secondStepMs: 5 * 60_000,
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
  totpEnabled: boolean;
}

/**
 * Who a request acts for. A browser session (`via: "cookie"`, checked against its CSRF
 * token) or an API token (`via: "bearer"`: no cookie, no CSRF); rights are checked on
 * `user` alike.
 */
export interface Session {
  idHash: string;
  csrf: string;
  via: "cookie" | "bearer";
  /** The API token behind a bearer principal. */
  tokenId?: number;
  user: SessionUser;
}

export interface SessionInfo {
  handle: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string;
  userAgent: string;
  current: boolean;
}

type Refused = { ok: false; reason: "failed" } | { ok: false; reason: "throttled"; retryMinutes: number };

export type SignInResult =
  | { ok: true; step: "done"; token: string; session: Session }
  | { ok: true; step: "second_factor"; pendingToken: string }
  | Refused;

export type SecondStepResult = { ok: true; token: string; session: Session } | Refused | { ok: false; reason: "expired" };

export type CredentialsResult = { ok: true; user: SessionUser } | Refused | { ok: false; reason: "otp_required" };

export function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

export function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

/** The short, non-secret handle of a session shown on the account page. */
export function sessionHandle(idHash: string): string {
  return idHash.slice(0, 16);
}

export function toSessionUser(u: UserRow): SessionUser {
  const name = `${u.first_name} ${u.last_name}`.trim();
  return {
    id: u.id,
    login: u.login,
    displayName: name || u.login,
    lang: u.lang,
    isSuper: u.is_super === 1,
    mustChangePassword: u.must_change_password === 1,
    totpEnabled: u.totp_enabled === 1,
  };
}

export function createAuthService(deps: AuthDeps) {
  const repo = authRepo(deps.db);
  const policy = { ...defaultPolicy, ...deps.policy };
  const now = () => deps.clock.now();
  const throttle = createThrottle(repo, deps.clock, policy);
  const secondFactor = createSecondFactor({ repo, clock: deps.clock, recorder: deps.recorder, throttle });

  function startSession(user: UserRow, ip: string, userAgent: string, pending = false): { token: string; session: Session } {
    const token = randomToken();
    const idHash = sha256(token);
    const csrf = randomToken();
    repo.insertSession({ idHash, userId: user.id, csrf, now: now(), ip, userAgent: userAgent.slice(0, 300), pending });
    return { token, session: { idHash, csrf, via: "cookie", user: toSessionUser(user) } };
  }

  const recordAs = (action: MessageKey, login: string, ip: string, user?: { id: number; login: string }) =>
    deps.recorder.record({
      module: "auth", action, params: { login }, criterion: "user", sourceIp: ip,
      ...(user ? { userId: user.id, userLogin: user.login, target: { type: "user", id: user.id, name: user.login } } : {}),
    });

  /**
   * The password step shared by every way in: refuses a blocked name or address, spends the
   * same time on unknown accounts, counts and records a failure under `failureAction`.
   */
  async function checkPassword(login: string, password: string, ip: string, failureAction: MessageKey): Promise<{ ok: true; user: UserRow } | Refused> {
    const name = login.trim().slice(0, 254);
    const retryMinutes = throttle.blockedFor(name, ip);
    if (retryMinutes > 0) {
      recordAs("history.login.throttled", name, ip);
      return { ok: false, reason: "throttled", retryMinutes };
    }
    const user = name ? repo.findUserByLoginOrEmail(name) : null;
    const valid = user && user.disabled === 0 ? await verifyPassword(password, user.password_hash) : (await burnVerifyTime(password), false);
    if (!user || !valid) {
      throttle.fail(name, ip);
      recordAs(failureAction, name, ip);
      return { ok: false, reason: "failed" };
    }
    return { ok: true, user };
  }

  /** A wrong code: counted against the account and the address like a wrong password. */
  function codeFailed(user: UserRow, ip: string): Refused {
    throttle.fail(user.login, ip);
    recordAs("history.login.otpFailure", user.login, ip, user);
    const retryMinutes = throttle.blockedFor(user.login, ip);
    return retryMinutes > 0 ? { ok: false, reason: "throttled", retryMinutes } : { ok: false, reason: "failed" };
  }

  function signedIn(user: UserRow, ip: string, userAgent: string): { token: string; session: Session } {
    throttle.clear(user.login);
    recordAs("history.login.success", user.login, ip, user);
    return startSession(user, ip, userAgent);
  }

  return {
    secondFactor,

    async signIn(input: { login: string; password: string; ip: string; userAgent: string }): Promise<SignInResult> {
      const checked = await checkPassword(input.login, input.password, input.ip, "history.login.failure");
      if (!checked.ok) return checked;
      const { user } = checked;
      if (user.totp_enabled) {
        const pending = startSession(user, input.ip, input.userAgent, true);
        return { ok: true, step: "second_factor", pendingToken: pending.token };
      }
      throttle.clear(input.login.trim());
      return { ok: true, step: "done", ...signedIn(user, input.ip, input.userAgent) };
    },

    /** The code step of a two-step sign-in; the pending session is spent either way but on a wrong code. */
    secondStep(input: { pendingToken: string | undefined; code: string; ip: string; userAgent: string }): SecondStepResult {
      const token = input.pendingToken;
      const row = token && token.length <= 100 ? repo.findSession(sha256(token)) : null;
      if (!row || !row.second_factor_pending) return { ok: false, reason: "expired" };
      const user = repo.findUserById(row.user_id);
      if (!user || user.disabled || !user.totp_enabled || now() - row.created_at > policy.secondStepMs!) {
        repo.deleteSession(row.id_hash);
        return { ok: false, reason: "expired" };
      }
      const retryMinutes = throttle.blockedFor(user.login, input.ip);
      if (retryMinutes > 0) {
        repo.deleteSession(row.id_hash);
        recordAs("history.login.throttled", user.login, input.ip);
        return { ok: false, reason: "throttled", retryMinutes };
      }
      if (!secondFactor.consume(user, input.code)) {
        const refused = codeFailed(user, input.ip);
        if (refused.reason === "throttled") repo.deleteSession(row.id_hash);
        return refused;
      }
      // A new token for the real session: the pending one never becomes a session itself.
      repo.deleteSession(row.id_hash);
      return { ok: true, ...signedIn(user, input.ip, input.userAgent) };
    },

    /**
     * Login, password and (when the account has one) the second factor in one call, for
     * the API's token request: same throttling and history as the sign-in form.
     */
    async checkCredentials(input: { login: string; password: string; otp?: string; ip: string }): Promise<CredentialsResult> {
      const checked = await checkPassword(input.login, input.password, input.ip, "history.api.failure");
      if (!checked.ok) return checked;
      const { user } = checked;
      if (user.totp_enabled) {
        if (!input.otp) return { ok: false, reason: "otp_required" };
        if (!secondFactor.consume(user, input.otp)) return codeFailed(user, input.ip);
      }
      throttle.clear(input.login.trim());
      throttle.clear(user.login);
      return { ok: true, user: toSessionUser(user) };
    },

    /** An active account by id, as a principal: what an API token acts as. */
    userById(id: number): SessionUser | null {
      const user = repo.findUserById(id);
      return user && !user.disabled ? toSessionUser(user) : null;
    },

    /** The live session for a browser token, or null when unknown or expired (then removed). */
    resolve(token: string | undefined): Session | null {
      if (!token || token.length > 100) return null;
      const idHash = sha256(token);
      const row = repo.findSession(idHash);
      // A session waiting for its second factor grants nothing.
      if (!row || row.second_factor_pending) return null;
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
      return { idHash, csrf: row.csrf_token, via: "cookie", user: toSessionUser(user) };
    },

    /** One's own signed-in browsers, most recently seen first. */
    sessionsOf(session: Session): SessionInfo[] {
      return repo.sessionsOfUser(session.user.id).map((r: SessionRow) => ({
        handle: sessionHandle(r.id_hash), createdAt: r.created_at, lastSeenAt: r.last_seen_at,
        ip: r.source_ip, userAgent: r.user_agent, current: r.id_hash === session.idHash,
      }));
    },

    /** Ends another of one's own sessions, by its handle; the current one ends by signing out. */
    revokeSession(session: Session, handle: string, ip: string): void {
      if (!/^[0-9a-f]{16}$/.test(handle) || repo.deleteUserSessionByPrefix(session.user.id, handle, session.idHash) === 0) throw new NotFound();
      recordAs("history.session.revoked", session.user.login, ip, session.user);
    },

    revokeOtherSessions(session: Session, ip: string): number {
      const n = repo.deleteOtherSessions(session.user.id, session.idHash).changes;
      deps.recorder.record({
        module: "auth", action: "history.session.revokedOthers", params: { login: session.user.login, count: n }, criterion: "user",
        userId: session.user.id, userLogin: session.user.login, sourceIp: ip,
      });
      return n;
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
        sessions: repo.deleteExpiredSessions(t - policy.idleMs, t - policy.absoluteMs, t - policy.secondStepMs!),
        failures: repo.purgeFailures(t - 24 * 3_600_000),
      };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
