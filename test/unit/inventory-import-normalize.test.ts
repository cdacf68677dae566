/**
 * The GLPI format read into our rows (src/features/inventory/glpi.ts): three real-looking
 * machines (a Windows laptop, a Linux server, a Mac), what is kept as received, the
 * sortable version key, and hostile documents refused with a clear reason.
 */
import { describe, expect, test } from "bun:test";
import { normalize, parseGlpiJson } from "../../src/features/inventory/glpi.ts";
import { InventoryError, versionKey } from "../../src/features/inventory/normalized.ts";
import { deeplyNested, fixtureText, hugeStrings, inventoryDoc, manySoftware } from "../fixtures/inventory/factory.ts";

const load = (name: string) => normalize(parseGlpiJson(fixtureText(name)));

/** The refusal `run` throws: its kind and reason. */
function refusal(run: () => unknown): { kind: string; reason: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof InventoryError) return { kind: err.kind, reason: err.reason };
    throw err;
  }
  throw new Error("not refused");
}

describe("versionKey", () => {
  test("pads each run of digits so that strings sort as versions", () => {
    expect(versionKey("23.01")).toBe("0000000023.0000000001");
    expect(versionKey(" 1:9.2p1-2+deb12u2 ")).toBe("0000000001:0000000009.0000000002p0000000001-0000000002+deb0000000012u0000000002");
    expect(versionKey("")).toBe("");
    const sorted = ["10.2", "9.11", "9.2", "1.0.10", "1.0.9", "23.01", "22.01"].sort((a, b) => (versionKey(a) < versionKey(b) ? -1 : 1));
    expect(sorted).toEqual(["1.0.9", "1.0.10", "9.2", "9.11", "10.2", "22.01", "23.01"]);
  });
});

describe("a Windows laptop (GLPI agent)", () => {
  const n = load("glpi-windows-laptop.json");

  test("identity and machine facts", () => {
    expect(n.identity).toEqual({
      hostname: "PC-COMPTA-07", uuid: "4C4C4544-0052-3510-8047-B4C04F4E3733", manufacturer: "Dell Inc.", serial: "8GZ8HX3",
      // The Hyper-V switch is flagged virtual by the agent: it identifies nothing.
      macs: ["a0:b3:39:6f:12:7e", "c4:5a:b1:22:90:0f"], agentId: "", deviceId: "PC-COMPTA-07-2024-03-11-09-12-44",
    });
    expect(n.machine).toEqual({ os: "windows", osName: "Windows", osVersion: "23H2", arch: "x64", ips: ["192.168.10.57"], lastUser: "mdupont" });
    expect(n.agentVersion).toBe("GLPI-Agent_v1.7.1");
    expect(n.partial).toBe(false);
  });

  test("OS, hardware, BIOS", () => {
    expect(n.os).toEqual({ name: "Windows", version: "23H2", full_name: "Microsoft Windows 11 Professionnel", kernel: "10.0.22631", arch: "64-bit", service_pack: "", install_date: "2023-01-17 10:22:05", timezone: "Paris, Madrid +0100" });
    expect(n.hardware).toEqual({ name: "PC-COMPTA-07", chassis: "Notebook", memory_mb: 16077, workgroup: "CABINET", last_user: "mdupont", uuid: "4C4C4544-0052-3510-8047-B4C04F4E3733" });
    expect(n.bios).toEqual({ manufacturer: "Dell Inc.", model: "Latitude 5430", serial: "8GZ8HX3", bios_vendor: "Dell Inc.", bios_version: "1.21.0", bios_date: "2023-08-02", board_serial: "/8GZ8HX3/CNFCW0036K0123/", asset_tag: "CAB-0707" });
  });

  test("CPUs, memory, disks and drive letters", () => {
    expect(n.cpus).toEqual([{ name: "12th Gen Intel(R) Core(TM) i5-1245U", manufacturer: "Intel", arch: "x86_64", cores: 10, threads: 12, speed_mhz: 1600 }]);
    expect(n.memories).toEqual([
      { slot: "1", capacity_mb: 8192, type: "DDR4", speed_mhz: 3200, manufacturer: "Samsung", serial: "3A1B2C3D" },
      { slot: "2", capacity_mb: 8192, type: "DDR4", speed_mhz: 3200, manufacturer: "Samsung", serial: "3A1B2C9F" },
    ]);
    expect(n.disks).toEqual([{ name: "\\\\.\\PHYSICALDRIVE0", model: "PM9A1 NVMe Samsung 512GB", manufacturer: "Samsung", serial: "0025_38B1_21B2_3C4D.", interface: "NVMe", type: "disk", size_mb: 488386 }]);
    // Windows: the letter is the mount point and "volumn" the volume's label.
    expect(n.partitions).toEqual([
      { mount: "C:", device: "", filesystem: "NTFS", label: "Windows", total_mb: 486745, free_mb: 201344 },
      { mount: "D:", device: "", filesystem: "FAT32", label: "CLE_USB", total_mb: 15259, free_mb: 9870 },
    ]);
  });

  test("networks: one row per address", () => {
    expect(n.networks!.map((x) => [x.description, x.mac, x.ip, x.type, x.is_virtual, x.speed_mbps, x.status])).toEqual([
      ["Intel(R) Wi-Fi 6E AX211 160MHz", "a0:b3:39:6f:12:7e", "192.168.10.57", "wifi", 0, 866, "up"],
      ["Intel(R) Wi-Fi 6E AX211 160MHz", "a0:b3:39:6f:12:7e", "fe80::1c4a:2b5e:8d1f:3a21", "wifi", 0, 866, "up"],
      ["Intel(R) Ethernet Connection (16) I219-LM", "c4:5a:b1:22:90:0f", "", "ethernet", 0, null, "down"],
      ["Hyper-V Virtual Ethernet Adapter", "00:15:5d:84:2a:01", "172.22.48.1", "ethernet", 1, null, "up"],
    ]);
    expect(n.networks![0]).toEqual({ description: "Intel(R) Wi-Fi 6E AX211 160MHz", mac: "a0:b3:39:6f:12:7e", ip: "192.168.10.57", netmask: "255.255.255.0", gateway: "192.168.10.254", subnet: "192.168.10.0", type: "wifi", is_virtual: 0, speed_mbps: 866, status: "up" });
  });

  test("software: exact duplicates folded, sizes in KB, version keys", () => {
    expect(n.software!.length).toBe(22);
    expect(n.software![0]).toEqual({ name: "7-Zip 23.01 (x64)", version: "23.01", version_key: "0000000023.0000000001", publisher: "Igor Pavlov", arch: "x86_64", source: "registry", install_date: "2023-09-14", size_kb: 5570 });
    expect(n.software!.filter((s) => s.name.startsWith("Mozilla Firefox")).length).toBe(1);
    expect(n.software!.find((s) => s.name.includes("KB5034765"))).toEqual(expect.objectContaining({ version: "KB5034765", source: "WMI", size_kb: null }));
    expect(n.users).toEqual([{ login: "mdupont", domain: "CABINET" }]);
  });
});

