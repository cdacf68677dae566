import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { MachineFacts } from "../../src/protocol/actions.ts";
import { parseSwVers, parseSystemProfiler } from "../../agent/src/facts/darwin.ts";
import { clampFacts, collectFacts, factsFingerprint, type FactsDeps } from "../../agent/src/facts/index.ts";
import { parseDmi, parseOsRelease, parseWho } from "../../agent/src/facts/linux.ts";
import { networkFacts, type NicAddress } from "../../agent/src/facts/net.ts";
import { parseQueryUser, parseWindowsFacts } from "../../agent/src/facts/windows.ts";

const fixtures = join(import.meta.dir, "..", "fixtures", "agent");
const fx = (p: string) => readFileSync(join(fixtures, p), "utf8");
const json = (p: string) => JSON.parse(fx(p)) as Record<string, string>;

describe("Linux facts", () => {
  test.each([
    ["os-release-debian12", { name: "Debian GNU/Linux 12 (bookworm)", version: "12", id: "debian" }],
    ["os-release-ubuntu2204", { name: "Ubuntu 22.04.4 LTS", version: "22.04", id: "ubuntu" }],
    ["os-release-rhel9", { name: "Red Hat Enterprise Linux 9.3 (Plow)", version: "9.3", id: "rhel" }],
    ["os-release-arch-crlf", { name: "Arch Linux", version: "rolling", id: "arch" }],
  ])("os-release %s", (file, expected) => {
    expect(parseOsRelease(fx(`linux/${file}`))).toEqual(expected);
  });

  test("os-release: empty, garbage and shell escapes", () => {
    expect(parseOsRelease("")).toEqual({ name: "Linux", version: "", id: "linux" });
    expect(parseOsRelease("PRETTY_NAME=\"My \\\"Distro\\\"\"\nnonsense\n")).toEqual({ name: 'My "Distro"', version: "", id: "linux" });
  });

  test("who: local sessions first", () => {
    expect(parseWho(fx("linux/who-desktop.txt"))).toEqual([
      { user: "alice", line: "seat0", local: true },
      { user: "alice", line: "tty2", local: true },
      { user: "bob", line: "pts/0", local: false },
    ]);
    expect(parseWho(fx("linux/who-ssh-only.txt"))[0]).toEqual({ user: "admin", line: "pts/0", local: false });
    expect(parseWho("")).toEqual([]);
  });

  test.each([
    ["dmi-dell-optiplex.json", { uuid: "4c4c4544-0042-3510-8052-b7c04f4e3933", serial: "7B5RN93", manufacturer: "Dell Inc.", model: "OptiPlex 7090" }],
    ["dmi-qemu.json", { uuid: "6f3c0f1e-9a2b-4d7c-8e11-0b5d2a7c4e90", serial: undefined, manufacturer: "QEMU", model: "Standard PC (Q35 + ICH9, 2009)" }],
    ["dmi-whitebox.json", { uuid: undefined, serial: undefined, manufacturer: undefined, model: undefined }],
    ["dmi-not-root.json", { uuid: undefined, serial: undefined, manufacturer: "LENOVO", model: "20XW0055GE" }],
  ])("DMI %s", (file, expected) => {
    expect(parseDmi(json(`linux/${file}`))).toEqual(expected);
  });
});

describe("macOS facts", () => {
  test.each([
    ["sw_vers-sonoma.txt", { name: "macOS 14.4.1", version: "14.4.1", build: "23E224" }],
    ["sw_vers-sequoia.txt", { name: "macOS 15.1", version: "15.1", build: "24B83" }],
    ["sw_vers-catalina.txt", { name: "Mac OS X 10.15.7", version: "10.15.7", build: "19H2026" }],
  ])("sw_vers %s", (file, expected) => {
    expect(parseSwVers(fx(`darwin/${file}`))).toEqual(expected);
  });

  test.each([
    ["system_profiler-macbook-air-m2.json", { uuid: "3f1d2c4b-8a9e-5b7c-9d0e-1f2a3b4c5d6e", serial: "LX4QW7HJ2P", manufacturer: "Apple Inc.", model: "MacBook Air (Mac14,2)" }],
    ["system_profiler-imac-intel.json", { uuid: "a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d", serial: "C02DK1ABPN7M", manufacturer: "Apple Inc.", model: "iMac (iMac20,1)" }],
    ["system_profiler-vm.json", { uuid: "7e2a9c41-3b5d-5f60-8a1b-2c3d4e5f6a7b", serial: "ZRKV1234XY", manufacturer: "Apple Inc.", model: "Apple Virtual Machine 1 (VirtualMac2,1)" }],
  ])("system_profiler %s", (file, expected) => {
    expect(parseSystemProfiler(fx(`darwin/${file}`))).toEqual(expected);
  });

  test("system_profiler: not JSON or another shape gives nothing", () => {
    expect(parseSystemProfiler("Hardware:\n  Model Name: iMac")).toEqual({});
    expect(parseSystemProfiler('{"SPHardwareDataType": 3}')).toEqual({});
  });

  test("who: the console user first", () => {
    expect(parseWho(fx("darwin/who-console.txt")).map((s) => [s.user, s.line, s.local])).toEqual([
      ["marie", "console", true],
      ["marie", "ttys000", false],
      ["root", "ttys001", false],
    ]);
  });
});

