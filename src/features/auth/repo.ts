/**
 * @module auth/repo
 * SQL for accounts, sessions, sign-in failures, the second factor of sign-in and the one
 * setting that enforces it, as prepared statements named for intent.
 */
import type { Database } from "bun:sqlite";

export interface UserRow {
  id: number;
  login: string;
  email: string | null;
  password_hash: string;
  first_name: string;
  last_name: string;
  lang: "fr" | "en";
  is_super: number;
  must_change_password: number;
  disabled: number;
  totp_secret: string | null;
  totp_enabled: number;
  totp_last_step: number;
}

export interface SessionRow {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  source_ip: string;
  user_agent: string;
  second_factor_pending: number;
}

/** The setting (settings table) that sends super-administrators without TOTP to enroll. */
export const TOTP_REQUIRED_SETTING = "security.totp_required_for_admins";

export function authRepo(db: Database) {
  const q = {
    countUsers: db.query("SELECT count(*) AS n FROM users"),
    findUserByLoginOrEmail: db.query(
      "SELECT * FROM users WHERE login = $name OR (email = $name AND email <> '') ORDER BY login = $name DESC LIMIT 1",
    ),
    findUserById: db.query("SELECT * FROM users WHERE id = $id"),
    insertUser: db.query(
      `INSERT INTO users (login, email, password_hash, first_name, last_name, is_super, must_change_password, created_at, updated_at)
       VALUES ($login, $email, $hash, $firstName, $lastName, $isSuper, $mustChange, $now, $now) RETURNING id`,
    ),
    updatePassword: db.query(
      "UPDATE users SET password_hash = $hash, must_change_password = $mustChange, updated_at = $now WHERE id = $id",
    ),
    updateLang: db.query("UPDATE users SET lang = $lang, updated_at = $now WHERE id = $id"),
    insertSession: db.query(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, source_ip, user_agent, second_factor_pending)
       VALUES ($idHash, $userId, $csrf, $now, $now, $ip, $userAgent, $pending)`,
    ),
    sessionsOfUser: db.query(
      "SELECT * FROM sessions WHERE user_id = $userId AND second_factor_pending = 0 ORDER BY last_seen_at DESC, id_hash LIMIT 200",
    ),
    deleteUserSessionByPrefix: db.query(
      "DELETE FROM sessions WHERE user_id = $userId AND substr(id_hash, 1, 16) = $prefix AND id_hash <> $keep",
    ),
    setTotpSecret: db.query("UPDATE users SET totp_secret = $secret, totp_enabled = 0, updated_at = $now WHERE id = $id"),
    enableTotp: db.query("UPDATE users SET totp_enabled = 1, updated_at = $now WHERE id = $id AND totp_secret IS NOT NULL"),
    disableTotp: db.query("UPDATE users SET totp_secret = NULL, totp_enabled = 0, updated_at = $now WHERE id = $id"),
    // Compare-and-set: two requests with the same code cannot both consume its step.
    consumeTotpStep: db.query("UPDATE users SET totp_last_step = $step WHERE id = $id AND totp_last_step < $step"),
    getSetting: db.query("SELECT value FROM settings WHERE key = $key"),
    putSetting: db.query(
      "INSERT INTO settings (key, value, updated_at) VALUES ($key, $value, $now) ON CONFLICT (key) DO UPDATE SET value = $value, updated_at = $now",
    ),
    findSession: db.query("SELECT * FROM sessions WHERE id_hash = $idHash"),
    touchSession: db.query("UPDATE sessions SET last_seen_at = $now WHERE id_hash = $idHash"),
    deleteSession: db.query("DELETE FROM sessions WHERE id_hash = $idHash"),
    deleteUserSessions: db.query("DELETE FROM sessions WHERE user_id = $userId AND id_hash <> $keep"),
    deleteExpiredSessions: db.query(
      `DELETE FROM sessions WHERE last_seen_at < $idleBefore OR created_at < $createdBefore
       OR (second_factor_pending = 1 AND created_at < $pendingBefore)`,
    ),
    insertFailure: db.query("INSERT INTO login_failures (login, source_ip, at) VALUES ($login, $ip, $at)"),
    failuresForLogin: db.query(
      "SELECT at FROM login_failures WHERE login = $login AND at >= $since ORDER BY at DESC LIMIT $limit",
    ),
    failuresForIp: db.query(
      "SELECT at FROM login_failures WHERE source_ip = $ip AND at >= $since ORDER BY at DESC LIMIT $limit",
    ),
    clearFailuresForLogin: db.query("DELETE FROM login_failures WHERE login = $login"),
    purgeFailures: db.query("DELETE FROM login_failures WHERE at < $before"),
  };
  return {
    countUsers: () => (q.countUsers.get() as { n: number }).n,
    findUserByLoginOrEmail: (name: string) => q.findUserByLoginOrEmail.get({ name }) as UserRow | null,
    findUserById: (id: number) => q.findUserById.get({ id }) as UserRow | null,
    insertUser: (u: { login: string; email: string | null; hash: string; firstName: string; lastName: string; isSuper: boolean; mustChange: boolean; now: number }) =>
      (q.insertUser.get({ ...u, isSuper: u.isSuper ? 1 : 0, mustChange: u.mustChange ? 1 : 0 }) as { id: number }).id,
    updatePassword: (id: number, hash: string, mustChange: boolean, now: number) =>
      q.updatePassword.run({ id, hash, mustChange: mustChange ? 1 : 0, now }),
    updateLang: (id: number, lang: "fr" | "en", now: number) => q.updateLang.run({ id, lang, now }),
    insertSession: (s: { idHash: string; userId: number; csrf: string; now: number; ip: string; userAgent: string; pending: boolean }) =>
      q.insertSession.run({ ...s, pending: s.pending ? 1 : 0 }),
    sessionsOfUser: (userId: number) => q.sessionsOfUser.all({ userId }) as SessionRow[],
    deleteUserSessionByPrefix: (userId: number, prefix: string, keep: string) =>
      q.deleteUserSessionByPrefix.run({ userId, prefix, keep }).changes,
    setTotpSecret: (id: number, secret: string, now: number) => q.setTotpSecret.run({ id, secret, now }),
    enableTotp: (id: number, now: number) => q.enableTotp.run({ id, now }).changes,
    disableTotp: (id: number, now: number) => q.disableTotp.run({ id, now }),
    consumeTotpStep: (id: number, step: number) => q.consumeTotpStep.run({ id, step }).changes === 1,
    getSetting: (key: string) => (q.getSetting.get({ key }) as { value: string } | null)?.value ?? null,
    putSetting: (key: string, value: string, now: number) => q.putSetting.run({ key, value, now }),
    findSession: (idHash: string) => q.findSession.get({ idHash }) as SessionRow | null,
    touchSession: (idHash: string, now: number) => q.touchSession.run({ idHash, now }),
    deleteSession: (idHash: string) => q.deleteSession.run({ idHash }),
    deleteOtherSessions: (userId: number, keep: string) => q.deleteUserSessions.run({ userId, keep }),
    deleteExpiredSessions: (idleBefore: number, createdBefore: number, pendingBefore: number) =>
      q.deleteExpiredSessions.run({ idleBefore, createdBefore, pendingBefore }).changes,
    insertFailure: (login: string, ip: string, at: number) => q.insertFailure.run({ login, ip, at }),
    failuresForLogin: (login: string, since: number, limit: number) =>
      (q.failuresForLogin.all({ login, since, limit }) as { at: number }[]).map((r) => r.at),
    failuresForIp: (ip: string, since: number, limit: number) =>
      (q.failuresForIp.all({ ip, since, limit }) as { at: number }[]).map((r) => r.at),
    clearFailuresForLogin: (login: string) => q.clearFailuresForLogin.run({ login }),
    purgeFailures: (before: number) => q.purgeFailures.run({ before }).changes,
  };
}

export type AuthRepo = ReturnType<typeof authRepo>;