describe("a Linux server and a Mac", () => {
  test("the server: two sockets, an empty memory slot, mount points, virtual interfaces left out of its identity and addresses", () => {
    const n = load("glpi-linux-server.json");
    expect(n.identity).toEqual({ hostname: "srv-files-01", uuid: "4c4c4544-0038-4810-8035-b7c04f4d4433", manufacturer: "Dell Inc.", serial: "8H4805B", macs: ["d0:94:66:1a:2b:3c", "d0:94:66:1a:2b:3d"], agentId: "", deviceId: "srv-files-01-2023-06-02-14-20-11" });
    expect(n.machine).toEqual({ os: "linux", osName: "Debian GNU/Linux", osVersion: "12.5", arch: "x64", ips: ["10.20.0.21"], lastUser: "root" });
    expect(n.cpus!.length).toBe(2);
    expect(n.memories!.at(-1)).toEqual({ slot: "5", capacity_mb: null, type: "Unknown", speed_mhz: null, manufacturer: "", serial: "" });
    expect(n.partitions!.map((p) => [p.mount, p.device, p.label, p.total_mb])).toEqual([
      ["/", "/dev/mapper/vg0-root", "", 95944], ["/boot", "/dev/sda1", "", 469], ["/boot/efi", "/dev/sda2", "", 511], ["/srv/partages", "/dev/mapper/vg1-partages", "partages", 3812256],
    ]);
    expect(n.software!.find((s) => s.name === "openssh-server")).toEqual({ name: "openssh-server", version: "1:9.2p1-2+deb12u2", version_key: versionKey("1:9.2p1-2+deb12u2"), publisher: "Debian", arch: "amd64", source: "deb", install_date: "", size_kb: 1803 });
    expect(n.users).toEqual([{ login: "root", domain: "" }]);
  });

  test("the Mac: Apple silicon, APFS volumes, apps and pkgutil receipts", () => {
    const n = load("glpi-mac.json");
    expect(n.machine).toEqual({ os: "darwin", osName: "macOS", osVersion: "14.3.1", arch: "arm64", ips: ["192.168.1.34"], lastUser: "claire" });
    expect(n.identity.macs).toEqual(["3c:a6:f6:0b:1e:77"]);
    expect(n.cpus).toEqual([{ name: "Apple M2 Pro", manufacturer: "Apple", arch: "arm64", cores: 12, threads: 12, speed_mhz: 3490 }]);
    expect(n.memories).toEqual([{ slot: "0", capacity_mb: 32768, type: "LPDDR5", speed_mhz: null, manufacturer: "Micron", serial: "" }]);
    expect(n.partitions![0]).toEqual({ mount: "/", device: "/dev/disk3s1s1", filesystem: "apfs", label: "Macintosh HD", total_mb: 994662, free_mb: 612044 });
    expect(n.software!.map((s) => s.source)).toEqual([...Array(8).fill("apps"), "pkgutil", "pkgutil"]);
  });
});

