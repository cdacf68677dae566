/**
 * @module history/present
 * A history row as a reader sees it (SPEC L3), on screen and in exports: the date in the
 * appliance's time zone, the text in the reader's language when its message key still
 * exists (else the French text stored with the row), the module's name, the target.
 */
import { catalogueKeys, t, type Lang, type MessageKey, type Params } from "../../i18n/index.ts";
import { isHistoryModule, moduleLabel } from "./permissions.ts";
import type { HistoryRow } from "./repo.ts";
import { formatForReader, formatSortable } from "./time.ts";

export interface EntryView {
  id: number;
  /** ISO 8601 instant, for `<time datetime>`. */
  iso: string;
  date: string;
  user: string;
  who: string;
  module: string;
  text: string;
  ip: string;
  target: string;
}

let known: Set<string> | undefined;

function isKnownKey(key: string): key is MessageKey {
  known ??= new Set(catalogueKeys("fr"));
  return known.has(key);
}

function parseParams(json: string): Params {
  try {
    const value: unknown = JSON.parse(json);
    if (!value || typeof value !== "object" || Array.isArray(value)) return {};
    const out: Params = {};
    for (const [k, v] of Object.entries(value)) if (typeof v === "string" || typeof v === "number") out[k] = v;
    return out;
  } catch {
    return {};
  }
}

export function entryText(row: Pick<HistoryRow, "action" | "params" | "text">, lang: Lang): string {
  return isKnownKey(row.action) ? t(lang, row.action, parseParams(row.params)) : row.text;
}

export function moduleName(module: string, lang: Lang): string {
  return isHistoryModule(module) ? t(lang, moduleLabel(module)) : module;
}

function targetOf(row: HistoryRow): string {
  if (row.target_name) return row.target_name;
  if (!row.target_type && !row.target_id) return "";
  return `${row.target_type} ${row.target_id}`.trim();
}

/** `sortable` dates (`YYYY-MM-DD HH:MM:SS`) for exports; localized ones on screen. */
export function presentEntry(row: HistoryRow, lang: Lang, timeZone: string, dates: "reader" | "sortable" = "reader"): EntryView {
  return {
    id: row.id,
    iso: new Date(row.at).toISOString(),
    date: dates === "reader" ? formatForReader(row.at, timeZone, lang) : formatSortable(row.at, timeZone),
    user: row.user_login,
    who: row.who,
    module: moduleName(row.module, lang),
    text: entryText(row, lang),
    ip: row.source_ip,
    target: targetOf(row),
  };
}
