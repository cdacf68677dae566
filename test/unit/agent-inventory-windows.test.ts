/**
 * The Windows inventory collector on what its PowerShell script prints (Windows
 * PowerShell 5.1's ConvertTo-Json: "\/Date(ms)\/" dates, hotfix dates wrapped with their
 * localised text, `\u0027`-escaped apostrophes, a BOM, single objects or arrays, nulls) for
 * a Windows 11 laptop, a Windows Server 2022 and a French Windows 10 desktop
 * (test/fixtures/agent/inventory/windows/). PowerShell itself does not run here.
 */
import { describe, expect, test } from "bun:test";
import { buildWindowsInventory, WINDOWS_SOURCES } from "../../agent/src/inventory/windows/index.ts";
import { list, psDate, psDay, psDateTime, strings } from "../../agent/src/inventory/windows/ps-json.ts";
import { encodedCommand, WINDOWS_INVENTORY_SCRIPT } from "../../agent/src/inventory/windows/script.ts";
import { decodeProductState } from "../../agent/src/inventory/windows/software.ts";
import { loadMachine } from "../fixtures/agent/inventory/fixtures.ts";

const laptop = loadMachine("windows", "win11-laptop");
const server = loadMachine("windows", "winserver-2022");
const desktop = loadMachine("windows", "win10-desktop-fr");

function build(raw: Record<string, string>, now = new Date("2024-04-08T10:00:00Z")) {
  const warnings: string[] = [];
  return { c: buildWindowsInventory(raw, now, (w) => warnings.push(w)), warnings };
}

describe("reading PowerShell 5.1 JSON", () => {
  test("dates in every form it prints", () => {
    expect(psDateTime("/Date(1712559161000)/")).toBe("2024-04-08 06:52:41");
    expect(psDateTime({ value: "/Date(1712559161000)/", DateTime: "lundi 8 avril 2024 08:52:41" })).toBe("2024-04-08 06:52:41");
    expect(psDateTime("2024-04-08T08:52:41+02:00")).toBe("2024-04-08 06:52:41");
    expect(psDateTime("20240408085241.000000+120")).toBe("2024-04-08 06:52:41");
    expect(psDay("20240115")).toBe("2024-01-15");
    expect(psDay("1/15/2024")).toBe("2024-01-15");
    // A local midnight that PowerShell turned into UTC the evening before: the machine's offset gives the day back.
    expect(psDay({ value: "/Date(1704841200000)/", DateTime: "mercredi 10 janvier 2024 00:00:00" }, 60)).toBe("2024-01-10");
    for (const bad of ["15/09/2023", "20241340", "soon", "", null, 42, {}, "/Date(abc)/"]) expect(psDate(bad)).toBeUndefined();
  });

  test("lists: arrays, single objects, PowerShell's { value, Count } wrapper, null", () => {
    expect(list([{ a: 1 }, 3, null])).toEqual([{ a: 1 }]);
    expect(list({ a: 1 })).toEqual([{ a: 1 }]);
    expect(list({ value: [{ a: 1 }, { a: 2 }], Count: 2 })).toEqual([{ a: 1 }, { a: 2 }]);
    expect(list(null)).toEqual([]);
    expect(strings(["10.0.0.1", null, " "])).toEqual(["10.0.0.1"]);
    expect(strings("10.0.0.1")).toEqual(["10.0.0.1"]);
  });

  test("SecurityCenter2 product states", () => {
    expect(decodeProductState(397568)).toEqual({ enabled: true, uptodate: true });
    expect(decodeProductState(393472)).toEqual({ enabled: false, uptodate: true });
    expect(decodeProductState(397584)).toEqual({ enabled: true, uptodate: false });
  });

  test("the script runs with -EncodedCommand (UTF-16LE, base64) and prints compressed JSON", () => {
    const argv = WINDOWS_SOURCES.powershell as { cmd: string[] };
    expect(argv.cmd.slice(0, 6)).toEqual(["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"]);
    expect(Buffer.from(encodedCommand(), "base64").toString("utf16le")).toBe(WINDOWS_INVENTORY_SCRIPT);
    expect(WINDOWS_INVENTORY_SCRIPT).toContain("ConvertTo-Json -Depth 4 -Compress");
    for (const cls of ["Win32_ComputerSystem", "Win32_BIOS", "Win32_Processor", "Win32_PhysicalMemory", "Win32_DiskDrive", "Win32_LogicalDisk", "Win32_NetworkAdapterConfiguration", "Win32_OperatingSystem", "Get-HotFix", "WOW6432Node", "HKEY_USERS"]) {
      expect(WINDOWS_INVENTORY_SCRIPT).toContain(cls);
    }
    expect(/[^\x00-\x7f]/.test(WINDOWS_INVENTORY_SCRIPT)).toBe(false);
  });
});

