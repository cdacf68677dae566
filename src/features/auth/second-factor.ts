/**
 * @module auth/second-factor
 * The second factor of sign-in (TOTP, see ./totp.ts): enrolling (a secret stored but not
 * active until a code proves the app has it), disabling (a current code or the password),
 * consuming a code once, and the setting that makes it compulsory for super-administrators.
 * Every wrong code or password here counts towards sign-in throttling: a stolen session
 * must not become a way to guess the password or the codes.
 */
import type { Clock } from "../../clock.ts";
import { Conflict, Forbidden, Invalid, TooManyRequests } from "../../errors.ts";
import type { Recorder } from "../history/service.ts";
import { verifyPassword } from "./password.ts";
import { TOTP_REQUIRED_SETTING, type AuthRepo, type UserRow } from "./repo.ts";
import type { Throttle } from "./throttle.ts";
import { base32Decode, generateSecret, matchStep, otpauthUri } from "./totp.ts";

export interface Actor {
  id: number;
  login: string;
  isSuper: boolean;
  totpEnabled: boolean;
}

export interface TotpState {
  enabled: boolean;
  /** While enrolling: the secret and its otpauth:// URI, to show until confirmed. */
  pending: { secret: string; uri: string } | null;
}

export function createSecondFactor(deps: { repo: AuthRepo; clock: Clock; recorder: Recorder; throttle: Throttle }) {
  const { repo, clock, recorder, throttle } = deps;
  const now = () => clock.now();

  const audit = (actor: Actor, ip: string, action: "history.totp.enabled" | "history.totp.disabled") =>
    recorder.record({
      module: "auth", action, params: { login: actor.login }, criterion: "user",
      userId: actor.id, userLogin: actor.login, sourceIp: ip, target: { type: "user", id: actor.id, name: actor.login },
    });

  function userOf(actor: Actor): UserRow {
    const user = repo.findUserById(actor.id);
    if (!user || user.disabled) throw new Forbidden();
    return user;
  }

  function refuseWhileBlocked(login: string, ip: string): void {
    const minutes = throttle.blockedFor(login, ip);
    if (minutes > 0) throw new TooManyRequests("login.throttled", { minutes });
  }

  /** True when `code` is valid for the user's secret and its step was not used before; uses it. */
  function consume(user: UserRow, code: string): boolean {
    const key = user.totp_secret ? base32Decode(user.totp_secret) : null;
    if (!key) return false;
    const step = matchStep(key, code, now(), user.totp_last_step);
    return step !== null && repo.consumeTotpStep(user.id, step);
  }

  const requiredForAdmins = () => repo.getSetting(TOTP_REQUIRED_SETTING) === "1";

  return {
    consume,
    requiredForAdmins,

    /** A super-administrator without TOTP while the setting is on: sent to enroll first. */
    mustEnroll(user: { isSuper: boolean; totpEnabled: boolean }): boolean {
      return user.isSuper && !user.totpEnabled && requiredForAdmins();
    },

    state(userId: number, account: string): TotpState {
      const user = repo.findUserById(userId);
      if (!user) return { enabled: false, pending: null };
      if (user.totp_enabled) return { enabled: true, pending: null };
      return { enabled: false, pending: user.totp_secret ? { secret: user.totp_secret, uri: otpauthUri(user.totp_secret, account) } : null };
    },

    /** Starts (or restarts) enrollment with a fresh secret; nothing changes at sign-in yet. */
    begin(actor: Actor): { secret: string; uri: string } {
      const user = userOf(actor);
      if (user.totp_enabled) throw new Conflict("totp.alreadyOn");
      const secret = generateSecret();
      repo.setTotpSecret(user.id, secret, now());
      return { secret, uri: otpauthUri(secret, user.login) };
    },

    confirm(actor: Actor, code: string, ip: string): void {
      const user = userOf(actor);
      if (user.totp_enabled) throw new Conflict("totp.alreadyOn");
      if (!user.totp_secret) throw new Conflict("totp.notEnrolling");
      refuseWhileBlocked(user.login, ip);
      if (!consume(user, code)) {
        throttle.fail(user.login, ip);
        throw new Invalid({ code: "totp.wrongCode" });
      }
      repo.enableTotp(user.id, now());
      audit(actor, ip, "history.totp.enabled");
    },

    /** Needs a current code, or the password (a lost phone); refused while it is compulsory. */
    async disable(actor: Actor, proof: { code?: string; password?: string }, ip: string): Promise<void> {
      const user = userOf(actor);
      if (!user.totp_enabled) throw new Conflict("totp.notOn");
      if (user.is_super && requiredForAdmins()) throw new Conflict("totp.requiredCannotDisable");
      refuseWhileBlocked(user.login, ip);
      const ok = proof.code ? consume(user, proof.code) : proof.password ? await verifyPassword(proof.password, user.password_hash) : false;
      if (!ok) {
        throttle.fail(user.login, ip);
        throw new Invalid({ proof: "totp.wrongProof" });
      }
      repo.disableTotp(user.id, now());
      audit(actor, ip, "history.totp.disabled");
    },

    setRequiredForAdmins(actor: Actor, on: boolean, ip: string): void {
      if (!actor.isSuper) throw new Forbidden();
      repo.putSetting(TOTP_REQUIRED_SETTING, on ? "1" : "0", now());
      recorder.record({
        module: "auth", action: on ? "history.totp.requiredOn" : "history.totp.requiredOff", params: { login: actor.login },
        criterion: "user", userId: actor.id, userLogin: actor.login, sourceIp: ip,
      });
    },
  };
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
