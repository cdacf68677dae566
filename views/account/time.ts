/**
 * @module views/account/time
 * Stored times (UTC milliseconds) shown in the appliance's time zone and the reader's
 * language, short form; the ISO value goes in `<time datetime>` for machines.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

export function formatTime(ms: number, lang: "fr" | "en", timeZone?: string): string {
  const key = `${lang}|${timeZone ?? ""}`;
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", { dateStyle: "short", timeStyle: "short", timeZone })));
  return f.format(ms);
}

export type FormatTime = (ms: number) => string;