describe("Windows 11 laptop", () => {
  const { c, warnings } = build(laptop);

  test("identity, OS and firmware", () => {
    expect(warnings).toEqual([]);
    expect(c.hardware).toEqual({
      name: "PC-COMPTA-01", uuid: "4c4c4544-0056-4810-8035-c2c04f4b3633", memory: 32478, swap: 4864, chassis_type: "Notebook", vmsystem: "Physical",
      workgroup: "corp.example.lan", lastloggeduser: "jdupont", winowner: "CORP", wincompany: "Example SARL", winprodid: "00330-80000-00000-AA123", winlang: "1036",
      dns: "10.10.0.10/10.10.0.11", defaultgateway: "192.168.1.254",
    });
    expect(c.operatingsystem).toEqual({
      name: "Windows", full_name: "Microsoft Windows 11 Pro", version: "23H2", kernel_name: "MSWin32", kernel_version: "10.0.22631.3296", arch: "x86_64",
      install_date: "2023-11-02 09:14:03", boot_time: "2024-04-08 06:52:41", fqdn: "pc-compta-01.corp.example.lan", dns_domain: "corp.example.lan",
      timezone: { name: "Romance Standard Time", offset: "+0200" },
    });
    // Two enclosures (the laptop and its dock): the first is the machine's.
    expect(c.bios).toMatchObject({ smodel: "Latitude 5440", ssn: "9VH5K3", bdate: "2024-03-05", assettag: "IT-2024-0117", enclosureserial: "9VH5K3" });
  });

  test("hardware: memory in MiB, NVMe bus from the Storage module, drives with the system one marked", () => {
    expect(c.memories[0]).toEqual({ capacity: 16384, caption: "DIMM A", description: "SODIMM", type: "DDR4", speed: "3200", manufacturer: "SK Hynix", serialnumber: "4231A0B1", model: "HMAA2GS6CJR8N-XN", numslots: 1, memorycorrection: "None" });
    expect(c.storages[0]).toEqual({ name: "\\\\.\\PHYSICALDRIVE0", model: "SAMSUNG MZVL2512HDJD-00BT7", manufacturer: "Samsung", serial: "0025_3886_21B4_5A10.", firmware: "6L2QGXD7", interface: "NVMe", type: "SSD", disksize: 512106 });
    expect(c.drives.map((d) => [d.letter, d.type, d.total, d.free, d.systemdrive])).toEqual([
      ["C:", "Local Disk", 487108, 287572, true],
      ["D:", "Removable Disk", 14892, 8603, false],
      ["H:", "Network Drive", 2097152, 888117, false],
    ]);
    expect(c.cpus).toEqual([{ name: "13th Gen Intel(R) Core(TM) i7-1365U", manufacturer: "Intel", arch: "x86_64", core: 10, thread: 12, speed: 1800, id: "BFEBFBFF000B0671", familynumber: "6", model: "186", stepping: 3, cache: "12288" }]);
  });

  test("network: one entry per address, disconnected adapters bare, a VPN binding virtual, no Wi-Fi speed", () => {
    expect(c.networks.map((n) => [n.description.slice(0, 20), n.ipaddress ?? n.ipaddress6 ?? "", n.status, n.virtualdev])).toEqual([
      ["Intel(R) Ethernet Co", "", "down", false],
      ["Intel(R) Wi-Fi 6E AX", "192.168.1.23", "up", false],
      ["Intel(R) Wi-Fi 6E AX", "fe80::9c1e:44ab:7d2f:1b60", "up", false],
      ["Cisco AnyConnect Sec", "10.200.14.37", "up", true],
    ]);
    expect(c.networks[1]).toMatchObject({ type: "wifi", ipmask: "255.255.255.0", ipsubnet: "192.168.1.0", ipgateway: "192.168.1.254", ipdhcp: "192.168.1.254" });
    expect(c.networks[1]!.speed).toBeUndefined();
  });

  test("software: both registry views and the user's hive, without system components and child updates; hotfixes", () => {
    const names = c.softwares.map((s) => s.name);
    expect(names).not.toContain("Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.38.33135");
    expect(names.some((n) => n.startsWith("Update for Microsoft Office"))).toBe(false);
    expect(c.softwares.find((s) => s.name === "Mozilla Firefox (x64 fr)")).toEqual({
      name: "Mozilla Firefox (x64 fr)", version: "124.0.2", publisher: "Mozilla", arch: "x86_64", install_date: "2024-04-02", filesize: 236548096,
      uninstall_string: '"C:\\Program Files\\Mozilla Firefox\\uninstall\\helper.exe"', url_info_about: "https://www.mozilla.org", helplink: "https://support.mozilla.org", from: "registry",
    });
    expect(c.softwares.find((s) => s.name === "Microsoft Edge")).toMatchObject({ arch: "i686" });
    expect(c.softwares.find((s) => s.name === "Spotify")).toEqual({
      name: "Spotify", version: "1.2.34.783.g923721d9", publisher: "Spotify AB", install_date: "2024-04-01", username: "jdupont", userid: "S-1-5-21-3623811015-3361044348-30300820-1013", from: "registry",
    });
    expect(c.softwares.filter((s) => s.from === "WMI")).toEqual([
      { name: "KB5012170", comments: "Security Update", publisher: "Microsoft Corporation", release_type: "hotfix", from: "WMI" },
      { name: "KB5034467", comments: "Update", install_date: "2024-01-10", publisher: "Microsoft Corporation", release_type: "hotfix", from: "WMI" },
      { name: "KB5035853", comments: "Security Update", install_date: "2024-03-13", publisher: "Microsoft Corporation", release_type: "hotfix", from: "WMI" },
      { name: "KB5036212", comments: "Update", install_date: "2024-03-13", publisher: "Microsoft Corporation", release_type: "hotfix", from: "WMI" },
    ]);
    expect(c.softwares).toHaveLength(20);
  });

  test("antivirus, battery, monitors, printers, people", () => {
    expect(c.antivirus).toEqual([
      { name: "Windows Defender", guid: "{D68DDC3A-831F-4fae-9E44-DA132C1ACF46}", enabled: true, uptodate: true, company: "Microsoft Corporation", version: "4.18.24030.9", base_version: "1.409.45.0", base_creation: "2024-04-08" },
    ]);
    expect(c.batteries).toEqual([{ name: "DELL 7FMXV3A", manufacturer: "SMP", serial: "2375", chemistry: "lithium-ion", capacity: 54000, real_capacity: 51230, voltage: 15200 }]);
    expect(c.monitors).toEqual([
      { manufacturer: "AU Optronics", description: "38/2022" },
      { name: "DELL P2422H", caption: "DELL P2422H", manufacturer: "Dell", serial: "7XKT8H3", description: "7/2023" },
    ]);
    expect(c.printers[0]).toEqual({ name: "\\\\SRV-PRINT\\Compta-RDC", driver: "HP Universal Printing PCL 6", port: "IP_10.10.0.40", network: true, shared: false, sharename: "Compta-RDC", servername: "\\\\SRV-PRINT", comment: "Couloir RDC" });
    expect(c.users).toEqual([{ login: "jdupont", domain: "CORP" }]);
    // Disabled built-in accounts are left out.
    expect(c.local_users).toEqual([{ id: "S-1-5-21-1180699209-877415012-3182924384-1001", login: "support-it", name: "Support informatique" }]);
  });
});

