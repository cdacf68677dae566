/**
 * The inventory's read side, in process: a machine's inventory page and each of its tabs
 * (full page and htmx fragments), the software search with version comparisons, entity
 * visibility (pages and API), the inventory-only computers view (C3) with its filters,
 * paging and CSV export, the Inventory widget's counts, and the API's shapes. Inventories
 * are seeded by small factories writing the inv_* tables directly.
 */
import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { softwareFilterSql, machinesWithSoftwareSql } from "../../src/features/inventory/read.ts";
import { testApp, type Client, type TestApp } from "../support/app.ts";

const strong = "Correct-horse-7";
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------
// Factories

interface MachineSeed {
  hostname: string;
  entityId?: number;
  online?: boolean;
  serial?: string;
}

function addMachine(t: TestApp, m: MachineSeed): number {
  const now = t.clock.now();
  return (
    t.db
      .query("INSERT INTO machines (hostname, entity_id, online, serial, created_at, updated_at) VALUES ($h, $e, $o, $s, $now, $now) RETURNING id")
      .get({ h: m.hostname, e: m.entityId ?? 1, o: m.online ? 1 : 0, s: m.serial ?? "", now }) as { id: number }
  ).id;
}

interface InventorySeed {
  at?: number;
  source?: "agent" | "fusioninventory" | "glpi-agent" | "import";
  os?: { name: string; version?: string; fullName?: string; kernel?: string; arch?: string };
  hardware?: { name?: string; memoryMb?: number; lastUser?: string; workgroup?: string; uuid?: string };
  bios?: { manufacturer?: string; model?: string; serial?: string; biosVendor?: string; biosVersion?: string; biosDate?: string };
  cpus?: { name: string; manufacturer?: string; cores?: number; threads?: number; speedMhz?: number }[];
  memories?: { slot: string; capacityMb: number; type?: string; speedMhz?: number }[];
  disks?: { name: string; model?: string; sizeMb?: number; serial?: string }[];
  partitions?: { mount: string; device?: string; filesystem?: string; totalMb?: number; freeMb?: number }[];
  networks?: { description: string; mac?: string; ip?: string; netmask?: string; gateway?: string; isVirtual?: boolean }[];
  software?: [name: string, version: string, publisher?: string][];
  users?: string[];
  changes?: { at: number; section: string; change: "added" | "removed" | "changed"; item: string; before?: string; after?: string }[];
}

const vkey = (v: string) => v.replace(/\d+/g, (d) => d.padStart(10, "0"));

/** Writes a machine's last inventory the way the import stores it. */
function addInventory(t: TestApp, machineId: number, inv: InventorySeed = {}): void {
  const at = inv.at ?? t.clock.now();
  const db = t.db;
  const doc = gzipSync(JSON.stringify({ content: {} }));
  db.query("INSERT OR REPLACE INTO inventories (machine_id, received_at, source, hash, document, size) VALUES ($id, $at, $src, 'h', $doc, $size)").run({ id: machineId, at, src: inv.source ?? "agent", doc, size: doc.length });
  db.query("UPDATE machines SET inventoried_at = $at WHERE id = $id").run({ id: machineId, at });
  if (inv.os) db.query("INSERT INTO inv_os (machine_id, name, version, full_name, kernel, arch) VALUES ($id, $n, $v, $f, $k, $a)").run({ id: machineId, n: inv.os.name, v: inv.os.version ?? "", f: inv.os.fullName ?? "", k: inv.os.kernel ?? "", a: inv.os.arch ?? "" });
  if (inv.hardware) {
    const h = inv.hardware;
    db.query("INSERT INTO inv_hardware (machine_id, name, memory_mb, last_user, workgroup, uuid) VALUES ($id, $n, $m, $u, $w, $uuid)").run({ id: machineId, n: h.name ?? "", m: h.memoryMb ?? null, u: h.lastUser ?? "", w: h.workgroup ?? "", uuid: h.uuid ?? "" });
  }
  if (inv.bios) {
    const b = inv.bios;
    db.query("INSERT INTO inv_bios (machine_id, manufacturer, model, serial, bios_vendor, bios_version, bios_date) VALUES ($id, $ma, $mo, $s, $bv, $bver, $bd)").run({ id: machineId, ma: b.manufacturer ?? "", mo: b.model ?? "", s: b.serial ?? "", bv: b.biosVendor ?? "", bver: b.biosVersion ?? "", bd: b.biosDate ?? "" });
  }
  for (const c of inv.cpus ?? []) db.query("INSERT INTO inv_cpus (machine_id, name, manufacturer, cores, threads, speed_mhz) VALUES ($id, $n, $m, $c, $t, $s)").run({ id: machineId, n: c.name, m: c.manufacturer ?? "", c: c.cores ?? null, t: c.threads ?? null, s: c.speedMhz ?? null });
  for (const m of inv.memories ?? []) db.query("INSERT INTO inv_memories (machine_id, slot, capacity_mb, type, speed_mhz) VALUES ($id, $s, $c, $t, $sp)").run({ id: machineId, s: m.slot, c: m.capacityMb, t: m.type ?? "", sp: m.speedMhz ?? null });
  for (const d of inv.disks ?? []) db.query("INSERT INTO inv_disks (machine_id, name, model, serial, size_mb) VALUES ($id, $n, $m, $s, $sz)").run({ id: machineId, n: d.name, m: d.model ?? "", s: d.serial ?? "", sz: d.sizeMb ?? null });
  for (const p of inv.partitions ?? []) db.query("INSERT INTO inv_partitions (machine_id, mount, device, filesystem, total_mb, free_mb) VALUES ($id, $m, $d, $f, $t, $fr)").run({ id: machineId, m: p.mount, d: p.device ?? "", f: p.filesystem ?? "", t: p.totalMb ?? null, fr: p.freeMb ?? null });
  for (const n of inv.networks ?? []) {
    db.query("INSERT INTO inv_networks (machine_id, description, mac, ip, netmask, gateway, is_virtual) VALUES ($id, $d, $mac, $ip, $mask, $gw, $v)").run({ id: machineId, d: n.description, mac: n.mac ?? "", ip: n.ip ?? "", mask: n.netmask ?? "", gw: n.gateway ?? "", v: n.isVirtual ? 1 : 0 });
  }
  for (const [name, version, publisher] of inv.software ?? []) {
    db.query("INSERT INTO inv_software (machine_id, name, version, version_key, publisher) VALUES ($id, $n, $v, $k, $p)").run({ id: machineId, n: name, v: version, k: vkey(version), p: publisher ?? "" });
  }
  for (const login of inv.users ?? []) db.query("INSERT INTO inv_users (machine_id, login) VALUES ($id, $l)").run({ id: machineId, l: login });
  for (const c of inv.changes ?? []) {
    db.query("INSERT INTO inv_changes (machine_id, at, section, change, item, before, after) VALUES ($id, $at, $s, $c, $i, $b, $a)").run({ id: machineId, at: c.at, s: c.section, c: c.change, i: c.item, b: c.before ?? "", a: c.after ?? "" });
  }
}

