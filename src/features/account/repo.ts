/**
 * @module account/repo
 * SQL for API tokens (table api_tokens, owned by this feature), as prepared statements
 * named for intent. Only a token's SHA-256 is stored.
 */
import type { Database } from "bun:sqlite";

export interface TokenRow {
  id: number;
  user_id: number;
  token_hash: string;
  name: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  source_ip: string;
  revoked_at: number | null;
}

export function tokensRepo(db: Database) {
  const q = {
    insert: db.query(
      `INSERT INTO api_tokens (user_id, token_hash, name, created_at, expires_at, source_ip)
       VALUES ($userId, $hash, $name, $now, $expiresAt, $ip) RETURNING id`,
    ),
    findByHash: db.query("SELECT * FROM api_tokens WHERE token_hash = $hash"),
    findById: db.query("SELECT * FROM api_tokens WHERE id = $id"),
    // Keyset paging, newest first: `before` is the id of the last token of the previous page.
    activeOfUser: db.query(
      `SELECT * FROM api_tokens
       WHERE user_id = $userId AND revoked_at IS NULL AND expires_at > $now AND ($before IS NULL OR id < $before)
       ORDER BY id DESC LIMIT $limit`,
    ),
    touch: db.query("UPDATE api_tokens SET last_used_at = $now, source_ip = $ip WHERE id = $id"),
    revoke: db.query("UPDATE api_tokens SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL"),
    purge: db.query("DELETE FROM api_tokens WHERE expires_at < $before OR revoked_at < $before"),
  };
  return {
    insert: (t: { userId: number; hash: string; name: string; now: number; expiresAt: number; ip: string }) =>
      (q.insert.get(t) as { id: number }).id,
    findByHash: (hash: string) => q.findByHash.get({ hash }) as TokenRow | null,
    findById: (id: number) => q.findById.get({ id }) as TokenRow | null,
    activeOfUser: (userId: number, now: number, limit: number, before: number | null) =>
      q.activeOfUser.all({ userId, now, limit, before }) as TokenRow[],
    touch: (id: number, now: number, ip: string) => q.touch.run({ id, now, ip }),
    revoke: (id: number, now: number) => q.revoke.run({ id, now }).changes === 1,
    purge: (before: number) => q.purge.run({ before }).changes,
  };
}

export type TokensRepo = ReturnType<typeof tokensRepo>;
