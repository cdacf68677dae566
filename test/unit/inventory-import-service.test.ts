/**
 * Storing inventories (src/features/inventory/service.ts, changes.ts) on a fresh database:
 * machines found by the merge rule, rows replaced, changes between two inventories, the
 * unchanged fast path, partial inventories, and a failed import leaving the previous one
 * whole.
 */
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { Conflict, Forbidden } from "../../src/errors.ts";
import { createEntitiesService } from "../../src/features/entities/service.ts";
import { createRecorder, type Recorder } from "../../src/features/history/service.ts";
import { diffInventories } from "../../src/features/inventory/changes.ts";
import { normalize, parseGlpiJson } from "../../src/features/inventory/glpi.ts";
import type { MemoryRow, NetworkRow, PartitionRow, SoftwareRow } from "../../src/features/inventory/normalized.ts";
import { createInventoryImport, sha256Hex, type ImportRequest } from "../../src/features/inventory/service.ts";
import { createMachinesService, type IncomingMachine } from "../../src/features/machines/service.ts";
import { silentLogger } from "../../src/log.ts";
import { fixtureText, inventoryDoc, type MachineSpec } from "../fixtures/inventory/factory.ts";

function setup(opts: { recorder?: (real: Recorder) => Recorder; entity?: number } = {}) {
  const db = openDatabase(":memory:");
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const real = createRecorder(db, () => clock.now());
  const recorder = opts.recorder?.(real) ?? real;
  const entities = createEntitiesService({ db, clock, recorder });
  const machines = createMachinesService({ db, clock, recorder, entities });
  const importer = createInventoryImport({ db, clock, log: silentLogger, recorder, machines, newMachineEntity: () => opts.entity ?? 1 });
  const post = (doc: Record<string, unknown> | string, extra: Partial<ImportRequest> = {}) => {
    const text = typeof doc === "string" ? doc : JSON.stringify(doc);
    const normalized = normalize(parseGlpiJson(text));
    return importer.importInventory({ normalized, document: text, source: "glpi-agent", agentName: normalized.identity.deviceId, ip: "10.0.0.5", ...extra });
  };
  const all = (sql: string, params: Record<string, unknown> = {}) => db.query(sql).all(params as never) as Record<string, unknown>[];
  const count = (table: string, id: number) => (db.query(`SELECT count(*) AS n FROM ${table} WHERE machine_id = $id`).get({ id }) as { n: number }).n;
  const tables = ["inv_os", "inv_hardware", "inv_bios", "inv_cpus", "inv_memories", "inv_disks", "inv_partitions", "inv_networks", "inv_software", "inv_users"];
  /** Every row a machine has in the inventory tables, for "nothing changed" comparisons. */
  const dump = (id: number) => Object.fromEntries([...tables, "inventories", "inv_changes"].map((t) => [t, all(`SELECT * FROM ${t} WHERE machine_id = $id`, { id })]));
  return { db, clock, machines, importer, post, all, count, dump, tables };
}

const spec: MachineSpec = { hostname: "pc-compta-01", uuid: "4c4c4544-0052-3510-8047-b4c04f4e3733", serial: "8GZ8HX3", mac: "a0:b3:39:6f:12:7e", software: 30 };

