/**
 * @module inventory/read
 * The read side of the inventory: the parts of one machine's last inventory, the
 * inventory-only computers list (SPEC C3), the freshness counts of the dashboard widget,
 * and the fleet-wide software search. Every function that takes a viewer restricts what it
 * reads to the viewer's entities before any SQL runs on inventory rows (an unknown machine
 * is a NotFound, one outside the viewer's entities a Forbidden). The import writes these
 * tables; nothing here writes.
 *
 * `softwareFilterSql` is the one place where a software criterion becomes SQL: the search
 * page, the API and (later) dynamic groups build on it. Versions compare on `version_key`,
 * where each run of digits is left-padded to 10 digits, so "9.11" < "10.2" in plain SQL.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { MachineRow } from "../machines/repo.ts";
import type { MachinesService } from "../machines/service.ts";
import { versionKey } from "./normalized.ts";

/** An inventory older than this is "not updated for more than 10 days" (SPEC G2, C9). */
export const STALE_MS = 10 * 86_400_000;

// ---------------------------------------------------------------------------------------
// Software criteria

export const VERSION_OPS = ["<", "<=", "=", ">=", ">"] as const;
export type VersionOp = (typeof VERSION_OPS)[number];

export interface SoftwareFilter {
  /** Software name; empty: any name. */
  name: string;
  /** "contains" is case-insensitive; "equals" is too, and uses the name index. */
  match: "contains" | "equals";
  /** With `version`: compare the installed version with it (software without a version never matches). */
  op: VersionOp | null;
  version: string;
  /** Publisher contains (case-insensitive); empty: any. */
  publisher: string;
}


const likeOf = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The SQL condition matching `filter` over an `inv_software` row aliased `alias`, with its
 * named parameters (prefixed by `prefix`, so several criteria can share one statement).
 * Use it as `WHERE ${where}` with `.all(params)` on a database opened with `strict: true`.
 */
export function softwareFilterSql(filter: SoftwareFilter, opts: { alias?: string; prefix?: string } = {}): { where: string; params: Record<string, string> } {
  const a = opts.alias ?? "s";
  const p = opts.prefix ?? "sw_";
  const parts: string[] = [];
  const params: Record<string, string> = {};
  const name = filter.name.trim();
  if (name && filter.match === "equals") {
    parts.push(`${a}.name = $${p}name COLLATE NOCASE`);
    params[`${p}name`] = name;
  } else if (name) {
    parts.push(`${a}.name LIKE $${p}name ESCAPE '\\'`);
    params[`${p}name`] = likeOf(name);
  }
  if (filter.op && filter.version.trim()) {
    parts.push(`${a}.version_key <> '' AND ${a}.version_key ${filter.op} $${p}version`);
    params[`${p}version`] = versionKey(filter.version);
  }
  if (filter.publisher.trim()) {
    parts.push(`${a}.publisher LIKE $${p}publisher ESCAPE '\\'`);
    params[`${p}publisher`] = likeOf(filter.publisher.trim());
  }
  return { where: parts.length ? parts.join(" AND ") : "1", params };
}

/** `SELECT machine_id` of the machines with software matching `filter`: for `m.id IN (…)`. */
export function machinesWithSoftwareSql(filter: SoftwareFilter, opts: { prefix?: string } = {}): { sql: string; params: Record<string, string> } {
  const { where, params } = softwareFilterSql(filter, { alias: "sw", prefix: opts.prefix });
  return { sql: `SELECT sw.machine_id FROM inv_software sw WHERE ${where}`, params };
}

export const isSearchable = (f: SoftwareFilter) => f.name.trim() !== "" || f.publisher.trim() !== "";

// ---------------------------------------------------------------------------------------
// Shapes (camelCase, as the pages and the API show them)