describe("what the format leaves open", () => {
  test("numbers as strings, units, booleans as 0/1, unknown fields and parts", () => {
    const doc = inventoryDoc();
    Object.assign(doc.content.hardware, { memory: "16 GB", surprise: { nested: [1, 2] } });
    doc.content.memories[0].capacity = "8192";
    doc.content.networks[1].virtualdev = "0";
    doc.content.networks[1].speed = "-1";
    doc.content.cpus[0].speed = "2500 MHz";
    doc.content.gadgets = [{ name: "lava lamp" }];
    const n = normalize(parseGlpiJson(JSON.stringify(doc)));
    expect(n.hardware!.memory_mb).toBe(16384);
    expect(n.memories![0]!.capacity_mb).toBe(8192);
    expect(n.networks![1]!.is_virtual).toBe(0);
    expect(n.networks![1]!.speed_mbps).toBeNull();
    expect(n.cpus![0]!.speed_mhz).toBe(2500);
  });

  test("a part that is absent is undefined (a partial inventory keeps the stored one); present and empty is []", () => {
    const doc = inventoryDoc({ partial: true });
    delete doc.content.softwares;
    delete doc.content.bios;
    doc.content.users = [];
    const n = normalize(parseGlpiJson(JSON.stringify(doc)));
    expect(n.partial).toBe(true);
    expect(n.software).toBeUndefined();
    expect(n.bios).toBeUndefined();
    expect(n.users).toEqual([]);
    expect(n.identity.serial).toBe("");
  });

  test("the host name falls back to the FQDN, then to the deviceid", () => {
    const doc = inventoryDoc();
    delete doc.content.hardware.name;
    doc.content.operatingsystem.fqdn = "web-03.example.lan";
    expect(normalize(parseGlpiJson(JSON.stringify(doc))).identity.hostname).toBe("web-03");
    delete doc.content.operatingsystem.fqdn;
    doc.deviceid = "kiosk-12-2023-05-04-10-11-12";
    expect(normalize(parseGlpiJson(JSON.stringify(doc))).identity.hostname).toBe("kiosk-12");
  });

  test("our agent's id is read from content.medulla", () => {
    const doc = inventoryDoc();
    doc.content.medulla = { agentId: "3f2a9c" };
    expect(normalize(parseGlpiJson(JSON.stringify(doc))).identity.agentId).toBe("3f2a9c");
  });
});

describe("hostile documents", () => {
  test("truncated JSON", () => {
    const text = fixtureText("glpi-windows-laptop.json");
    expect(refusal(() => parseGlpiJson(text.slice(0, text.length / 2)))).toEqual({ kind: "malformed", reason: expect.stringContaining("not valid JSON") });
    expect(refusal(() => parseGlpiJson(""))).toEqual({ kind: "malformed", reason: expect.stringContaining("not valid JSON") });
  });

  test("30,000 software entries", () => {
    expect(refusal(() => parseGlpiJson(manySoftware(30_000)))).toEqual({ kind: "too_many", reason: "too many software entries: 30000, at most 20000" });
    expect(normalize(parseGlpiJson(manySoftware(20_000))).software!.length).toBe(20_000);
  });

  test("wrong types", () => {
    const cases: [string, (d: Record<string, any>) => void, string][] = [
      ["a list that is an object", (d) => (d.content.softwares = { name: "x" }), "content.softwares: expected a list"],
      ["a part that is text", (d) => (d.content.hardware = "PC-01"), "content.hardware: expected an object"],
      ["text that is an object", (d) => (d.content.softwares[2].name = { en: "x" }), "content.softwares[2].name: expected text or a number"],
      ["no content", (d) => delete d.content, "content is missing"],
    ];
    for (const [what, spoil, reason] of cases) {
      const doc = inventoryDoc();
      spoil(doc);
      expect([what, refusal(() => parseGlpiJson(JSON.stringify(doc)))]).toEqual([what, { kind: "invalid", reason }]);
    }
    expect(refusal(() => parseGlpiJson("[1, 2]"))).toEqual({ kind: "invalid", reason: "the document must be a JSON object" });
  });

  test("deep nesting, even in parts we keep unread", () => {
    expect(refusal(() => parseGlpiJson(deeplyNested(100)))).toEqual({ kind: "invalid", reason: "nested deeper than 64 levels" });
    expect(refusal(() => parseGlpiJson(deeplyNested(200_000))).kind).toMatch(/^(invalid|malformed)$/);
    expect(() => parseGlpiJson(deeplyNested(50))).not.toThrow();
  });

  test("huge strings are cut in the rows (the document keeps them)", () => {
    const n = normalize(parseGlpiJson(hugeStrings(2_000_000)));
    expect(n.software![0]!.name).toBe("N".repeat(255));
    expect(n.hardware!.workgroup.length).toBe(255);
  });

  test("control characters are dropped from text", () => {
    const doc = inventoryDoc();
    doc.content.softwares[0].name = "Evil\u0000Name\u0007";
    expect(normalize(parseGlpiJson(JSON.stringify(doc))).software![0]!.name).toBe("EvilName");
  });
});
