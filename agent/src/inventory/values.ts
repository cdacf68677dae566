/**
 * @module agent/inventory/values
 * Small conversions the collectors share: trimmed strings and integers out of whatever a
 * command printed, sizes to the format's units, dates to its `YYYY-MM-DD[ hh:mm:ss]` form
 * (always UTC), time zones and boot times, a stable order for software lists, and
 * `compact`, which drops empty fields so a document never carries `""` or null.
 */
import type { Warn } from "./format.ts";

export function str(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") return undefined;
  const s = v.replace(/\0/g, "").trim();
  return s === "" ? undefined : s;
}

export function int(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v !== "string" || !/^\s*-?\d+(\.\d+)?\s*$/.test(v)) return undefined;
  return Math.trunc(Number(v));
}

/** Bytes to MiB, what the format calls MB for memory and file systems. */
export const mib = (bytes: number | undefined) => (bytes === undefined || !(bytes >= 0) ? undefined : Math.floor(bytes / 1048576));
/** Bytes to MB as disk makers count them (a "512 GB" disk is 512110 MB). */
export const mbDecimal = (bytes: number | undefined) => (bytes === undefined || !(bytes > 0) ? undefined : Math.round(bytes / 1e6));

/** "16 GB", "8192 MB", "512 KB" (binary units, as dmidecode and system_profiler mean them) → MiB. */
export function sizeToMib(text: string | undefined): number | undefined {
  const m = /^\s*([\d.]+)\s*([KMGT])i?B\b/i.exec(text ?? "");
  if (!m) return undefined;
  const factor = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[m[2]!.toUpperCase() as "K" | "M" | "G" | "T"];
  return Math.round(Number(m[1]) * factor);
}

const pad = (n: number) => String(n).padStart(2, "0");

export function isoDay(d: Date): string | undefined {
  return Number.isNaN(d.getTime()) ? undefined : `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function isoDateTime(d: Date): string | undefined {
  const day = isoDay(d);
  return day && `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A calendar date from y/m/d numbers, or undefined when it is not one. */
export function ymd(y: number, m: number, d: number): string | undefined {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1970 || y > 2200 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return isoDay(date);
}

/** Drops undefined, null, "" and NaN fields (one level). */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== "" && !(typeof v === "number" && Number.isNaN(v)))) as T;
}

export function parseJsonOr<T>(text: string | undefined, fallback: T, warn: Warn, what: string): T {
  if (!text?.trim()) return fallback;
  try {
    return JSON.parse(text.replace(/^\uFEFF/, "")) as T;
  } catch (e) {
    warn(`${what}: not JSON (${(e as Error).message.slice(0, 80)})`);
    return fallback;
  }
}

/** `date '+%Z %z'` → `{ name: "CET", offset: "+0100" }`. */
export function parseTimezone(text: string | undefined): { name: string; offset: string } | undefined {
  const m = /^\s*(\S+)\s+([+-]\d{4})\s*$/.exec(text ?? "");
  return m ? { name: m[1]!, offset: m[2]! } : undefined;
}

/** When the machine started, from the time now and its uptime in seconds. */
export function bootTime(now: Date, uptimeSeconds: number | undefined): string | undefined {
  return uptimeSeconds === undefined ? undefined : isoDateTime(new Date(Math.floor(now.getTime() / 1000 - uptimeSeconds) * 1000));
}

/** Softwares in a stable order (name, version, arch, source), so that two runs list them alike. */
export function sortSoftwares<T extends { name: string; version?: string; arch?: string; from?: string }>(list: T[]): T[] {
  const key = (s: T) => [s.name.toLowerCase(), s.version ?? "", s.arch ?? "", s.from ?? ""].join("\0");
  return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