describe("Windows facts", () => {
  test.each([
    ["facts-win11-dell-latitude.json", { osName: "Windows 11 Pro", osVersion: "10.0.22631", osBuild: "22631", uuid: "4c4c4544-0056-4810-8035-c2c04f4b3633", serial: "9VH5K3", manufacturer: "Dell Inc.", model: "Latitude 5440", consoleUser: "CORP\\jdupont" }],
    ["facts-win10-hp-prodesk.json", { osName: "Windows 10 Professionnel", osVersion: "10.0.19045", osBuild: "19045", uuid: "2a8f3c10-7b4e-11eb-9a1d-5cf3fc4e8a20", serial: "CZC1234XYZ", manufacturer: "HP", model: "HP ProDesk 400 G7 Microtower PC", consoleUser: undefined }],
    ["facts-server2022-hyperv.json", { osName: "Windows Server 2022 Standard", osVersion: "10.0.20348", osBuild: "20348", uuid: "9d2e6b1a-44c0-4f1b-a3e2-7c5d8b0f1e24", serial: "0000-0012-3456-7890-1234-5678-90", manufacturer: "Microsoft Corporation", model: "Virtual Machine", consoleUser: undefined }],
    ["facts-whitebox-placeholders.json", { osName: "Windows 10 Pro", osVersion: "10.0.19045", osBuild: "19045", uuid: undefined, serial: undefined, manufacturer: "ASUS", model: undefined, consoleUser: "ATELIER-3\\poste" }],
  ])("PowerShell CIM %s", (file, expected) => {
    expect(parseWindowsFacts(fx(`windows/${file}`))).toEqual(expected);
  });

  test("PowerShell output that is not JSON gives nothing", () => {
    expect(parseWindowsFacts("Get-CimInstance : Access denied")).toEqual({});
  });

  test("query user: active console first, then active remote, then disconnected", () => {
    expect(parseQueryUser(fx("windows/query-user-console.txt"))).toEqual([{ user: "jdupont", session: "console", id: 1, state: "Active" }]);
    expect(parseQueryUser(fx("windows/query-user-rds.txt")).map((s) => s.user)).toEqual(["administrator", "mleroy", "svc_backup"]);
    expect(parseQueryUser(fx("windows/query-user-fr.txt")).map((s) => [s.user, s.session])).toEqual([
      ["claire", "console"],
      ["paul", ""],
    ]);
    expect(parseQueryUser("No User exists for *")).toEqual([]);
  });
});

const nic = (mac: string, address: string, internal = false): NicAddress => ({ address, family: address.includes(":") ? "IPv6" : "IPv4", mac, internal });

describe("network facts", () => {
  test("identity MACs skip loopback, virtual and locally administered ones; all are reported", () => {
    const n = networkFacts({
      lo: [nic("00:00:00:00:00:00", "127.0.0.1", true)],
      enp3s0: [nic("3C:52:82:11:22:33", "192.168.1.20"), nic("3c:52:82:11:22:33", "fe80::1%enp3s0")],
      docker0: [nic("02:42:ac:11:00:01", "172.17.0.1")],
      "vEthernet (Default Switch)": [nic("00:15:5d:01:02:03", "172.30.0.1")],
      wlan0: [nic("a4-c3-f0-44-55-66", "10.0.0.7")],
      "Local Area Connection": [nic("00:1a:2b:3c:4d:5e", "10.1.0.2")],
    });
    expect(n.macs).toEqual(["00:1a:2b:3c:4d:5e", "3c:52:82:11:22:33", "a4:c3:f0:44:55:66"]);
    expect(n.ips).toEqual(["192.168.1.20", "172.17.0.1", "172.30.0.1", "10.0.0.7", "10.1.0.2"]);
    expect(n.interfaces.map((i) => [i.name, i.virtual])).toEqual([
      ["enp3s0", false],
      ["docker0", true],
      ["vEthernet (Default Switch)", true],
      ["wlan0", false],
      ["Local Area Connection", false],
    ]);
  });
});

