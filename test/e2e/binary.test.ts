/**
 * @module test/e2e/binary
 * The single executable as an administrator meets it: copied alone into an empty folder,
 * started, probed over HTTP and HTTPS; its command-line tools (help, version, password
 * reset, backup, restore); and how it behaves when a setting is wrong or a port is taken.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, freePort, holdPort, HttpClient, runMedulla, startMedulla, tempDir, visibleText, type Medulla, type TempDir } from "./helpers.ts";

const VERSION = (JSON.parse(readFileSync(join(import.meta.dir, "..", "..", "package.json"), "utf8")) as { version: string }).version;
const LOCAL = ["--bind", "127.0.0.1"];

beforeAll(() => ensureBinary(), 60_000);

describe("command line", () => {
  test("--help lists the commands and every setting with its variable", async () => {
    const { exitCode, stdout, stderr } = await runMedulla(["--help"]);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(stdout).toStartWith(`medulla ${VERSION}:`);
    for (const text of ["medulla admin reset-password <user>", "medulla backup", "medulla restore <backup-file>", "--http-port VALUE", "MEDULLA_HTTP_PORT", "--https-port VALUE", "MEDULLA_DATA_DIR", "A port of 0 switches that service off."]) {
      expect(stdout).toContain(text);
    }
  }, 30_000);

  test("version prints the package version", async () => {
    expect(await runMedulla(["version"])).toEqual({ exitCode: 0, stdout: `${VERSION}\n`, stderr: "" });
  }, 30_000);

  test.each<{ why: string; args: string[]; env: Record<string, string>; message: string }>([
    { why: "a flag", args: ["--http-port", "abc"], env: {}, message: '--http-port: "abc" is not a port number (0 to 65535; 0 switches the service off)' },
    { why: "a variable", args: [], env: { MEDULLA_HTTPS_PORT: "99999" }, message: 'MEDULLA_HTTPS_PORT: "99999" is not a port number (0 to 65535; 0 switches the service off)' },
    { why: "a level", args: ["--log-level=loud"], env: {}, message: '--log-level: "loud" is not one of trace, debug, info, warn, error, fatal' },
    { why: "a typo", args: ["--htp-port", "8080"], env: {}, message: "--htp-port: unknown option (see medulla --help)" },
  ])("a bad setting ($why) stops at once with one line naming it", async ({ args, env, message }) => {
    using dir = tempDir();
    const result = await runMedulla(args, { cwd: dir.path, env });
    expect(result).toEqual({ exitCode: 1, stdout: "", stderr: `medulla: ${message}\n` });
    expect(readdirSync(dir.path)).toEqual([]); // nothing created before the settings are known good
  }, 30_000);
});

describe("alone in an empty folder, HTTP and HTTPS on", () => {
  let folder: TempDir;
  let medulla: Medulla;
  let ca: string;
  let https: string;
  let http: string;
  const get = (path: string, init: RequestInit = {}) => fetch(https + path, { redirect: "manual", ...init, tls: { ca } });

  beforeAll(async () => {
    folder = tempDir();
    // No --data-dir and no --bind: the defaults (./data, every address) are what is tested.
    medulla = await startMedulla({ dir: folder.path, dataDir: null, copyBinary: true });
    ca = await medulla.ca();
    https = `https://127.0.0.1:${medulla.httpsPort}`;
    http = `http://127.0.0.1:${medulla.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await medulla?.[Symbol.asyncDispose]();
    folder?.[Symbol.dispose]();
  });

  test("creates ./data beside the binary and says what it did on stdout", async () => {
    expect(readdirSync(folder.path).sort()).toEqual(["data", "medulla"]);
    const data = join(folder.path, "data");
    for (const f of ["medulla.db", "medulla.pid", "certs/ca.crt", "certs/server.crt", "logs"]) expect(existsSync(join(data, f))).toBe(true);
    expect(readFileSync(join(data, "medulla.pid"), "utf8")).toBe(String(medulla.pid));

    const out = medulla.stdout();
    expect(out).toMatch(/^Initial password for root: [A-Za-z0-9]{16}$/m);
    expect(out).toContain(`listening on https 0.0.0.0:${medulla.httpsPort}`);
    expect(out).toContain(`listening on http 0.0.0.0:${medulla.httpPort}`);
    expect(medulla.stderr()).toBe("");

    // The same records as JSON lines in data/logs/medulla-YYYY-MM-DD.log.
    const logs = readdirSync(join(data, "logs"));
    expect(logs).toEqual([expect.stringMatching(/^medulla-\d{4}-\d{2}-\d{2}\.log$/)]);
    const records = readFileSync(join(data, "logs", logs[0]!), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.msg)).toContain(`listening on http 0.0.0.0:${medulla.httpPort}`);
    expect(records[0]).toEqual({ level: 30, time: expect.any(Number), version: VERSION, dataDir: data, msg: "medulla starting" });
  }, 30_000);

  test("/healthz answers on both services, not redirected", async () => {
    const healthy = { status: "ok", services: { scheduler: "running", https: "running", xmpp: "running", http: "running", tftp: "off", proxydhcp: "off" } };
    for (const base of [http, https]) {
      const res = await fetch(`${base}/healthz`, { redirect: "manual", tls: { ca } });
      expect({ status: res.status, type: res.headers.get("content-type"), body: await res.json() }).toEqual({ status: 200, type: "application/json", body: healthy });
    }
  }, 30_000);

  test("plain HTTP redirects to HTTPS: 301 for GET (query kept), 308 for POST; /boot/ stays on HTTP", async () => {
    const login = await fetch(`${http}/login?lang=en`, { redirect: "manual" });
    expect({ status: login.status, location: login.headers.get("location") }).toEqual({ status: 301, location: `${https}/login?lang=en` });
    const post = await fetch(`${http}/login`, { method: "POST", body: "x=1", redirect: "manual" });
    expect({ status: post.status, location: post.headers.get("location") }).toEqual({ status: 308, location: `${https}/login` });
    const boot = await fetch(`${http}/boot/nothing-here`, { redirect: "manual" });
    expect(boot.status).toBe(404);
  }, 30_000);

  test("HTTPS is verified against data/certs/ca.crt, and refused without it", async () => {
    expect(ca).toStartWith("-----BEGIN CERTIFICATE-----");
    const res = await get("/login");
    expect(res.status).toBe(200);
    expect(res.headers.get("strict-transport-security")).toBe("max-age=15552000");
    // The same CA also vouches for the name "localhost".
    expect((await fetch(`https://localhost:${medulla.httpsPort}/healthz`, { tls: { ca } })).status).toBe(200);
    expect(fetch(`${https}/healthz`)).rejects.toThrow(/certificate|self.signed|issuer/i);
  }, 30_000);

  test("serves the sign-in page in French with its CSRF cookie and a strict CSP", async () => {
    const res = await get("/login");
    const html = await res.text();
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'; style-src 'self'");
    const csrfCookie = res.headers.getSetCookie().find((c) => c.startsWith("medulla_csrf="));
    expect(csrfCookie).toMatch(/^medulla_csrf=[\w-]{20,}; Path=\/; SameSite=Lax; HttpOnly; Secure$/);
    const token = csrfCookie!.slice("medulla_csrf=".length).split(";")[0];
    expect(html).toContain(`name="_csrf" value="${token}"`);
    expect(html).toContain('<form id="login-form"');
    expect(visibleText(html)).toContain("Connexion Langue Français English Identifiant ou e-mail Mot de passe");
    expect(visibleText(html)).toContain("Se connecter");
  }, 30_000);

  test("serves the embedded assets", async () => {
    const css = await get("/static/app.css");
    expect({ status: css.status, type: css.headers.get("content-type") }).toEqual({ status: 200, type: "text/css; charset=utf-8" });
    expect(await css.text()).toContain(".widget-grid");

    const htmx = await get("/static/htmx.min.js");
    expect({ status: htmx.status, type: htmx.headers.get("content-type") }).toEqual({ status: 200, type: "text/javascript; charset=utf-8" });
    expect((await htmx.arrayBuffer()).byteLength).toBeGreaterThan(10_000);

    // Revalidation by ETag.
    const again = await get("/static/htmx.min.js", { headers: { "if-none-match": htmx.headers.get("etag")! } });
    expect(again.status).toBe(304);
  }, 30_000);

  test("an unknown route is a translated 404 page", async () => {
    const fr = await get("/no/such/page");
    expect(fr.status).toBe(404);
    expect(visibleText(await fr.text())).toContain("Erreur 404 Cette page n'existe pas.");
    const en = await get("/no/such/page", { headers: { cookie: "medulla_lang=en" } });
    expect(en.status).toBe(404);
    expect(visibleText(await en.text())).toContain("Error 404 This page does not exist.");
  }, 30_000);

  test("a POST without its CSRF token is refused with a translated 403", async () => {
    const res = await get("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "login=root&password=x" });
    expect(res.status).toBe(403);
    expect(visibleText(await res.text())).toContain("Le formulaire a expiré ou ne provient pas de Medulla.");
  }, 30_000);

  test("a request body over 1 MiB is refused with 413", async () => {
    const res = await get("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a".repeat((1 << 20) + 1) });
    expect(res.status).toBe(413);
    expect(visibleText(await res.text())).toContain("La requête est trop volumineuse.");
  }, 30_000);

  // A chunked body declares no length: the limit must hold while it streams in.
  test("a chunked request body over 1 MiB is refused with 413 too", async () => {
    const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 << 20) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await get("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(res.status).toBe(413);
    expect(visibleText(await res.text())).toContain("La requête est trop volumineuse.");
  }, 30_000);

  test("stops cleanly on SIGTERM and removes its pid file", async () => {
    expect(await medulla.stop()).toBe(0);
    expect(medulla.stdout()).toContain("medulla stopped");
    expect(existsSync(join(folder.path, "data", "medulla.pid"))).toBe(false);
  }, 30_000);
});

test("a taken port: that service logs why, /healthz says degraded, the others run", async () => {
  const httpPort = await freePort();
  await using _squatter = await holdPort(httpPort);
  await using medulla = await startMedulla({ httpPort, args: ["--admin-password", "Not-used-1"] });

  const health = await fetch(medulla.url("/healthz"), { tls: { ca: await medulla.ca() } });
  expect({ status: health.status, body: await health.json() }).toEqual({
    status: 503,
    body: { status: "degraded", services: { scheduler: "running", https: "running", xmpp: "running", http: "failed", tftp: "off", proxydhcp: "off" } },
  });
  expect(medulla.stdout()).toMatch(new RegExp(`ERROR +http cannot start on 0\\.0\\.0\\.0: .*port ${httpPort}.* \\(setting MEDULLA_HTTP_PORT\\)`));
  expect(medulla.stdout()).toContain(`listening on https 0.0.0.0:${medulla.httpsPort}`);
  const login = await fetch(medulla.url("/login"), { tls: { ca: await medulla.ca() } });
  expect(login.status).toBe(200);
}, 60_000);

describe("administrator tools", () => {
  test("admin reset-password gives root a new password that signs in over HTTP and must be changed", async () => {
    await using medulla = await startMedulla({ httpsPort: 0, args: [...LOCAL, "--admin-password", "Original-pass-1"] });
    const browser = new HttpClient(medulla.url(""));
    expect((await browser.signIn("root", "Original-pass-1")).headers.get("location")).toBe("/");

    const reset = await runMedulla(["admin", "reset-password", "root", "--data-dir", medulla.dataDir]);
    expect({ exitCode: reset.exitCode, stderr: reset.stderr }).toEqual({ exitCode: 0, stderr: "" });
    const password = reset.stdout.match(/^Initial password for root: ([A-Za-z0-9]{16})\n$/)?.[1];
    expect(password).toBeString();

    // Sessions opened with the old password are gone.
    const dashboard = await browser.get("/");
    expect({ status: dashboard.status, location: dashboard.headers.get("location") }).toEqual({ status: 303, location: "/login?next=%2F&expired=1" });

    const stranger = new HttpClient(medulla.url(""));
    const old = await stranger.signIn("root", "Original-pass-1");
    expect(old.status).toBe(401);
    expect(visibleText(await old.text())).toContain("Identifiant ou mot de passe incorrect.");

    const user = new HttpClient(medulla.url(""));
    const signedIn = await user.signIn("root", password!);
    expect({ status: signedIn.status, location: signedIn.headers.get("location") }).toEqual({ status: 303, location: "/account/password" });
    const blocked = await user.get("/");
    expect({ status: blocked.status, location: blocked.headers.get("location") }).toEqual({ status: 303, location: "/account/password" });

    const _csrf = await user.csrfFrom("/account/password");
    const changed = await user.postForm("/account/password", { _csrf, current: password!, password: "Chosen-pass-2", confirm: "Chosen-pass-2" });
    expect({ status: changed.status, location: changed.headers.get("location") }).toEqual({ status: 303, location: "/" });
    const home = await user.get("/");
    expect(home.status).toBe(200);
    expect(visibleText(await home.text())).toContain("Tableau de bord");

    expect(await runMedulla(["admin", "reset-password", "nobody", "--data-dir", medulla.dataDir])).toEqual({
      exitCode: 1, stdout: "", stderr: 'medulla: no user with login "nobody"\n',
    });
  }, 90_000);

  test("backup, then restore with the server stopped, brings back the old state", async () => {
    using folder = tempDir();
    const args = [...LOCAL, "--admin-password", "Before-backup-1"];
    let backupFile: string;
    let dataDir: string;
    {
      await using medulla = await startMedulla({ dir: folder.path, httpsPort: 0, args });
      dataDir = medulla.dataDir;
      const backup = await runMedulla(["backup", "--data-dir", dataDir]);
      const m = backup.stdout.match(/^backup written: (.+\/backups\/medulla-\d{8}-\d{6}\.db)\n$/);
      expect({ exitCode: backup.exitCode, stderr: backup.stderr, matched: Boolean(m) }).toEqual({ exitCode: 0, stderr: "", matched: true });
      backupFile = m![1]!;
      expect(backupFile.startsWith(join(dataDir, "backups"))).toBe(true);
      expect(statSync(backupFile).size).toBeGreaterThan(0);

      // After the backup, root changes the password.
      const user = new HttpClient(medulla.url(""));
      expect((await user.signIn("root", "Before-backup-1")).status).toBe(303);
      const _csrf = await user.csrfFrom("/account/password");
      const changed = await user.postForm("/account/password", { _csrf, current: "Before-backup-1", password: "After-backup-2", confirm: "After-backup-2" });
      expect(changed.status).toBe(200);
      expect(visibleText(await changed.text())).toContain("Mot de passe modifié");

      expect(await runMedulla(["restore", backupFile, "--data-dir", dataDir])).toEqual({
        exitCode: 1, stdout: "", stderr: `medulla: the server is running (pid ${medulla.pid}); stop it before restoring\n`,
      });
      expect(await medulla.stop()).toBe(0);
    }

    const garbage = join(folder.path, "garbage.db");
    writeFileSync(garbage, "this is not a database, just some words long enough to look like a file\n".repeat(100));
    const refused = await runMedulla(["restore", garbage, "--data-dir", dataDir]);
    expect({ exitCode: refused.exitCode, stdout: refused.stdout }).toEqual({ exitCode: 1, stdout: "" });
    expect(refused.stderr).toMatch(new RegExp(`^medulla: ${garbage}: not a (usable|SQLite) database \\(.+\\)\\n$`));
    expect(await runMedulla(["restore", join(folder.path, "missing.db"), "--data-dir", dataDir])).toEqual({
      exitCode: 1, stdout: "", stderr: `medulla: ${join(folder.path, "missing.db")}: no such file\n`,
    });

    const restored = await runMedulla(["restore", backupFile, "--data-dir", dataDir]);
    expect({ exitCode: restored.exitCode, stderr: restored.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(restored.stdout).toMatch(new RegExp(`^restored ${backupFile} into ${join(dataDir, "medulla.db")}; the previous database was kept as medulla\\.db\\.before-restore-\\d{8}-\\d{6}\\n$`));

    await using again = await startMedulla({ dir: folder.path, httpsPort: 0, args });
    expect((await new HttpClient(again.url("")).signIn("root", "After-backup-2")).status).toBe(401);
    const back = await new HttpClient(again.url("")).signIn("root", "Before-backup-1");
    expect({ status: back.status, location: back.headers.get("location") }).toEqual({ status: 303, location: "/" });
  }, 120_000);
});
