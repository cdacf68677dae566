/**
 * @module agent/inventory/windows/ps-json
 * Reading what Windows PowerShell 5.1's ConvertTo-Json prints. One CIM object prints as an
 * object and several as an array; an array PowerShell wrapped prints as
 * `{ "value": [...], "Count": n }`; a DateTime prints as "\/Date(ms)\/" (JSON.parse gives
 * "/Date(ms)/"), or as `{ "value": "\/Date(ms)\/", "DateTime": "<localised text>" }` when it
 * came from a script property such as Get-HotFix's InstalledOn; PowerShell 7 prints ISO
 * dates; the registry holds "yyyyMMdd"; WMI DMTF strings look like
 * "20240115081522.000000+060". These helpers take any of those.
 */
import { isoDateTime, isoDay, str, ymd } from "../values.ts";

export type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** A list from an array, a single object, PowerShell's `{ value, Count }` wrapper, or null. */
export function list(v: unknown): Obj[] {
  if (Array.isArray(v)) return v.filter(isObj);
  if (isObj(v) && Array.isArray(v.value) && "Count" in v) return v.value.filter(isObj);
  return isObj(v) ? [v] : [];
}

/** The first object of whatever `list` accepts, or an empty object. */
export function one(v: unknown): Obj {
  return list(v)[0] ?? {};
}

/** Strings from an array of strings or a single string (CIM string[] properties). */
export function strings(v: unknown): string[] {
  const arr = Array.isArray(v) ? v : isObj(v) && Array.isArray(v.value) ? v.value : [v];
  return arr.map(str).filter((s): s is string => !!s);
}

/** A point in time from any of PowerShell's date forms; `date-only` forms are read as UTC midnight. */
export function psDate(v: unknown): Date | undefined {
  if (isObj(v)) return psDate(v.value);
  const s = str(v);
  if (!s) return undefined;
  const ms = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(s);
  if (ms) return new Date(Number(ms[1]));
  const dmtf = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.\d{6}([+-])(\d{3})$/.exec(s);
  if (dmtf) {
    const [, y, mo, d, h, mi, se, sign, off] = dmtf;
    const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!) - (sign === "-" ? -1 : 1) * Number(off) * 60_000;
    return new Date(utc);
  }
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (compact) {
    const day = ymd(+compact[1]!, +compact[2]!, +compact[3]!);
    return day ? new Date(`${day}T00:00:00Z`) : undefined;
  }
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s);
  if (us) {
    const day = ymd(+us[3]!, +us[1]!, +us[2]!);
    return day ? new Date(`${day}T00:00:00Z`) : undefined;
  }
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  if (iso) {
    // Without a zone the time is read as UTC, not as this process's local time.
    const d = new Date(s.length === 10 ? `${s}T00:00:00Z` : `${s.replace(" ", "T")}${iso[1] ? "" : "Z"}`);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

/**
 * A calendar day. "/Date(ms)/" is a local midnight turned into UTC by PowerShell, so the
 * machine's offset (minutes east of UTC) is added back before taking the day.
 */
export function psDay(v: unknown, offsetMinutes = 0): string | undefined {
  const d = psDate(v);
  if (!d) return undefined;
  const raw = isObj(v) ? v.value : v;
  const shifted = typeof raw === "string" && raw.startsWith("/Date(") ? new Date(d.getTime() + offsetMinutes * 60_000) : d;
  return isoDay(shifted);
}

export function psDateTime(v: unknown): string | undefined {
  const d = psDate(v);
  return d && isoDateTime(d);
}

export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}
