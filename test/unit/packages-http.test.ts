/**
 * Packages over HTTP, in process: adding a package from each file origin, the Medulla
 * import (page and API), hostile archives (path traversal, symbolic links, zip bombs, lying
 * headers, not a zip) refused with nothing left behind, the step editor's operations and
 * validation, versions locked once deployed, delete refused while in use, pending packages,
 * rights, and the history.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { BlobStore } from "../../src/features/packages/blobs.ts";
import { emptyDescriptor } from "../../src/features/packages/descriptor.ts";
import { extractZip } from "../../src/features/packages/zip.ts";
import { silentLogger } from "../../src/log.ts";
import { Client } from "../support/app.ts";
import { makeZip } from "../support/zip.ts";

const strong = "Correct-horse-7";
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "medulla-pkg-test-"));
  roots.push(dir);
  const db = openDatabase(":memory:");
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const app = buildApp({ db, clock, log: silentLogger, packagesDir: dir });
  db.query("INSERT INTO users (login, password_hash, is_super, must_change_password, created_at, updated_at) VALUES ('root', ?, 1, 0, 0, 0)").run(await hashPassword(strong));
  const c = new Client(app, "192.0.2.10");
  await c.signIn("root", strong);
  await c.page("/packages");
  return { dir, db, app, c, clock };
}

function multipart(fields: Record<string, string>, file?: { name: string; data: Uint8Array | string; field?: string }): { body: Uint8Array<ArrayBuffer>; type: string } {
  const b = "----medullatest" + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${file.field ?? "file"}"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(Buffer.from(file.data));
    parts.push(Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), type: `multipart/form-data; boundary=${b}` };
}

async function upload(c: Client, path: string, fields: Record<string, string>, file?: { name: string; data: Uint8Array | string }, headers: Record<string, string> = {}) {
  const m = multipart({ _csrf: c.csrf, ...fields }, file);
  return c.request("POST", path, { body: m.body, headers: { "content-type": m.type, ...headers } });
}

const meta = (name: string, extra: Record<string, string> = {}) => ({ name, version: "1.0.0", description: "test", kind: "install", os_windows: "on", share: "global", transfer: "pull", bandwidth: "0", priority: "normal", inventoryAfter: "on", ...extra });

const blobCount = (dir: string) => {
  try {
    return readdirSync(join(dir, "blobs")).reduce((n, d) => n + readdirSync(join(dir, "blobs", d)).length, 0);
  } catch {
    return 0;
  }
};
const tmpCount = (dir: string) => (existsSync(join(dir, "tmp")) ? readdirSync(join(dir, "tmp")).length : 0);

async function fixtureZip(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const base = join(import.meta.dir, "..", "fixtures", "medulla", name);
  const entries = await Promise.all(readdirSync(base).map(async (f) => ({ name: `${name}/${f}`, data: new Uint8Array(await Bun.file(join(base, f)).arrayBuffer()), deflate: true })));
  return makeZip(entries);
}

describe("adding packages", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    s = await setup();
  });

  test("empty package", async () => {
    const res = await upload(s.c, "/packages/new", { origin: "empty", ...meta("Empty_one") });
    expect(res.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    const row = s.app.packages.get(id);
    expect(row.name).toBe("Empty_one");
    expect(row.file_count).toBe(0);
    const page = await s.c.page(`/packages/${id}?notice=created`);
    expect(page.html).toContain("Empty_one");
    const list = await s.c.page("/packages");
    expect(list.html).toContain("Empty_one");
  });

  test("upload a zip: extracted, files addressed by SHA-256, same bytes stored once", async () => {
    const zip = makeZip([{ name: "setup.exe", data: "MZ fake", deflate: true }, { name: "conf/app.ini", data: "[a]\nb=1\n" }, { name: "copy.exe", data: "MZ fake" }, { name: "dir/", mode: 0o040755 }]);
    const res = await upload(s.c, "/packages/new", { origin: "upload", extract: "on", ...meta("Zipped") }, { name: "payload.zip", data: zip });
    expect(res.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    const files = s.app.packages.files(id);
    expect(files.map((f) => f.path)).toEqual(["conf/app.ini", "copy.exe", "setup.exe"]);
    expect(files[1]!.sha256).toBe(new Bun.CryptoHasher("sha256").update("MZ fake").digest("hex"));
    expect(blobCount(s.dir)).toBe(2);
    expect(tmpCount(s.dir)).toBe(0);
  });

  test("upload one file without extracting", async () => {
    const res = await upload(s.c, "/packages/new", { origin: "upload", ...meta("One_file") }, { name: "C:\\Users\\me\\tool.msi", data: "msi" });
    expect(res.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    expect(s.app.packages.files(id).map((f) => f.path)).toEqual(["tool.msi"]);
  });

  test("files already on the server are reused without copy", async () => {
    const r1 = await upload(s.c, "/packages/new", { origin: "upload", ...meta("Source") }, { name: "big.bin", data: "x".repeat(5000) });
    const src = Number(/\/packages\/(\d+)/.exec(r1.headers.get("location")!)![1]);
    const r2 = await upload(s.c, "/packages/new", { origin: "existing", sourcePackage: String(src), ...meta("Reuse") });
    expect(r2.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(r2.headers.get("location")!)![1]);
    expect(s.app.packages.files(id)).toEqual(s.app.packages.files(src));
    expect(blobCount(s.dir)).toBe(1);
  });

  test("server directory: read recursively; a symbolic link refuses the folder", async () => {
    const src = join(s.dir, "sources", "Chrome");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "chrome.msi"), "msi");
    writeFileSync(join(src, "sub", "prefs.json"), "{}");
    const res = await upload(s.c, "/packages/new", { origin: "directory", directory: "Chrome", ...meta("Chrome") });
    expect(res.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    expect(s.app.packages.files(id).map((f) => f.path)).toEqual(["chrome.msi", "sub/prefs.json"]);
    const evil = join(s.dir, "sources", "Evil");
    mkdirSync(evil, { recursive: true });
    writeFileSync(join(evil, "ok.txt"), "fine and unique");
    symlinkSync("/etc/passwd", join(evil, "passwd"));
    const before = blobCount(s.dir);
    const bad = await upload(s.c, "/packages/new", { origin: "directory", directory: "Evil", ...meta("Evil") });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("symbolic link");
    expect(blobCount(s.dir)).toBe(before);
    const escape = await upload(s.c, "/packages/new", { origin: "directory", directory: "..", ...meta("Escape") });
    expect(escape.status).toBe(400);
  });

  test("invalid metadata: field-level errors, nothing stored", async () => {
    const res = await upload(s.c, "/packages/new", { origin: "upload", ...meta("Éteindre!", { version: "" }) }, { name: "a.bin", data: "abc unique bytes" });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('id="name-error"');
    expect(html).toContain('id="version-error"');
    expect(blobCount(s.dir)).toBe(0);
    expect(tmpCount(s.dir)).toBe(0);
  });

  test("dependencies chosen in the form (a multiple select) are all kept", async () => {
    s.app.packages.create(null, emptyDescriptor("Dep_A", "1"), [], "empty");
    s.app.packages.create(null, emptyDescriptor("Dep_B", "2"), [], "empty");
    const b = "----dep";
    const parts = [["_csrf", s.c.csrf], ["origin", "empty"], ...Object.entries(meta("With_deps")), ["dependencies", "Dep_A@1"], ["dependencies", "Dep_B@2"]];
    const body = parts.map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join("") + `--${b}--\r\n`;
    const res = await s.c.request("POST", "/packages/new", { body, headers: { "content-type": `multipart/form-data; boundary=${b}` } });
    expect(res.status).toBe(303);
    const id = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    expect(s.app.packages.descriptor(id).dependencies).toEqual([{ name: "Dep_A", version: "1" }, { name: "Dep_B", version: "2" }]);
  });

  test("same name and version twice is a conflict", async () => {
    await upload(s.c, "/packages/new", { origin: "empty", ...meta("Twice") });
    const res = await upload(s.c, "/packages/new", { origin: "empty", ...meta("Twice") });
    expect(res.status).toBe(409);
  });

  test("a form without its CSRF token is refused before the file is used", async () => {
    const m = multipart({ origin: "upload", ...meta("NoCsrf") }, { name: "a.bin", data: "no csrf bytes" });
    const res = await s.c.request("POST", "/packages/new", { body: m.body, headers: { "content-type": m.type } });
    expect(res.status).toBe(403);
    expect(blobCount(s.dir)).toBe(0);
    expect(tmpCount(s.dir)).toBe(0);
  });
});

describe("hostile archives", () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    s = await setup();
  });
  const cases: [string, () => Uint8Array<ArrayBuffer>][] = [
    ["path traversal", () => makeZip([{ name: "ok.txt", data: "ok" }, { name: "../../etc/cron.d/evil", data: "* * * * * root sh" }])],
    ["absolute path", () => makeZip([{ name: "/etc/passwd", data: "x" }])],
    ["windows drive path", () => makeZip([{ name: "C:\\Windows\\evil.dll", data: "x" }])],
    ["backslash traversal", () => makeZip([{ name: "a\\..\\..\\evil", data: "x" }])],
    ["symbolic link", () => makeZip([{ name: "ok.txt", data: "ok" }, { name: "link", data: "/etc/shadow", mode: 0o120777 }])],
    ["zip bomb (ratio)", () => makeZip([{ name: "bomb.bin", data: new Uint8Array(8 * 1024 * 1024), deflate: true }])],
    ["lying header (inflates past its declared size)", () => makeZip([{ name: "liar.bin", data: "y".repeat(100_000), deflate: true, declaredSize: 10 }])],
    ["duplicate paths", () => makeZip([{ name: "a.txt", data: "1" }, { name: "A.TXT", data: "2" }])],
    ["not a zip", () => new TextEncoder().encode("PK\u0003\u0004 this is not really a zip at all")],
  ];
  for (const [name, make] of cases) {
    test(`${name}: refused, nothing left behind`, async () => {
      const zip = make();
      const before = blobCount(s.dir);
      const res = await s.c.request("POST", "/api/v1/packages/import", { body: zip, headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
      expect([400, 413]).toContain(res.status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(blobCount(s.dir)).toBe(before);
      expect(tmpCount(s.dir)).toBe(0);
      expect(s.app.packages.list().total).toBe(0);
      const page = await upload(s.c, "/packages/new", { origin: "upload", extract: "on", ...meta("Hostile") }, { name: "evil.zip", data: zip });
      expect([400, 413]).toContain(page.status);
      expect(blobCount(s.dir)).toBe(before);
      expect(tmpCount(s.dir)).toBe(0);
    });
  }
  test("refusals are in the history", async () => {
    await s.c.request("POST", "/api/v1/packages/import", { body: cases[0]![1](), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
    const rows = s.db.query("SELECT module, action FROM history WHERE action = 'packages.history.refused'").all();
    expect(rows).toEqual([{ module: "packaging", action: "packages.history.refused" }]);
  });
  test("an upload past the size limit is refused", async () => {
    // The limit is per route (web.limitBody): a declared length above it is refused at once.
    const res = await s.c.request("POST", "/api/v1/packages/import", { body: new Uint8Array(16), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf, "content-length": String(10 * 1024 ** 4) } });
    expect(res.status).toBe(413);
  });
  test("a chunked upload (no Content-Length) streams through to the package", async () => {
    const m = multipart({ _csrf: s.c.csrf, origin: "upload", ...meta("Chunked") }, { name: "big.bin", data: new Uint8Array(5 << 20).fill(7) });
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= m.body.length) return c.close();
        c.enqueue(m.body.slice(i, i + 100_000));
        i += 100_000;
      },
    });
    const res = await s.c.request("POST", "/packages/new", { body, headers: { "content-type": m.type } });
    expect(res.status).toBeLessThan(400);
    const row = s.db.query<{ size: number }, []>("SELECT size FROM package_files WHERE path = 'big.bin'").get();
    expect(row?.size).toBe(5 << 20);
  });
});

describe("zip limits", () => {
  test("entry count, total size and per-entry size caps", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medulla-pkg-test-"));
    roots.push(dir);
    const store = new BlobStore(dir);
    const write = (zip: Uint8Array) => {
      const p = join(dir, "t.zip");
      writeFileSync(p, zip);
      return p;
    };
    const limits = { maxEntries: 10, maxTotalBytes: 1000, maxEntryBytes: 600, maxRatio: 200 };
    const many = write(makeZip(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: "x" }))));
    expect(extractZip(many, store.batch(), limits)).rejects.toMatchObject({ code: "too_many_entries" });
    const total = write(makeZip([{ name: "a", data: "a".repeat(500) }, { name: "b", data: "b".repeat(501) }]));
    expect(extractZip(total, store.batch(), limits)).rejects.toMatchObject({ code: "too_large" });
    const one = write(makeZip([{ name: "a", data: "a".repeat(601) }]));
    expect(extractZip(one, store.batch(), limits)).rejects.toMatchObject({ code: "too_large" });
    const fine = write(makeZip([{ name: "a", data: "a".repeat(600) }, { name: "d/b", data: "b" }]));
    expect((await extractZip(fine, store.batch(), limits)).map((f) => f.path)).toEqual(["a", "d/b"]);
  });
});

describe("Medulla import", () => {
  test("page import shows what could not be converted; API import answers package + warnings", async () => {
    const s = await setup();
    const res = await upload(s.c, "/packages/import", {}, { name: "firefox.zip", data: await fixtureZip("firefox-win") });
    expect(res.status).toBe(201);
    const row = s.app.packages.list().items[0]!;
    expect(row.name).toBe("Mozilla Firefox ESR");
    expect(row.uuid).toBe("5d6c2f0e-9a41-11ee-8c90-0242ac120002");
    expect(s.app.packages.files(row.id).map((f) => f.path)).toEqual(["Firefox Setup 115.6.0esr.msi"]);
    const api = await s.c.request("POST", "/api/v1/packages/import", { body: await fixtureZip("agent-config-linux"), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
    expect(api.status).toBe(201);
    const body = (await api.json()) as { package: { id: number; name: string }; warnings: string[] };
    expect(body.package.name).toBe("Configuration agent Linux");
    expect(body.warnings.join("\n")).toContain("action_set_config_file");
    expect(body.warnings.join("\n")).toContain("ffffffff-0000-4000-8000-000000000000");
    // Its dependency on the Firefox package (by Medulla uuid) was resolved.
    expect(s.app.packages.descriptor(body.package.id).dependencies).toEqual([{ name: "Mozilla Firefox ESR", version: "115.6.0" }]);
    const hist = s.db.query("SELECT count(*) AS n FROM history WHERE module = 'packaging' AND action = 'packages.history.imported'").get() as { n: number };
    expect(hist.n).toBe(2);
  });
  test("a Medulla package folder on the server imports too", async () => {
    const s = await setup();
    cpSync(join(import.meta.dir, "..", "fixtures", "medulla", "notify-mac"), join(s.dir, "sources", "notify-mac"), { recursive: true });
    await s.c.page("/packages/import");
    const res = await s.c.post("/packages/import/directory", { directory: "notify-mac" });
    expect(res.status).toBe(201);
    const html = await res.text();
    expect(html).toContain("Notification macOS");
    expect(html).toContain("unixKornshell");
    const bad = await s.c.post("/packages/import/directory", { directory: "../../etc" });
    expect(bad.status).toBe(400);
  });

  test("a zip with our own descriptor imports as is", async () => {
    const s = await setup();
    const d = emptyDescriptor("Own_format", "2.0", ["linux"]);
    const res = await s.c.request("POST", "/api/v1/packages/import", { body: makeZip([{ name: "medulla-package.json", data: JSON.stringify(d) }, { name: "run.sh", data: "echo" }]), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
    expect(res.status).toBe(201);
    const bad = await s.c.request("POST", "/api/v1/packages/import", { body: makeZip([{ name: "medulla-package.json", data: JSON.stringify({ ...d, version: "3", steps: { linux: { install: [{ id: "x", action: "rm_rf" }] } } }) }]), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
    expect(bad.status).toBe(422);
    const err = (await bad.json()) as { error: { fields: Record<string, string> } };
    expect(Object.keys(err.error.fields)).toContain("/steps/linux/install/0/action");
    const none = await s.c.request("POST", "/api/v1/packages/import", { body: makeZip([{ name: "readme.txt", data: "hi" }]), headers: { "content-type": "application/zip", "x-csrf-token": s.c.csrf } });
    expect(none.status).toBe(400);
  });
});

describe("versions, deletion, pending, rights", () => {
  test("editing a deployed version makes a new version; delete is refused while in use", async () => {
    const s = await setup();
    const svc = s.app.packages;
    const id = svc.create(null, emptyDescriptor("Locked", "1.0.0"), [], "empty");
    svc.markDeployed(id);
    expect(svc.isDeployed(id)).toBe(true);
    await s.c.page(`/packages/${id}/edit`);
    const res = await s.c.post(`/packages/${id}/edit`, meta("Locked", { description: "changed" }));
    expect(res.status).toBe(303);
    const loc = res.headers.get("location")!;
    expect(loc).toContain("notice=newVersion");
    const nid = Number(/\/packages\/(\d+)/.exec(loc)![1]);
    expect(nid).not.toBe(id);
    expect(svc.get(nid).version).toBe("1.0.1");
    expect(svc.get(nid).previous_id).toBe(id);
    expect(svc.get(id).description).toBe("");
    // A deployment still uses the old one.
    svc.setUsage((pid) => (pid === id ? 2 : 0));
    const del = await s.c.post(`/packages/${id}/delete`);
    expect(del.status).toBe(409);
    expect(svc.find(id)).not.toBeNull();
    const ok = await s.c.post(`/packages/${nid}/delete`);
    expect(ok.status).toBe(303);
    expect(svc.find(nid)).toBeNull();
  });

  test("replacing the files: in place when not deployed, a new version when deployed", async () => {
    const s = await setup();
    const r = await upload(s.c, "/packages/new", { origin: "upload", ...meta("Files") }, { name: "old.bin", data: "old bytes" });
    const id = Number(/\/packages\/(\d+)/.exec(r.headers.get("location")!)![1]);
    await s.c.page(`/packages/${id}/edit`);
    let res = await upload(s.c, `/packages/replace-files?id=${id}`, { extract: "on" }, { name: "new.zip", data: makeZip([{ name: "new.bin", data: "new bytes" }]) });
    expect(res.status).toBe(303);
    expect(s.app.packages.files(id).map((f) => f.path)).toEqual(["new.bin"]);
    expect(blobCount(s.dir)).toBe(1); // the old bytes, no longer listed, are gone
    s.app.packages.markDeployed(id);
    res = await upload(s.c, `/packages/replace-files?id=${id}`, {}, { name: "newer.bin", data: "newer bytes" });
    const nid = Number(/\/packages\/(\d+)/.exec(res.headers.get("location")!)![1]);
    expect(nid).not.toBe(id);
    expect(s.app.packages.files(id).map((f) => f.path)).toEqual(["new.bin"]);
    expect(s.app.packages.files(nid).map((f) => f.path)).toEqual(["newer.bin"]);
    const evil = await upload(s.c, `/packages/replace-files?id=${nid}`, { extract: "on" }, { name: "evil.zip", data: makeZip([{ name: "../x", data: "x" }]) });
    expect(evil.status).toBe(400);
    expect(s.app.packages.files(nid).map((f) => f.path)).toEqual(["newer.bin"]);
  });

  test("dependency order for the deployment engine: dependencies first, each once", async () => {
    const s = await setup();
    const svc = s.app.packages;
    svc.create(null, emptyDescriptor("Runtime", "1"), [], "empty");
    svc.create(null, emptyDescriptor("Runtime", "2"), [], "empty");
    svc.create(null, { ...emptyDescriptor("Lib", "1"), dependencies: [{ name: "Runtime" }] }, [], "empty");
    const app = svc.create(null, { ...emptyDescriptor("App", "1"), dependencies: [{ name: "Lib" }, { name: "Runtime", version: "1" }] }, [], "empty");
    expect(svc.dependencyOrder(app).map((r) => `${r.name} ${r.version}`)).toEqual(["Runtime 2", "Lib 1", "Runtime 1"]);
  });

  test("a dependency cannot be deleted; dependency cycles are refused", async () => {
    const s = await setup();
    const svc = s.app.packages;
    const a = svc.create(null, emptyDescriptor("A", "1"), [], "empty");
    svc.create(null, { ...emptyDescriptor("B", "1"), dependencies: [{ name: "A" }] }, [], "empty");
    expect(() => svc.remove(null, a)).toThrow();
    const res = await s.c.request("PUT", `/api/v1/packages/${a}`, { json: { descriptor: { ...emptyDescriptor("A", "1"), dependencies: [{ name: "B" }] } }, headers: { "x-csrf-token": s.c.csrf } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain("A 1 → B 1 → A 1");
  });

  test("pending packages: listed until synchronised; delete one / all", async () => {
    const s = await setup();
    const svc = s.app.packages;
    const a = svc.create(null, emptyDescriptor("P_one", "1"), [], "empty");
    const b = svc.create(null, emptyDescriptor("P_two", "1"), [], "empty");
    const c = svc.create(null, emptyDescriptor("P_three", "1"), [], "empty");
    expect((await s.c.page("/packages/pending")).html).toContain("P_two");
    expect(await svc.syncLocal(c)).toBe("synced");
    const page = await s.c.page("/packages/pending");
    expect(page.html).not.toContain("P_three");
    const one = await s.c.post(`/packages/pending/${a}/delete`);
    expect(one.status).toBe(303);
    expect(svc.find(a)).toBeNull();
    svc.setUsage((pid) => (pid === b ? 1 : 0));
    svc.create(null, emptyDescriptor("P_four", "1"), [], "empty");
    const all = await s.c.post("/packages/pending/delete-all");
    expect(all.headers.get("location")).toContain("kept=P_two");
    expect(svc.pending().map((r) => r.name)).toEqual(["P_two"]);
    const api = await s.c.request("GET", "/api/v1/packages/pending");
    expect(((await api.json()) as { items: unknown[] }).items.length).toBe(1);
  });

  test("garbage collection removes orphan blobs and stale temporary files, keeps used blobs", async () => {
    const s = await setup();
    const r = await upload(s.c, "/packages/new", { origin: "upload", ...meta("Kept") }, { name: "k.bin", data: "kept bytes" });
    const id = Number(/\/packages\/(\d+)/.exec(r.headers.get("location")!)![1]);
    const orphan = await s.app.packages.store.put((async function* () {
      yield new TextEncoder().encode("orphan bytes");
    })());
    const stale = s.app.packages.store.tempPath(".upload");
    writeFileSync(stale, "half an upload");
    utimesSync(stale, new Date(0), new Date(0));
    expect(s.app.packages.collectGarbage()).toBe(1);
    expect(s.app.packages.store.has(orphan.sha256)).toBe(false);
    expect(s.app.packages.store.has(s.app.packages.files(id)[0]!.sha256)).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });

  test("a file altered on disk puts the version in error", async () => {
    const s = await setup();
    const r = await upload(s.c, "/packages/new", { origin: "upload", ...meta("Altered") }, { name: "f.bin", data: "original" });
    const id = Number(/\/packages\/(\d+)/.exec(r.headers.get("location")!)![1]);
    const f = s.app.packages.files(id)[0]!;
    writeFileSync(s.app.packages.blobPath(f.sha256), "tampered");
    expect(await s.app.packages.syncLocal(id)).toBe("error");
    expect(s.app.packages.pending()[0]!.error).toContain("f.bin");
  });

  test("rights: viewing without editing; pages and API check permissions", async () => {
    const s = await setup();
    s.app.packages.create(null, emptyDescriptor("Visible", "1"), [], "empty");
    const uid = (s.db.query("INSERT INTO users (login, password_hash, is_super, must_change_password, created_at, updated_at) VALUES ('viewer', ?, 0, 0, 0, 0) RETURNING id").get(await hashPassword(strong)) as { id: number }).id;
    s.db.query("INSERT INTO user_grants (user_id, key) VALUES (?, 'packages.view')").run(uid);
    const v = new Client(s.app, "192.0.2.11");
    await v.signIn("viewer", strong);
    const list = await v.page("/packages");
    expect(list.res.status).toBe(200);
    expect(list.html).toContain("Visible");
    expect(list.html).not.toContain("/packages/new");
    expect((await v.request("GET", "/packages/new")).status).toBe(403);
    expect((await upload(v, "/packages/new", { origin: "empty", ...meta("Nope") })).status).toBe(403);
    expect((await v.request("POST", "/api/v1/packages/import", { body: makeZip([]), headers: { "content-type": "application/zip", "x-csrf-token": v.csrf } })).status).toBe(403);
  });

  test("list: search and sort by name, date, version", async () => {
    const s = await setup();
    const svc = s.app.packages;
    for (const [n, v] of [["Zeta", "1.9"], ["alpha", "1.10"], ["Mid", "1.2"]] as const) {
      svc.create(null, emptyDescriptor(n, v), [], "empty");
      s.clock.advance(1000);
    }
    const names = (sort: string, desc = false) => svc.list({ sort: sort as "name", desc }).items.map((r) => r.name);
    expect(names("name")).toEqual(["alpha", "Mid", "Zeta"]);
    expect(names("version")).toEqual(["Mid", "Zeta", "alpha"]);
    expect(names("date", true)).toEqual(["Mid", "alpha", "Zeta"]);
    const html = (await s.c.page("/packages?q=zet")).html;
    expect(html).toContain("Zeta");
    expect(html).not.toContain(">alpha<");
    const api = (await (await s.c.request("GET", "/api/v1/packages?sort=version&limit=2")).json()) as { items: { name: string }[]; next: string };
    expect(api.items.map((i) => i.name)).toEqual(["Mid", "Zeta"]);
    const next = (await (await s.c.request("GET", `/api/v1/packages?sort=version&limit=2&cursor=${api.next}`)).json()) as { items: { name: string }[]; next: null };
    expect(next.items.map((i) => i.name)).toEqual(["alpha"]);
  });
});

describe("step editor (server side)", () => {
  test("add, move, remove, check and save; validation errors shown and nothing saved", async () => {
    const s = await setup();
    const id = s.app.packages.create(null, emptyDescriptor("Steps", "1.0"), [], "empty");
    const editor = await s.c.page(`/packages/${id}/steps?os=windows&section=install`);
    expect(editor.html).toContain('name="s.0.action" value="end_success"');
    const post = (form: Record<string, string>) => s.c.post(`/packages/${id}/steps?os=windows&section=install`, form);
    // Add a command step: it goes before END_SUCCESS.
    let res = await post({ "s.0.action": "end_success", "s.0.id": "END_SUCCESS", op: "add", newAction: "command" });
    let html = await res.text();
    expect(html).toContain('name="s.0.action" value="command"');
    expect(html).toContain('name="s.1.action" value="end_success"');
    // Saving with an empty command and a goto to nowhere is refused, with the reasons.
    const form = { "s.0.action": "command", "s.0.id": "run", "s.0.command": "", "s.0.timeout": "60", "s.0.success": "NOWHERE", "s.1.action": "end_success", "s.1.id": "END_SUCCESS" };
    res = await post({ ...form, op: "save" });
    expect(res.status).toBe(422);
    html = await res.text();
    expect(html).toContain("NOWHERE");
    expect(html).toContain("step-invalid");
    expect(s.app.packages.descriptor(id).steps.windows!.install!.length).toBe(1);
    // Move END_SUCCESS up: now the command falls off the end.
    res = await post({ ...form, "s.0.command": "setup.exe /S", "s.0.success": "", op: "up:1" });
    html = await res.text();
    expect(html).toContain('name="s.0.action" value="end_success"');
    // Fix and save, with a return-code rule.
    res = await post({ ...form, "s.0.command": "setup.exe /S", "s.0.success": "", "s.0.codes": "==3010 END_SUCCESS\n1..5 END_SUCCESS", op: "save" });
    expect(res.status).toBe(303);
    const steps = s.app.packages.descriptor(id).steps.windows!.install!;
    expect(steps.map((x) => x.id)).toEqual(["run", "END_SUCCESS"]);
    expect(steps[0]!.next).toEqual({ codes: [{ when: "==3010", goto: "END_SUCCESS" }, { when: "1..5", goto: "END_SUCCESS" }] });
    // Remove the command.
    res = await post({ ...form, op: "remove:0" });
    html = await res.text();
    expect(html).not.toContain('name="s.0.action" value="command"');
    // Hostile form input never crashes the editor.
    res = await post({ "s.0.action": "<script>alert(1)</script>", "s.0.id": "../../x", "s.999.action": "command", "s.abc.id": "z", op: "check" });
    expect(res.status).toBe(200);
    html = await res.text();
    // Text is escaped; inside a quoted attribute the value cannot close its quotes.
    expect(html).not.toContain("<strong><script>");
    expect(html).toContain("<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>");
    const attack = await post({ "s.0.action": 'x"><script>alert(2)</script>', op: "check" });
    expect(await attack.text()).not.toContain('"><script>alert(2)');
  });
});