function addEntity(t: TestApp, name: string, parentId = 1): number {
  return (t.db.query("INSERT INTO entities (name, parent_id, created_at, updated_at) VALUES ($n, $p, 0, 0) RETURNING id").get({ n: name, p: parentId }) as { id: number }).id;
}

/** A signed-in user holding `keys` and seeing `entityIds` (everything when super). */
async function signedIn(t: TestApp, login: string, opts: { isSuper?: boolean; keys?: string[]; entityIds?: number[] } = {}): Promise<Client> {
  const id = await t.addUser(login, strong, { isSuper: opts.isSuper });
  for (const key of opts.keys ?? []) t.db.query("INSERT INTO user_grants (user_id, key) VALUES ($id, $key)").run({ id, key });
  for (const e of opts.entityIds ?? []) t.db.query("INSERT INTO user_entities (user_id, entity_id) VALUES ($id, $e)").run({ id, e });
  const c = t.client();
  await c.signIn(login, strong);
  return c;
}

/** A CSV body as sent, byte-order mark included (Response.text() would drop it). */
const csvText = async (res: Response) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(await res.arrayBuffer());

const htmx = (target: string) => ({ "hx-request": "true", "hx-target": target, "hx-request-type": "partial" });

/** The text of an HTML fragment: tags dropped, entities decoded, spaces collapsed. */
function text(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The rows of the first table body in `html`, each as its cells' texts. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1]!)));
}