describe("Windows Server 2022", () => {
  test("no Security Center: Defender's own status; two sockets; RAID volumes; remote desktop users once each", () => {
    const { c, warnings } = build(server, new Date("2024-03-20T09:00:00Z"));
    expect(warnings).toEqual([]);
    expect(c.antivirus).toEqual([
      { name: "Microsoft Defender Antivirus", company: "Microsoft Corporation", enabled: true, uptodate: true, version: "4.18.24030.9", base_version: "1.407.612.0", base_creation: "2024-03-18" },
    ]);
    expect(build(server, new Date("2024-04-08T10:00:00Z")).c.antivirus[0]!.uptodate).toBe(false);
    expect(c.cpus).toHaveLength(2);
    expect(c.memories.map((m) => [m.caption, m.capacity, m.memorycorrection])).toEqual([
      ["PROC 1 DIMM 8", 32768, "Multi-bit ECC"], ["PROC 1 DIMM 10", 32768, "Multi-bit ECC"], ["PROC 2 DIMM 8", 32768, "Multi-bit ECC"], ["PROC 2 DIMM 10", 32768, "Multi-bit ECC"],
    ]);
    expect(c.storages.map((s) => [s.manufacturer, s.interface, s.serial, s.disksize])).toEqual([["HPE", "RAID", "PEYHN0ARHCD1A2", 479987], ["HPE", "RAID", "PEYHN0ARHCD1A3", 3839934]]);
    // The empty CD drive has no size and is not a file system.
    expect(c.drives.map((d) => d.letter)).toEqual(["C:", "D:"]);
    expect(c.networks[0]).toMatchObject({ speed: "1000", ipaddress: "10.10.0.5", ipgateway: "10.10.0.1" });
    expect(c.networks[0]!.ipdhcp).toBeUndefined();
    expect(c.users).toEqual([{ login: "adm-jmartin", domain: "CORP" }, { login: "adm-ldubois", domain: "CORP" }]);
    expect(c.hardware).toMatchObject({ chassis_type: "Rack Mount Chassis", memory: 130833 });
    expect(c.hardware.lastloggeduser).toBeUndefined();
    expect(c.bios.assettag).toBeUndefined();
    expect(c.softwares.filter((s) => s.from === "WMI").map((s) => s.name)).toEqual(["KB5011497", "KB5034439", "KB5035857", "KB5035970"]);
    expect(c.operatingsystem).toMatchObject({ full_name: "Microsoft Windows Server 2022 Standard", version: "21H2", kernel_version: "10.0.20348.2340", timezone: { name: "Romance Standard Time", offset: "+0100" } });
  });
});

