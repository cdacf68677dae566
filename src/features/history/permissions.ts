/**
 * @module history/permissions
 * The history's rights (SPEC L1, U3): one key per module whose logs a user may read
 * (`logs.<module>`), and `logs.settings` to change how long entries are kept. Features
 * that call `record(...)` pass one of `HISTORY_MODULES` as `module`; a user sees only the
 * rows of the modules it holds the key of, even when it may open the history page.
 */
import type { Grantee, Access } from "../../access.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { Registry } from "../../registry.ts";

/** The modules of the history, in the order the module choice lists them. */
export const HISTORY_MODULES = [
  "inventory",
  "backup",
  "deployment",
  "quickaction",
  "download",
  "kiosk",
  "packaging",
  "remotedesktop",
  "imaging",
  "machines",
  "auth",
  "users",
  "system",
] as const;

export type HistoryModule = (typeof HISTORY_MODULES)[number];

export const SETTINGS_KEY = "logs.settings";

export function isHistoryModule(value: unknown): value is HistoryModule {
  return typeof value === "string" && (HISTORY_MODULES as readonly string[]).includes(value);
}

export function logsKey(module: HistoryModule): string {
  return `logs.${module}`;
}

export function moduleLabel(module: HistoryModule): MessageKey {
  return `history.module.${module}`;
}

/** Every key of the history: what the menu entry asks for (any one of them). */
export const ALL_LOGS_KEYS: readonly string[] = [...HISTORY_MODULES.map(logsKey), SETTINGS_KEY];

export function declareHistoryPermissions(registry: Registry): void {
  for (const module of HISTORY_MODULES) {
    registry.permission({ key: logsKey(module), category: "perm.category.logs", label: moduleLabel(module) });
  }
  registry.permission({ key: SETTINGS_KEY, category: "perm.category.logs", label: "perm.logs.settings" });
}

/** The modules whose logs `user` may read, in display order. */
export function readableModules(access: Access, user: Grantee): HistoryModule[] {
  return HISTORY_MODULES.filter((m) => access.can(user, logsKey(m)));
}