/** A rich inventory for one machine. */
const pc1: InventorySeed = {
  source: "agent",
  os: { name: "Debian GNU/Linux", version: "12", fullName: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-18-amd64", arch: "x86_64" },
  hardware: { name: "pc-001", memoryMb: 16384, lastUser: "alice", workgroup: "corp.example" },
  bios: { manufacturer: "Dell Inc.", model: "OptiPlex 7090", serial: "7XQ2K93", biosVendor: "Dell Inc.", biosVersion: "2.14.0", biosDate: "2023-05-11" },
  cpus: [{ name: "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz", manufacturer: "Intel", cores: 8, threads: 16, speedMhz: 2900 }],
  memories: [{ slot: "DIMM1", capacityMb: 8192, type: "DDR4", speedMhz: 3200 }, { slot: "DIMM2", capacityMb: 8192, type: "DDR4", speedMhz: 3200 }],
  disks: [{ name: "nvme0n1", model: "PM9A1 NVMe Samsung 512GB", sizeMb: 488386, serial: "S4X9NF0R" }],
  partitions: [{ mount: "/", device: "/dev/nvme0n1p2", filesystem: "ext4", totalMb: 100_000, freeMb: 8_000 }, { mount: "/home", device: "/dev/nvme0n1p3", filesystem: "ext4", totalMb: 300_000, freeMb: 240_000 }],
  networks: [
    { description: "enp0s31f6", mac: "8c:ec:4b:11:22:33", ip: "192.168.1.23", netmask: "255.255.255.0", gateway: "192.168.1.1" },
    { description: "enp0s31f6", mac: "8c:ec:4b:11:22:33", ip: "fe80::8eec:4bff:fe11:2233", netmask: "ffff:ffff:ffff:ffff::" },
    { description: "docker0", mac: "02:42:ac:11:00:01", ip: "172.17.0.1", netmask: "255.255.0.0", isVirtual: true },
  ],
  software: [["7-Zip", "19.00", "Igor Pavlov"], ["Firefox ESR", "115.9.1esr", "Mozilla"], ["LibreOffice", "7.4.7", "The Document Foundation"], ["<script>alert(1)</script>", "1.0", "Evil & Co"]],
  users: ["alice", "root"],
};

async function withMachine(inv: InventorySeed = pc1) {
  const t = testApp();
  const id = addMachine(t, { hostname: "pc-001", online: true });
  addInventory(t, id, inv);
  const c = await signedIn(t, "boss", { isSuper: true });
  return { t, id, c };
}

// ---------------------------------------------------------------------------------------

describe("a machine's inventory page", () => {
  test("the summary tab shows OS, model, serial, CPU, RAM, disks, last inventory and last user", async () => {
    const { id, c } = await withMachine();
    const { res, html } = await c.page(`/computers/${id}/inventory`);
    expect(res.status).toBe(200);
    const facts = Object.fromEntries([...html.matchAll(/<dt>([^<]*)<\/dt><dd>([^<]*)<\/dd>/g)].map((m) => [text(m[1]!), text(m[2]!)]));
    expect(facts).toMatchObject({
      Système: "Debian GNU/Linux 12 (bookworm)",
      Noyau: "6.1.0-18-amd64",
      Modèle: "Dell Inc. OptiPlex 7090",
      "Numéro de série": "7XQ2K93",
      Processeur: "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz (8C/16T)",
      "Mémoire vive": "16 Go",
      "Disques (total)": "477 Go",
      "Dernier inventaire": "1 juin 2026, 12:00:00",
      Source: "agent Medulla",
      "Dernier utilisateur": "alice",
      Comptes: "alice, root",
      "Logiciels installés": "4",
    });
    expect(html).toContain('aria-current="page" data-tab="summary"');
    expect(html).toContain(`hx-post="/computers/${id}/inventory/request"`);
  });

  test("each tab is a fragment for htmx and a full page for a plain request", async () => {
    const { id, c } = await withMachine();
    for (const tab of ["summary", "hardware", "software", "network", "storage", "history"]) {
      const frag = await c.request("GET", `/computers/${id}/inventory?tab=${tab}`, { headers: htmx("div#inventory-tabs") });
      const body = await frag.text();
      expect([frag.status, body.startsWith('<div id="inventory-tabs">'), body.includes("<html")]).toEqual([200, true, false]);
      expect(body).toContain(`aria-current="page" data-tab="${tab}"`);
      const full = await c.page(`/computers/${id}/inventory?tab=${tab}`);
      expect(full.html).toContain("<html");
      expect(full.html).toContain(`data-panel="${tab}"`);
    }
    // A history restore (back button) always gets the whole page.
    const restore = await c.request("GET", `/computers/${id}/inventory?tab=network`, { headers: { ...htmx("div#inventory-tabs"), "hx-history-restore-request": "true" } });
    expect(await restore.text()).toContain("<html");
    // An unknown tab opens the summary.
    expect((await c.page(`/computers/${id}/inventory?tab=nope`)).html).toContain('data-panel="summary"');
  });

  test("the hardware tab lists CPUs, memory modules, BIOS and disks", async () => {
    const { id, c } = await withMachine();
    const { html } = await c.page(`/computers/${id}/inventory?tab=hardware`);
    const tables = html.slice(html.indexOf("data-panel=")).split("<h2>").slice(1);
    expect(rows(tables[0]!)).toEqual([["Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz", "Intel", "—", "8", "16", "2,9 GHz"]]);
    expect(rows(tables[1]!)).toEqual([["DIMM1", "8 Go", "DDR4", "3,2 GHz", "—", "—"], ["DIMM2", "8 Go", "DDR4", "3,2 GHz", "—", "—"]]);
    expect(text(tables[2]!)).toContain("Version du BIOS 2.14.0 Date du BIOS 2023-05-11");
    expect(rows(tables[3]!)).toEqual([["nvme0n1", "PM9A1 NVMe Samsung 512GB", "—", "S4X9NF0R", "—", "—", "477 Go"]]);
  });

  test("the network tab groups each interface's addresses, and the storage tab draws usage bars without inline styles", async () => {
    const { id, c } = await withMachine();
    const net = (await c.page(`/computers/${id}/inventory?tab=network`)).html;
    expect(rows(net)).toEqual([
      ["enp0s31f6", "8c:ec:4b:11:22:33", "192.168.1.23 fe80::8eec:4bff:fe11:2233", "255.255.255.0 ffff:ffff:ffff:ffff::", "192.168.1.1 —", "—", "—", "—"],
      ["docker0 virtuelle", "02:42:ac:11:00:01", "172.17.0.1", "255.255.0.0", "—", "—", "—", "—"],
    ]);
    const storage = (await c.page(`/computers/${id}/inventory?tab=storage`)).html;
    expect(rows(storage).map((r) => [r[0], r[5]])).toEqual([["/", "92 % utilisés"], ["/home", "20 % utilisés"]]);
    expect(storage).toContain('class="usage-used usage-high" x="0" y="0" width="92"');
    expect(storage).not.toContain("style=");
  });

  test("the software tab searches as one types, sorts, and counts; values are escaped", async () => {
    const { id, c } = await withMachine();
    const page = (await c.page(`/computers/${id}/inventory?tab=software`)).html;
    expect(rows(page).map((r) => r[0])).toEqual(["7-Zip", "<script>alert(1)</script>", "Firefox ESR", "LibreOffice"]);
    expect(page).not.toContain("<script>alert(1)");
    expect(page).toContain("4 logiciels");
    const typed = await c.request("GET", `/computers/${id}/inventory?tab=software&q=fire`, { headers: htmx("div#software-list") });
    const list = await typed.text();
    expect(list.startsWith('<div id="software-list">')).toBe(true);
    expect(typed.headers.get("hx-push-url")).toBe(`/computers/${id}/inventory?tab=software&q=fire`);
    expect(rows(list).map((r) => r.slice(0, 3))).toEqual([["Firefox ESR", "115.9.1esr", "Mozilla"]]);
    expect(text(list)).toContain("1 logiciels sur 4");
    const byVersion = await c.page(`/computers/${id}/inventory?tab=software&sort=version&dir=desc`);
    expect(rows(byVersion.html).map((r) => r[1])).toEqual(["115.9.1esr", "19.00", "7.4.7", "1.0"]);
    const byPublisher = await c.page(`/computers/${id}/inventory?tab=software&sort=publisher`);
    expect(rows(byPublisher.html).map((r) => r[2])).toEqual(["Evil & Co", "Igor Pavlov", "Mozilla", "The Document Foundation"]);
  });

  test("the software list pages by keyset over equal sort keys", async () => {
    const t = testApp();
    const id = addMachine(t, { hostname: "big" });
    addInventory(t, id, { software: Array.from({ length: 1203 }, (_, i) => [`pkg-${String(i % 400).padStart(3, "0")}`, `1.${i}`] as [string, string]) });
    const c = await signedIn(t, "boss", { isSuper: true });
    const seen: string[] = [];
    let url: string | null = `/computers/${id}/inventory?tab=software`;
    while (url) {
      const html: string = (await c.page(url)).html;
      seen.push(...rows(html).map((r) => `${r[0]} ${r[1]}`));
      const next: string | undefined = /<a href="([^"]+)"[^>]*>Suivants<\/a>/.exec(html)?.[1];
      url = next ? next.replace(/&amp;/g, "&") : null;
    }
    expect(seen.length).toBe(1203);
    expect(new Set(seen).size).toBe(1203);
    expect(seen.slice(0, 4)).toEqual(["pkg-000 1.0", "pkg-000 1.400", "pkg-000 1.800", "pkg-000 1.1200"]);
  });

  test("the history tab shows changes newest first, a page at a time", async () => {
    const t = testApp();
    const id = addMachine(t, { hostname: "pc" });
    const base = t.clock.now() - 100 * DAY;
    addInventory(t, id, {
      changes: Array.from({ length: 60 }, (_, i) => ({ at: base + i * DAY, section: "software", change: "added" as const, item: `pkg-${i}`, after: `1.${i}` })),
    });
    const c = await signedIn(t, "boss", { isSuper: true });
    const first = (await c.page(`/computers/${id}/inventory?tab=history`)).html;
    const r1 = rows(first);
    expect(r1.length).toBe(50);
    expect(r1[0]!.slice(1)).toEqual(["Logiciels", "Ajouté", "pkg-59", "—", "1.59"]);
    const older = /<a href="([^"]+)"[^>]*>Plus anciens<\/a>/.exec(first)![1]!.replace(/&amp;/g, "&");
    const second = await c.request("GET", older, { headers: htmx("div#inventory-history") });
    const html = await second.text();
    expect(html.startsWith('<div id="inventory-history">')).toBe(true);
    expect(rows(html).map((r) => r[3])).toEqual(Array.from({ length: 10 }, (_, i) => `pkg-${9 - i}`));
    expect(html).toContain("Les plus récents");
  });

  test("a machine without inventory gets the empty state with the request button", async () => {
    const t = testApp();
    const id = addMachine(t, { hostname: "fresh-pc" });
    const c = await signedIn(t, "boss", { isSuper: true });
    const { res, html } = await c.page(`/computers/${id}/inventory?tab=software`);
    expect(res.status).toBe(200);
    expect(text(html)).toContain("Cette machine n'a pas encore envoyé d'inventaire.");
    expect(html).toContain(`hx-post="/computers/${id}/inventory/request"`);
    expect(html).not.toContain('id="inventory-tabs"');
    // The machine is offline: the request is refused in the flash area, as an htmx error.
    const asked = await c.request("POST", `/computers/${id}/inventory/request`, { headers: { ...htmx("span#inventory-request-status"), "x-csrf-token": c.csrf } });
    expect([asked.status, asked.headers.get("hx-retarget")]).toEqual([409, "#flash"]);
    expect(text(await asked.text())).toContain("fresh-pc n'est pas connectée");
  });

  test("only users who may request inventories get the request button", async () => {
    const t = testApp();
    const id = addMachine(t, { hostname: "pc" });
    const reader = await signedIn(t, "reader", { keys: ["inventory.view"], entityIds: [1] });
    expect((await reader.page(`/computers/${id}/inventory`)).html).not.toContain("/inventory/request");
    expect((await reader.request("POST", `/computers/${id}/inventory/request`, { headers: { "x-csrf-token": reader.csrf } })).status).toBe(403);
    const asker = await signedIn(t, "asker", { keys: ["inventory.view", "inventory.request"], entityIds: [1] });
    expect((await asker.page(`/computers/${id}/inventory`)).html).toContain(`hx-post="/computers/${id}/inventory/request"`);
  });

  test("the machine page links to its inventory", async () => {
    const { id, c } = await withMachine();
    expect((await c.page(`/computers/${id}`)).html).toContain(`href="/computers/${id}/inventory"`);
  });
});

