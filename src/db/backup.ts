/**
 * @module db/backup
 * Online backups with `VACUUM INTO` (a consistent copy while the server runs, written to a
 * temp name and renamed so a half-written file never looks like a backup), retention by
 * count, and `medulla restore`: the backup is checked (SQLite integrity, schema not newer
 * than this program's) before the current database is set aside and replaced.
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { migrations } from "./migrations/index.ts";

const NAME = /^medulla-\d{8}-\d{6}(-\d+)?\.db$/;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export interface BackupInfo {
  file: string;
  name: string;
  size: number;
  at: number;
}

export function listBackups(dir: string): BackupInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => NAME.test(f))
    .map((name) => {
      const file = join(dir, name);
      const st = statSync(file);
      return { file, name, size: st.size, at: st.mtimeMs };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Writes `medulla-YYYYMMDD-HHMMSS.db` into `dir`, then keeps only the newest `keep`. */
export function backupDatabase(db: Database, dir: string, now: number, keep: number): BackupInfo {
  mkdirSync(dir, { recursive: true });
  let name = `medulla-${stamp(now)}.db`;
  for (let i = 1; existsSync(join(dir, name)); i++) name = `medulla-${stamp(now)}-${i}.db`;
  const tmp = join(dir, `.${name}.partial`);
  rmSync(tmp, { force: true });
  try {
    db.query("VACUUM INTO $file").run({ file: tmp });
    renameSync(tmp, join(dir, name));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const all = listBackups(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.file, { force: true });
  const file = join(dir, name);
  return { file, name, size: statSync(file).size, at: now };
}

/** Checks that `file` is a usable Medulla backup; throws an Error saying why not. */
export function checkBackup(file: string): { version: number } {
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  let db: Database;
  try {
    db = new Database(file, { readonly: true });
  } catch (err) {
    throw new Error(`${file}: not a SQLite database (${(err as Error).message})`);
  }
  try {
    const ok = db.query("PRAGMA integrity_check").get() as { integrity_check: string } | null;
    if (ok?.integrity_check !== "ok") throw new Error(`${file}: damaged (${ok?.integrity_check ?? "no answer"})`);
    const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    const latest = migrations.at(-1)!.version;
    if (version === 0) throw new Error(`${file}: not a Medulla database (no schema version)`);
    if (version > latest) throw new Error(`${file}: made by a newer Medulla (schema ${version}, this one knows ${latest})`);
    const hasUsers = db.query("SELECT 1 FROM sqlite_schema WHERE name = 'users'").get();
    if (!hasUsers) throw new Error(`${file}: not a Medulla database (no users table)`);
    return { version };
  } catch (err) {
    if ((err as Error).message.startsWith(file)) throw err;
    throw new Error(`${file}: not a usable database (${(err as Error).message})`);
  } finally {
    db.close();
  }
}

/**
 * Replaces `dbFile` with `backup`. The current database (and its WAL) is kept beside it as
 * `medulla.db.before-restore-<stamp>`; returns that name. The server must be stopped.
 */
export function restoreDatabase(backup: string, dbFile: string, now: number): string | null {
  checkBackup(backup);
  let keptAs: string | null = null;
  if (existsSync(dbFile)) {
    // Fold the WAL into the main file first so the set-aside copy is complete on its own.
    const current = new Database(dbFile);
    current.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    current.close();
    keptAs = `${dbFile}.before-restore-${stamp(now)}`;
    renameSync(dbFile, keptAs);
  }
  for (const suffix of ["-wal", "-shm"]) rmSync(dbFile + suffix, { force: true });
  const tmp = `${dbFile}.restoring`;
  copyFileSync(backup, tmp);
  renameSync(tmp, dbFile);
  return keptAs ? basename(keptAs) : null;
}
