/**
 * @module net/xmpp/accounts
 * The relay's accounts (`xmpp_accounts`): a password goes in once and only its SCRAM keys
 * (SHA-1 and SHA-256, one salt, RFC 5802/7677) are stored. Usernames are the local part of
 * the JID, kept in lower case. A disabled account still exists (its machine keeps its
 * record) but cannot authenticate; cutting its live connections is the channel's
 * `disconnect`. Its shape also serves the machines feature's `AgentAccounts`.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { isValidLocal } from "./jid.ts";
import type { StoredAccount } from "./sasl.ts";
import { deriveCredentials } from "./scram.ts";

export type AccountKind = "agent" | "server" | "component";

export interface AccountRow {
  username: string;
  kind: AccountKind;
  machineId: number | null;
  isDisabled: boolean;
  createdAt: number;
}

export class InvalidUsername extends Error {
  override name = "InvalidUsername";
}

interface Row {
  username: string;
  kind: AccountKind;
  machine_id: number | null;
  iterations: number;
  salt: Uint8Array;
  sha1_stored_key: Uint8Array;
  sha1_server_key: Uint8Array;
  sha256_stored_key: Uint8Array;
  sha256_server_key: Uint8Array;
  disabled: number;
  created_at: number;
}

export function createAccounts(db: Database, clock: Clock, options: { iterations?: number } = {}) {
  const iterations = options.iterations ?? 4096;
  const q = {
    upsert: db.query(
      `INSERT INTO xmpp_accounts (username, kind, machine_id, iterations, salt, sha1_stored_key, sha1_server_key, sha256_stored_key, sha256_server_key, disabled, created_at)
       VALUES ($username, $kind, $machineId, $iterations, $salt, $sha1Stored, $sha1Server, $sha256Stored, $sha256Server, 0, $now)
       ON CONFLICT (username) DO UPDATE SET kind = excluded.kind, machine_id = excluded.machine_id, iterations = excluded.iterations,
         salt = excluded.salt, sha1_stored_key = excluded.sha1_stored_key, sha1_server_key = excluded.sha1_server_key,
         sha256_stored_key = excluded.sha256_stored_key, sha256_server_key = excluded.sha256_server_key`,
    ),
    setKeys: db.query(
      `UPDATE xmpp_accounts SET iterations = $iterations, salt = $salt, sha1_stored_key = $sha1Stored, sha1_server_key = $sha1Server,
         sha256_stored_key = $sha256Stored, sha256_server_key = $sha256Server WHERE username = $username`,
    ),
    findByUsername: db.query("SELECT * FROM xmpp_accounts WHERE username = $username"),
    setDisabled: db.query("UPDATE xmpp_accounts SET disabled = $disabled WHERE username = $username"),
    remove: db.query("DELETE FROM xmpp_accounts WHERE username = $username"),
  };

  const normalize = (username: string): string => {
    const name = username.normalize("NFC").toLowerCase();
    if (!isValidLocal(name) || name.length > 255) throw new InvalidUsername(`not a valid account name: ${JSON.stringify(username.slice(0, 80))}`);
    return name;
  };

  const keyParams = (username: string, password: string) => {
    const c = deriveCredentials(password, iterations);
    return {
      username, iterations: c.iterations, salt: c.salt,
      sha1Stored: c.sha1.storedKey, sha1Server: c.sha1.serverKey, sha256Stored: c.sha256.storedKey, sha256Server: c.sha256.serverKey,
    };
  };

  return {
    /** Creates the account, or replaces the keys (and enables) of an existing one. */
    create(username: string, password: string, machineId: number | null = null, kind: AccountKind = "agent"): void {
      const name = normalize(username);
      q.upsert.run({ ...keyParams(name, password), kind, machineId, now: clock.now() });
      q.setDisabled.run({ username: name, disabled: 0 });
    },

    /** New password; false when there is no such account. */
    setPassword(username: string, password: string): boolean {
      return q.setKeys.run(keyParams(normalize(username), password)).changes > 0;
    },

    /** What authentication needs, or null for an unknown (or invalid) name. */
    credentials(username: string): StoredAccount | null {
      const name = username.normalize("NFC").toLowerCase();
      const r = q.findByUsername.get({ username: name }) as Row | null;
      if (!r) return null;
      return {
        salt: r.salt, iterations: r.iterations, isDisabled: r.disabled === 1,
        sha1: { storedKey: r.sha1_stored_key, serverKey: r.sha1_server_key },
        sha256: { storedKey: r.sha256_stored_key, serverKey: r.sha256_server_key },
      };
    },

    get(username: string): AccountRow | null {
      const r = q.findByUsername.get({ username: username.normalize("NFC").toLowerCase() }) as Row | null;
      return r && { username: r.username, kind: r.kind, machineId: r.machine_id, isDisabled: r.disabled === 1, createdAt: r.created_at };
    },

    setDisabled(username: string, disabled: boolean): boolean {
      return q.setDisabled.run({ username: normalize(username), disabled: disabled ? 1 : 0 }).changes > 0;
    },

    disable(username: string): boolean {
      return this.setDisabled(username, true);
    },

    enable(username: string): boolean {
      return this.setDisabled(username, false);
    },

    remove(username: string): boolean {
      return q.remove.run({ username: normalize(username) }).changes > 0;
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
