/**
 * @module actions/quick
 * Custom quick actions (SPEC C12): a named command or script for one OS with its
 * interpreter, a description and a timeout. Names are unique (case-insensitive). Every
 * change is in the history (module "quickaction").
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Invalid, NotFound, type FieldErrors } from "../../errors.ts";
import type { MessageKey } from "../../i18n/index.ts";
import type { Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";

export const OSES = ["linux", "windows", "darwin"] as const;
export type Os = (typeof OSES)[number];
export const INTERPRETERS = ["shell", "powershell", "cmd", "python"] as const;
export type Interpreter = (typeof INTERPRETERS)[number];
/** What each OS can run (the agent checks the same; agent/src/actions/script.ts). */
export const INTERPRETERS_BY_OS: Record<Os, Interpreter[]> = { linux: ["shell", "python", "powershell"], darwin: ["shell", "python", "powershell"], windows: ["powershell", "cmd", "python"] };
export const MAX_SCRIPT = 32_768;

export interface QuickActionRow {
  id: number;
  name: string;
  os: Os;
  interpreter: Interpreter;
  script: string;
  description: string;
  timeout_seconds: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface QuickActionInput {
  name?: unknown;
  os?: unknown;
  interpreter?: unknown;
  script?: unknown;
  description?: unknown;
  timeoutSeconds?: unknown;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The checked input, or `Invalid` naming every wrong field. */
export function validateQuickAction(input: QuickActionInput): { name: string; os: Os; interpreter: Interpreter; script: string; description: string; timeoutSeconds: number } {
  const errors: FieldErrors = {};
  const name = str(input.name).trim();
  if (!name) errors.name = "qa.error.nameRequired";
  else if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) errors.name = "qa.error.nameInvalid";
  const os = str(input.os) as Os;
  if (!OSES.includes(os)) errors.os = "qa.error.os";
  const interpreter = str(input.interpreter) as Interpreter;
  if (!INTERPRETERS.includes(interpreter)) errors.interpreter = "qa.error.interpreter";
  else if (OSES.includes(os) && !INTERPRETERS_BY_OS[os].includes(interpreter)) errors.interpreter = "qa.error.interpreterOs";
  const script = str(input.script).replace(/\r\n/g, "\n");
  if (!script.trim()) errors.script = "qa.error.scriptRequired";
  else if (script.length > MAX_SCRIPT || script.includes("\u0000")) errors.script = "qa.error.scriptTooLong";
  const description = str(input.description).trim();
  if (description.length > 500) errors.description = "qa.error.description";
  const rawTimeout = input.timeoutSeconds === undefined || input.timeoutSeconds === "" ? 300 : Number(input.timeoutSeconds);
  if (!Number.isInteger(rawTimeout) || rawTimeout < 1 || rawTimeout > 3600) errors.timeoutSeconds = "qa.error.timeout";
  if (Object.keys(errors).length) throw new Invalid(errors);
  return { name, os, interpreter, script, description, timeoutSeconds: rawTimeout };
}

export function createQuickActions(deps: { db: Database; clock: Clock; recorder: Recorder }) {
  const { db, clock, recorder } = deps;
  const rec = (viewer: Viewer, action: MessageKey, row: { id: number; name: string }, ip: string) =>
    recorder.record({ module: "quickaction", action, params: { name: row.name }, criterion: "quickaction", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "quickaction", id: row.id, name: row.name } });
  const taken = (name: string, except: number) => db.query("SELECT 1 FROM quick_actions WHERE name = ? AND id <> ?").get(name, except) !== null;

  return {
    list(search = ""): QuickActionRow[] {
      const q = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return db.query(`SELECT * FROM quick_actions WHERE name LIKE $q ESCAPE '\\' OR description LIKE $q ESCAPE '\\' ORDER BY name COLLATE NOCASE`).all({ q }) as QuickActionRow[];
    },
    get(id: number): QuickActionRow {
      const row = Number.isInteger(id) ? (db.query("SELECT * FROM quick_actions WHERE id = ?").get(id) as QuickActionRow | null) : null;
      if (!row) throw new NotFound();
      return row;
    },
    create(viewer: Viewer, input: QuickActionInput, ip: string): QuickActionRow {
      const v = validateQuickAction(input);
      if (taken(v.name, 0)) throw new Invalid({ name: "qa.error.nameTaken" });
      const now = clock.now();
      const row = db
        .query(`INSERT INTO quick_actions (name, os, interpreter, script, description, timeout_seconds, created_by, created_at, updated_at)
                VALUES ($name, $os, $interpreter, $script, $description, $timeout, $by, $now, $now) RETURNING *`)
        .get({ name: v.name, os: v.os, interpreter: v.interpreter, script: v.script, description: v.description, timeout: v.timeoutSeconds, by: viewer.login, now }) as QuickActionRow;
      rec(viewer, "qa.history.created", row, ip);
      return row;
    },
    update(viewer: Viewer, id: number, input: QuickActionInput, ip: string): QuickActionRow {
      this.get(id);
      const v = validateQuickAction(input);
      if (taken(v.name, id)) throw new Invalid({ name: "qa.error.nameTaken" });
      const row = db
        .query(`UPDATE quick_actions SET name = $name, os = $os, interpreter = $interpreter, script = $script, description = $description,
                timeout_seconds = $timeout, updated_at = $now WHERE id = $id RETURNING *`)
        .get({ id, name: v.name, os: v.os, interpreter: v.interpreter, script: v.script, description: v.description, timeout: v.timeoutSeconds, now: clock.now() }) as QuickActionRow;
      rec(viewer, "qa.history.updated", row, ip);
      return row;
    },
    remove(viewer: Viewer, id: number, ip: string): void {
      const row = this.get(id);
      db.query("DELETE FROM quick_actions WHERE id = ?").run(id);
      rec(viewer, "qa.history.deleted", row, ip);
    },
  };
}

export type QuickActions = ReturnType<typeof createQuickActions>;
