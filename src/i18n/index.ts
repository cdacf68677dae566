/**
 * @module i18n
 * Translation: `t(lang, key, params)` looks a key up in the French (default) or English
 * catalogue and fills `{name}` placeholders. Views receive a bound `T` so they never
 * pick a language themselves.
 */
import { en, fr, type MessageKey } from "./catalogue.ts";

export type { MessageKey };
export type Lang = "fr" | "en";
export const languages: readonly Lang[] = ["fr", "en"];
export const defaultLang: Lang = "fr";

const catalogues: Record<Lang, Record<MessageKey, string>> = { fr, en };

export type Params = Record<string, string | number>;
export type T = (key: MessageKey, params?: Params) => string;

export function isLang(value: unknown): value is Lang {
  return value === "fr" || value === "en";
}

export function t(lang: Lang, key: MessageKey, params?: Params): string {
  const text = catalogues[lang][key] ?? fr[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function translator(lang: Lang): T {
  return (key, params) => t(lang, key, params);
}

export function catalogueKeys(lang: Lang): string[] {
  return Object.keys(catalogues[lang]).sort();
}
