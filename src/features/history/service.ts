/**
 * @module history/service
 * `record(...)`: the one function every feature calls to write the history (SPEC X6, L):
 * who (a user, or a machine or service), when, what, in which module, from which
 * address, on which target. The text is kept both as a message key with its parameters
 * (shown in each reader's language) and as French text (searched, and shown when the
 * key is gone). `createHistoryService` reads it back for a reader, within its rights, and
 * applies the retention.
 */
import type { Database } from "bun:sqlite";
import type { Access, Grantee } from "../../access.ts";
import type { Clock } from "../../clock.ts";
import { Forbidden, Invalid } from "../../errors.ts";
import { t, type MessageKey, type Params } from "../../i18n/index.ts";
import { encodeCursor, type Cursor, type HistoryFilter, type PageRequest } from "./model.ts";
import { readableModules, SETTINGS_KEY, type HistoryModule } from "./permissions.ts";
import { historyRepo, type HistoryRow } from "./repo.ts";

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

export interface HistoryServiceDeps {
  db: Database;
  clock: Clock;
  access: Access;
  recorder: Recorder;
}

/** One page of rows, newest first, with the cursors of its neighbours (null: none). */
export interface HistoryPage {
  rows: HistoryRow[];
  /** `before=` value of the newer page. */
  newer: string | null;
  /** `after=` value of the older page. */
  older: string | null;
}

/** Pulls the rows of an export batch by batch; `isTruncated` once the cap was hit. */
export interface RowReader {
  nextBatch(): HistoryRow[];
  isTruncated(): boolean;
}

export const RETENTION_SETTING = "history.retention_days";
export const DEFAULT_RETENTION_DAYS = 365;
export const MAX_RETENTION_DAYS = 36_500;
export const PURGE_BATCH = 10_000;
const DAY_MS = 86_400_000;

/**
 * Reading the history and keeping it in bounds. Every read first narrows the reader to
 * the modules it holds a `logs.*` key for (403 when it asks for another one or holds
 * none), and that list goes into the SQL: rights do not depend on the form.
 */
export function createHistoryService(deps: HistoryServiceDeps) {
  const repo = historyRepo(deps.db);

  function scope(viewer: Grantee, filter: HistoryFilter): HistoryModule[] {
    const readable = readableModules(deps.access, viewer);
    if (readable.length === 0) throw new Forbidden();
    if (filter.module === null) return readable;
    if (!readable.includes(filter.module)) throw new Forbidden();
    return [filter.module];
  }

  function page(viewer: Grantee, filter: HistoryFilter, request: PageRequest): HistoryPage {
    const modules = scope(viewer, filter);
    const { size, cursor } = request;
    if (cursor?.dir === "before") {
      const newer = repo.findPage(modules, filter, cursor, size + 1);
      // Fewer than a page newer than the cursor: that is the top, shown as the first page.
      if (newer.length > size) {
        const rows = newer.slice(0, size).reverse();
        return { rows, newer: encodeCursor(rows[0]!), older: encodeCursor(rows.at(-1)!) };
      }
      return page(viewer, filter, { size, cursor: null });
    }
    const found = repo.findPage(modules, filter, cursor, size + 1);
    const rows = found.slice(0, size);
    const older = found.length > size ? encodeCursor(rows.at(-1)!) : null;
    const newer = cursor ? encodeCursor(rows[0] ?? cursor) : null;
    return { rows, newer, older };
  }

  /** Every row of a filter, newest first, `batch` at a time, at most `cap`. Rights are checked now. */
  function reader(viewer: Grantee, filter: HistoryFilter, opts: { cap: number; batch?: number }): RowReader {
    const modules = scope(viewer, filter);
    const batch = opts.batch ?? 1000;
    let cursor: Cursor | null = null;
    let sent = 0;
    let isDone = false;
    let isTruncated = false;
    return {
      nextBatch() {
        if (isDone) return [];
        const want = Math.min(batch, opts.cap - sent);
        const rows = repo.findPage(modules, filter, cursor, want + 1);
        if (rows.length <= want) isDone = true;
        const out = rows.slice(0, want);
        sent += out.length;
        if (!isDone && sent >= opts.cap) {
          isDone = true;
          isTruncated = true;
        }
        const last = out.at(-1);
        if (last) cursor = { dir: "after", at: last.at, id: last.id };
        return out;
      },
      isTruncated: () => isTruncated,
    };
  }

  function retentionDays(): number {
    const raw = repo.findSetting(RETENTION_SETTING);
    const n = raw === null ? NaN : Number(raw);
    return Number.isSafeInteger(n) && n >= 0 ? n : DEFAULT_RETENTION_DAYS;
  }

  function setRetentionDays(actor: Grantee & { login: string }, input: unknown, ip: string): number {
    if (!deps.access.can(actor, SETTINGS_KEY)) throw new Forbidden();
    const text = typeof input === "string" ? input.trim() : "";
    const days = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    if (text === "") throw new Invalid({ days: "error.field.required" });
    if (!(days >= 0 && days <= MAX_RETENTION_DAYS)) throw new Invalid({ days: "history.error.retention" });
    const before = retentionDays();
    repo.saveSetting(RETENTION_SETTING, String(days), deps.clock.now());
    deps.recorder.record({
      module: "system", action: "history.retention.changed", params: { days, before }, criterion: "user",
      userId: actor.id, userLogin: actor.login, sourceIp: ip, target: { type: "setting", id: RETENTION_SETTING },
    });
    return days;
  }

  /**
   * Deletes what is older than the retention, `PURGE_BATCH` rows per transaction, letting
   * other work run between batches so the database never stalls. Records what it removed.
   */
  async function purge(signal?: AbortSignal): Promise<number> {
    const days = retentionDays();
    if (days === 0) return 0;
    const cutoff = deps.clock.now() - days * DAY_MS;
    let total = 0;
    for (;;) {
      const n = repo.purgeOlderThan(cutoff, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH || signal?.aborted) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (total > 0) deps.recorder.record({ module: "system", action: "history.purged", params: { count: total, days }, who: "scheduler" });
    return total;
  }

  return { readable: (viewer: Grantee) => readableModules(deps.access, viewer), page, reader, retentionDays, setRetentionDays, purge };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