// ---------------------------------------------------------------------------------------

/** Three 7-Zip versions on three machines, plus other software. */
async function fleet() {
  const t = testApp();
  const paris = addEntity(t, "Paris");
  const lyon = addEntity(t, "Lyon");
  const ids = {
    a: addMachine(t, { hostname: "pc-a", entityId: paris, online: true }),
    b: addMachine(t, { hostname: "pc-b", entityId: paris }),
    c: addMachine(t, { hostname: "pc-c", entityId: lyon }),
  };
  addInventory(t, ids.a, { software: [["7-Zip", "19.00", "Igor Pavlov"], ["Firefox", "115.0", "Mozilla"]] });
  addInventory(t, ids.b, { software: [["7-Zip", "22.01", "Igor Pavlov"], ["7-Zip Helper", "1.0", "Someone"], ["Firefox", "9.5", "Mozilla"]] });
  addInventory(t, ids.c, { software: [["7-zip", "23.01", "Igor Pavlov"], ["Firefox", "115.0", "Mozilla"], ["Unversioned", "", ""]] });
  return { t, ids, paris, lyon };
}

describe("software across the fleet", () => {
  test("softwareFilterSql compares versions numerically through version_key", async () => {
    const { t, ids } = await fleet();
    const machines = (filter: Parameters<typeof softwareFilterSql>[0]) => {
      const { sql, params } = machinesWithSoftwareSql(filter);
      return (t.db.query(`SELECT id FROM machines WHERE id IN (${sql}) ORDER BY id`).all(params) as { id: number }[]).map((r) => r.id);
    };
    const zip = { name: "7-Zip", match: "equals" as const, publisher: "" };
    expect(machines({ ...zip, op: "<", version: "23" })).toEqual([ids.a, ids.b]);
    expect(machines({ ...zip, op: "<=", version: "22.01" })).toEqual([ids.a, ids.b]);
    expect(machines({ ...zip, op: "=", version: "22.01" })).toEqual([ids.b]);
    expect(machines({ ...zip, op: ">=", version: "22.1" })).toEqual([ids.b, ids.c]);
    expect(machines({ ...zip, op: ">", version: "19" })).toEqual([ids.a, ids.b, ids.c]);
    // "9.5" < "115.0" as numbers, not as text; no version never matches a comparison.
    expect(machines({ name: "Firefox", match: "equals", op: "<", version: "100", publisher: "" })).toEqual([ids.b]);
    expect(machines({ name: "Unversioned", match: "equals", op: "<", version: "1", publisher: "" })).toEqual([]);
    // contains vs equals; publisher; LIKE wildcards typed by the user are literal.
    expect(machines({ name: "7-zip", match: "contains", op: null, version: "", publisher: "" })).toEqual([ids.a, ids.b, ids.c]);
    expect(machines({ name: "", match: "contains", op: null, version: "", publisher: "someone" })).toEqual([ids.b]);
    expect(machines({ name: "%", match: "contains", op: null, version: "", publisher: "" })).toEqual([]);
    // Several criteria in one statement: prefixes keep the parameters apart.
    const one = softwareFilterSql({ ...zip, op: "<", version: "23" }, { alias: "x", prefix: "c1_" });
    expect(one).toEqual({ where: "x.name = $c1_name COLLATE NOCASE AND x.version_key <> '' AND x.version_key < $c1_version", params: { c1_name: "7-Zip", c1_version: "0000000023" } });
  });

  test("the page groups by software and version, opens a group onto its machines, and lists machines flat", async () => {
    const { t } = await fleet();
    const c = await signedIn(t, "boss", { isSuper: true });
    const { html } = await c.page("/inventory/software?name=7-Zip&match=equals&op=lt&version=23");
    expect(rows(html).map((r) => r.slice(0, 4))).toEqual([["7-Zip", "19.00", "Igor Pavlov", "1"], ["7-Zip", "22.01", "Igor Pavlov", "1"]]);
    const group = /hx-get="(\/inventory\/software\/group[^"]+)"/.exec(html)![1]!.replace(/&amp;/g, "&");
    const machines = await c.request("GET", group, { headers: htmx("div#group-0") });
    expect(text(await machines.text())).toBe("pc-a Paris");
    const flat = await c.request("GET", "/inventory/software?name=7-zip&view=machines", { headers: htmx("div#software-results") });
    const body = await flat.text();
    expect(body.startsWith('<div id="software-results">')).toBe(true);
    expect(rows(body)).toEqual([
      ["pc-a", "Paris", "7-Zip", "19.00", "Igor Pavlov"],
      ["pc-b", "Paris", "7-Zip", "22.01", "Igor Pavlov"],
      ["pc-b", "Paris", "7-Zip Helper", "1.0", "Someone"],
      ["pc-c", "Lyon", "7-zip", "23.01", "Igor Pavlov"],
    ]);
    expect(text((await c.page("/inventory/software")).html)).toContain("Saisissez un nom de logiciel ou un éditeur.");
  });

  test("the CSV exports exactly the matching rows, grouped or flat", async () => {
    const { t } = await fleet();
    const c = await signedIn(t, "boss", { isSuper: true });
    const grouped = await c.request("GET", "/inventory/software/export.csv?name=firefox");
    expect(grouped.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(grouped.headers.get("content-disposition")).toMatch(/^attachment; filename="medulla-software-\d{8}-\d{4}\.csv"$/);
    expect(await csvText(grouped)).toBe("\uFEFFLogiciel,Version,Éditeur,Machines\r\nFirefox,9.5,Mozilla,1\r\nFirefox,115.0,Mozilla,2\r\n");
    const flat = await c.request("GET", "/inventory/software/export.csv?name=7-Zip&match=equals&op=ge&version=22&view=machines");
    expect(await csvText(flat)).toBe("\uFEFFMachine,Entité,Logiciel,Version,Éditeur\r\npc-b,Paris,7-Zip,22.01,Igor Pavlov\r\npc-c,Lyon,7-zip,23.01,Igor Pavlov\r\n");
  });

  test("the API answers the same search, with symbols or codes for the comparison", async () => {
    const { t } = await fleet();
    const c = await signedIn(t, "boss", { isSuper: true });
    const call = async (path: string) => (await c.request("GET", path)).json();
    expect(await call(`/api/v1/inventory/software?name=7-Zip&match=equals&op=${encodeURIComponent("<")}&version=23`)).toEqual({
      items: [{ name: "7-Zip", version: "19.00", publisher: "Igor Pavlov", machines: 1 }, { name: "7-Zip", version: "22.01", publisher: "Igor Pavlov", machines: 1 }],
      next: null,
    });
    const paged = await call("/api/v1/inventory/software/machines?name=zip&op=gt&version=20&limit=1");
    expect(paged).toEqual({ items: [{ machineId: expect.any(Number), hostname: "pc-b", entity: "Paris", online: false, name: "7-Zip", version: "22.01", publisher: "Igor Pavlov" }], next: expect.any(String) });
    const rest = await call(`/api/v1/inventory/software/machines?name=zip&op=gt&version=20&limit=1&cursor=${paged.next}`);
    expect(rest.items.map((i: { hostname: string }) => i.hostname)).toEqual(["pc-c"]);
  });
});