describe("the first inventory of a machine", () => {
  test("creates the machine with its facts, every part, the document and the history", () => {
    const s = setup();
    const text = fixtureText("glpi-windows-laptop.json");
    const r = s.post(text);
    expect(r).toEqual({ machineId: 1, hostname: "PC-COMPTA-07", created: true, unchanged: false, changes: 0, software: 22 });
    const m = s.machines.getById(1)!;
    expect([m.hostname, m.os, m.os_name, m.os_version, m.arch, m.smbios_uuid, m.manufacturer, m.serial, m.logged_user, JSON.parse(m.ips), m.inventoried_at]).toEqual([
      "PC-COMPTA-07", "windows", "Windows", "23H2", "x64", "4c4c4544-0052-3510-8047-b4c04f4e3733", "Dell Inc.", "8GZ8HX3", "mdupont", ["192.168.10.57"], s.clock.now(),
    ]);
    expect(s.machines.macs(1)).toEqual([{ mac: "a0:b3:39:6f:12:7e", is_virtual: 0 }, { mac: "c4:5a:b1:22:90:0f", is_virtual: 0 }]);
    expect(s.tables.map((t) => [t, s.count(t, 1)])).toEqual([
      ["inv_os", 1], ["inv_hardware", 1], ["inv_bios", 1], ["inv_cpus", 1], ["inv_memories", 2], ["inv_disks", 1], ["inv_partitions", 2], ["inv_networks", 4], ["inv_software", 22], ["inv_users", 1],
    ]);
    const { document, ...stored } = s.db.query("SELECT machine_id, received_at, source, agent_name, hash, size, document FROM inventories").get() as { document: Uint8Array<ArrayBuffer> };
    expect(stored).toEqual({ machine_id: 1, received_at: s.clock.now(), source: "glpi-agent", agent_name: "PC-COMPTA-07-2024-03-11-09-12-44", hash: sha256Hex(text), size: Buffer.byteLength(text) });
    // Kept as received, unknown parts included.
    expect(new TextDecoder().decode(Bun.gunzipSync(document))).toBe(text);
    expect(s.count("inv_changes", 1)).toBe(0);
    expect(s.all("SELECT module, criterion, action, text, source_ip, target_id FROM history ORDER BY id")).toEqual([
      { module: "inventory", criterion: "newmachine", action: "machines.history.created", text: "Nouvelle machine PC-COMPTA-07 (glpi-agent)", source_ip: "10.0.0.5", target_id: "1" },
      { module: "inventory", criterion: "inventory", action: "inventory.history.first", text: "Premier inventaire de PC-COMPTA-07 reçu de GLPI-Agent_v1.7.1 (22 logiciels)", source_ip: "10.0.0.5", target_id: "1" },
    ]);
  });

  test("new machines go to the entity the settings name", () => {
    const s7 = setup({ entity: 7 });
    s7.db.query("INSERT INTO entities (id, name, parent_id, created_at, updated_at) VALUES (7, 'Atelier', 1, 0, 0)").run();
    s7.post(inventoryDoc(spec));
    expect(s7.machines.getById(1)!.entity_id).toBe(7);
  });
});

describe("the merge rule", () => {
  test("a machine created by enrollment is found again by serial, by MAC, by UUID", () => {
    const cases: [string, IncomingMachine, MachineSpec][] = [
      ["serial", { hostname: "PC-COMPTA-01", manufacturer: "Dell Inc.", serial: "8GZ8HX3" }, { ...spec, uuid: "", mac: "" }],
      ["mac", { hostname: "pc-compta-01", macs: ["A0-B3-39-6F-12-7E"] }, { ...spec, uuid: "", serial: "" }],
      ["uuid", { hostname: "x", uuid: "4C4C4544-0052-3510-8047-B4C04F4E3733" }, { ...spec, serial: "", mac: "" }],
    ];
    for (const [by, enrolled, inventory] of cases) {
      const s = setup();
      const { machine } = s.machines.upsert(enrolled, { source: "enrollment", ip: "10.0.0.5" });
      const r = s.post(inventoryDoc(inventory));
      expect([by, r.machineId, r.created, s.machines.list({ id: 1, login: "root", isSuper: true }).items.length]).toEqual([by, machine.id, false, 1]);
      expect(s.machines.getById(machine.id)!.hostname).toBe("pc-compta-01");
    }
  });

  test("nothing in common: a new machine; placeholders and virtual MACs match nothing", () => {
    const s = setup();
    s.post(inventoryDoc({ hostname: "a", serial: "To Be Filled By O.E.M.", uuid: "00000000-0000-0000-0000-000000000000", mac: "02:42:ac:11:00:02" }));
    const r = s.post(inventoryDoc({ hostname: "b", serial: "To Be Filled By O.E.M.", uuid: "00000000-0000-0000-0000-000000000000", mac: "02:42:ac:11:00:02" }));
    expect(r.created).toBe(true);
    expect(r.machineId).toBe(2);
  });

  test("an agent's deviceid finds its machine when nothing else identifies it (containers, bare VMs)", () => {
    const s = setup();
    const first = s.post(inventoryDoc({ hostname: "ct-101", deviceid: "ct-101-2024-02-02-10-00-00", software: 3 }));
    const again = s.post(inventoryDoc({ hostname: "ct-101", deviceid: "ct-101-2024-02-02-10-00-00", software: 4 }));
    expect([again.machineId, again.created, again.changes]).toEqual([first.machineId, false, 1]);
    const other = s.post(inventoryDoc({ hostname: "ct-101", deviceid: "ct-101-2025-01-01-00-00-00" }));
    expect(other.created).toBe(true);
  });

  test("our agent: its machine is known from its credentials; its document's agent id is believed only then", () => {
    const s = setup();
    const { machine } = s.machines.upsert({ hostname: "pc-07" }, { source: "enrollment" });
    const doc = inventoryDoc({ hostname: "pc-07" });
    doc.content.medulla = { agentId: "agent-7" };
    s.post(doc, { source: "agent", knownMachineId: machine.id, agentName: "m1" });
    expect(s.machines.getById(machine.id)!.agent_id).toBe("agent-7");
    // The same claim from a post without our agent's credentials is ignored.
    const forged = inventoryDoc({ hostname: "intruder", serial: "X1" });
    forged.content.medulla = { agentId: "agent-7" };
    const r = s.post(forged);
    expect(r.created).toBe(true);
    expect(s.machines.getById(machine.id)!.agent_id).toBe("agent-7");
    expect(s.machines.getById(r.machineId)!.agent_id).toBeNull();
    // Our agent tells who is logged in over XMPP: its inventory's last user does not overwrite it.
    expect(s.machines.getById(machine.id)!.logged_user).toBe("");
  });

  test("a banned machine's inventory is refused and nothing is written", () => {
    const s = setup();
    const r = s.post(inventoryDoc({ ...spec, software: 3 }));
    s.db.query("UPDATE machines SET banned = 1 WHERE id = $id").run({ id: r.machineId });
    const before = s.dump(r.machineId);
    expect(() => s.post(inventoryDoc({ ...spec, software: 9 }))).toThrow(Forbidden);
    expect(s.dump(r.machineId)).toEqual(before);
  });
});