export interface InventoryHeader { receivedAt: number; source: string; agentName: string; size: number }
export interface OsPart { name: string; version: string; fullName: string; kernel: string; arch: string; servicePack: string; installDate: string; timezone: string }
export interface HardwarePart { name: string; chassis: string; memoryMb: number | null; workgroup: string; lastUser: string; uuid: string }
export interface BiosPart { manufacturer: string; model: string; serial: string; biosVendor: string; biosVersion: string; biosDate: string; boardSerial: string; assetTag: string }
export interface CpuPart { name: string; manufacturer: string; arch: string; cores: number | null; threads: number | null; speedMhz: number | null }
export interface MemoryPart { slot: string; capacityMb: number | null; type: string; speedMhz: number | null; manufacturer: string; serial: string }
export interface DiskPart { name: string; model: string; manufacturer: string; serial: string; interface: string; type: string; sizeMb: number | null }
export interface PartitionPart { mount: string; device: string; filesystem: string; label: string; totalMb: number | null; freeMb: number | null }
export interface NetworkPart { description: string; mac: string; ip: string; netmask: string; gateway: string; subnet: string; type: string; isVirtual: boolean; speedMbps: number | null; status: string }
export interface SoftwarePart { id: number; name: string; version: string; publisher: string; arch: string; source: string; installDate: string; sizeKb: number | null }
export interface UserPart { login: string; domain: string }
export interface ChangePart { id: number; at: number; section: string; change: "added" | "removed" | "changed"; item: string; before: string; after: string }

export const SOFTWARE_SORTS = {
  name: ["name COLLATE NOCASE", "version_key"],
  version: ["version_key", "name COLLATE NOCASE"],
  publisher: ["publisher COLLATE NOCASE", "name COLLATE NOCASE"],
} as const;
export type SoftwareSort = keyof typeof SOFTWARE_SORTS;

/** The inventory-only computers view's row (SPEC C3). */
export interface InventoryComputer {
  id: number;
  hostname: string;
  online: boolean;
  banned: boolean;
  entityId: number;
  entity: string;
  os: string;
  manufacturer: string;
  model: string;
  serial: string;
  lastUser: string;
  inventoriedAt: number;
  source: string;
}


export interface ComputerFilter {
  state: "all" | "online" | "offline";
  age: "all" | "fresh" | "stale";
  entity: number | null;
  search: string;
  sort: ComputerSort;
  desc: boolean;
}

export type Cursor = { v: string | number; id: number };
export type SoftwareCursor = { k1: string; k2: string; id: number };

export interface SoftwareGroup { name: string; version: string; versionKey: string; publisher: string; machines: number }
export interface SoftwareHit { machineId: number; hostname: string; entity: string; online: boolean; softwareId: number; name: string; version: string; publisher: string }
export type GroupCursor = { n: string; k: string; v: string };
export type HitCursor = { h: string; m: number; s: number };

// ---------------------------------------------------------------------------------------
// SQL

// The C3 columns as expressions: inventory parts first, the machine's own facts as fallback.
const C3_EXPR = {
  os: "coalesce(nullif(o.full_name, ''), trim(coalesce(o.name, '') || ' ' || coalesce(o.version, '')))",
  manufacturer: "coalesce(b.manufacturer, '')",
  model: "coalesce(b.model, '')",
  serial: "coalesce(nullif(b.serial, ''), m.serial)",
  user: "coalesce(nullif(h.last_user, ''), m.logged_user)",
} as const;

export const COMPUTER_SORTS = {
  name: "m.hostname COLLATE NOCASE",
  os: `${C3_EXPR.os} COLLATE NOCASE`,
  model: `${C3_EXPR.model} COLLATE NOCASE`,
  serial: `${C3_EXPR.serial} COLLATE NOCASE`,
  entity: "e.name COLLATE NOCASE",
  user: `${C3_EXPR.user} COLLATE NOCASE`,
  date: "m.inventoried_at",
  state: "m.online",
} as const;
export type ComputerSort = keyof typeof COMPUTER_SORTS;

