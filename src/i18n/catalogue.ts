/**
 * @module i18n/catalogue
 * Joins the shell's catalogue with each feature's `messages.ts` (`{ fr, en }`, the
 * English typed against the French). Adding a feature's messages is one line here.
 */
import { enCore } from "./en.ts";
import { frCore } from "./fr.ts";
import { accountMessages } from "../features/account/messages.ts";
import { authMessages } from "../features/auth/messages.ts";
import { apiMessages } from "../web/api-messages.ts";
import * as entities from "../features/entities/messages.ts";
import * as groups from "../features/groups/messages.ts";
import * as users from "../features/users/messages.ts";

export const fr = {
  ...frCore,
  ...accountMessages.fr,
  ...authMessages.fr,
  ...apiMessages.fr,
  ...entities.fr,
  ...groups.fr,
  ...users.fr,
};

export type MessageKey = keyof typeof fr;

export const en: Record<MessageKey, string> = {
  ...enCore,
  ...accountMessages.en,
  ...authMessages.en,
  ...apiMessages.en,
  ...entities.en,
  ...groups.en,
  ...users.en,
};
