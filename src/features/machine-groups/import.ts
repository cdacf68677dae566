/**
 * @module machine-groups/import
 * A static group from a file (SPEC C7): the table read by ./table-file.ts, the meaning the
 * user gives each column, and each row matched to one machine. Identifying columns (name,
 * serial, MAC, inventory number, UUID, IP, user) narrow the candidates together, so a row
 * whose columns point at different machines matches none; checking columns (OS, entity)
 * must then agree with the machine found. A row that matches no machine, several, or has a
 * malformed MAC or address is listed with its reason. Only machines in the importer's
 * entities are candidates. Creating the group is all or nothing: with any row in error it
 * is refused unless the user explicitly asks to keep only the recognised rows.
 *
 * Between reading the file and creating the group, the table waits in a small in-memory
 * stash (per user, 30 minutes): the file is sent once, whatever the number of previews.
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { Invalid } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import { normalizeMac, normalizeUuid } from "../machines/identity.ts";
import type { Table } from "./table-file.ts";

export const COLUMN_KINDS = ["ignore", "hostname", "serial", "mac", "assetTag", "uuid", "ip", "user", "osName", "entityName"] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];
const KEY_KINDS: readonly ColumnKind[] = ["hostname", "serial", "mac", "assetTag", "uuid", "ip", "user"];

export const columnLabel = (k: ColumnKind): MessageKey => `mgroups.col.${k}` as MessageKey;

/** A guess from a header cell, French or English: what most files call each column. */
export function guessKind(header: string): ColumnKind {
  const h = header.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, " ").trim();
  if (/\b(mac|adresse mac|mac address)\b/.test(h)) return "mac";
  if (/\buuid\b|\bguid\b/.test(h)) return "uuid";
  if (/\b(serie|serial|s n|sn|numero de serie)\b/.test(h)) return "serial";
  if (/\b(inventaire|inventory|asset|immobilisation|tag)\b/.test(h)) return "assetTag";
  if (/\b(ip|adresse ip|ip address|address)\b/.test(h)) return "ip";
  if (/\b(os|systeme|operating system|system)\b/.test(h)) return "osName";
  if (/\b(entite|entity)\b/.test(h)) return "entityName";
  if (/\b(utilisateur|user|login|usager)\b/.test(h)) return "user";
  if (/\b(nom|name|machine|hostname|host|computer|ordinateur|poste|pc)\b/.test(h)) return "hostname";
  return "ignore";
}

export interface RowResult {
  /** 1-based row number in the file. */
  row: number;
  values: string[];
  machineId: number | null;
  hostname: string;
  /** null when the row is fine. */
  reason: { key: MessageKey; params: Record<string, string | number> } | null;
  duplicateOf: number | null;
}

export interface MatchOutcome {
  rows: RowResult[];
  matched: number[];
  bad: number;
}

