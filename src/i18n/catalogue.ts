/**
 * @module i18n/catalogue
 * Joins the shell's catalogue with each feature's `messages.ts` (`{ fr, en }`, the
 * English typed against the French). Adding a feature's messages is one line here.
 */
import { enCore } from "./en.ts";
import { frCore } from "./fr.ts";
import * as account from "../features/account/messages.ts";
import * as actions from "../features/actions/messages.ts";
import * as auth from "../features/auth/messages.ts";
import * as api from "../web/api-messages.ts";
import * as entities from "../features/entities/messages.ts";
import * as groups from "../features/groups/messages.ts";
import * as machines from "../features/machines/messages.ts";
import * as netboot from "../features/netboot/messages.ts";
import * as machineGroups from "../features/machine-groups/messages.ts";
import * as history from "../features/history/messages.ts";
import * as inventory from "../features/inventory/messages.ts";
import * as inventoryImport from "../features/inventory/messages-import.ts";
import * as users from "../features/users/messages.ts";
import * as packages from "../features/packages/messages.ts";
import * as deployments from "../features/deployments/messages.ts";
import * as deploymentsLive from "../features/deployments/messages-live.ts";

export const fr = {
  ...frCore,
  ...account.fr,
  ...actions.fr,
  ...auth.fr,
  ...api.fr,
  ...entities.fr,
  ...groups.fr,
  ...machines.fr,
  ...netboot.fr,
  ...machineGroups.fr,
  ...history.fr,
  ...inventory.fr,
  ...inventoryImport.fr,
  ...users.fr,
  ...packages.fr,
  ...deployments.fr,
  ...deploymentsLive.fr,
};

export type MessageKey = keyof typeof fr;

export const en: Record<MessageKey, string> = {
  ...enCore,
  ...account.en,
  ...actions.en,
  ...auth.en,
  ...api.en,
  ...entities.en,
  ...groups.en,
  ...machines.en,
  ...netboot.en,
  ...machineGroups.en,
  ...history.en,
  ...inventory.en,
  ...inventoryImport.en,
  ...users.en,
  ...packages.en,
  ...deployments.en,
  ...deploymentsLive.en,
};
