/**
 * @module scripts/bench/inventory
 * The inventory at scale, in a temporary file database:
 *   - 10,000 generated GLPI-format inventories (~300 software each, drawn from a catalogue
 *     of popular and long-tail packages, 7-Zip in four versions) imported one by one
 *     through the import service (parse, check, normalise, merge, diff, one transaction
 *     each), in inventories per second, beside the same rows written with bare prepared
 *     INSERTs (one transaction per inventory, no parsing, no diff) on a sample;
 *   - the inventory-only computers list (C3) with a search that matches a few machines out
 *     of 10,000 (so every machine is looked at), as a page request through the whole web
 *     stack (session, route, SQL, HTML), beside the same SQL run bare;
 *   - the fleet-wide software search ("7-Zip < 23", grouped), and a "contains" search over
 *     the ~3 million software rows, each as a request beside its SQL run bare.
 * The ratio of each pair is the application's overhead (aim: ≤ 2×). The database lives on
 * tmpfs (/dev/shm) when the machine has one: what is measured is the work of the code and
 * of SQLite, not the disk's flushes (on this workplace's disk the import ran at about a
 * third of its tmpfs rate, 43 against 123 inventories/s for 500, and the suite would not
 * fit in its three minutes).
 * `BENCH_INVENTORY_MACHINES` sets the fleet's size (default 10,000) for quicker trials.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Database } from "../../src/db/index.ts";
import { hashPassword } from "../../src/features/auth/password.ts";
import { createEntitiesService } from "../../src/features/entities/service.ts";
import { createRecorder } from "../../src/features/history/service.ts";
import { checkGlpi, normalize, parseJsonObject } from "../../src/features/inventory/glpi.ts";
import { computersParams, computersSql, softwareGroupsSql, type ComputerFilter, type SoftwareFilter } from "../../src/features/inventory/read.ts";
import { createInventoryImport, sha256Hex } from "../../src/features/inventory/service.ts";
import type { NormalizedInventory } from "../../src/features/inventory/normalized.ts";
import { createMachinesService } from "../../src/features/machines/service.ts";
import { silentLogger } from "../../src/log.ts";
import { timeMs, type Report } from "../bench.ts";

const MACHINES = Number(process.env.BENCH_INVENTORY_MACHINES ?? 10_000);
const SOFTWARE = 300;
const PEER_SAMPLE = Math.min(1_000, MACHINES);
const NOW = Date.UTC(2026, 5, 1, 12);

/** A small deterministic generator, so every run measures the same data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POPULAR: [string, string, string[]][] = [
  ["7-Zip", "Igor Pavlov", ["19.00", "22.01", "23.01", "24.08"]],
  ["Mozilla Firefox", "Mozilla", ["115.9.1", "123.0.1", "124.0"]],
  ["Google Chrome", "Google LLC", ["122.0.6261.112", "123.0.6312.59"]],
  ["VLC media player", "VideoLAN", ["3.0.18", "3.0.20"]],
  ["LibreOffice", "The Document Foundation", ["7.4.7", "7.6.5", "24.2.1"]],
  ["Adobe Acrobat Reader", "Adobe", ["23.008.20533", "24.001.20604"]],
  ["Notepad++", "Notepad++ Team", ["8.5.8", "8.6.4"]],
  ["TeamViewer", "TeamViewer", ["15.49.2", "15.51.6"]],
  ["Microsoft Edge", "Microsoft Corporation", ["122.0.2365.80"]],
  ["Zoom Workplace", "Zoom Video Communications, Inc.", ["5.17.11"]],
];
const TAIL = Array.from({ length: 6_000 }, (_, i) => `package-${String(i).padStart(5, "0")}`);
const MODELS = [["Dell Inc.", "Latitude 5430"], ["Dell Inc.", "OptiPlex 7010"], ["HP", "EliteBook 840 G9"], ["Lenovo", "ThinkPad T14"], ["Lenovo", "ThinkCentre M70q"], ["Dell Inc.", "PowerEdge R640"]] as const;
const SYSTEMS = [["Windows", "11", "Microsoft Windows 11 Professionnel"], ["Windows", "10", "Microsoft Windows 10 Professionnel"], ["Debian GNU/Linux", "12", "Debian GNU/Linux 12 (bookworm)"], ["Ubuntu", "22.04", "Ubuntu 22.04.4 LTS"]] as const;

/** One machine's inventory as a GLPI agent sends it. */
export function generateInventory(i: number): string {
  const rnd = random(1000 + i);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const name = `PC-${String(i).padStart(5, "0")}`;
  const [manufacturer, model] = pick(MODELS);
  const [os, version, fullName] = pick(SYSTEMS);
  const softwares: Record<string, unknown>[] = [];
  for (const [n, publisher, versions] of POPULAR) if (rnd() < 0.7) softwares.push({ name: n, version: pick(versions), publisher, arch: "x86_64" });
  const seen = new Set<string>();
  while (softwares.length < SOFTWARE) {
    const n = pick(TAIL);
    if (seen.has(n)) continue;
    seen.add(n);
    softwares.push({ name: n, version: `${1 + Math.floor(rnd() * 5)}.${Math.floor(rnd() * 20)}.${Math.floor(rnd() * 100)}`, publisher: `Vendor ${n.slice(-2)}`, arch: "x86_64", from: "registry", filesize: Math.floor(rnd() * 1e7) });
  }
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
  const mac = `02:${hex(2)}:${hex(2)}:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}:${hex(2)}`.replace(/^02/, "a4");
  return JSON.stringify({
    action: "inventory", deviceid: `${name}-2026-05-01-00-00-00`, itemtype: "Computer",
    content: {
      versionclient: "GLPI-Agent_v1.7.1",
      hardware: { name, memory: 8192 * (1 + Math.floor(rnd() * 4)), uuid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`.toUpperCase(), chassis_type: "Desktop", lastloggeduser: `user${Math.floor(rnd() * 5000)}`, workgroup: "CORP" },
      operatingsystem: { name: os, version, full_name: fullName, kernel_version: "6.1.0", arch: "x86_64" },
      bios: { smanufacturer: manufacturer, smodel: model, ssn: `SN${String(i).padStart(5, "0")}`, bmanufacturer: manufacturer, bversion: "1.2.0", bdate: "2023-01-01" },
      cpus: [{ name: "Intel(R) Core(TM) i5-13500", core: 14, thread: 20, speed: 2500, manufacturer: "Intel", arch: "x86_64" }],
      memories: [{ capacity: 8192, numslots: 1, type: "DDR5", speed: "4800", manufacturer: "Kingston" }],
      storages: [{ name: "nvme0n1", model: "KINGSTON SNV2S500G", serial: `${name}-disk`, disksize: 476940, type: "disk", interface: "NVMe" }],
      drives: [{ type: "/", volumn: "/dev/nvme0n1p2", filesystem: "ext4", total: 460000, free: Math.floor(rnd() * 460000) }],
      networks: [{ description: "eno1", ipaddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ipmask: "255.255.0.0", ipgateway: "10.0.0.1", mac, type: "ethernet", virtualdev: false, status: "up", speed: "1000" }],
      softwares,
      users: [{ login: `user${i % 5000}` }],
    },
  });
}

/** The peer of the import: the same rows written with bare prepared statements, one transaction per inventory. */
function bareWriter(db: Database) {
  const machine = db.query("INSERT INTO machines (hostname, serial, manufacturer, inventoried_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4, ?4) RETURNING id");
  const inventory = db.query("INSERT INTO inventories (machine_id, received_at, source, agent_name, hash, document, size) VALUES (?1, ?2, 'glpi-agent', ?3, ?4, ?5, ?6)");
  const os = db.query("INSERT INTO inv_os (machine_id, name, version, full_name, kernel, arch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  const bios = db.query("INSERT INTO inv_bios (machine_id, manufacturer, model, serial) VALUES (?1, ?2, ?3, ?4)");
  const hw = db.query("INSERT INTO inv_hardware (machine_id, name, memory_mb, last_user) VALUES (?1, ?2, ?3, ?4)");
  const net = db.query("INSERT INTO inv_networks (machine_id, description, mac, ip) VALUES (?1, ?2, ?3, ?4)");
  const sw = db.query("INSERT INTO inv_software (machine_id, name, version, version_key, publisher, arch, source, size_kb) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  const cpu = db.query("INSERT INTO inv_cpus (machine_id, name, manufacturer, cores, threads, speed_mhz) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  const mem = db.query("INSERT INTO inv_memories (machine_id, slot, capacity_mb, type, manufacturer) VALUES (?1, ?2, ?3, ?4, ?5)");
  const disk = db.query("INSERT INTO inv_disks (machine_id, name, model, serial, size_mb) VALUES (?1, ?2, ?3, ?4, ?5)");
  const part = db.query("INSERT INTO inv_partitions (machine_id, mount, device, filesystem, total_mb, free_mb) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  const user = db.query("INSERT INTO inv_users (machine_id, login, domain) VALUES (?1, ?2, ?3)");
  return db.transaction((n: NormalizedInventory, text: string) => {
    const id = (machine.get(n.identity.hostname, n.identity.serial, n.identity.manufacturer, NOW) as { id: number }).id;
    const doc = Bun.gzipSync(text);
    inventory.run(id, NOW, n.identity.deviceId, sha256Hex(text), doc, doc.length);
    if (n.os) os.run(id, n.os.name, n.os.version, n.os.full_name, n.os.kernel, n.os.arch);
    if (n.bios) bios.run(id, n.bios.manufacturer, n.bios.model, n.bios.serial);
    if (n.hardware) hw.run(id, n.hardware.name, n.hardware.memory_mb, n.hardware.last_user);
    for (const x of n.networks ?? []) net.run(id, x.description, x.mac, x.ip);
    for (const c of n.cpus ?? []) cpu.run(id, c.name, c.manufacturer, c.cores, c.threads, c.speed_mhz);
    for (const m of n.memories ?? []) mem.run(id, m.slot, m.capacity_mb, m.type, m.manufacturer);
    for (const d of n.disks ?? []) disk.run(id, d.name, d.model, d.serial, d.size_mb);
    for (const p of n.partitions ?? []) part.run(id, p.mount, p.device, p.filesystem, p.total_mb, p.free_mb);
    for (const u of n.users ?? []) user.run(id, u.login, u.domain);
    for (const s of n.software ?? []) sw.run(id, s.name, s.version, s.version_key, s.publisher, s.arch, s.source, s.size_kb);
  });
}

export default async function inventory(report: Report): Promise<void> {
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "medulla-bench-inventory-"));
  console.error(`bench: inventory: database in ${dir}`);
  try {
    const db = openDatabase(join(dir, "inventory.db"));
    const clock = new ManualClock(NOW);
    const recorder = createRecorder(db, () => clock.now());
    const entities = createEntitiesService({ db, clock, recorder });
    const machines = createMachinesService({ db, clock, recorder, entities });
    const importer = createInventoryImport({ db, clock, log: silentLogger, recorder, machines });

    // Import: generating the documents is not part of the measure.
    let importMs = 0;
    for (let i = 0; i < MACHINES; i++) {
      const text = generateInventory(i);
      const started = performance.now();
      importer.importInventory({ normalized: normalize(checkGlpi(parseJsonObject(text))), document: text, source: "glpi-agent", agentName: `PC-${i}`, ip: "10.0.0.1" });
      importMs += performance.now() - started;
      if (i % 2000 === 1999) console.error(`bench: inventory: ${i + 1} imported (${((i + 1) / (importMs / 1000)).toFixed(0)}/s)`);
    }
    const peerDb = openDatabase(join(dir, "peer.db"));
    const write = bareWriter(peerDb);
    let peerMs = 0;
    for (let i = 0; i < PEER_SAMPLE; i++) {
      const text = generateInventory(i);
      const n = normalize(checkGlpi(parseJsonObject(text)));
      const started = performance.now();
      write(n, text);
      peerMs += performance.now() - started;
    }
    peerDb.close();
    const rate = MACHINES / (importMs / 1000);
    const peerRate = PEER_SAMPLE / (peerMs / 1000);
    report({ name: `inventory-import-${MACHINES}x${SOFTWARE}-higher-better`, value: rate, unit: "inventories/s", peer: { name: `sqlite-bare-inserts-${PEER_SAMPLE}`, value: peerRate } });
    db.exec("ANALYZE");
    const softwareRows = (db.query("SELECT count(*) AS n FROM inv_software").get() as { n: number }).n;
    console.error(`bench: inventory: ${MACHINES} machines, ${softwareRows.toLocaleString("en")} software rows`);

    // The pages, through the whole web stack, as a signed-in super-administrator.
    const app = buildApp({ db, clock, log: silentLogger });
    db.query("INSERT INTO users (login, password_hash, is_super, created_at, updated_at) VALUES ('bench', $h, 1, 0, 0)").run({ h: await hashPassword("Bench-password-1") });
    const signed = await app.auth.signIn({ login: "bench", password: "Bench-password-1", ip: "127.0.0.1", userAgent: "bench" });
    if (!signed.ok || signed.step !== "done") throw new Error("bench: cannot sign in");
    const get = async (path: string, target: string) => {
      const res = await app.web.fetch(new Request(`http://localhost${path}`, { headers: { cookie: `medulla_session=${signed.token}`, "hx-request": "true", "hx-target": target } }), { ip: "127.0.0.1" });
      if (res.status !== 200) throw new Error(`bench: ${path} answered ${res.status}`);
      return res.text();
    };
    const everyEntity = JSON.stringify((db.query("SELECT id FROM entities").all() as { id: number }[]).map((r) => r.id));

    // C3 with a search that few machines match: every machine is examined.
    const search = "SN0042";
    const c3: ComputerFilter = { state: "all", age: "all", entity: null, search, sort: "name", desc: false };
    const c3Sql = db.query(computersSql(c3.sort, c3.desc));
    const c3Rows = (c3Sql.all(computersParams(everyEntity, c3, NOW, null, 51)) as unknown[]).length;
    const page = await get(`/inventory?q=${search}`, "div#inventory-table");
    if (!page.includes("PC-00420")) throw new Error("bench: the C3 search found nothing");
    const c3Ms = await timeMs(30, () => get(`/inventory?q=${search}`, "div#inventory-table"));
    const c3Peer = await timeMs(30, () => c3Sql.all(computersParams(everyEntity, c3, NOW, null, 51)));
    report({ name: `inventory-c3-search-${MACHINES}-machines-${c3Rows}-hits-lower-better`, value: c3Ms, unit: "ms", peer: { name: "sqlite-direct", value: c3Peer } });

    // Fleet-wide software search, grouped: "which machines have 7-Zip < 23".
    const zip: SoftwareFilter = { name: "7-Zip", match: "equals", op: "<", version: "23", publisher: "" };
    const groups = softwareGroupsSql(zip);
    const groupSql = db.query(groups.sql);
    const bare = (f: { params: Record<string, string> }) => groupSql.all({ ...f.params, entities: everyEntity, afterN: null, afterK: null, afterV: null, limit: 101 });
    if (!(await get("/inventory/software?name=7-Zip&match=equals&op=lt&version=23", "div#software-results")).includes("22.01")) throw new Error("bench: 7-Zip < 23 found nothing");
    const zipMs = await timeMs(30, () => get("/inventory/software?name=7-Zip&match=equals&op=lt&version=23", "div#software-results"));
    const zipPeer = await timeMs(30, () => bare(groups));
    report({ name: "inventory-software-search-equals-lower-better", value: zipMs, unit: "ms", peer: { name: "sqlite-direct", value: zipPeer } });

    // "contains": no index helps, every software row is read.
    const contains: SoftwareFilter = { name: "zip", match: "contains", op: null, version: "", publisher: "" };
    const containsGroups = softwareGroupsSql(contains);
    const containsSql = db.query(containsGroups.sql);
    const containsMs = await timeMs(5, () => get("/inventory/software?name=zip", "div#software-results"));
    const containsPeer = await timeMs(5, () => containsSql.all({ ...containsGroups.params, entities: everyEntity, afterN: null, afterK: null, afterV: null, limit: 101 }));
    report({ name: `inventory-software-search-contains-${Math.round(softwareRows / 1e5) / 10}M-rows-lower-better`, value: containsMs, unit: "ms", peer: { name: "sqlite-direct", value: containsPeer } });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