export function checkMapping(columns: ColumnKind[]): void {
  const seen = new Set<ColumnKind>();
  for (const c of columns) {
    if (c === "ignore") continue;
    if (seen.has(c)) throw new Invalid({ columns: "mgroups.import.twice" }, "mgroups.import.twice", { column: c });
    seen.add(c);
  }
  if (!columns.some((c) => KEY_KINDS.includes(c))) throw new Invalid({ columns: "mgroups.import.noKeyColumn" }, "mgroups.import.noKeyColumn");
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Matches every data row of `table` (after the header when `hasHeader`) to machines in `entities`. */
export function matchRows(db: Database, table: Table, columns: ColumnKind[], hasHeader: boolean, entities: number[]): MatchOutcome {
  checkMapping(columns);
  const ents = JSON.stringify(entities);
  const q = (sql: string) => db.query(`SELECT m.id FROM machines m WHERE m.entity_id IN (SELECT value FROM json_each($ents)) AND (${sql})`);
  const lookups: Partial<Record<ColumnKind, ReturnType<typeof q>>> = {
    hostname: q("m.hostname = $v COLLATE NOCASE OR m.hostname LIKE $prefix ESCAPE '\\'"),
    serial: q("m.serial = $v COLLATE NOCASE OR EXISTS (SELECT 1 FROM inv_bios b WHERE b.machine_id = m.id AND b.serial = $v COLLATE NOCASE)"),
    mac: q("EXISTS (SELECT 1 FROM machine_macs x WHERE x.machine_id = m.id AND x.mac = $v)"),
    assetTag: q("EXISTS (SELECT 1 FROM inv_bios b WHERE b.machine_id = m.id AND b.asset_tag = $v COLLATE NOCASE)"),
    uuid: q("m.smbios_uuid = $v"),
    ip: q("m.xmpp_ip = $v OR EXISTS (SELECT 1 FROM json_each(m.ips) j WHERE j.value = $v) OR EXISTS (SELECT 1 FROM inv_networks n WHERE n.machine_id = m.id AND n.ip = $v)"),
    user: q("m.logged_user = $v COLLATE NOCASE OR EXISTS (SELECT 1 FROM inv_hardware h WHERE h.machine_id = m.id AND h.last_user = $v COLLATE NOCASE)"),
  };
  const facts = db.query(`SELECT m.hostname, m.os_name, coalesce((SELECT o.full_name FROM inv_os o WHERE o.machine_id = m.id), '') AS full_name, e.name AS entity
    FROM machines m JOIN entities e ON e.id = m.entity_id WHERE m.id = $id`);

  const rows: RowResult[] = [];
  const firstRowOf = new Map<number, number>();
  const data = hasHeader ? table.rows.slice(1) : table.rows;
  data.forEach((values, i) => {
    if (values.every((v) => v.trim() === "")) return; // a blank line is no row
    const row = i + 1 + (hasHeader ? 1 : 0);
    const result: RowResult = { row, values, machineId: null, hostname: "", reason: null, duplicateOf: null };
    rows.push(result);
    let candidates = null as Set<number> | null;
    for (const [col, kind] of columns.entries()) {
      const lookup = lookups[kind];
      const raw = (values[col] ?? "").trim();
      if (!lookup || raw === "") continue;
      let v = raw;
      if (kind === "mac") {
        const mac = normalizeMac(raw);
        if (!mac) return void (result.reason = { key: "mgroups.reason.badMac", params: { value: raw.slice(0, 60) } });
        v = mac;
      } else if (kind === "ip") {
        if (!IPV4.test(raw) && !/^[0-9a-f:]+$/i.test(raw)) return void (result.reason = { key: "mgroups.reason.badIp", params: { value: raw.slice(0, 60) } });
      } else if (kind === "uuid") v = normalizeUuid(raw) ?? raw.toLowerCase();
      const params: Record<string, string> = kind === "hostname" ? { ents, v, prefix: `${v.replace(/[\\%_]/g, (c) => `\\${c}`)}.%` } : { ents, v };
      const ids = new Set((lookup.all(params) as { id: number }[]).map((r) => r.id));
      const before: Set<number> | null = candidates;
      candidates = before === null ? ids : new Set([...before].filter((id) => ids.has(id)));
    }
    if (candidates === null) return void (result.reason = { key: "mgroups.reason.noKey", params: {} });
    const found = [...(candidates as Set<number>)];
    if (found.length === 0) return void (result.reason = { key: "mgroups.reason.notFound", params: {} });
    if (found.length > 1) {
      const names = found.slice(0, 5).map((id) => (facts.get({ id }) as { hostname: string }).hostname);
      return void (result.reason = { key: "mgroups.reason.ambiguous", params: { names: names.join(", ") + (found.length > 5 ? "…" : "") } });
    }
    const id = found[0]!;
    const m = facts.get({ id }) as { hostname: string; os_name: string; full_name: string; entity: string };
    result.machineId = id;
    result.hostname = m.hostname;
    for (const [col, kind] of columns.entries()) {
      const v = (values[col] ?? "").trim();
      if (!v) continue;
      const ok = kind === "osName" ? `${m.os_name} ${m.full_name}`.toLowerCase().includes(v.toLowerCase()) : kind === "entityName" ? m.entity.toLowerCase() === v.toLowerCase() : true;
      if (!ok) {
        result.machineId = null;
        return void (result.reason = { key: "mgroups.reason.mismatch", params: { column: kind, name: m.hostname, value: v.slice(0, 60) } });
      }
    }
    const first = firstRowOf.get(id);
    if (first !== undefined) result.duplicateOf = first;
    else firstRowOf.set(id, row);
  });
  return { rows, matched: [...firstRowOf.keys()], bad: rows.filter((r) => r.reason).length };
}

// ---------------------------------------------------------------------------------------
// The stash of tables read and waiting for their mapping.

export interface Pending {
  userId: number;
  fileName: string;
  table: Table;
  expiresAt: number;
}

const TTL_MS = 30 * 60_000;
/** Tables waiting, all users together, and per user: a table can weigh tens of megabytes. */
const MAX_PENDING = 20;
const MAX_PER_USER = 3;

export function createStash(now: () => number) {
  const items = new Map<string, Pending>();
  const prune = () => {
    const t = now();
    for (const [k, v] of items) if (v.expiresAt < t) items.delete(k);
    while (items.size > MAX_PENDING) items.delete(items.keys().next().value!);
  };
  return {
    put(userId: number, fileName: string, table: Table): string {
      prune();
      const mine = [...items].filter(([, v]) => v.userId === userId);
      for (const [k] of mine.slice(0, Math.max(0, mine.length - MAX_PER_USER + 1))) items.delete(k);
      const token = randomBytes(18).toString("base64url");
      items.set(token, { userId, fileName: fileName.slice(0, 200), table, expiresAt: now() + TTL_MS });
      prune();
      return token;
    },
    /** The table read by this user, or null when unknown, expired or someone else's. */
    get(userId: number, token: string): Pending | null {
      prune();
      const p = items.get(token);
      return p && p.userId === userId ? p : null;
    },
    drop: (token: string) => void items.delete(token),
  };
}

export type Stash = ReturnType<typeof createStash>;
