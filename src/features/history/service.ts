/**
 * @module history/service
 * `record(...)`: the one function every feature calls to write the history (SPEC X6, L):
 * who (a user, or a machine or service), when, what, in which module, from which
 * address, on which target. The text is kept both as a message key with its parameters
 * (shown in each reader's language) and as French text (searched and exported).
 */
import type { Database } from "bun:sqlite";
import { t, type MessageKey, type Params } from "../../i18n/index.ts";

export interface HistoryEntry {
  module: string;
  /** A catalogue key, e.g. "history.login.success". */
  action: MessageKey;
  params?: Params;
  /** SPEC L2 criterion: inventory, requested, deployment, planned, quickaction, user, machine, master, newmachine, none. */
  criterion?: string;
  userId?: number | null;
  userLogin?: string;
  /** A machine or service acting on its own, e.g. "scheduler". */
  who?: string;
  sourceIp?: string;
  target?: { type: string; id: string | number; name?: string };
  at?: number;
}

export interface Recorder {
  record(entry: HistoryEntry): number;
}

export function createRecorder(db: Database, now: () => number = Date.now): Recorder {
  const insert = db.query(
    `INSERT INTO history (at, user_id, user_login, who, module, criterion, action, params, text, source_ip, target_type, target_id, target_name)
     VALUES ($at, $userId, $userLogin, $who, $module, $criterion, $action, $params, $text, $sourceIp, $targetType, $targetId, $targetName)
     RETURNING id`,
  );
  return {
    record(entry) {
      const row = insert.get({
        at: entry.at ?? now(),
        userId: entry.userId ?? null,
        userLogin: entry.userLogin ?? "",
        who: entry.who ?? "",
        module: entry.module,
        criterion: entry.criterion ?? "none",
        action: entry.action,
        params: JSON.stringify(entry.params ?? {}),
        text: t("fr", entry.action, entry.params),
        sourceIp: entry.sourceIp ?? "",
        targetType: entry.target?.type ?? "",
        targetId: entry.target ? String(entry.target.id) : "",
        targetName: entry.target?.name ?? "",
      }) as { id: number };
      return row.id;
    },
  };
}
