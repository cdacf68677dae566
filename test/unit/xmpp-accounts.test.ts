import { expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { createAccounts, InvalidUsername } from "../../src/net/xmpp/accounts.ts";
import { verifyPassword } from "../../src/net/xmpp/scram.ts";

function accounts() {
  const db = openDatabase(":memory:");
  return { db, repo: createAccounts(db, new ManualClock(Date.UTC(2026, 0, 1)), { iterations: 64 }) };
}

test("only derived keys are stored, never the password", () => {
  const { db, repo } = accounts();
  repo.create("Agent-7", "correct horse battery staple");
  const row = db.query("SELECT * FROM xmpp_accounts").get() as Record<string, unknown>;
  expect(row.username).toBe("agent-7");
  const text = Object.values(row).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : String(v))).join("|");
  expect(text).not.toContain("correct horse");
  const stored = repo.credentials("AGENT-7")!;
  expect(stored.iterations).toBe(64);
  expect(verifyPassword("sha256", "correct horse battery staple", { ...stored, keys: stored.sha256 })).toBe(true);
  expect(verifyPassword("sha1", "correct horse battery staple", { ...stored, keys: stored.sha1 })).toBe(true);
  expect(verifyPassword("sha256", "wrong", { ...stored, keys: stored.sha256 })).toBe(false);
});

test("get, disable, enable, new password, remove", () => {
  const { repo } = accounts();
  repo.create("m1", "pw", null);
  expect(repo.get("m1")).toEqual({ username: "m1", kind: "agent", machineId: null, isDisabled: false, createdAt: Date.UTC(2026, 0, 1) });
  expect(repo.disable("m1")).toBe(true);
  expect(repo.credentials("m1")!.isDisabled).toBe(true);
  expect(repo.enable("m1")).toBe(true);
  const before = repo.credentials("m1")!;
  expect(repo.setPassword("m1", "new")).toBe(true);
  expect(repo.credentials("m1")!.salt).not.toEqual(before.salt);
  expect(repo.remove("m1")).toBe(true);
  expect(repo.get("m1")).toBeNull();
  expect(repo.credentials("m1")).toBeNull();
  expect(repo.setDisabled("m1", true)).toBe(false);
});

test("creating an existing account replaces its keys (re-enrollment)", () => {
  const { repo } = accounts();
  repo.create("m1", "old");
  const old = repo.credentials("m1")!;
  repo.create("m1", "new");
  expect(repo.credentials("m1")!.sha256.storedKey).not.toEqual(old.sha256.storedKey);
});

test.each(["", "a@b", "with space", "a/b", "quote'"])("refuses the account name %p", (name) => {
  expect(() => accounts().repo.create(name, "pw")).toThrow(InvalidUsername);
});
