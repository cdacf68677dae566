/**
 * @module auth/throttle
 * The failure counters behind sign-in throttling, per account name and per source
 * address. One set of counters for every way of proving who one is (the sign-in form,
 * its second step, the API's token request): failures anywhere add up everywhere.
 */
import type { Clock } from "../../clock.ts";
import type { AuthRepo } from "./repo.ts";

export interface ThrottlePolicy {
  /** Failures within `windowMs` after which an account name is blocked. */
  maxFailuresPerLogin: number;
  maxFailuresPerIp: number;
  windowMs: number;
}

export function createThrottle(repo: AuthRepo, clock: Clock, policy: ThrottlePolicy) {
  const now = () => clock.now();
  return {
    /** Minutes until `name` or `ip` may try again, or 0 when neither is blocked. */
    blockedFor(name: string, ip: string): number {
      const since = now() - policy.windowMs;
      const byLogin = repo.failuresForLogin(name, since, policy.maxFailuresPerLogin);
      const byIp = repo.failuresForIp(ip, since, policy.maxFailuresPerIp);
      let until = 0;
      if (byLogin.length >= policy.maxFailuresPerLogin) until = Math.max(until, byLogin.at(-1)! + policy.windowMs);
      if (byIp.length >= policy.maxFailuresPerIp) until = Math.max(until, byIp.at(-1)! + policy.windowMs);
      return until > now() ? Math.ceil((until - now()) / 60_000) : 0;
    },
    fail(name: string, ip: string): void {
      repo.insertFailure(name, ip, now());
    },
    /** A complete success forgives the account's earlier failures (not the address's). */
    clear(name: string): void {
      repo.clearFailuresForLogin(name);
    },
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