// ---------------------------------------------------------------------------------------

describe("entity visibility", () => {
  test("a user sees only its entities' machines: pages, lists, search, exports, widget and API", async () => {
    const { t, ids, paris } = await fleet();
    const c = await signedIn(t, "parisian", { keys: ["inventory.view"], entityIds: [paris] });
    expect((await c.page(`/computers/${ids.a}/inventory`)).res.status).toBe(200);
    expect((await c.page(`/computers/${ids.c}/inventory`)).res.status).toBe(403);
    expect((await c.page("/computers/99999/inventory")).res.status).toBe(404);
    expect((await c.request("GET", `/api/v1/machines/${ids.c}/inventory`)).status).toBe(403);
    expect((await c.request("GET", "/api/v1/machines/99999/inventory")).status).toBe(404);
    expect(rows((await c.page("/inventory")).html).map((r) => r[1])).toEqual(["pc-a", "pc-b"]);
    expect(rows((await c.page("/inventory/software?name=7-zip")).html).map((r) => `${r[0]} ${r[1]}`)).toEqual(["7-Zip 19.00", "7-Zip 22.01", "7-Zip Helper 1.0"]);
    expect(await (await c.request("GET", "/inventory/export.csv")).text()).not.toContain("pc-c");
    expect(await (await c.request("GET", "/inventory/software/export.csv?name=zip&view=machines")).text()).not.toContain("pc-c");
    const api = (await (await c.request("GET", "/api/v1/inventory/machines")).json()) as { items: { hostname: string }[] };
    expect(api.items.map((i) => i.hostname)).toEqual(["pc-a", "pc-b"]);
    expect(text(await (await c.request("GET", "/dashboard/widgets/inventory")).text())).toBe("Inventoriées (≤ 10 jours) 2 Non mises à jour depuis plus de 10 jours 0 Jamais inventoriées 0");
  });

  test("without inventory.view every inventory page and API answers 403, and the menu hides them", async () => {
    const { t, ids } = await fleet();
    const c = await signedIn(t, "viewer", { keys: ["machines.view"], entityIds: [1] });
    for (const path of [`/computers/${ids.a}/inventory`, "/inventory", "/inventory/export.csv", "/inventory/software", "/inventory/software/export.csv", `/api/v1/machines/${ids.a}/inventory`, "/api/v1/inventory/machines", "/api/v1/inventory/software"]) {
      expect([path, (await c.request("GET", path)).status]).toEqual([path, 403]);
    }
    const home = (await c.page("/")).html;
    expect(home).not.toContain('href="/inventory"');
    expect(home).not.toContain('data-widget="inventory"');
  });
});

