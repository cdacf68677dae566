import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirs } from "../support/tmp.ts";
import { backupDatabase, checkBackup, listBackups, restoreDatabase } from "../../src/db/backup.ts";
import { openDatabase } from "../../src/db/index.ts";

const tmp = tempDirs("medulla-backup-");
const at = (h: number) => Date.UTC(2026, 0, 2, h, 30);

function setting(file: string): string | null {
  const db = openDatabase(file);
  const row = db.query("SELECT value FROM settings WHERE key = 'k'").get() as { value: string } | null;
  db.close();
  return row?.value ?? null;
}

describe("database backups", () => {
  test("an online backup is a complete copy, taken while the database is in use", () => {
    const dir = tmp();
    const db = openDatabase(join(dir, "medulla.db"));
    db.query("INSERT INTO settings VALUES ('k', 'before', 0)").run();
    const b = backupDatabase(db, join(dir, "backups"), at(1), 5);
    db.query("UPDATE settings SET value = 'after'").run();
    expect(b.name).toBe("medulla-20260102-013000.db");
    expect(checkBackup(b.file).version).toBeGreaterThan(0);
    expect(setting(b.file)).toBe("before");
    db.close();
  });

  test("retention keeps the newest N, and never leaves a partial file", () => {
    const dir = tmp();
    const db = openDatabase(join(dir, "medulla.db"));
    for (let h = 0; h < 6; h++) backupDatabase(db, join(dir, "backups"), at(h), 3);
    backupDatabase(db, join(dir, "backups"), at(5), 3); // same second: a distinct name
    expect(listBackups(join(dir, "backups")).map((b) => b.name)).toEqual([
      "medulla-20260102-043000.db", "medulla-20260102-053000-1.db", "medulla-20260102-053000.db",
    ].sort());
    expect(readdirSync(join(dir, "backups")).some((f) => f.includes("partial"))).toBe(false);
    db.close();
  });

  test("restore replaces the database and keeps the previous one beside it", () => {
    const dir = tmp();
    const file = join(dir, "medulla.db");
    const db = openDatabase(file);
    db.query("INSERT INTO settings VALUES ('k', 'old', 0)").run();
    const b = backupDatabase(db, join(dir, "backups"), at(1), 5);
    db.query("UPDATE settings SET value = 'new'").run();
    db.close();
    const kept = restoreDatabase(b.file, file, at(2));
    expect(kept).toBe("medulla.db.before-restore-20260102-023000");
    expect(setting(file)).toBe("old");
    expect(setting(join(dir, kept!))).toBe("new");
  });

  test("restore refuses garbage, a missing file or a foreign SQLite file, and touches nothing", () => {
    const dir = tmp();
    const file = join(dir, "medulla.db");
    const db = openDatabase(file);
    db.query("INSERT INTO settings VALUES ('k', 'live', 0)").run();
    db.close();
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, "x".repeat(5000));
    expect(() => restoreDatabase(garbage, file, at(3))).toThrow(/garbage\.db: not a (SQLite|usable) database/);
    expect(() => restoreDatabase(join(dir, "none.db"), file, at(3))).toThrow("no such file");
    const foreign = join(dir, "foreign.db");
    const f = openDatabase(foreign, { migrations: [] });
    f.exec("CREATE TABLE t (x)");
    f.close();
    expect(() => restoreDatabase(foreign, file, at(3))).toThrow("not a Medulla database");
    expect(setting(file)).toBe("live");
    expect(readdirSync(dir).filter((n) => n.includes("before-restore"))).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});
