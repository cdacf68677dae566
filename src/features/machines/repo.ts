/**
 * @module machines/repo
 * SQL for the machines table and its MACs. The list query is one statement whose filters
 * switch on and off by parameter, with keyset paging on (sort column, id).
 */
import type { Database } from "bun:sqlite";

export interface MachineRow {
  id: number;
  agent_id: string | null;
  hostname: string;
  entity_id: number;
  os: string;
  os_name: string;
  os_version: string;
  arch: string;
  smbios_uuid: string | null;
  manufacturer: string;
  serial: string;
  jid: string | null;
  agent_version: string;
  ips: string;
  logged_user: string;
  uptime_seconds: number | null;
  online: number;
  online_since: number | null;
  last_seen_at: number | null;
  xmpp_ip: string;
  relay_id: string;
  banned: number;
  machine_class: string;
  has_kiosk: number;
  user_ou: string;
  machine_ou: string;
  inventoried_at: number | null;
  created_at: number;
  updated_at: number;
}

export const SORTS = {
  hostname: "m.hostname COLLATE NOCASE",
  os: "m.os_name COLLATE NOCASE",
  entity: "e.name COLLATE NOCASE",
  user: "m.logged_user COLLATE NOCASE",
  ip: "m.xmpp_ip",
  seen: "coalesce(m.last_seen_at, 0)",
  state: "m.online",
} as const;
export type SortKey = keyof typeof SORTS;

export interface ListFilter {
  entities: number[];
  state: "all" | "online" | "offline";
  entity: number | null;
  search: string;
  notInventoried: boolean;
  staleBefore: number;
  sort: SortKey;
  desc: boolean;
  after: { v: string | number; id: number } | null;
  limit: number;
}