function fakeDeps(platform: string, files: Record<string, string>, commands: Record<string, string>): FactsDeps {
  return {
    platform,
    run: async (argv) => commands[argv[0]!] ?? "",
    readText: async (p) => files[p],
    os: {
      hostname: () => "pc-01",
      arch: () => "x64",
      uptime: () => 1234.7,
      release: () => "6.1.0-18-amd64",
      userInfo: () => ({ username: "root" }) as never,
      networkInterfaces: () => ({ eth0: [{ address: "10.0.0.5", family: "IPv4", mac: "52:54:00:12:34:56", internal: false, netmask: "", cidr: null }] }) as never,
    },
  };
}

describe("collectFacts", () => {
  test("Linux machine from its files and who", async () => {
    const dmi = json("linux/dmi-dell-optiplex.json");
    const files = Object.fromEntries([["/etc/os-release", fx("linux/os-release-debian12")], ...Object.entries(dmi).map(([k, v]) => [`/sys/class/dmi/id/${k}`, v])]);
    const f = await collectFacts("42", fakeDeps("linux", files, { who: fx("linux/who-desktop.txt") }));
    expect(Value.Check(MachineFacts, f)).toBe(true);
    expect({ ...f, agentVersion: "x", interfaces: undefined }).toEqual({
      agentId: "42",
      agentVersion: "x",
      hostname: "pc-01",
      os: "linux",
      osName: "Debian GNU/Linux 12 (bookworm)",
      osVersion: "12",
      osBuild: "6.1.0-18-amd64",
      arch: "x64",
      ips: ["10.0.0.5"],
      macs: ["52:54:00:12:34:56"],
      loggedUser: "alice",
      uptimeSeconds: 1234,
      uuid: "4c4c4544-0042-3510-8052-b7c04f4e3933",
      serial: "7B5RN93",
      manufacturer: "Dell Inc.",
      model: "OptiPlex 7090",
      interfaces: undefined,
    });
  });

  test("Windows and macOS machines from their commands' output", async () => {
    const win = await collectFacts("7", fakeDeps("win32", {}, { "powershell.exe": fx("windows/facts-win10-hp-prodesk.json"), "query.exe": fx("windows/query-user-rds.txt") }));
    expect([win.os, win.osName, win.loggedUser, win.serial]).toEqual(["windows", "Windows 10 Professionnel", "administrator", "CZC1234XYZ"]);
    const mac = await collectFacts("8", fakeDeps("darwin", {}, { sw_vers: fx("darwin/sw_vers-sonoma.txt"), system_profiler: fx("darwin/system_profiler-macbook-air-m2.json"), who: fx("darwin/who-console.txt") }));
    expect([mac.os, mac.osName, mac.loggedUser, mac.serial, mac.manufacturer]).toEqual(["darwin", "macOS 14.4.1", "marie", "LX4QW7HJ2P", "Apple Inc."]);
    expect(Value.Check(MachineFacts, win) && Value.Check(MachineFacts, mac)).toBe(true);
  });

  test("this machine's real facts fit the schema", async () => {
    expect(Value.Check(MachineFacts, await collectFacts("1"))).toBe(true);
  });

  test("clamping keeps absurd values inside the schema", () => {
    const f = clampFacts({
      agentId: "a".repeat(100), agentVersion: "v", hostname: "h".repeat(300), os: "linux", osName: "n", osVersion: "9".repeat(200), arch: "x",
      ips: Array(100).fill("1.2.3.4"), macs: Array(100).fill("aa:bb:cc:dd:ee:ff"), loggedUser: "u", uptimeSeconds: -5.5, serial: "s".repeat(500),
    });
    expect(Value.Check(MachineFacts, f)).toBe(true);
  });

  test("the facts fingerprint ignores uptime but sees every other change", () => {
    const base = clampFacts({ agentId: "1", agentVersion: "v", hostname: "h", os: "linux", osName: "n", osVersion: "1", arch: "x64", ips: ["10.0.0.1"], macs: [], loggedUser: "", uptimeSeconds: 1 });
    expect(factsFingerprint({ ...base, uptimeSeconds: 999 })).toBe(factsFingerprint(base));
    expect(factsFingerprint({ ...base, ips: ["10.0.0.2"] })).not.toBe(factsFingerprint(base));
    expect(factsFingerprint({ ...base, interfaces: [{ name: "e", mac: "m", ips: [], virtual: false }] })).not.toBe(factsFingerprint({ ...base, interfaces: [{ name: "e", mac: "n", ips: [], virtual: false }] }));
  });
});
