/**
 * @module i18n/catalogue
 * Joins the shell's catalogue with each feature's `messages.ts` (`{ fr, en }`, the
 * English typed against the French). Adding a feature's messages is one line here.
 */
import { enCore } from "./en.ts";
import { frCore } from "./fr.ts";

export const fr = {
  ...frCore,
};

export type MessageKey = keyof typeof fr;

export const en: Record<MessageKey, string> = {
  ...enCore,
};