export function machinesRepo(db: Database) {
  const find = db.query("SELECT * FROM machines WHERE id = $id");
  const byAgent = db.query("SELECT * FROM machines WHERE agent_id = $v");
  const byJid = db.query("SELECT * FROM machines WHERE jid = $v");
  const byUuid = db.query("SELECT * FROM machines WHERE smbios_uuid = $v ORDER BY id LIMIT 1");
  const bySerial = db.query("SELECT * FROM machines WHERE manufacturer = $m AND serial = $s ORDER BY id LIMIT 1");
  const byMac = db.query("SELECT m.* FROM machines m JOIN machine_macs x ON x.machine_id = m.id WHERE x.mac = $v AND x.is_virtual = 0 ORDER BY m.id LIMIT 1");
  const macs = db.query("SELECT mac, is_virtual FROM machine_macs WHERE machine_id = $id ORDER BY mac");
  const clearMacs = db.query("DELETE FROM machine_macs WHERE machine_id = $id");
  const addMac = db.query("INSERT OR IGNORE INTO machine_macs (mac, machine_id, is_virtual) VALUES ($mac, $id, $virtual)");
  const insert = db.query(
    `INSERT INTO machines (hostname, entity_id, created_at, updated_at) VALUES ($hostname, $entityId, $now, $now) RETURNING id`,
  );
  const remove = db.query("DELETE FROM machines WHERE id = $id");
  const setOnline = db.query(
    `UPDATE machines SET online = $online, online_since = CASE WHEN $online = 1 THEN coalesce(CASE WHEN online = 1 THEN online_since END, $now) ELSE NULL END,
       last_seen_at = $now, xmpp_ip = CASE WHEN $ip = '' THEN xmpp_ip ELSE $ip END, updated_at = $now WHERE jid = $jid RETURNING id`,
  );
  const allOffline = db.query("UPDATE machines SET online = 0, online_since = NULL WHERE online = 1");
  const setBanned = db.query("UPDATE machines SET banned = $banned, updated_at = $now WHERE id = $id");
  const countInEntity = db.query("SELECT count(*) AS n FROM machines WHERE entity_id = $entityId");
  const counts = db.query(
    `SELECT sum(online) AS online, count(*) AS total FROM machines WHERE entity_id IN (SELECT value FROM json_each($entities))`,
  );

  const list = (f: ListFilter) => {
    const col = SORTS[f.sort];
    const dir = f.desc ? "DESC" : "ASC";
    const cmp = f.desc ? "<" : ">";
    const sql = `SELECT m.*, e.name AS entity_name FROM machines m JOIN entities e ON e.id = m.entity_id
      WHERE m.entity_id IN (SELECT value FROM json_each($entities))
        AND ($state = 'all' OR ($state = 'online' AND m.online = 1) OR ($state = 'offline' AND m.online = 0))
        AND ($entity IS NULL OR m.entity_id = $entity)
        AND ($notInventoried = 0 OR m.inventoried_at IS NULL OR m.inventoried_at < $staleBefore)
        AND ($search = '' OR m.hostname LIKE $like ESCAPE '\\' OR m.os_name LIKE $like ESCAPE '\\' OR m.os_version LIKE $like ESCAPE '\\'
             OR m.ips LIKE $like ESCAPE '\\' OR m.xmpp_ip LIKE $like ESCAPE '\\' OR m.logged_user LIKE $like ESCAPE '\\' OR e.name LIKE $like ESCAPE '\\'
             OR m.jid LIKE $like ESCAPE '\\' OR m.arch LIKE $like ESCAPE '\\' OR m.serial LIKE $like ESCAPE '\\'
             OR EXISTS (SELECT 1 FROM machine_macs x WHERE x.machine_id = m.id AND x.mac LIKE $like ESCAPE '\\'))
        AND ($afterId IS NULL OR (${col}, m.id) ${cmp} ($afterV, $afterId))
      ORDER BY ${col} ${dir}, m.id ${dir} LIMIT $limit`;
    return db.query(sql).all({
      entities: JSON.stringify(f.entities), state: f.state, entity: f.entity, notInventoried: f.notInventoried ? 1 : 0, staleBefore: f.staleBefore,
      search: f.search, like: `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, afterId: f.after?.id ?? null, afterV: f.after?.v ?? null, limit: f.limit,
    }) as (MachineRow & { entity_name: string })[];
  };

  return {
    find: (id: number) => find.get({ id }) as MachineRow | null,
    findByAgentId: (v: string) => byAgent.get({ v }) as MachineRow | null,
    findByJid: (v: string) => byJid.get({ v }) as MachineRow | null,
    findByUuid: (v: string) => byUuid.get({ v }) as MachineRow | null,
    findBySerial: (m: string, s: string) => bySerial.get({ m, s }) as MachineRow | null,
    findByMac: (v: string) => byMac.get({ v }) as MachineRow | null,
    macs: (id: number) => macs.all({ id }) as { mac: string; is_virtual: number }[],
    setMacs(id: number, list: { mac: string; virtual: boolean }[]) {
      clearMacs.run({ id });
      for (const m of list) addMac.run({ mac: m.mac, id, virtual: m.virtual ? 1 : 0 });
    },
    insert: (hostname: string, entityId: number, now: number) => (insert.get({ hostname, entityId, now }) as { id: number }).id,
    /** Updates the named columns only (names come from code, never from input). */
    update(id: number, fields: Partial<Omit<MachineRow, "id">>, now: number) {
      const keys = Object.keys(fields);
      if (keys.length === 0) return;
      const sets = keys.map((k) => `${k} = $${k}`).join(", ");
      db.query(`UPDATE machines SET ${sets}, updated_at = $now WHERE id = $id`).run({ ...(fields as Record<string, string | number | null>), id, now });
    },
    remove: (id: number) => remove.run({ id }),
    setOnline: (jid: string, online: boolean, ip: string, now: number) =>
      (setOnline.get({ jid, online: online ? 1 : 0, ip, now }) as { id: number } | null)?.id ?? null,
    allOffline: () => allOffline.run(),
    setBanned: (id: number, banned: boolean, now: number) => setBanned.run({ id, banned: banned ? 1 : 0, now }),
    countInEntity: (entityId: number) => (countInEntity.get({ entityId }) as { n: number }).n,
    counts: (entities: number[]) => counts.get({ entities: JSON.stringify(entities) }) as { online: number | null; total: number },
    list,
  };
}

export type MachinesRepo = ReturnType<typeof machinesRepo>;