describe("changes between two inventories", () => {
  test("software, disks, partitions, memory, CPUs, networks, OS and BIOS", () => {
    const s = setup();
    const first = inventoryDoc({ ...spec, software: 4 });
    first.content.softwares.push({ name: "7-Zip", version: "22.01", arch: "x86_64" }, { name: "Python", version: "3.10.4", arch: "x86_64" }, { name: "Python", version: "3.11.2", arch: "x86_64" });
    first.content.networks.push({ description: "docker0", ipaddress: "172.17.0.1", mac: "02:42:5c:91:0e:7a", virtualdev: true, type: "bridge" });
    s.post(first);
    s.clock.advance(86_400_000);

    const second = structuredClone(first);
    const c = second.content;
    c.softwares = c.softwares.filter((x: { name: string }) => x.name !== "package-00001");
    c.softwares.find((x: { name: string }) => x.name === "7-Zip").version = "23.01";
    c.softwares.push({ name: "Firefox", version: "123.0", arch: "x86_64" });
    c.softwares = c.softwares.filter((x: { version: string }) => x.version !== "3.10.4");
    c.storages = [{ name: "nvme0n1", model: "Samsung 990 PRO 1TB", serial: "S6Z1NF0W", disksize: 953869 }];
    c.drives = [{ type: "/", volumn: "/dev/nvme0n1p2", filesystem: "ext4", total: 900000, free: 100 }];
    c.memories.push({ capacity: 8192, numslots: 2, type: "DDR5", serialnumber: "EF56GH78" });
    c.cpus[0].name = "Intel(R) Core(TM) i7-13700";
    c.networks[1].ipaddress = "10.0.0.99";
    c.networks[2].ipaddress = "172.18.0.1"; // docker0: virtual, not history
    c.operatingsystem.version = "12.6";
    c.operatingsystem.kernel_version = "6.1.0-21-amd64";
    c.bios.bversion = "1.2.0";
    c.bios.bdate = "2024-04-01";
    const r = s.post(second);

    const rows = s.all("SELECT at, section, change, item, before, after FROM inv_changes WHERE machine_id = 1 ORDER BY id");
    expect(rows.map(({ at: _at, ...x }) => x)).toEqual([
      { section: "os", change: "changed", item: "version", before: "Debian GNU/Linux 12 (bookworm) 12.5", after: "Debian GNU/Linux 12 (bookworm) 12.6" },
      { section: "os", change: "changed", item: "kernel", before: "6.1.0-18-amd64", after: "6.1.0-21-amd64" },
      { section: "bios", change: "changed", item: "version", before: "1.0.0 (2023-01-01)", after: "1.2.0 (2024-04-01)" },
      { section: "cpus", change: "changed", item: "Intel(R) Core(TM) i7-13700", before: "Intel(R) Core(TM) i5-13500 14C 20T", after: "Intel(R) Core(TM) i7-13700 14C 20T" },
      { section: "memories", change: "added", item: "2", before: "", after: "8192 MB DDR5 EF56GH78" },
      { section: "disks", change: "added", item: "nvme0n1", before: "", after: "Samsung 990 PRO 1TB 953869 MB" },
      { section: "disks", change: "removed", item: "nvme0n1", before: "KINGSTON SNV2S500G 476940 MB", after: "" },
      { section: "partitions", change: "changed", item: "/", before: "ext4 460000 MB", after: "ext4 900000 MB" },
      { section: "networks", change: "changed", item: "eno1 IP", before: "10.0.0.20", after: "10.0.0.99" },
      { section: "software", change: "changed", item: "7-Zip", before: "22.01", after: "23.01" },
      { section: "software", change: "added", item: "Firefox", before: "", after: "123.0" },
      { section: "software", change: "removed", item: "package-00001", before: "1.1.1", after: "" },
      { section: "software", change: "changed", item: "Python", before: "3.10.4, 3.11.2", after: "3.11.2" },
    ]);
    expect(rows.every((x) => x.at === s.clock.now())).toBe(true);
    expect(r.changes).toBe(13);
    expect(s.all("SELECT text FROM history WHERE action = 'inventory.history.received'")).toEqual([{ text: "Inventaire de pc-compta-01 reçu de GLPI-Agent_v1.7.1 (6 logiciels, 13 changements)" }]);
    expect(s.all("SELECT name, version FROM inv_software WHERE machine_id = 1 AND name IN ('7-Zip', 'Firefox', 'Python') ORDER BY name")).toEqual([
      { name: "7-Zip", version: "23.01" }, { name: "Firefox", version: "123.0" }, { name: "Python", version: "3.11.2" },
    ]);
  });

  test("only rows that differ are written: unchanged rows keep their ids", () => {
    const s = setup();
    s.post(inventoryDoc({ ...spec, software: 50 }));
    const ids = () => new Map((s.all("SELECT id, name, version FROM inv_software WHERE machine_id = 1") as { id: number; name: string; version: string }[]).map((r) => [`${r.name} ${r.version}`, r.id]));
    const before = ids();
    s.post(inventoryDoc({ ...spec, software: 50, versions: { "package-00007": "9.9" } }));
    const after = ids();
    expect(after.size).toBe(50);
    expect([...after].filter(([k, id]) => before.get(k) !== id)).toEqual([["package-00007 9.9", expect.any(Number)]]);
    expect(after.get("package-00007 9.9")).toBeGreaterThan(Math.max(...before.values()));
  });

  test("free space moving and small size changes are not history", () => {
    const part = (total: number, free: number): PartitionRow => ({ mount: "/data", device: "/dev/sdb1", filesystem: "xfs", label: "", total_mb: total, free_mb: free });
    expect(diffInventories({ partitions: [part(100_000, 50_000)] }, { partitions: [part(100_000, 10)] })).toEqual([]);
    expect(diffInventories({ partitions: [part(100_000, 50_000)] }, { partitions: [part(96_000, 50_000)] })).toEqual([]);
    expect(diffInventories({ partitions: [part(100_000, 50_000)] }, { partitions: [part(94_000, 50_000)] })).toEqual([
      { section: "partitions", change: "changed", item: "/data", before: "xfs 100000 MB", after: "xfs 94000 MB" },
    ]);
  });

  test("modules in slots with the same name are told apart", () => {
    const module = (serial: string): MemoryRow => ({ slot: "System Board Memory", capacity_mb: 4096, type: "LPDDR3", speed_mhz: 1867, manufacturer: "Elpida", serial });
    expect(diffInventories({ memories: [module("A"), module("B")] }, { memories: [module("A"), module("C")] })).toEqual([
      { section: "memories", change: "changed", item: "System Board Memory", before: "4096 MB LPDDR3 B", after: "4096 MB LPDDR3 C" },
    ]);
  });

  test("interfaces: MAC replaced, added, removed; virtual ones ignored", () => {
    const nic = (description: string, mac: string, ip: string, isVirtual = false): NetworkRow => ({ description, mac, ip, netmask: "", gateway: "", subnet: "", type: "ethernet", is_virtual: isVirtual ? 1 : 0, speed_mbps: null, status: "up" });
    expect(diffInventories(
      { networks: [nic("eth0", "aa:aa:aa:aa:aa:01", "10.0.0.1"), nic("eth1", "aa:aa:aa:aa:aa:02", ""), nic("veth1", "ae:00:00:00:00:01", "", true)] },
      { networks: [nic("eth0", "aa:aa:aa:aa:aa:09", "10.0.0.1"), nic("wlan0", "aa:aa:aa:aa:aa:03", "192.168.1.2"), nic("veth9", "ae:00:00:00:00:09", "", true)] },
    )).toEqual([
      { section: "networks", change: "changed", item: "eth0 MAC", before: "aa:aa:aa:aa:aa:01", after: "aa:aa:aa:aa:aa:09" },
      { section: "networks", change: "added", item: "wlan0", before: "", after: "aa:aa:aa:aa:aa:03 192.168.1.2" },
      { section: "networks", change: "removed", item: "eth1", before: "aa:aa:aa:aa:aa:02", after: "" },
    ]);
  });

  test("sections a partial inventory does not carry are not compared", () => {
    const sw = (name: string, version: string): SoftwareRow => ({ name, version, version_key: "", publisher: "", arch: "", source: "", install_date: "", size_kb: null });
    expect(diffInventories({ software: [sw("a", "1")], partitions: [] }, { software: [sw("a", "2")] })).toEqual([{ section: "software", change: "changed", item: "a", before: "1", after: "2" }]);
  });
});