const C3_COLUMNS = `m.id, m.hostname, m.online, m.banned, m.entity_id, e.name AS entity_name, m.inventoried_at, ${C3_EXPR.os} AS os,
  ${C3_EXPR.manufacturer} AS manufacturer, ${C3_EXPR.model} AS model, ${C3_EXPR.serial} AS serial, ${C3_EXPR.user} AS last_user, coalesce(i.source, '') AS source`;

const C3_FROM = `FROM machines m JOIN entities e ON e.id = m.entity_id
  LEFT JOIN inv_os o ON o.machine_id = m.id LEFT JOIN inv_bios b ON b.machine_id = m.id
  LEFT JOIN inv_hardware h ON h.machine_id = m.id LEFT JOIN inventories i ON i.machine_id = m.id`;

const C3_SEARCHED = [C3_EXPR.os, C3_EXPR.manufacturer, C3_EXPR.model, C3_EXPR.serial, C3_EXPR.user, "m.hostname", "e.name"].map((x) => `${x} LIKE $like ESCAPE '\\'`).join(" OR ");

const C3_WHERE = `m.inventoried_at IS NOT NULL AND m.entity_id IN (SELECT value FROM json_each($entities))
  AND ($state = 'all' OR ($state = 'online' AND m.online = 1) OR ($state = 'offline' AND m.online = 0))
  AND ($age = 'all' OR ($age = 'fresh' AND m.inventoried_at >= $since) OR ($age = 'stale' AND m.inventoried_at < $since))
  AND ($entity IS NULL OR m.entity_id = $entity)
  AND ($search = '' OR ${C3_SEARCHED}
       OR EXISTS (SELECT 1 FROM inv_networks n WHERE n.machine_id = m.id AND (n.ip LIKE $like ESCAPE '\\' OR n.mac LIKE $like ESCAPE '\\')))`;

/** The C3 list statement for one sort: exported so the benchmark runs exactly this SQL bare. */
export function computersSql(sort: ComputerSort, desc: boolean): string {
  const col = COMPUTER_SORTS[sort];
  const dir = desc ? "DESC" : "ASC";
  return `SELECT ${C3_COLUMNS} ${C3_FROM} WHERE ${C3_WHERE}
    AND ($afterId IS NULL OR (${col}, m.id) ${desc ? "<" : ">"} ($afterV, $afterId))
    ORDER BY ${col} ${dir}, m.id ${dir} LIMIT $limit`;
}

interface C3Row { id: number; hostname: string; online: number; banned: number; entity_id: number; entity_name: string; inventoried_at: number; os: string; manufacturer: string; model: string; serial: string; last_user: string; source: string }

const toComputer = (r: C3Row): InventoryComputer => ({
  id: r.id, hostname: r.hostname, online: r.online === 1, banned: r.banned === 1, entityId: r.entity_id, entity: r.entity_name, os: r.os,
  manufacturer: r.manufacturer, model: r.model, serial: r.serial, lastUser: r.last_user, inventoriedAt: r.inventoried_at, source: r.source,
});

/** The keyset value of a C3 row for `sort`. */
export function computerKey(c: InventoryComputer, sort: ComputerSort): Cursor {
  const v = { name: c.hostname, os: c.os, model: c.model, serial: c.serial, entity: c.entity, user: c.lastUser, date: c.inventoriedAt, state: c.online ? 1 : 0 }[sort];
  return { v, id: c.id };
}