// ---------------------------------------------------------------------------------------

describe("the inventory-only computers view (C3)", () => {
  async function c3() {
    const t = testApp();
    const lab = addEntity(t, "Lab");
    const now = t.clock.now();
    for (let i = 0; i < 130; i++) {
      const id = addMachine(t, { hostname: `ws-${String(i).padStart(3, "0")}`, online: i % 2 === 0, entityId: i % 10 === 0 ? lab : 1 });
      addInventory(t, id, {
        at: now - (i % 3 === 0 ? 20 : 1) * DAY,
        os: { name: i % 4 === 0 ? "Windows" : "Debian", version: i % 4 === 0 ? "11" : "12" },
        bios: { manufacturer: "Dell", model: `OptiPlex ${7000 + (i % 5)}`, serial: `SN${i}` },
        hardware: { lastUser: `user${i}` },
        networks: [{ description: "eth0", ip: `10.0.${Math.floor(i / 200)}.${i % 200}`, mac: `aa:bb:cc:00:00:${i.toString(16).padStart(2, "0")}` }],
      });
    }
    addMachine(t, { hostname: "never-inventoried" });
    const c = await signedIn(t, "boss", { isSuper: true });
    return { t, c, lab };
  }

  /** Every row of the list, following "Suivants" through the table fragment. */
  async function allRows(c: Client, path: string): Promise<string[][]> {
    const out: string[][] = [];
    let url: string | null = path;
    while (url) {
      const res = await c.request("GET", url, { headers: htmx("div#inventory-table") });
      const html = await res.text();
      expect(html.startsWith('<div id="inventory-table">')).toBe(true);
      out.push(...rows(html));
      url = /<a href="([^"]+)"[^>]*>Suivants<\/a>/.exec(html)?.[1]?.replace(/&amp;/g, "&") ?? null;
    }
    return out;
  }

  test("lists inventoried machines with their columns, a stale badge, and pages by keyset", async () => {
    const { c } = await c3();
    const page = (await c.page("/inventory")).html;
    expect(text(page)).toContain("130 machines inventoriées, dont 44 depuis plus de 10 jours");
    const first = rows(page);
    expect(first.length).toBe(50);
    expect(first[0]).toEqual(["En ligne", "ws-000", "Windows 11", "Dell OptiPlex 7000", "SN0", "Lab", "user0", "12 mai 2026, 12:00:00 Plus de 10 jours"]);
    expect(first[1]).toEqual(["Hors ligne", "ws-001", "Debian 12", "Dell OptiPlex 7001", "SN1", "Root", "user1", "31 mai 2026, 12:00:00"]);
    const all = await allRows(c, "/inventory");
    expect(all.length).toBe(130);
    expect(all.map((r) => r[1])).toEqual(Array.from({ length: 130 }, (_, i) => `ws-${String(i).padStart(3, "0")}`));
    expect(all.some((r) => r[1] === "never-inventoried")).toBe(false);
  });

  test("filters on state, age, entity and search; sorts both ways; the CSV holds exactly the filtered rows", async () => {
    const { c, lab } = await c3();
    const names = async (qs: string) => (await allRows(c, `/inventory?${qs}`)).map((r) => r[1]!);
    const expected = (pred: (i: number) => boolean) => Array.from({ length: 130 }, (_, i) => i).filter(pred).map((i) => `ws-${String(i).padStart(3, "0")}`);
    expect(await names("state=online")).toEqual(expected((i) => i % 2 === 0));
    expect(await names("state=offline&age=stale")).toEqual(expected((i) => i % 2 === 1 && i % 3 === 0));
    expect(await names(`entity=${lab}`)).toEqual(expected((i) => i % 10 === 0));
    expect(await names("q=windows")).toEqual(expected((i) => i % 4 === 0));
    expect(await names("q=10.0.0.12")).toEqual(["ws-012", "ws-120", "ws-121", "ws-122", "ws-123", "ws-124", "ws-125", "ws-126", "ws-127", "ws-128", "ws-129"]);
    expect(await names("q=aa:bb:cc:00:00:7f")).toEqual(["ws-127"]);
    expect((await names("sort=name&dir=desc")).slice(0, 3)).toEqual(["ws-129", "ws-128", "ws-127"]);
    const byModel = await allRows(c, "/inventory?sort=model&dir=desc&age=fresh");
    expect(byModel.length).toBe(86);
    expect(byModel.map((r) => r[3])).toEqual([...byModel.map((r) => r[3]!)].sort().reverse());

    const csv = await csvText(await c.request("GET", "/inventory/export.csv?state=offline&age=stale&q=debian"));
    const lines = csv.split("\r\n").filter(Boolean);
    expect(lines[0]).toBe("\uFEFFNom,État,Système,Fabricant,Modèle,Numéro de série,Entité,Dernier utilisateur,Dernier inventaire,Source");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(expected((i) => i % 2 === 1 && i % 3 === 0 && i % 4 !== 0));
    expect(lines[1]).toBe("ws-003,Hors ligne,Debian 12,Dell,OptiPlex 7003,SN3,Root,user3,2026-05-12 12:00:00,agent Medulla");
    // The export link follows the filters.
    expect((await c.page("/inventory?state=offline&q=debian")).html).toContain('href="/inventory/export.csv?state=offline&q=debian"');
  });

  test("explains itself when no machine has an inventory yet", async () => {
    const t = testApp();
    addMachine(t, { hostname: "known-but-not-inventoried" });
    const c = await signedIn(t, "boss", { isSuper: true });
    const { html } = await c.page("/inventory");
    expect(text(html)).toContain("Aucune machine n'a encore d'inventaire.");
    expect(html).not.toContain("export.csv");
  });

  test("the API lists the same machines, with cursors", async () => {
    const { c } = await c3();
    const first = (await (await c.request("GET", "/api/v1/inventory/machines?limit=2&age=stale&sort=date&desc=true")).json()) as { items: Record<string, unknown>[]; next: string };
    expect(first.items[0]).toEqual({
      id: expect.any(Number), hostname: expect.stringMatching(/^ws-/), online: expect.any(Boolean), banned: false, entityId: expect.any(Number), entity: expect.any(String), os: expect.any(String),
      manufacturer: "Dell", model: expect.stringMatching(/^OptiPlex/), serial: expect.stringMatching(/^SN/), lastUser: expect.stringMatching(/^user/), inventoriedAt: "2026-05-12T12:00:00.000Z", isStale: true, source: "agent",
    });
    let count = first.items.length;
    let next: string | null = first.next;
    while (next) {
      const page = (await (await c.request("GET", `/api/v1/inventory/machines?limit=20&age=stale&sort=date&desc=true&cursor=${next}`)).json()) as { items: unknown[]; next: string | null };
      count += page.items.length;
      next = page.next;
    }
    expect(count).toBe(44);
  });
});

