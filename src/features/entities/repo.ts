/**
 * @module entities/repo
 * SQL for the entity tree. Subtrees come from recursive CTEs: the tree is small (tens to
 * hundreds of entities), so walking it per request costs nothing worth caching.
 */
import type { Database } from "bun:sqlite";

export interface EntityRow {
  id: number;
  name: string;
  parent_id: number | null;
}

export function entitiesRepo(db: Database) {
  const q = {
    all: db.query("SELECT id, name, parent_id FROM entities ORDER BY name COLLATE NOCASE"),
    find: db.query("SELECT id, name, parent_id FROM entities WHERE id = $id"),
    findByName: db.query("SELECT id, name, parent_id FROM entities WHERE coalesce(parent_id, 0) = $parent AND name = $name COLLATE NOCASE"),
    insert: db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ($name, $parent, $now, $now) RETURNING id"),
    rename: db.query("UPDATE entities SET name = $name, updated_at = $now WHERE id = $id"),
    move: db.query("UPDATE entities SET parent_id = $parent, updated_at = $now WHERE id = $id"),
    remove: db.query("DELETE FROM entities WHERE id = $id"),
    subtree: db.query(
      `WITH RECURSIVE sub(id) AS (SELECT $id UNION SELECT e.id FROM entities e JOIN sub ON e.parent_id = sub.id)
       SELECT id FROM sub`,
    ),
    childCount: db.query("SELECT count(*) AS n FROM entities WHERE parent_id = $id"),
    userCount: db.query("SELECT count(*) AS n FROM user_entities WHERE entity_id = $id"),
    groupCount: db.query("SELECT count(*) AS n FROM user_groups WHERE entity_id = $id"),
  };
  const n = (stmt: typeof q.childCount, id: number) => (stmt.get({ id }) as { n: number }).n;
  return {
    all: () => q.all.all() as EntityRow[],
    find: (id: number) => q.find.get({ id }) as EntityRow | null,
    findByName: (parent: number | null, name: string) => q.findByName.get({ parent: parent ?? 0, name }) as EntityRow | null,
    insert: (name: string, parent: number, now: number) => (q.insert.get({ name, parent, now }) as { id: number }).id,
    rename: (id: number, name: string, now: number) => q.rename.run({ id, name, now }),
    move: (id: number, parent: number, now: number) => q.move.run({ id, parent, now }),
    remove: (id: number) => q.remove.run({ id }),
    subtree: (id: number) => (q.subtree.all({ id }) as { id: number }[]).map((r) => r.id),
    childCount: (id: number) => n(q.childCount, id),
    userCount: (id: number) => n(q.userCount, id),
    groupCount: (id: number) => n(q.groupCount, id),
  };
}
