/**
 * @module views/inventory/format
 * How the inventory's figures read: sizes from megabytes (binary units, the reader's
 * language), frequencies, a percentage rounded for a usage bar. Pure functions.
 */
export type Lang = "fr" | "en";

const units = { fr: ["Mo", "Go", "To", "Po"], en: ["MB", "GB", "TB", "PB"] } as const;

/** "512 Mo", "15,6 Go", "1.8 TB"; "—" when unknown. */
export function sizeMb(mb: number | null | undefined, lang: Lang): string {
  if (mb === null || mb === undefined || !Number.isFinite(mb)) return "—";
  let v = mb;
  let i = 0;
  while (v >= 1024 && i < units[lang].length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString(lang, { maximumFractionDigits: v >= 100 || i === 0 ? 0 : 1 })} ${units[lang][i]}`;
}

export function sizeKb(kb: number | null | undefined, lang: Lang): string {
  return kb === null || kb === undefined ? "—" : sizeMb(kb / 1024, lang);
}

export function mhz(value: number | null | undefined, lang: Lang): string {
  if (!value) return "—";
  return value >= 1000 ? `${(value / 1000).toLocaleString(lang, { maximumFractionDigits: 2 })} GHz` : `${value} MHz`;
}

export function mbps(value: number | null | undefined, lang: Lang): string {
  if (!value) return "—";
  return value >= 1000 ? `${(value / 1000).toLocaleString(lang, { maximumFractionDigits: 1 })} Gb/s` : `${value} Mb/s`;
}

/** Used share of a file system, 0–100, or null when its sizes are unknown. */
export function usedPct(totalMb: number | null, freeMb: number | null): number | null {
  if (!totalMb || totalMb <= 0 || freeMb === null || freeMb < 0) return null;
  return Math.min(100, Math.max(0, Math.round(((totalMb - Math.min(freeMb, totalMb)) / totalMb) * 100)));
}

/** A value or the dash that says "unknown". */
export const orDash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === "" ? "—" : String(v));