// ---------------------------------------------------------------------------------------

describe("the Inventory widget (G2)", () => {
  test("counts inventoried within 10 days, older, and never, within the viewer's entities", async () => {
    const t = testApp();
    const now = t.clock.now();
    for (const [name, age] of [["a", 1], ["b", 9.9], ["c", 10.5], ["d", 40], ["e", null], ["f", null], ["g", null]] as const) {
      const id = addMachine(t, { hostname: name });
      if (age !== null) addInventory(t, id, { at: now - age * DAY });
    }
    const c = await signedIn(t, "boss", { isSuper: true });
    const home = (await c.page("/")).html;
    expect(home).toContain('data-widget="inventory"');
    const body = await (await c.request("GET", "/dashboard/widgets/inventory")).text();
    expect(text(body)).toBe("Inventoriées (≤ 10 jours) 2 Non mises à jour depuis plus de 10 jours 2 Jamais inventoriées 3");
    expect(body).toContain('aria-label="2 à jour, 2 anciens, 3 jamais inventoriées"');
    // The slices add up to the whole circle and follow each other.
    const arcs = [...body.matchAll(/stroke-dasharray="([\d.]+) [\d.]+" stroke-dashoffset="(-?[\d.]+)"/g)].map((m): [number, number] => [Number(m[1]), Number(m[2])]);
    expect(arcs.map(([len]) => len).reduce((a, b) => a + b, 0)).toBeCloseTo(50, 2);
    expect(arcs.map(([, off]) => off)).toEqual([12.5, expect.closeTo(12.5 - arcs[0]![0]!, 2), expect.closeTo(12.5 - arcs[0]![0]! - arcs[1]![0]!, 2)]);
    // Time passes: a machine crosses the 10-day line.
    t.clock.advance(DAY);
    const later = t.client();
    await later.signIn("boss", strong);
    expect(text(await (await later.request("GET", "/dashboard/widgets/inventory")).text())).toContain("Non mises à jour depuis plus de 10 jours 3");
  });
});

// ---------------------------------------------------------------------------------------