describe("an inventory that did not change", () => {
  test("the same document again only moves the dates", () => {
    const s = setup();
    const doc = inventoryDoc(spec);
    s.post(doc);
    const before = s.dump(1);
    const history = s.all("SELECT id FROM history").length;
    s.clock.advance(3_600_000);
    const r = s.post(doc);
    expect(r).toEqual({ machineId: 1, hostname: "pc-compta-01", created: false, unchanged: true, changes: 0, software: 30 });
    const after = s.dump(1);
    expect(after.inventories![0]!.received_at).toBe(s.clock.now());
    expect({ ...after, inventories: [{ ...after.inventories![0], received_at: 0 }] }).toEqual({ ...before, inventories: [{ ...before.inventories![0], received_at: 0 }] });
    expect(s.machines.getById(1)!.inventoried_at).toBe(s.clock.now());
    expect(s.all("SELECT id FROM history").length).toBe(history);
  });

  test("our agent names the hash of its last inventory; a hash we do not hold is a Conflict", () => {
    const s = setup();
    const text = JSON.stringify(inventoryDoc(spec));
    s.post(text, { source: "agent" });
    s.clock.advance(60_000);
    expect(s.importer.touchUnchanged(1, sha256Hex(text), "10.0.0.5").unchanged).toBe(true);
    expect(s.machines.getById(1)!.inventoried_at).toBe(s.clock.now());
    expect(() => s.importer.touchUnchanged(1, "0".repeat(64), "10.0.0.5")).toThrow(Conflict);
    expect(() => s.importer.touchUnchanged(99, sha256Hex(text), "10.0.0.5")).toThrow(Conflict);
  });
});