describe("French Windows 10 desktop (BOM, workgroup, a third-party antivirus)", () => {
  test("parts", () => {
    const { c, warnings } = build(desktop);
    expect(warnings).toEqual([]);
    expect(c.operatingsystem).toMatchObject({ full_name: "Microsoft Windows 10 Professionnel", arch: "x86_64", version: "22H2" });
    expect(c.operatingsystem.fqdn).toBeUndefined();
    expect(c.hardware).toMatchObject({ name: "PC-ACCUEIL", workgroup: "COMPTA", chassis_type: "Low Profile Desktop" });
    expect(c.antivirus.map((a) => [a.name, a.enabled, a.uptodate])).toEqual([["ESET Security", true, true], ["Windows Defender", false, true]]);
    expect(c.storages.map((s) => [s.model, s.interface, s.type, s.serial])).toEqual([
      ["Samsung SSD 870 EVO 500GB", "SATA", "SSD", "S6PXNS0T901234A"],
      ["ST1000DM010-2EP102", "SATA", "HDD", "ZN1A2B3C"],
    ]);
    expect(c.drives[1]).toMatchObject({ letter: "D:", label: "Données" });
    // An apostrophe escaped as \u0027, accents kept; a date in a local format is not guessed.
    expect(c.softwares.find((s) => s.name === "Pilote d'imprimante Brother")).toMatchObject({ arch: "i686", install_date: "2021-03-04" });
    expect(c.softwares.find((s) => s.name.startsWith("EBP"))!.install_date).toBeUndefined();
    expect(c.softwares.some((s) => s.name === "Mise à jour pour Windows 10 pour systèmes x64 (KB5001716)")).toBe(true);
    expect(c.monitors).toEqual([{ name: "HP P22 G4", caption: "HP P22 G4", manufacturer: "HP", serial: "CNC1310QXY", description: "10/2021" }]);
  });
});

