import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDirs } from "../support/tmp.ts";
import { DatabaseError, dumpSchema, openDatabase, schemaVersion } from "../../src/db/index.ts";
import { migrations } from "../../src/db/migrations/index.ts";

const tmp = tempDirs("medulla-db-");

describe("database", () => {
  test("a new database is migrated, in WAL, with foreign keys on", () => {
    const file = join(tmp(), "m.db");
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(migrations.at(-1)!.version);
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    db.close();
    const again = openDatabase(file);
    expect(schemaVersion(again)).toBe(migrations.at(-1)!.version);
    again.close();
  });

  test("migrations are numbered 1..n without gaps and named after their number", () => {
    migrations.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.name).toStartWith(String(i + 1).padStart(4, "0"));
    });
  });

  test("a failing migration changes nothing and names the file and the migration", () => {
    const file = join(tmp(), "m.db");
    openDatabase(file).close();
    const latest = migrations.at(-1)!.version;
    const broken = [...migrations, { version: latest + 1, name: "9999_broken", sql: "CREATE TABLE ok_table (x INTEGER); CREATE TABLE users (x);" }];
    expect(() => openDatabase(file, { migrations: broken })).toThrow(/m\.db: migration 9999_broken failed, nothing was changed/);
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(latest);
    expect(db.query("SELECT name FROM sqlite_schema WHERE name = 'ok_table'").get()).toBeNull();
    db.close();
  });

  test("a file that is not a database stops the start with the file and the reason", () => {
    const file = join(tmp(), "garbage.db");
    writeFileSync(file, "this is not sqlite at all, not even close".repeat(100));
    expect(() => openDatabase(file)).toThrow(DatabaseError);
    expect(() => openDatabase(file)).toThrow(/garbage\.db: cannot be used: .*not a database/);
  });

  test("a directory that cannot be created stops the start naming the file", () => {
    const dir = tmp();
    writeFileSync(join(dir, "blocker"), "");
    expect(() => openDatabase(join(dir, "blocker", "m.db"))).toThrow(/blocker\/m\.db: cannot be opened/);
  });

  test("a database from a newer Medulla is refused, not downgraded", () => {
    const file = join(tmp(), "m.db");
    const db = openDatabase(file);
    db.exec("PRAGMA user_version = 999");
    db.close();
    expect(() => openDatabase(file)).toThrow(/schema version 999 is newer/);
  });

  test("schema.sql is up to date (bun scripts/dump-schema.ts)", () => {
    const db = openDatabase(":memory:");
    expect(readFileSync(join(import.meta.dir, "../../src/db/schema.sql"), "utf8")).toBe(dumpSchema(db));
  });
});