function statements(db: Database) {
  const q = (sql: string) => db.query(sql);
  return {
    header: q("SELECT received_at AS receivedAt, source, agent_name AS agentName, size FROM inventories WHERE machine_id = $id"),
    os: q("SELECT name, version, full_name AS fullName, kernel, arch, service_pack AS servicePack, install_date AS installDate, timezone FROM inv_os WHERE machine_id = $id"),
    hardware: q("SELECT name, chassis, memory_mb AS memoryMb, workgroup, last_user AS lastUser, uuid FROM inv_hardware WHERE machine_id = $id"),
    bios: q(`SELECT manufacturer, model, serial, bios_vendor AS biosVendor, bios_version AS biosVersion, bios_date AS biosDate, board_serial AS boardSerial,
      asset_tag AS assetTag FROM inv_bios WHERE machine_id = $id`),
    cpus: q("SELECT name, manufacturer, arch, cores, threads, speed_mhz AS speedMhz FROM inv_cpus WHERE machine_id = $id ORDER BY id"),
    memories: q("SELECT slot, capacity_mb AS capacityMb, type, speed_mhz AS speedMhz, manufacturer, serial FROM inv_memories WHERE machine_id = $id ORDER BY id"),
    disks: q("SELECT name, model, manufacturer, serial, interface, type, size_mb AS sizeMb FROM inv_disks WHERE machine_id = $id ORDER BY id"),
    partitions: q("SELECT mount, device, filesystem, label, total_mb AS totalMb, free_mb AS freeMb FROM inv_partitions WHERE machine_id = $id ORDER BY mount, id"),
    networks: q(`SELECT description, mac, ip, netmask, gateway, subnet, type, is_virtual AS isVirtual, speed_mbps AS speedMbps, status
      FROM inv_networks WHERE machine_id = $id ORDER BY is_virtual, description, id`),
    users: q("SELECT login, domain FROM inv_users WHERE machine_id = $id ORDER BY id"),
    softwareCount: q("SELECT count(*) AS n FROM inv_software WHERE machine_id = $id"),
    changes: q(`SELECT id, at, section, change, item, before, after FROM inv_changes WHERE machine_id = $id
      AND ($beforeId IS NULL OR (at, id) < ($beforeAt, $beforeId)) ORDER BY at DESC, id DESC LIMIT $limit`),
    freshness: q(`SELECT coalesce(sum(inventoried_at >= $since), 0) AS fresh, coalesce(sum(inventoried_at < $since), 0) AS stale,
      coalesce(sum(inventoried_at IS NULL), 0) AS never FROM machines WHERE entity_id IN (SELECT value FROM json_each($entities))`),
  };
}

/**
 * The grouped software search as one statement (exported so the benchmark runs exactly
 * this SQL bare): the filter's parameters, plus $entities, $afterN/$afterK/$afterV, $limit.
 */
export function softwareGroupsSql(f: SoftwareFilter): { sql: string; params: Record<string, string> } {
  const { where, params } = softwareFilterSql(f);
  const key = "s.name COLLATE NOCASE, s.name, s.version_key, s.version";
  const sql = `SELECT s.name, s.version, s.version_key AS versionKey, max(s.publisher) AS publisher, count(DISTINCT s.machine_id) AS machines
    FROM inv_software s JOIN machines m ON m.id = s.machine_id
    WHERE ${where} AND m.entity_id IN (SELECT value FROM json_each($entities))
      AND ($afterN IS NULL OR (${key}) > ($afterN, $afterN, $afterK, $afterV))
    GROUP BY ${key} ORDER BY ${key} LIMIT $limit`;
  return { sql, params };
}