describe("partial inventories", () => {
  test("replace only the parts they carry; the stored document is the previous with those parts laid over", () => {
    const s = setup();
    s.post(inventoryDoc({ ...spec, software: 5 }));
    const partial = inventoryDoc({ ...spec, software: 6, partial: true });
    for (const k of Object.keys(partial.content)) if (k !== "softwares") delete partial.content[k];
    const r = s.post(partial);
    expect([r.machineId, r.changes, r.software]).toEqual([1, 1, 6]);
    expect(s.tables.map((t) => s.count(t, 1))).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 6, 1]);
    expect(s.machines.getById(1)!.hostname).toBe("pc-compta-01");
    const stored = JSON.parse(new TextDecoder().decode(Bun.gunzipSync((s.db.query("SELECT document FROM inventories").get() as { document: Uint8Array<ArrayBuffer> }).document)));
    expect(stored.partial).toBeUndefined();
    expect(stored.content.softwares.length).toBe(6);
    expect(stored.content.bios.ssn).toBe("8GZ8HX3");
    expect(stored.content.antivirus).toEqual([{ name: "ClamAV", enabled: true }]);
  });
});

describe("a failed import", () => {
  test("leaves the previous inventory whole (one transaction)", () => {
    let failing = false;
    const s = setup({
      recorder: (real) => ({
        record(entry) {
          if (failing && entry.action === "inventory.history.received") throw new Error("disk full");
          return real.record(entry);
        },
      }),
    });
    s.post(inventoryDoc({ ...spec, software: 10 }));
    const before = s.dump(1);
    const machine = s.machines.getById(1);
    failing = true;
    s.clock.advance(1000);
    expect(() => s.post(inventoryDoc({ ...spec, hostname: "renamed", software: 2, ip: "10.9.9.9" }))).toThrow("disk full");
    expect(s.dump(1)).toEqual(before);
    expect(s.machines.getById(1)).toEqual(machine);
  });

  test("a document that cannot be read is refused before the import is called", () => {
    const s = setup();
    s.post(inventoryDoc(spec));
    const before = s.dump(1);
    expect(() => s.post('{"content": {"softwares": {}}}')).toThrow("content.softwares: expected a list");
    expect(s.dump(1)).toEqual(before);
  });
});