describe("bad output", () => {
  test("not JSON, truncated, an array, or empty: parts empty and a warning, never a throw", () => {
    for (const [text, warning] of [
      ["Get-CimInstance : Access denied", "powershell: not JSON"],
      [laptop.powershell!.slice(0, 5000), "powershell: not JSON"],
      ["[1,2,3]", "powershell: the inventory script printed something other than one JSON object"],
    ] as const) {
      const { c, warnings } = build({ powershell: text });
      expect(c.softwares).toEqual([]);
      expect(c.hardware).toEqual({});
      expect(warnings[0]).toStartWith(warning);
    }
    expect(build({}).warnings).toEqual(["powershell: no installed programs found in the uninstall registry keys"]);
  });

  test("odd values: single objects where arrays are usual, strings for numbers, nulls everywhere", () => {
    const doc = {
      ComputerSystem: [{ Name: "PC-1", PartOfDomain: false, Workgroup: "WORKGROUP", TotalPhysicalMemory: "8589934592" }],
      Processors: { Name: "Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", NumberOfCores: 2, Architecture: 9 },
      Memory: { Capacity: null, DeviceLocator: "ChannelA-DIMM0" },
      Disks: null,
      NetworkConfigs: { Index: 1, Description: "Realtek RTL8821CE 802.11ac PCIe Adapter", IPAddress: "10.0.0.8", IPSubnet: "255.255.255.0" },
      Software: { DisplayName: "Only One", DisplayVersion: 1.5, InstallDate: 20240101, EstimatedSize: "12" },
      Hotfixes: { HotFixID: "KB5000001", InstalledOn: "2024-01-02T00:00:00" },
    };
    const { c } = build({ powershell: JSON.stringify(doc) });
    expect(c.hardware).toEqual({ name: "PC-1", memory: 8192, workgroup: "WORKGROUP" });
    expect(c.cpus).toEqual([{ name: "Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", core: 2, arch: "x86_64" }]);
    expect(c.memories).toEqual([{ caption: "ChannelA-DIMM0", numslots: 1 }]);
    expect(c.networks).toEqual([{ description: "Realtek RTL8821CE 802.11ac PCIe Adapter", type: "wifi", virtualdev: true, status: "up", ipaddress: "10.0.0.8", ipmask: "255.255.255.0", ipsubnet: "10.0.0.0" }]);
    expect(c.softwares).toEqual([
      { name: "KB5000001", install_date: "2024-01-02", publisher: "Microsoft Corporation", release_type: "hotfix", from: "WMI" },
      { name: "Only One", version: "1.5", install_date: "2024-01-01", filesize: 12288, from: "registry" },
    ]);
  });
});