/** `LIMIT n + 1` rows → the first n and whether more follow. */
function page<T>(rows: T[], limit: number): { items: T[]; hasMore: boolean } {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

const clampLimit = (n: number | undefined, dflt: number, max: number) => Math.min(Math.max(Math.trunc(n ?? dflt), 1), max);

export function createInventoryReader(deps: { db: Database; clock: Clock; entities: EntitiesService; machines: MachinesService }) {
  const { db } = deps;
  const st = statements(db);
  const visible = (viewer: Viewer) => JSON.stringify([...deps.entities.visibleIds(viewer)]);
  type Stmt = (typeof st)[keyof typeof st];
  const one = <T>(stmt: Stmt, id: number) => (stmt.get({ id }) as T | null) ?? null;
  const all = <T>(stmt: Stmt, id: number) => stmt.all({ id }) as T[];

  return {
    /** The machine, if the viewer may see it (NotFound / Forbidden otherwise). */
    machine: (viewer: Viewer, id: number): MachineRow => deps.machines.get(viewer, id),

    header: (id: number) => one<InventoryHeader>(st.header, id),
    os: (id: number) => one<OsPart>(st.os, id),
    hardware: (id: number) => one<HardwarePart>(st.hardware, id),
    bios: (id: number) => one<BiosPart>(st.bios, id),
    cpus: (id: number) => all<CpuPart>(st.cpus, id),
    memories: (id: number) => all<MemoryPart>(st.memories, id),
    disks: (id: number) => all<DiskPart>(st.disks, id),
    partitions: (id: number) => all<PartitionPart>(st.partitions, id),
    networks: (id: number) => all<Omit<NetworkPart, "isVirtual"> & { isVirtual: number }>(st.networks, id).map((n) => ({ ...n, isVirtual: n.isVirtual === 1 })),
    users: (id: number) => all<UserPart>(st.users, id),
    softwareCount: (id: number) => (st.softwareCount.get({ id }) as { n: number }).n,

    /** One machine's software, searched (name, version, publisher) and sorted; keyset on (sort keys, id). */
    software(id: number, o: { search?: string; sort?: SoftwareSort; desc?: boolean; after?: SoftwareCursor | null; limit?: number } = {}) {
      const [first, second] = SOFTWARE_SORTS[o.sort ?? "name"];
      const dir = o.desc ? "DESC" : "ASC";
      const limit = clampLimit(o.limit, 500, 100_000);
      const search = (o.search ?? "").trim().slice(0, 100);
      const where = `machine_id = $id AND ($search = '' OR name LIKE $like ESCAPE '\\' OR version LIKE $like ESCAPE '\\' OR publisher LIKE $like ESCAPE '\\')`;
      const rows = db.query(
        `SELECT id, name, version, publisher, arch, source, install_date AS installDate, size_kb AS sizeKb, ${first.split(" ")[0]} AS k1, ${second.split(" ")[0]} AS k2
         FROM inv_software WHERE ${where} AND ($afterId IS NULL OR (${first}, ${second}, id) ${o.desc ? "<" : ">"} ($k1, $k2, $afterId))
         ORDER BY ${first} ${dir}, ${second} ${dir}, id ${dir} LIMIT $limit`,
      ).all({ id, search, like: likeOf(search), afterId: o.after?.id ?? null, k1: o.after?.k1 ?? null, k2: o.after?.k2 ?? null, limit: limit + 1 }) as (SoftwarePart & { k1: string; k2: string })[];
      const matched = search ? (db.query(`SELECT count(*) AS n FROM inv_software WHERE ${where}`).get({ id, search, like: likeOf(search) }) as { n: number }).n : null;
      const { items, hasMore } = page(rows, limit);
      const last = items.at(-1);
      return { items: items.map(({ k1: _a, k2: _b, ...s }) => s as SoftwarePart), next: hasMore && last ? { k1: last.k1, k2: last.k2, id: last.id } : null, matched };
    },

    /** The machine's change history, newest first. */
    changes(id: number, o: { before?: { at: number; id: number } | null; limit?: number } = {}) {
      const limit = clampLimit(o.limit, 50, 500);
      const rows = st.changes.all({ id, beforeAt: o.before?.at ?? null, beforeId: o.before?.id ?? null, limit: limit + 1 }) as ChangePart[];
      const { items, hasMore } = page(rows, limit);
      const last = items.at(-1);
      return { items, next: hasMore && last ? { at: last.at, id: last.id } : null };
    },

    /** Machines known from inventory (SPEC C3), filtered, sorted, keyset-paged. */
    computers(viewer: Viewer, f: ComputerFilter, o: { after?: Cursor | null; limit?: number } = {}) {
      const limit = clampLimit(o.limit, 50, 1000);
      const rows = db.query(computersSql(f.sort, f.desc)).all(computersParams(visible(viewer), f, deps.clock.now(), o.after ?? null, limit + 1)) as C3Row[];
      const { items, hasMore } = page(rows.map(toComputer), limit);
      const last = items.at(-1);
      return { items, next: hasMore && last ? computerKey(last, f.sort) : null };
    },

    /** The dashboard's figures: inventoried within 10 days, older, never. */
    freshness(viewer: Viewer): { fresh: number; stale: number; never: number } {
      return st.freshness.get({ entities: visible(viewer), since: deps.clock.now() - STALE_MS }) as { fresh: number; stale: number; never: number };
    },

    /** Fleet-wide software search, grouped by software and version: how many machines have each. */
    softwareGroups(viewer: Viewer, f: SoftwareFilter, o: { after?: GroupCursor | null; limit?: number } = {}) {
      const limit = clampLimit(o.limit, 100, 1000);
      const { sql, params } = softwareGroupsSql(f);
      const rows = db.query(sql).all({ ...params, entities: visible(viewer), afterN: o.after?.n ?? null, afterK: o.after?.k ?? null, afterV: o.after?.v ?? null, limit: limit + 1 }) as SoftwareGroup[];
      const { items, hasMore } = page(rows, limit);
      const last = items.at(-1);
      return { items, next: hasMore && last ? { n: last.name, k: last.versionKey, v: last.version } : null };
    },

    /** Fleet-wide software search, flat: one row per machine and matching software. */
    softwareHits(viewer: Viewer, f: SoftwareFilter, o: { after?: HitCursor | null; limit?: number; exact?: { name: string; version: string } } = {}) {
      const limit = clampLimit(o.limit, 100, 1000);
      const { where, params } = softwareFilterSql(f);
      const exact = o.exact ? "AND s.name = $exactName AND s.version = $exactVersion" : "";
      const rows = db.query(
        `SELECT m.id AS machineId, m.hostname, e.name AS entity, m.online, s.id AS softwareId, s.name, s.version, s.publisher
         FROM inv_software s JOIN machines m ON m.id = s.machine_id JOIN entities e ON e.id = m.entity_id
         WHERE ${where} ${exact} AND m.entity_id IN (SELECT value FROM json_each($entities))
           AND ($afterH IS NULL OR (m.hostname COLLATE NOCASE, m.id, s.id) > ($afterH, $afterM, $afterS))
         ORDER BY m.hostname COLLATE NOCASE, m.id, s.id LIMIT $limit`,
      ).all({
        ...params, ...(o.exact ? { exactName: o.exact.name, exactVersion: o.exact.version } : {}), entities: visible(viewer),
        afterH: o.after?.h ?? null, afterM: o.after?.m ?? null, afterS: o.after?.s ?? null, limit: limit + 1,
      }) as (Omit<SoftwareHit, "online"> & { online: number })[];
      const { items, hasMore } = page(rows.map((r) => ({ ...r, online: r.online === 1 })), limit);
      const last = items.at(-1);
      return { items, next: hasMore && last ? { h: last.hostname, m: last.machineId, s: last.softwareId } : null };
    },
  };
}

/** The named parameters of `computersSql` (exported for the benchmark). */
export function computersParams(entities: string, f: ComputerFilter, now: number, after: Cursor | null, limit: number) {
  const search = f.search.trim().slice(0, 100);
  return {
    entities, state: f.state, age: f.age, since: now - STALE_MS, entity: f.entity, search, like: likeOf(search),
    afterId: after?.id ?? null, afterV: after?.v ?? null, limit,
  };
}

export type InventoryReader = ReturnType<typeof createInventoryReader>;
