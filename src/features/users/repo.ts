/**
 * @module users/repo
 * SQL for the users list and form, their entity grants, secondary groups and keys.
 */
import type { Database } from "bun:sqlite";

export interface UserListRow {
  id: number;
  login: string;
  first_name: string;
  last_name: string;
  email: string | null;
  phone: string;
  mobile: string;
  is_super: number;
  disabled: number;
  has_photo: number;
}

export interface UserRecord extends UserListRow {
  primary_group_id: number | null;
  is_public: number;
  is_recursive: number;
  has_statistics: number;
  lang: "fr" | "en";
  totp_enabled: number;
}

export interface UserWrite {
  login: string;
  email: string | null;
  firstName: string;
  lastName: string;
  phone: string;
  mobile: string;
  primaryGroupId: number | null;
  isSuper: boolean;
  isPublic: boolean;
  isRecursive: boolean;
  hasStatistics: boolean;
}

const flags = (u: UserWrite) => ({
  ...u,
  isSuper: u.isSuper ? 1 : 0,
  isPublic: u.isPublic ? 1 : 0,
  isRecursive: u.isRecursive ? 1 : 0,
  hasStatistics: u.hasStatistics ? 1 : 0,
});

export function usersRepo(db: Database) {
  const cols = "id, login, first_name, last_name, email, phone, mobile, is_super, disabled, photo IS NOT NULL AS has_photo";
  const q = {
    list: db.query(
      `SELECT ${cols} FROM users
       WHERE id > $after AND ($search = '' OR login LIKE $like ESCAPE '\\' OR first_name LIKE $like ESCAPE '\\' OR last_name LIKE $like ESCAPE '\\'
              OR email LIKE $like ESCAPE '\\' OR phone LIKE $like ESCAPE '\\' OR mobile LIKE $like ESCAPE '\\')
       ORDER BY id LIMIT $limit`,
    ),
    find: db.query(`SELECT ${cols}, primary_group_id, is_public, is_recursive, has_statistics, lang, totp_enabled FROM users WHERE id = $id`),
    findByLogin: db.query("SELECT id FROM users WHERE login = $login"),
    findByEmail: db.query("SELECT id FROM users WHERE email = $email AND email <> ''"),
    insert: db.query(
      `INSERT INTO users (login, email, password_hash, first_name, last_name, phone, mobile, primary_group_id, is_super, is_public, is_recursive, has_statistics, must_change_password, created_at, updated_at)
       VALUES ($login, $email, $hash, $firstName, $lastName, $phone, $mobile, $primaryGroupId, $isSuper, $isPublic, $isRecursive, $hasStatistics, $mustChange, $now, $now) RETURNING id`,
    ),
    update: db.query(
      `UPDATE users SET login = $login, email = $email, first_name = $firstName, last_name = $lastName, phone = $phone, mobile = $mobile,
         primary_group_id = $primaryGroupId, is_super = $isSuper, is_public = $isPublic, is_recursive = $isRecursive, has_statistics = $hasStatistics, updated_at = $now
       WHERE id = $id`,
    ),
    setPassword: db.query("UPDATE users SET password_hash = $hash, must_change_password = $mustChange, updated_at = $now WHERE id = $id"),
    setPhoto: db.query("UPDATE users SET photo = $photo, photo_type = $type, updated_at = $now WHERE id = $id"),
    photo: db.query("SELECT photo, photo_type FROM users WHERE id = $id AND photo IS NOT NULL"),
    remove: db.query("DELETE FROM users WHERE id = $id"),
    countSupers: db.query("SELECT count(*) AS n FROM users WHERE is_super = 1 AND disabled = 0"),
    entities: db.query("SELECT entity_id FROM user_entities WHERE user_id = $id ORDER BY entity_id"),
    clearEntities: db.query("DELETE FROM user_entities WHERE user_id = $id"),
    addEntity: db.query("INSERT INTO user_entities (user_id, entity_id) VALUES ($id, $entityId)"),
    secondary: db.query("SELECT group_id FROM user_group_members WHERE user_id = $id ORDER BY group_id"),
    clearSecondary: db.query("DELETE FROM user_group_members WHERE user_id = $id"),
    addSecondary: db.query("INSERT OR IGNORE INTO user_group_members (group_id, user_id) VALUES ($groupId, $id)"),
    grants: db.query("SELECT key FROM user_grants WHERE user_id = $id ORDER BY key"),
    clearGrants: db.query("DELETE FROM user_grants WHERE user_id = $id"),
    addGrant: db.query("INSERT INTO user_grants (user_id, key) VALUES ($id, $key)"),
    effectiveGrants: db.query(
      `SELECT key FROM user_grants WHERE user_id = $id
       UNION SELECT gg.key FROM group_grants gg JOIN users u ON u.primary_group_id = gg.group_id WHERE u.id = $id
       UNION SELECT gg.key FROM group_grants gg JOIN user_group_members m ON m.group_id = gg.group_id WHERE m.user_id = $id`,
    ),
    inheritedGrants: db.query(
      `SELECT gg.key, g.name FROM group_grants gg JOIN user_groups g ON g.id = gg.group_id
       WHERE g.id IN (SELECT primary_group_id FROM users WHERE id = $id UNION SELECT group_id FROM user_group_members WHERE user_id = $id)
       ORDER BY gg.key, g.name`,
    ),
    recursive: db.query("SELECT is_recursive FROM users WHERE id = $id"),
  };
  return {
    list: (search: string, after: number, limit: number) =>
      q.list.all({ search, like: `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, after, limit }) as UserListRow[],
    find: (id: number) => q.find.get({ id }) as UserRecord | null,
    findByLogin: (login: string) => q.findByLogin.get({ login }) as { id: number } | null,
    findByEmail: (email: string) => q.findByEmail.get({ email }) as { id: number } | null,
    insert: (u: UserWrite & { hash: string; mustChange: boolean; now: number }) =>
      (q.insert.get({ ...flags(u), mustChange: u.mustChange ? 1 : 0 }) as { id: number }).id,
    update: (id: number, u: UserWrite, now: number) => q.update.run({ ...flags(u), id, now }),
    setPassword: (id: number, hash: string, mustChange: boolean, now: number) => q.setPassword.run({ id, hash, mustChange: mustChange ? 1 : 0, now }),
    setPhoto: (id: number, photo: Uint8Array | null, type: string | null, now: number) => q.setPhoto.run({ id, photo, type, now }),
    photo: (id: number) => q.photo.get({ id }) as { photo: Uint8Array; photo_type: string } | null,
    remove: (id: number) => q.remove.run({ id }),
    countSupers: () => (q.countSupers.get() as { n: number }).n,
    entities: (id: number) => (q.entities.all({ id }) as { entity_id: number }[]).map((r) => r.entity_id),
    setEntities: (id: number, ids: number[]) => {
      q.clearEntities.run({ id });
      for (const entityId of ids) q.addEntity.run({ id, entityId });
    },
    secondary: (id: number) => (q.secondary.all({ id }) as { group_id: number }[]).map((r) => r.group_id),
    setSecondary: (id: number, ids: number[]) => {
      q.clearSecondary.run({ id });
      for (const groupId of ids) q.addSecondary.run({ id, groupId });
    },
    grants: (id: number) => (q.grants.all({ id }) as { key: string }[]).map((r) => r.key),
    setGrants: (id: number, keys: string[]) => {
      q.clearGrants.run({ id });
      for (const key of keys) q.addGrant.run({ id, key });
    },
    effectiveGrants: (id: number) => new Set((q.effectiveGrants.all({ id }) as { key: string }[]).map((r) => r.key)),
    inheritedGrants: (id: number) => q.inheritedGrants.all({ id }) as { key: string; name: string }[],
    isRecursive: (id: number) => (q.recursive.get({ id }) as { is_recursive: number } | null)?.is_recursive === 1,
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;