describe("GET /api/v1/machines/:id/inventory", () => {
  test("every part as JSON, software whole or paged", async () => {
    const { id, c } = await withMachine();
    const res = await c.request("GET", `/api/v1/machines/${id}/inventory`);
    const body = (await res.json()) as Record<string, any>;
    expect(res.status).toBe(200);
    const { software: _software, ...parts } = body;
    expect(parts).toEqual({
      machineId: id, hostname: "pc-001", receivedAt: "2026-06-01T12:00:00.000Z", source: "agent", agentName: "",
      os: { name: "Debian GNU/Linux", version: "12", fullName: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-18-amd64", arch: "x86_64", servicePack: "", installDate: "", timezone: "" },
      hardware: { name: "pc-001", chassis: "", memoryMb: 16384, workgroup: "corp.example", lastUser: "alice", uuid: "" },
      bios: { manufacturer: "Dell Inc.", model: "OptiPlex 7090", serial: "7XQ2K93", biosVendor: "Dell Inc.", biosVersion: "2.14.0", biosDate: "2023-05-11", boardSerial: "", assetTag: "" },
      cpus: [{ name: "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz", manufacturer: "Intel", arch: "", cores: 8, threads: 16, speedMhz: 2900 }],
      memories: [
        { slot: "DIMM1", capacityMb: 8192, type: "DDR4", speedMhz: 3200, manufacturer: "", serial: "" },
        { slot: "DIMM2", capacityMb: 8192, type: "DDR4", speedMhz: 3200, manufacturer: "", serial: "" },
      ],
      disks: [{ name: "nvme0n1", model: "PM9A1 NVMe Samsung 512GB", manufacturer: "", serial: "S4X9NF0R", interface: "", type: "", sizeMb: 488386 }],
      partitions: [
        { mount: "/", device: "/dev/nvme0n1p2", filesystem: "ext4", label: "", totalMb: 100000, freeMb: 8000 },
        { mount: "/home", device: "/dev/nvme0n1p3", filesystem: "ext4", label: "", totalMb: 300000, freeMb: 240000 },
      ],
      networks: [
        { description: "enp0s31f6", mac: "8c:ec:4b:11:22:33", ip: "192.168.1.23", netmask: "255.255.255.0", gateway: "192.168.1.1", subnet: "", type: "", isVirtual: false, speedMbps: null, status: "" },
        { description: "enp0s31f6", mac: "8c:ec:4b:11:22:33", ip: "fe80::8eec:4bff:fe11:2233", netmask: "ffff:ffff:ffff:ffff::", gateway: "", subnet: "", type: "", isVirtual: false, speedMbps: null, status: "" },
        { description: "docker0", mac: "02:42:ac:11:00:01", ip: "172.17.0.1", netmask: "255.255.0.0", gateway: "", subnet: "", type: "", isVirtual: true, speedMbps: null, status: "" },
      ],
      users: [{ login: "alice", domain: "" }, { login: "root", domain: "" }],
    });
    expect(body.software.total).toBe(4);
    expect(body.software.next).toBeNull();
    expect(body.software.items.map((s: { name: string }) => s.name)).toEqual(["7-Zip", "<script>alert(1)</script>", "Firefox ESR", "LibreOffice"]);
    expect(body.software.items[0]).toEqual({ name: "7-Zip", version: "19.00", publisher: "Igor Pavlov", arch: "", source: "", installDate: "", sizeKb: null });
    const page1 = (await (await c.request("GET", `/api/v1/machines/${id}/inventory?limit=3`)).json()) as Record<string, any>;
    expect([page1.software.items.length, typeof page1.software.next]).toEqual([3, "string"]);
    const page2 = (await (await c.request("GET", `/api/v1/machines/${id}/inventory?limit=3&cursor=${page1.software.next}`)).json()) as Record<string, any>;
    expect([page2.software.items.map((s: { name: string }) => s.name), page2.software.next]).toEqual([["LibreOffice"], null]);
    expect((await c.request("GET", `/api/v1/machines/${id}/inventory?cursor=garbage`)).status).toBe(422);
  });

  test("a machine without inventory answers with empty parts", async () => {
    const t = testApp();
    const id = addMachine(t, { hostname: "bare" });
    const c = await signedIn(t, "boss", { isSuper: true });
    expect(await (await c.request("GET", `/api/v1/machines/${id}/inventory`)).json()).toEqual({
      machineId: id, hostname: "bare", receivedAt: null, source: null, agentName: "", os: null, hardware: null, bios: null,
      cpus: [], memories: [], disks: [], partitions: [], networks: [], users: [], software: { total: 0, items: [], next: null },
    });
  });
});

// ---------------------------------------------------------------------------------------

describe("through the import", () => {
  test("a GLPI agent's inventory posted to /inventory shows on every page, and a second one in the history", async () => {
    const { fixtureJson } = await import("../fixtures/inventory/factory.ts");
    const t = testApp();
    const agent = t.client("10.0.0.5"); // a private address: allowed to post without credentials by default
    const doc = fixtureJson("glpi-windows-laptop.json");
    const post = async (d: unknown) => (await agent.request("POST", "/inventory", { body: JSON.stringify(d), headers: { "content-type": "application/json" } })).status;
    expect(await post(doc)).toBe(200);
    const c = await signedIn(t, "boss", { isSuper: true });

    const list = (await c.page("/inventory")).html;
    expect(rows(list)).toEqual([["Hors ligne", "PC-COMPTA-07", "Microsoft Windows 11 Professionnel", "Dell Inc. Latitude 5430", "8GZ8HX3", "Root", "mdupont", "1 juin 2026, 12:00:00"]]);
    const href = /href="(\/computers\/\d+\/inventory)"/.exec(list)![1]!;
    const summary = text((await c.page(href)).html);
    expect(summary).toContain("Source agent GLPI");
    expect(summary).toContain("Dernier utilisateur mdupont");
    const storage = rows((await c.page(`${href}?tab=storage`)).html);
    expect(storage.map((r) => [r[0], r[2], r[5]])).toEqual([["C: Windows", "NTFS", "59 % utilisés"], ["D: CLE_USB", "FAT32", "35 % utilisés"]]);

    const zip = await c.page("/inventory/software?name=7-zip&op=lt&version=24");
    expect(rows(zip.html).map((r) => r.slice(0, 4))).toEqual([["7-Zip 23.01 (x64)", "23.01", "Igor Pavlov", "1"]]);

    // The next inventory has a newer 7-Zip: the history tab says what changed.
    t.clock.advance(DAY);
    doc.content.softwares[0].version = "24.01";
    expect(await post(doc)).toBe(200);
    const next = t.client();
    await next.signIn("boss", strong);
    const history = rows((await next.page(`${href}?tab=history`)).html);
    expect(history.some((r) => r[1] === "Logiciels" && r[2] === "Modifié" && r[3]!.startsWith("7-Zip") && r[4]!.includes("23.01") && r[5]!.includes("24.01"))).toBe(true);
    expect(rows((await next.page("/inventory/software?name=7-zip&op=lt&version=24")).html)).toEqual([]);
  });
});
