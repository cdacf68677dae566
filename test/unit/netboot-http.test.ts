import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { silentLogger } from "../../src/log.ts";
import { testApp } from "../support/app.ts";

const boot = (path: string) => testApp().client("10.9.0.50").request("GET", path);

describe("/boot/ routes (public, plain text iPXE)", () => {
  test("without a MAC: the start script chains back with the client's identity", async () => {
    const res = await boot("/boot/menu.ipxe");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toStartWith("#!ipxe\n");
    expect(text).toContain("chain --autofree http://localhost/boot/menu.ipxe?mac=${netX/mac:hexhyp}&uuid=${uuid}&arch=${buildarch}");
  });

  test("an unknown machine gets the registration menu; registering creates it through the machines service", async () => {
    const t = testApp();
    const c = t.client("10.9.0.51");
    const menu = await (await c.request("GET", "/boot/menu.ipxe?mac=52-54-00-aa-bb-cc&uuid=12345678-1234-5678-1234-56789abcdef0&arch=x86_64&platform=pcbios")).text();
    expect(menu).toContain("menu Medulla - machine inconnue 52-54-00-aa-bb-cc");
    expect(menu).toContain("read mname");
    expect(menu).toContain("${mname:uristring}");
    const reg = await c.request("GET", "/boot/register?mac=52-54-00-aa-bb-cc&uuid=12345678-1234-5678-1234-56789abcdef0&arch=x86_64&name=PC%20de%20test&entity=1&group=0");
    const script = await reg.text();
    expect(script).toContain("menu Medulla - PC-de-test");
    expect(script).toContain("choose --default svc-localdisk --timeout 10000");
    const row = t.db.query("SELECT m.hostname, m.smbios_uuid, mm.mac, m.entity_id FROM machines m JOIN machine_macs mm ON mm.machine_id = m.id").get();
    expect(row).toEqual({ hostname: "PC-de-test", smbios_uuid: "12345678-1234-5678-1234-56789abcdef0", mac: "52:54:00:aa:bb:cc", entity_id: 1 });
    // Known now: by MAC alone, the menu is its own.
    expect(await (await c.request("GET", "/boot/menu.ipxe?mac=52:54:00:aa:bb:cc")).text()).toContain("menu Medulla - PC-de-test");
    const log = t.db.query("SELECT kind, outcome FROM boot_requests ORDER BY id").all();
    expect(log).toEqual([{ kind: "menu", outcome: "unknown" }, { kind: "register", outcome: "created" }, { kind: "menu", outcome: "ok" }, { kind: "menu", outcome: "ok" }]);
    const history = t.db.query("SELECT module, action FROM history WHERE module = 'imaging' ORDER BY id").all();
    expect(history.map((h) => (h as { action: string }).action)).toEqual(["netboot.history.registered", "netboot.history.menuServed", "netboot.history.menuServed"]);
  });

  test("a bad registration is refused and logged, never a crash", async () => {
    const t = testApp();
    const res = await t.client().request("GET", "/boot/register?mac=nonsense&name=x");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("register.ipxe");
    expect(t.db.query("SELECT COUNT(*) AS n FROM machines").get()).toEqual({ n: 0 });
    expect(t.db.query("SELECT kind, outcome FROM boot_requests").all()).toEqual([{ kind: "register", outcome: "refused" }]);
  });

  test("a machine woken by the appliance gets the wake-up default", async () => {
    const db = openDatabase(":memory:");
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const woken: [string, number][] = [];
    const app = buildApp({ db, clock, log: silentLogger, recentWake: (mac, within) => (woken.push([mac, within]), true) });
    db.query("UPDATE boot_menus SET wol_service = 'shell', default_service = 'localdisk' WHERE machine_id IS NULL").run();
    app.netboot.service.register({ mac: "52:54:00:00:00:01", uuid: "", name: "pc1", entityId: 1, arch: "", ip: "" });
    const res = await app.web.fetch(new Request("http://localhost/boot/menu.ipxe?mac=52:54:00:00:00:01"), { ip: "10.0.0.9" });
    const text = await res.text();
    expect(text).toContain("choose --default svc-shell");
    expect(text).toContain("item --gap -- Machine reveillee par Medulla");
    expect(woken).toEqual([["52:54:00:00:00:01", 600_000]]);
  });

  test("/boot/files serves data/tftp, nothing outside", async () => {
    const root = mkdtempSync(join(tmpdir(), "nb-files-"));
    try {
      writeFileSync(join(root, "memtest86+x64.bin"), "MEMTEST");
      const db = openDatabase(":memory:");
      const app = buildApp({ db, clock: new ManualClock(0), log: silentLogger, boot: { tftpRoot: root, httpPort: 8080, tftpPort: 69, proxyDhcp: null, bootAddress: "10.0.0.1" } });
      const get = (p: string) => app.web.fetch(new Request(`http://localhost${p}`), { ip: "10.0.0.9" });
      expect(await (await get("/boot/files/memtest86+x64.bin")).text()).toBe("MEMTEST");
      expect((await get("/boot/files/..%2F..%2Fetc%2Fpasswd")).status).toBe(403);
      expect((await get("/boot/files/nope")).status).toBe(404);
      // memtest shows in menus only because its file is there.
      expect(app.netboot.service.menuServices().map((s) => s.code)).toEqual(["localdisk", "register", "shell", "memtest"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("network boot pages", () => {
  async function admin() {
    const t = testApp();
    await t.addUser("admin", "correct horse battery", { isSuper: true });
    const c = t.client();
    await c.signIn("admin", "correct horse battery");
    return { t, c };
  }

  test("pages need a signed-in user with the rights", async () => {
    const t = testApp();
    for (const p of ["/netboot/services", "/netboot/menu", "/netboot/settings", "/netboot/log"]) {
      const res = await t.client().request("GET", p);
      expect([302, 303, 401]).toContain(res.status);
    }
    await t.addUser("bob", "correct horse battery");
    const c = t.client();
    await c.signIn("bob", "correct horse battery");
    expect((await c.request("GET", "/netboot/settings")).status).toBe(403);
  });

  test("boot services: list, disable, add a custom one, refuse a bad one, delete", async () => {
    const { t, c } = await admin();
    const { html } = await c.page("/netboot/services");
    expect(html).toContain("Démarrer sur le disque local");
    expect(html).toContain("fichier absent : memtest86+x64.efi / memtest86+x64.bin");
    const shell = t.db.query("SELECT id FROM boot_services WHERE code = 'shell'").get() as { id: number };
    expect((await c.post(`/netboot/services/${shell.id}/disable`, {})).status).toBe(303);
    expect(t.app.netboot.service.menuServices().map((s) => s.code)).not.toContain("shell");
    const bad = await c.post("/netboot/services", { label: "Bad ${x}", script: "", position: "5" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Les caractères $ { } # \" \\ ne sont pas permis.".replaceAll('"', "&quot;"));
    expect((await c.post("/netboot/services", { label: "Clonezilla", description: "live", script: "kernel ${medulla}/boot/files/vmlinuz\nboot", position: "5" })).status).toBe(303);
    const custom = t.db.query("SELECT id, code FROM boot_services WHERE label = 'Clonezilla'").get() as { id: number; code: string };
    expect(custom.code).toBe(`custom-${custom.id}`);
    const menu = await (await t.client().request("GET", "/boot/menu.ipxe?mac=00:11:22:33:44:55")).text();
    expect(menu).toContain(`item svc-${custom.code} Clonezilla`);
    expect((await c.post(`/netboot/services/${custom.id}/delete`, {})).status).toBe(303);
    const builtin = await c.post(`/netboot/services/${shell.id}/delete`, {});
    expect(builtin.status).toBe(422);
    const actions = t.db.query("SELECT action FROM history WHERE module = 'imaging' ORDER BY id").all().map((r) => (r as { action: string }).action);
    expect(actions).toEqual(["netboot.history.serviceDisabled", "netboot.history.serviceCreated", "netboot.history.serviceDeleted"]);
  });

  test("default menu: saved, validated, previewed", async () => {
    const { t, c } = await admin();
    expect((await c.post("/netboot/menu", { defaultService: "shell", wolService: "localdisk", timeout: "5", wolWindow: "15" })).status).toBe(303);
    expect(t.app.netboot.service.defaultMenu()).toMatchObject({ default_service: "shell", timeout_seconds: 5, wol_window_minutes: 15, hidden: 0 });
    const { html } = await c.page("/netboot/menu");
    expect(html).toContain("choose --default svc-shell --timeout 5000");
    const bad = await c.post("/netboot/menu", { defaultService: "nope", wolService: "localdisk", timeout: "99999", wolWindow: "0" });
    expect(bad.status).toBe(422);
  });

  test("settings: saved in the database; values set by flag or variable are locked", async () => {
    const { t, c } = await admin();
    expect((await c.post("/netboot/settings", { serverAddress: "10.9.0.1", nextServer: "", proxyDhcp: "on" })).status).toBe(303);
    expect(t.app.netboot.service.settings()).toMatchObject({ serverAddress: "10.9.0.1", address: "10.9.0.1", proxyDhcp: true, bootUrl: "http://10.9.0.1:8080" });
    expect((await c.post("/netboot/settings", { serverAddress: "10.9.0.300", nextServer: "x" })).status).toBe(422);
    const { html } = await c.page("/netboot/settings");
    expect(html).toContain("Pas de dossier de données : le TFTP est indisponible.");
    // With a data folder but no iPXE files, the page says what to install.
    const { SettingsPage } = await import("../../views/netboot/pages.tsx");
    const { translator } = await import("../../src/i18n/index.ts");
    const page = await SettingsPage({ t: translator("en"), csrf: "x", canEdit: true, view: { serverAddress: "", nextServer: "", proxyDhcp: false, guess: "10.0.0.1", lockedAddress: true, lockedProxy: true, status: [], tftpPort: 69, bootUrl: "http://10.0.0.1:8080", root: "/srv/data/tftp", files: [{ name: "undionly.kpxe", label: "BIOS", present: false }] } });
    expect(page).toContain("The iPXE files are missing from /srv/data/tftp. Install Debian&#39;s ipxe package (apt install ipxe)".replace("&#39;", "&#x27;"));
    expect(page).toContain("Set by MEDULLA_BOOT_ADDRESS / --boot-address at start");
    expect(page).toMatch(/id="proxyDhcp" name="proxyDhcp" disabled/);

    const db = openDatabase(":memory:");
    const app = buildApp({ db, clock: new ManualClock(0), log: silentLogger, boot: { tftpRoot: null, httpPort: 8080, tftpPort: 69, proxyDhcp: false, bootAddress: "10.1.1.1" } });
    db.query("INSERT INTO settings (key, value, updated_at) VALUES ('netboot.proxyDhcp', 'on', 0), ('netboot.serverAddress', '10.2.2.2', 0)").run();
    expect(app.netboot.service.settings()).toMatchObject({ serverAddress: "10.1.1.1", proxyDhcp: false, locked: { serverAddress: true, proxyDhcp: true } });
  });

  test("the live log page lists boot requests", async () => {
    const { t, c } = await admin();
    await t.client("10.9.0.77").request("GET", "/boot/menu.ipxe?mac=00:11:22:33:44:66");
    const { html } = await c.page("/netboot/log");
    expect(html).toContain("00:11:22:33:44:66");
    expect(html).toContain("menu d&#x27;enregistrement");
    expect(html).toContain("machine inconnue");
    expect(html).toContain('data-live="netboot-log"');
  });

  test("a boot request reaches open log pages over the event stream", async () => {
    const { t, c } = await admin();
    const abort = new AbortController();
    const res = await t.app.web.fetch(new Request("http://localhost/events", { headers: { cookie: `medulla_session=${c.cookies.get("medulla_session")}` }, signal: abort.signal }), { ip: c.ip });
    const reader = res.body!.getReader();
    let text = "";
    await t.client("10.9.0.78").request("GET", "/boot/menu.ipxe?mac=00:11:22:33:44:77");
    const deadline = Date.now() + 5000;
    while (!text.includes("event: netboot-log") && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), Bun.sleep(1000).then(() => null)]);
      if (chunk?.value) text += new TextDecoder().decode(chunk.value);
    }
    abort.abort();
    await reader.cancel();
    expect(text).toContain("event: netboot-log");
    expect(text).toContain("00:11:22:33:44:77");
  });

  test("a machine's own menu wins over the default one; dropping it goes back", async () => {
    const { t, c } = await admin();
    const { machine } = t.app.netboot.service.register({ mac: "52:54:00:00:00:09", uuid: "", name: "pc9", entityId: 1, arch: "", ip: "" });
    const menuOf = async () => (await t.client().request("GET", "/boot/menu.ipxe?mac=52:54:00:00:00:09")).text();
    expect(await menuOf()).toContain("choose --default svc-localdisk --timeout 10000");
    expect((await c.page(`/netboot/machines/${machine.id}/menu`)).html).toContain("Cette machine suit le menu de démarrage par défaut");
    expect((await c.post(`/netboot/machines/${machine.id}/menu`, { defaultService: "shell", wolService: "localdisk", timeout: "3", wolWindow: "10" })).status).toBe(303);
    expect(await menuOf()).toContain("choose --default svc-shell --timeout 3000");
    expect((await c.page(`/netboot/machines/${machine.id}/menu`)).html).toContain("Revenir au menu par défaut");
    expect((await c.post(`/netboot/machines/${machine.id}/menu/drop`, {})).status).toBe(303);
    expect(await menuOf()).toContain("choose --default svc-localdisk --timeout 10000");
    expect((await c.request("GET", "/netboot/machines/9999/menu")).status).toBe(404);
    const { html } = await c.page("/netboot/log");
    expect(html).toContain(`href="/netboot/machines/${machine.id}/menu"`);
    const actions = t.db.query("SELECT action FROM history WHERE module = 'imaging' AND user_login = 'admin' ORDER BY id").all().map((r) => (r as { action: string }).action);
    expect(actions).toEqual(["netboot.history.machineMenuSaved", "netboot.history.machineMenuDropped"]);
  });
});
