import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../src/app.ts";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import type { ServiceStatus } from "../../src/features/health/index.ts";
import { bootFileFor, installIpxeFiles, startNetbootRuntime, type NetbootRuntime } from "../../src/features/netboot/runtime.ts";
import { silentLogger } from "../../src/log.ts";
import { bytes, decode, encode, MessageType, Opt } from "../../src/net/dhcp/codec.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nb-runtime-"));
  mkdirSync(join(dir, "ipxe"));
  writeFileSync(join(dir, "ipxe", "undionly.kpxe"), "BIOS-IPXE");
  writeFileSync(join(dir, "ipxe", "snponly.efi"), "EFI-IPXE");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("setup copies iPXE's files once; boot files follow what is present", () => {
  const root = join(dir, "copy");
  expect(installIpxeFiles(root, join(dir, "ipxe")).sort()).toEqual(["snponly.efi", "undionly.kpxe"]);
  expect(installIpxeFiles(root, join(dir, "ipxe"))).toEqual([]);
  expect(readFileSync(join(root, "snponly.efi"), "utf8")).toBe("EFI-IPXE");
  expect(installIpxeFiles(join(dir, "none"), join(dir, "nowhere"))).toEqual([]);
  const has = (n: string) => existsSync(join(root, n));
  expect([bootFileFor(has, "bios"), bootFileFor(has, "efi-x64"), bootFileFor(has, "efi-arm64"), bootFileFor(has, "unknown")]).toEqual(["undionly.kpxe", "snponly.efi", null, null]);
  writeFileSync(join(root, "ipxe-arm64.efi"), "ARM");
  expect(bootFileFor(has, "efi-arm64")).toBe("ipxe-arm64.efi");
});

test("TFTP and the proxyDHCP run on unprivileged ports, follow the settings page, and fill the boot log", async () => {
  const tftpRoot = join(dir, "data-tftp");
  const db = openDatabase(":memory:");
  const services = new Map<string, ServiceStatus>();
  const app = buildApp({ db, clock: new ManualClock(Date.UTC(2026, 5, 1)), log: silentLogger, services, boot: { tftpRoot, httpPort: 8080, tftpPort: 0, proxyDhcp: null, bootAddress: "127.0.0.1" } });
  const tftpPort = await freeUdpPort();
  let rt: NetbootRuntime | null = null;
  const client = createSocket("udp4");
  try {
    rt = await startNetbootRuntime({ netboot: app.netboot.service, recorder: app.recorder, log: silentLogger, services, bind: "127.0.0.1", tftpPort, dhcpPort: 0, pxePort: 0, ipxeSource: join(dir, "ipxe") });
    app.netboot.setApply(() => rt!.apply());
    await app.auth.ensureRoot("correct horse battery staple");
    const root = { ...(db.query("SELECT id, login FROM users WHERE login = 'root'").get() as { id: number; login: string }), isSuper: true };
    expect(Object.fromEntries(services)).toMatchObject({ tftp: "running", proxydhcp: "off" });
    expect(existsSync(join(tftpRoot, "undionly.kpxe"))).toBe(true);

    // Switched on by the settings page: it starts; a PXE REQUEST on "4011" is answered.
    app.netboot.service.saveSettings(root, { serverAddress: "", nextServer: "", proxyDhcp: "on" }, "127.0.0.1");
    await rt.apply();
    expect(services.get("proxydhcp")).toBe("running");
    const got: ReturnType<typeof decode>[] = [];
    client.on("message", (m) => got.push(decode(m)));
    await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
    const req = {
      op: 1, htype: 1, hlen: 6, hops: 0, xid: 42, secs: 0, flags: 0, ciaddr: "127.0.0.1", yiaddr: "0.0.0.0", siaddr: "0.0.0.0", giaddr: "0.0.0.0",
      chaddr: Uint8Array.of(0x52, 0x54, 0, 1, 2, 3), sname: "", file: "",
      options: new Map([[Opt.MESSAGE_TYPE, Uint8Array.of(MessageType.REQUEST)], [Opt.CLASS_ID, bytes("PXEClient:Arch:00007:UNDI:003000")], [Opt.CLIENT_ARCH, Uint8Array.of(0, 7)]]),
    };
    client.send(encode(req), rt.proxyPorts!.pxe, "127.0.0.1");
    client.send(Buffer.from("garbage"), rt.proxyPorts!.pxe, "127.0.0.1");
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await Bun.sleep(10);
    expect(got[0]).toMatchObject({ op: 2, xid: 42, file: "snponly.efi", siaddr: "127.0.0.1", yiaddr: "0.0.0.0" });
    while ((db.query("SELECT COUNT(*) AS n FROM boot_requests WHERE kind = 'dhcp'").get() as { n: number }).n < 2 && Date.now() < deadline) await Bun.sleep(10);
    expect(db.query("SELECT mac, what, outcome FROM boot_requests WHERE kind = 'dhcp' ORDER BY id").all()).toEqual([
      { mac: "52:54:00:01:02:03", what: "snponly.efi", outcome: "answered" },
      { mac: "", what: "", outcome: "malformed" },
    ]);

    // Switched off: it stops and frees its ports.
    app.netboot.service.saveSettings(root, { serverAddress: "", nextServer: "", proxyDhcp: "" }, "127.0.0.1");
    await rt.apply();
    expect(services.get("proxydhcp")).toBe("off");
    expect(rt.proxyPorts).toBeNull();
  } finally {
    client.close();
    await rt?.stop();
  }
});

test("a TFTP port that cannot be bound: the service says failed, naming the setting", async () => {
  const db = openDatabase(":memory:");
  const services = new Map<string, ServiceStatus>();
  const lines: string[] = [];
  const log = { ...silentLogger, error: (...a: unknown[]) => lines.push(String(a.at(-1))) } as typeof silentLogger;
  const app = buildApp({ db, clock: new ManualClock(0), log: silentLogger, services, boot: { tftpRoot: join(dir, "t2"), httpPort: 8080, tftpPort: 0, proxyDhcp: null, bootAddress: null } });
  const squat = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  try {
    const rt = await startNetbootRuntime({ netboot: app.netboot.service, recorder: app.recorder, log, services, bind: "127.0.0.1", tftpPort: squat.port, ipxeSource: join(dir, "ipxe") });
    expect(services.get("tftp")).toBe("failed");
    expect(lines.join("\n")).toContain("(setting MEDULLA_TFTP_PORT");
    await rt.stop();
  } finally {
    squat.close();
  }
});
