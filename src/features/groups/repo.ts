/**
 * @module groups/repo
 * SQL for user groups, their members and their granted keys.
 */
import type { Database } from "bun:sqlite";

export interface GroupRow {
  id: number;
  name: string;
  description: string;
  entity_id: number;
  members: number;
}

export function groupsRepo(db: Database) {
  const q = {
    list: db.query(
      `SELECT g.id, g.name, g.description, g.entity_id,
              (SELECT count(*) FROM users u WHERE u.primary_group_id = g.id OR EXISTS (SELECT 1 FROM user_group_members m WHERE m.group_id = g.id AND m.user_id = u.id)) AS members
       FROM user_groups g
       WHERE ($search = '' OR g.name LIKE '%' || $search || '%' ESCAPE '\\' OR g.description LIKE '%' || $search || '%' ESCAPE '\\')
         AND g.name > $after
       ORDER BY g.name LIMIT $limit`,
    ),
    find: db.query(
      `SELECT g.id, g.name, g.description, g.entity_id,
              (SELECT count(*) FROM users u WHERE u.primary_group_id = g.id OR EXISTS (SELECT 1 FROM user_group_members m WHERE m.group_id = g.id AND m.user_id = u.id)) AS members
       FROM user_groups g WHERE g.id = $id`,
    ),
    findByName: db.query("SELECT id FROM user_groups WHERE name = $name"),
    insert: db.query(
      "INSERT INTO user_groups (name, description, entity_id, created_at, updated_at) VALUES ($name, $description, $entityId, $now, $now) RETURNING id",
    ),
    update: db.query("UPDATE user_groups SET name = $name, description = $description, entity_id = $entityId, updated_at = $now WHERE id = $id"),
    remove: db.query("DELETE FROM user_groups WHERE id = $id"),
    members: db.query(
      `SELECT u.id, u.login, u.first_name, u.last_name, (u.primary_group_id = $id) AS is_primary
       FROM users u WHERE u.primary_group_id = $id OR EXISTS (SELECT 1 FROM user_group_members m WHERE m.group_id = $id AND m.user_id = u.id)
       ORDER BY u.login`,
    ),
    addMember: db.query("INSERT OR IGNORE INTO user_group_members (group_id, user_id) VALUES ($groupId, $userId)"),
    removeMember: db.query("DELETE FROM user_group_members WHERE group_id = $groupId AND user_id = $userId"),
    clearPrimary: db.query("UPDATE users SET primary_group_id = NULL WHERE id = $userId AND primary_group_id = $groupId"),
    grants: db.query("SELECT key FROM group_grants WHERE group_id = $id ORDER BY key"),
    clearGrants: db.query("DELETE FROM group_grants WHERE group_id = $id"),
    addGrant: db.query("INSERT INTO group_grants (group_id, key) VALUES ($id, $key)"),
    all: db.query("SELECT id, name FROM user_groups ORDER BY name"),
  };
  return {
    list: (search: string, after: string, limit: number) => q.list.all({ search, after, limit }) as GroupRow[],
    find: (id: number) => q.find.get({ id }) as GroupRow | null,
    findByName: (name: string) => q.findByName.get({ name }) as { id: number } | null,
    insert: (g: { name: string; description: string; entityId: number; now: number }) => (q.insert.get(g) as { id: number }).id,
    update: (g: { id: number; name: string; description: string; entityId: number; now: number }) => q.update.run(g),
    remove: (id: number) => q.remove.run({ id }),
    members: (id: number) => q.members.all({ id }) as { id: number; login: string; first_name: string; last_name: string; is_primary: number }[],
    /** True when the user was not a member yet. */
    addMember: (groupId: number, userId: number) => q.addMember.run({ groupId, userId }).changes > 0,
    /** True when the user was a member (secondary or primary). */
    removeMember: (groupId: number, userId: number) =>
      q.removeMember.run({ groupId, userId }).changes + q.clearPrimary.run({ groupId, userId }).changes > 0,
    grants: (id: number) => (q.grants.all({ id }) as { key: string }[]).map((r) => r.key),
    setGrants: (id: number, keys: string[]) => {
      q.clearGrants.run({ id });
      for (const key of keys) q.addGrant.run({ id, key });
    },
    all: () => q.all.all() as { id: number; name: string }[],
  };
}
