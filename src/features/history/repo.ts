/**
 * @module history/repo
 * SQL of the history: one filtered, keyset-paged read (newest first; a page starts after
 * or before a cursor `(at, id)`, never at an OFFSET, so page 10 000 costs what page 1
 * costs), the retention setting, and the purge of old rows in bounded batches. The read's
 * text depends on which filters are set; `db.query` keeps one prepared statement per text.
 */
import type { Database } from "bun:sqlite";
import type { Cursor, HistoryFilter } from "./model.ts";

export interface HistoryRow {
  id: number;
  at: number;
  user_login: string;
  who: string;
  module: string;
  criterion: string;
  action: string;
  params: string;
  text: string;
  source_ip: string;
  target_type: string;
  target_id: string;
  target_name: string;
}

const COLUMNS = "id, at, user_login, who, module, criterion, action, params, text, source_ip, target_type, target_id, target_name";

type Bindings = Record<string, string | number>;

/** `%`, `_` and the escape character itself match literally in the search text. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The WHERE clause of a read. `modules` is the reader's scope, already checked by the
 * service. With several modules the list is written `+module IN (...)`: the unary plus
 * keeps SQLite from reading each module's index range and sorting them all, so it walks
 * `history_at` newest first and stops after one page.
 */
function whereClause(modules: readonly string[], filter: HistoryFilter, cursor: Cursor | null): { sql: string; params: Bindings } {
  const terms: string[] = [];
  const params: Bindings = {};
  if (modules.length === 1) {
    terms.push("module = $m0");
    params.m0 = modules[0]!;
  } else {
    modules.forEach((m, i) => (params[`m${i}`] = m));
    terms.push(`+module IN (${modules.map((_, i) => `$m${i}`).join(", ")})`);
  }
  if (filter.criterion !== null) {
    terms.push("criterion = $criterion");
    params.criterion = filter.criterion;
  }
  if (filter.from !== null) {
    terms.push("at >= $from");
    params.from = filter.from;
  }
  if (filter.to !== null) {
    terms.push("at < $to");
    params.to = filter.to;
  }
  if (filter.search !== "") {
    terms.push("(text LIKE $q ESCAPE '\\' OR user_login LIKE $q ESCAPE '\\' OR who LIKE $q ESCAPE '\\' OR target_name LIKE $q ESCAPE '\\')");
    params.q = likePattern(filter.search);
  }
  if (cursor) {
    terms.push(cursor.dir === "after" ? "at <= $cAt AND (at < $cAt OR id < $cId)" : "at >= $cAt AND (at > $cAt OR id > $cId)");
    params.cAt = cursor.at;
    params.cId = cursor.id;
  }
  return { sql: terms.join(" AND "), params };
}

export function historyRepo(db: Database) {
  const q = {
    setting: db.query("SELECT value FROM settings WHERE key = $key"),
    saveSetting: db.query(
      `INSERT INTO settings (key, value, updated_at) VALUES ($key, $value, $now)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    purgeBatch: db.query("DELETE FROM history WHERE id IN (SELECT id FROM history WHERE at < $cutoff ORDER BY at, id LIMIT $limit)"),
  };
  return {
    /**
     * Up to `limit` rows in the reader's order: newest first from the top or after a
     * cursor, oldest first before a cursor (the service turns those round).
     */
    findPage(modules: readonly string[], filter: HistoryFilter, cursor: Cursor | null, limit: number): HistoryRow[] {
      const where = whereClause(modules, filter, cursor);
      const order = cursor?.dir === "before" ? "at ASC, id ASC" : "at DESC, id DESC";
      const sql = `SELECT ${COLUMNS} FROM history WHERE ${where.sql} ORDER BY ${order} LIMIT $limit`;
      return db.query(sql).all({ ...where.params, limit }) as HistoryRow[];
    },
    findSetting(key: string): string | null {
      return (q.setting.get({ key }) as { value: string } | null)?.value ?? null;
    },
    saveSetting(key: string, value: string, now: number): void {
      q.saveSetting.run({ key, value, now });
    },
    /** Deletes up to `limit` of the oldest rows before `cutoff`; one statement, one short transaction. */
    purgeOlderThan(cutoff: number, limit: number): number {
      return q.purgeBatch.run({ cutoff, limit }).changes;
    },
  };
}

export type HistoryRepo = ReturnType<typeof historyRepo>;
