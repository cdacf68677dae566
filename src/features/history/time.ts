/**
 * @module history/time
 * Dates of the history in the appliance's time zone: what a `datetime-local` field means
 * (a wall-clock time there, turned into an instant), and how an instant is shown on screen
 * (localized) and in exports (sortable `YYYY-MM-DD HH:MM:SS`). Pure: no clock.
 */
import type { Lang } from "../../i18n/index.ts";

const wallPattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

export interface LocalInstant {
  at: number;
  /** 60 000 when the value had no seconds, 1 000 otherwise: an end bound includes this span. */
  precisionMs: number;
}

/** `2026-04-14T23:59` (or with seconds) in `timeZone`, or null when it is not a real date-time. */
export function parseLocalDateTime(value: string, timeZone: string): LocalInstant | null {
  const m = wallPattern.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1970 || year > 9999 || hour > 23 || minute > 59 || second > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { at: wallToInstant(wall, timeZone), precisionMs: m[6] === undefined ? 60_000 : 1_000 };
}

/**
 * The instant when clocks in `timeZone` show `wall` (a local time encoded as UTC). Of two
 * (clocks set back) the earlier; of none (clocks set forward) the time read
 * with the offset before the change.
 */
function wallToInstant(wall: number, timeZone: string): number {
  const day = 86_400_000;
  const candidates = [...new Set([offsetAt(wall - day, timeZone), offsetAt(wall + day, timeZone)])].map((o) => wall - o);
  const exact = candidates.filter((t) => t + offsetAt(t, timeZone) === wall);
  return exact.length ? Math.min(...exact) : Math.max(...candidates);
}

function offsetAt(t: number, timeZone: string): number {
  const p = parts(t, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

// Exports format every row's date; asking Intl each time would cost more than the rest of
// the row. Offsets change only on quarter-hour instants, so one lookup serves the whole
// quarter hour, and rows come in time order.
const lastOffset = new Map<string, { quarter: number; offset: number }>();

function cachedOffset(t: number, timeZone: string): number {
  const quarter = Math.floor(t / 900_000);
  const hit = lastOffset.get(timeZone);
  if (hit?.quarter === quarter) return hit.offset;
  const offset = offsetAt(t, timeZone);
  lastOffset.set(timeZone, { quarter, offset });
  return offset;
}

/** `YYYY-MM-DD HH:MM:SS` in `timeZone`: for CSV and PDF, readable and sortable. */
export function formatSortable(at: number, timeZone: string): string {
  return new Date(at + cachedOffset(at, timeZone)).toISOString().slice(0, 19).replace("T", " ");
}

/** The value a `datetime-local` field shows for an instant (seconds only when not zero). */
export function formatInput(at: number, timeZone: string): string {
  const text = formatSortable(at, timeZone).replace(" ", "T");
  return text.endsWith(":00") ? text.slice(0, -3) : text;
}

/** A date-time for the reader: `1 juin 2026, 14:05:09` / `1 Jun 2026, 14:05:09`. */
export function formatForReader(at: number, timeZone: string, lang: Lang): string {
  return readerFormatter(timeZone, lang).format(at);
}

const cache = new Map<string, Intl.DateTimeFormat>();

function readerFormatter(timeZone: string, lang: Lang): Intl.DateTimeFormat {
  const key = `${lang} ${timeZone}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", { timeZone, dateStyle: "medium", timeStyle: "medium" });
    cache.set(key, f);
  }
  return f;
}

function parts(t: number, timeZone: string) {
  const key = `parts ${timeZone}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    cache.set(key, f);
  }
  const out = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  for (const p of f.formatToParts(t)) if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  return out;
}
