/**
 * @module machine-groups/repo
 * SQL for machine groups, their members, the groups a dynamic query names, favourites and
 * the entered/left events. Lists restrict machines to the reader's entities by parameter.
 */
import type { Database } from "bun:sqlite";

export interface GroupRow {
  id: number;
  name: string;
  kind: "static" | "dynamic";
  query: string | null;
  origin: "manual" | "import";
  description: string;
  created_by: number | null;
  evaluated_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface GroupListRow extends GroupRow {
  members: number;
  favourite: number;
  creator: string | null;
}

export interface MemberRow {
  id: number;
  hostname: string;
  online: number;
  os_name: string;
  os_version: string;
  entity_name: string;
  entity_id: number;
  logged_user: string;
  xmpp_ip: string;
  serial: string;
  agent_version: string;
  last_seen_at: number | null;
  inventoried_at: number | null;
  since: number;
}

export interface EventRow {
  id: number;
  group_id: number;
  machine_id: number;
  change: "entered" | "left";
  at: number;
  hostname: string | null;
}

export function groupsRepo(db: Database) {
  const q = (sql: string) => db.query(sql);
  const st = {
    find: q("SELECT * FROM machine_groups WHERE id = $id"),
    byName: q("SELECT * FROM machine_groups WHERE name = $name COLLATE NOCASE"),
    insert: q(`INSERT INTO machine_groups (name, kind, query, origin, description, created_by, created_at, updated_at)
      VALUES ($name, $kind, $query, $origin, $description, $by, $now, $now) RETURNING id`),
    update: q("UPDATE machine_groups SET name = $name, description = $description, query = $query, updated_at = $now WHERE id = $id"),
    evaluated: q("UPDATE machine_groups SET evaluated_at = $now WHERE id = $id"),
    remove: q("DELETE FROM machine_groups WHERE id = $id"),
    dynamic: q("SELECT * FROM machine_groups WHERE kind = 'dynamic' ORDER BY id"),
    all: q("SELECT id, name, kind FROM machine_groups ORDER BY name COLLATE NOCASE, id"),
    members: q("SELECT machine_id FROM machine_group_members WHERE group_id = $id ORDER BY machine_id"),
    groupsOf: q("SELECT group_id FROM machine_group_members WHERE machine_id = $id ORDER BY group_id"),
    isMember: q("SELECT 1 AS x FROM machine_group_members WHERE group_id = $g AND machine_id = $m"),
    addMember: q("INSERT OR IGNORE INTO machine_group_members (group_id, machine_id, since) VALUES ($g, $m, $now)"),
    removeMember: q("DELETE FROM machine_group_members WHERE group_id = $g AND machine_id = $m"),
    event: q("INSERT INTO machine_group_events (group_id, machine_id, change, at) VALUES ($g, $m, $change, $now)"),
    refs: q("SELECT group_id, refers_to FROM machine_group_refs"),
    refsOf: q("SELECT refers_to FROM machine_group_refs WHERE group_id = $id"),
    referrers: q("SELECT g.id, g.name FROM machine_group_refs r JOIN machine_groups g ON g.id = r.group_id WHERE r.refers_to = $id ORDER BY g.name"),
    clearRefs: q("DELETE FROM machine_group_refs WHERE group_id = $id"),
    addRef: q("INSERT OR IGNORE INTO machine_group_refs (group_id, refers_to) VALUES ($id, $to)"),
    favourite: q("INSERT OR IGNORE INTO machine_group_favourites (user_id, group_id) VALUES ($u, $g)"),
    unfavourite: q("DELETE FROM machine_group_favourites WHERE user_id = $u AND group_id = $g"),
    favourites: q(`SELECT g.id, g.name FROM machine_group_favourites f JOIN machine_groups g ON g.id = f.group_id
      WHERE f.user_id = $u ORDER BY g.name COLLATE NOCASE LIMIT 50`),
    isFavourite: q("SELECT 1 AS x FROM machine_group_favourites WHERE user_id = $u AND group_id = $g"),
    events: q(`SELECT ev.*, m.hostname FROM machine_group_events ev LEFT JOIN machines m ON m.id = ev.machine_id
      WHERE ev.group_id = $g AND ($before IS NULL OR ev.id < $before) ORDER BY ev.id DESC LIMIT $limit`),
    eventsAfter: q("SELECT * FROM machine_group_events WHERE id > $after ORDER BY id LIMIT $limit"),
    openGroupsOf: q(`SELECT group_id FROM machine_group_events WHERE machine_id = $m GROUP BY group_id
      HAVING max(CASE WHEN change = 'entered' THEN id END) > coalesce(max(CASE WHEN change = 'left' THEN id END), 0)`),
  };

  return {
    find: (id: number) => st.find.get({ id }) as GroupRow | null,
    findByName: (name: string) => st.byName.get({ name }) as GroupRow | null,
    insert: (g: { name: string; kind: string; query: string | null; origin: string; description: string; by: number | null }, now: number) =>
      (st.insert.get({ ...g, now }) as { id: number }).id,
    update: (id: number, g: { name: string; description: string; query: string | null }, now: number) => st.update.run({ id, ...g, now }),
    evaluated: (id: number, now: number) => st.evaluated.run({ id, now }),
    remove: (id: number) => st.remove.run({ id }),
    dynamic: () => st.dynamic.all() as GroupRow[],
    all: () => st.all.all() as { id: number; name: string; kind: string }[],
    members: (id: number) => (st.members.all({ id }) as { machine_id: number }[]).map((r) => r.machine_id),
    groupsOf: (id: number) => (st.groupsOf.all({ id }) as { group_id: number }[]).map((r) => r.group_id),
    isMember: (g: number, m: number) => st.isMember.get({ g, m }) !== null,
    addMember: (g: number, m: number, now: number) => st.addMember.run({ g, m, now }).changes > 0,
    removeMember: (g: number, m: number) => st.removeMember.run({ g, m }).changes > 0,
    event: (g: number, m: number, change: "entered" | "left", now: number) => st.event.run({ g, m, change, now }),
    refs: () => st.refs.all() as { group_id: number; refers_to: number }[],
    refsOf: (id: number) => (st.refsOf.all({ id }) as { refers_to: number }[]).map((r) => r.refers_to),
    referrers: (id: number) => st.referrers.all({ id }) as { id: number; name: string }[],
    setRefs(id: number, refs: number[]) {
      st.clearRefs.run({ id });
      for (const to of refs) st.addRef.run({ id, to });
    },
    setFavourite: (u: number, g: number, on: boolean) => (on ? st.favourite : st.unfavourite).run({ u, g }),
    favourites: (u: number) => st.favourites.all({ u }) as { id: number; name: string }[],
    isFavourite: (u: number, g: number) => st.isFavourite.get({ u, g }) !== null,
    events: (g: number, before: number | null, limit: number) => st.events.all({ g, before, limit }) as EventRow[],
    /** Old events go, except the last one of each current membership (its "entered"). */
    purgeEvents: (before: number) =>
      db.query(`DELETE FROM machine_group_events WHERE at < $before AND id NOT IN (SELECT max(e.id) FROM machine_group_events e
        JOIN machine_group_members gm ON gm.group_id = e.group_id AND gm.machine_id = e.machine_id GROUP BY e.group_id, e.machine_id)`).run({ before }).changes,
    eventsAfter: (after: number, limit: number) => st.eventsAfter.all({ after, limit }) as Omit<EventRow, "hostname">[],
    /** Groups whose last event for the machine is "entered" (it is in them, or was until deleted). */
    openGroupsOf: (m: number) => (st.openGroupsOf.all({ m }) as { group_id: number }[]).map((r) => r.group_id),

    /** Groups with the number of their members the reader may see, and whether the reader favours each. */
    list(f: { entities: number[]; userId: number; search: string; afterName: string | null; afterId: number | null; limit: number; favouritesOnly: boolean }) {
      return db.query(`SELECT g.*, u.login AS creator,
          (SELECT count(*) FROM machine_group_members gm JOIN machines m ON m.id = gm.machine_id
            WHERE gm.group_id = g.id AND m.entity_id IN (SELECT value FROM json_each($entities))) AS members,
          EXISTS (SELECT 1 FROM machine_group_favourites f WHERE f.group_id = g.id AND f.user_id = $userId) AS favourite
        FROM machine_groups g LEFT JOIN users u ON u.id = g.created_by
        WHERE ($search = '' OR g.name LIKE $like ESCAPE '\\' OR g.description LIKE $like ESCAPE '\\')
          AND ($fav = 0 OR EXISTS (SELECT 1 FROM machine_group_favourites f WHERE f.group_id = g.id AND f.user_id = $userId))
          AND ($afterId IS NULL OR (g.name COLLATE NOCASE, g.id) > ($afterName, $afterId))
        ORDER BY g.name COLLATE NOCASE, g.id LIMIT $limit`).all({
        entities: JSON.stringify(f.entities), userId: f.userId, search: f.search, like: `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
        fav: f.favouritesOnly ? 1 : 0, afterName: f.afterName, afterId: f.afterId, limit: f.limit,
      }) as GroupListRow[];
    },

    /** A group's members the reader may see, by name, keyset-paged. */
    visibleMembers(f: { groupId: number; entities: number[]; search: string; afterName: string | null; afterId: number | null; limit: number }) {
      return db.query(`SELECT m.id, m.hostname, m.online, m.os_name, m.os_version, m.entity_id, e.name AS entity_name, m.logged_user, m.xmpp_ip, m.serial,
          m.agent_version, m.last_seen_at, m.inventoried_at, gm.since
        FROM machine_group_members gm JOIN machines m ON m.id = gm.machine_id JOIN entities e ON e.id = m.entity_id
        WHERE gm.group_id = $g AND m.entity_id IN (SELECT value FROM json_each($entities))
          AND ($search = '' OR m.hostname LIKE $like ESCAPE '\\' OR m.logged_user LIKE $like ESCAPE '\\' OR m.os_name LIKE $like ESCAPE '\\')
          AND ($afterId IS NULL OR (m.hostname COLLATE NOCASE, m.id) > ($afterName, $afterId))
        ORDER BY m.hostname COLLATE NOCASE, m.id LIMIT $limit`).all({
        g: f.groupId, entities: JSON.stringify(f.entities), search: f.search, like: `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
        afterName: f.afterName, afterId: f.afterId, limit: f.limit,
      }) as MemberRow[];
    },

    /** Machines matching a compiled condition, among `among` when given. */
    matching(where: string, params: Record<string, string | number>, among: number[] | null): number[] {
      const only = among === null ? "" : "AND m.id IN (SELECT value FROM json_each($onlyMachines))";
      const rows = db.query(`SELECT m.id FROM machines m WHERE ${where} ${only} ORDER BY m.id`).all({ ...params, ...(among === null ? {} : { onlyMachines: JSON.stringify(among) }) }) as { id: number }[];
      return rows.map((r) => r.id);
    },
    /** Of `ids`, those that still exist. */
    existing: (ids: number[]) =>
      (db.query("SELECT id FROM machines WHERE id IN (SELECT value FROM json_each($ids))").all({ ids: JSON.stringify(ids) }) as { id: number }[]).map((r) => r.id),

    /** Of `ids`, those in the reader's entities. */
    visibleOf(ids: number[], entities: number[]): number[] {
      if (ids.length === 0) return [];
      return (db.query(`SELECT id FROM machines WHERE id IN (SELECT value FROM json_each($ids)) AND entity_id IN (SELECT value FROM json_each($entities)) ORDER BY id`)
        .all({ ids: JSON.stringify(ids), entities: JSON.stringify(entities) }) as { id: number }[]).map((r) => r.id);
    },

    /** Host names of a few machines (previews). */
    names: (ids: number[]) =>
      db.query("SELECT id, hostname FROM machines WHERE id IN (SELECT value FROM json_each($ids)) ORDER BY hostname COLLATE NOCASE").all({ ids: JSON.stringify(ids) }) as { id: number; hostname: string }[],
    distinct: (sql: string) => (db.query(sql).all() as { v: string | null }[]).map((r) => r.v ?? ""),
    addresses: () =>
      (db.query("SELECT DISTINCT ip AS v FROM inv_networks WHERE ip <> '' UNION SELECT DISTINCT xmpp_ip FROM machines WHERE xmpp_ip <> ''").all() as { v: string }[]).map((r) => r.v),
  };
}

export type GroupsRepo = ReturnType<typeof groupsRepo>;
