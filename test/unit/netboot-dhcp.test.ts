import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { archFamily, BOOTREQUEST, bytes, decode, decodeVendor, DhcpError, encode, guidToUuid, MessageType, Opt, pxeView, userClasses, type DhcpPacket } from "../../src/net/dhcp/codec.ts";
import { answer, startProxyDhcp, type ProxyPolicy } from "../../src/net/dhcp/proxy.ts";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const GUID = Uint8Array.of(0, 0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0);

function request(opts: Record<number, Uint8Array>, over: Partial<DhcpPacket> = {}): DhcpPacket {
  return {
    op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 4, flags: 0x8000,
    ciaddr: "0.0.0.0", yiaddr: "0.0.0.0", siaddr: "0.0.0.0", giaddr: "0.0.0.0", chaddr: MAC, sname: "", file: "",
    options: new Map(Object.entries(opts).map(([k, v]) => [Number(k), v])), ...over,
  };
}

const pxe = (arch: number, extra: Record<number, Uint8Array> = {}) =>
  request({ [Opt.MESSAGE_TYPE]: Uint8Array.of(MessageType.DISCOVER), [Opt.CLASS_ID]: bytes(`PXEClient:Arch:0000${arch}:UNDI:002001`), [Opt.CLIENT_ARCH]: Uint8Array.of(arch >> 8, arch & 255), [Opt.CLIENT_NDI]: Uint8Array.of(1, 2, 1), [Opt.UUID]: GUID, ...extra });

const policy: ProxyPolicy = {
  serverIp: "10.9.0.1",
  nextServer: "10.9.0.1",
  bootFile: (family) => ({ bios: "undionly.kpxe", "efi-x64": "snponly.efi", "efi-ia32": null, "efi-arm64": null, unknown: null })[family],
  ipxeUrl: (r) => `http://10.9.0.1:8080/boot/start.ipxe?mac=${r.mac}`,
};

describe("DHCP codec", () => {
  test("round-trips a packet with every PXE option", () => {
    const p = pxe(7, { [Opt.USER_CLASS]: bytes("iPXE"), [Opt.IPXE]: Uint8Array.of(1, 1, 1) });
    const back = decode(encode(p));
    expect(back.xid).toBe(0xdeadbeef);
    expect(back.flags).toBe(0x8000);
    expect([...back.chaddr]).toEqual([...MAC]);
    const v = pxeView(back);
    expect(v).toMatchObject({ messageType: 1, mac: "52:54:00:12:34:56", isPxe: true, isIpxe: true, arch: 7, ndi: { type: 1, major: 2, minor: 1 }, uuid: "12345678-1234-5678-1234-56789abcdef0" });
  });

  test("long options are split and concatenated again (RFC 3396)", () => {
    const long = new Uint8Array(600).fill(7);
    const back = decode(encode(request({ 224: long })));
    expect(back.options.get(224)?.length).toBe(600);
  });

  test("option overload reads options from the file and sname fields", () => {
    const buf = encode(request({ [Opt.OVERLOAD]: Uint8Array.of(3) }));
    buf.set([Opt.CLASS_ID, 9, ...bytes("PXEClient"), 255], 108);
    buf.set([Opt.CLIENT_ARCH, 2, 0, 9, 255], 44);
    const v = pxeView(decode(buf));
    expect(v.isPxe).toBe(true);
    expect(v.arch).toBe(9);
    expect(decode(buf).file).toBe("");
  });

  const good = encode(pxe(0));
  const cases: [string, () => Uint8Array][] = [
    ["empty", () => new Uint8Array(0)],
    ["truncated header", () => good.slice(0, 100)],
    ["no magic cookie", () => { const b = good.slice(); b[236] = 0; return b; }],
    ["bad op", () => { const b = good.slice(); b[0] = 9; return b; }],
    ["hlen > 16", () => { const b = good.slice(); b[2] = 17; return b; }],
    ["option length past the end", () => { const b = good.slice(0, 244); b[240] = 60; b[241] = 200; b[242] = 80; b[243] = 88; return b; }],
    ["option code without length", () => { const b = good.slice(0, 241); b[240] = 60; return b; }],
    ["bad overload value", () => { const b = good.slice(0, 244); b.set([52, 1, 9, 255], 240); return b; }],
    ["overloaded file field overflows", () => { const b = good.slice(0, 244); b.set([52, 1, 1, 255], 240); b.set([60, 250], 108); return b; }],
    ["oversize", () => new Uint8Array(100_000)],
  ];
  for (const [name, make] of cases) {
    test(`refuses ${name} with a DhcpError`, () => {
      expect(() => decode(make())).toThrow(DhcpError);
    });
  }

  test("random garbage never throws anything but DhcpError", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    for (let i = 0; i < 2000; i++) {
      const b = good.slice();
      for (let j = 0; j < 8; j++) b[240 + (rnd() % 60)] = rnd();
      try {
        const p = decode(b.slice(0, 240 + (rnd() % 60)));
        pxeView(p);
      } catch (err) {
        expect(err).toBeInstanceOf(DhcpError);
      }
    }
  });

  test("user classes: RFC 3004 list or one raw string", () => {
    expect(userClasses(Uint8Array.of(4, ...bytes("iPXE"), 3, ...bytes("foo")))).toEqual(["iPXE", "foo"]);
    expect(userClasses(bytes("iPXE"))).toEqual(["iPXE"]);
    expect(userClasses(undefined)).toEqual([]);
  });

  test("the mixed-endian GUID of option 97", () => {
    expect(guidToUuid(GUID.subarray(1))).toBe("12345678-1234-5678-1234-56789abcdef0");
  });

  test("architecture families (RFC 4578)", () => {
    expect([null, 0, 6, 7, 9, 11, 16, 19, 99].map(archFamily)).toEqual(["bios", "bios", "efi-ia32", "efi-x64", "efi-x64", "efi-arm64", "efi-x64", "efi-arm64", "unknown"]);
  });
});

describe("proxyDHCP answers", () => {
  test.each([
    [0, "undionly.kpxe"],
    [7, "snponly.efi"],
    [9, "snponly.efi"],
  ])("arch %d gets %s, no address, server id, PXE vendor options, echoed UUID", (arch, file) => {
    const a = answer(decode(encode(pxe(arch))), "dhcp", policy);
    if (a.kind !== "reply") throw new Error(a.reason);
    const out = decode(encode(a.packet));
    expect(out.op).toBe(2);
    expect(out.yiaddr).toBe("0.0.0.0");
    expect(out.siaddr).toBe("10.9.0.1");
    expect(out.file).toBe(file);
    expect(out.xid).toBe(0xdeadbeef);
    expect([...out.options.get(Opt.MESSAGE_TYPE)!]).toEqual([MessageType.OFFER]);
    expect([...out.options.get(Opt.SERVER_ID)!]).toEqual([10, 9, 0, 1]);
    expect(new TextDecoder().decode(out.options.get(Opt.CLASS_ID))).toBe("PXEClient");
    expect([...out.options.get(Opt.UUID)!]).toEqual([...GUID]);
    expect([...decodeVendor(out.options.get(Opt.VENDOR)!).get(6)!]).toEqual([8]);
  });

  test("an iPXE client gets the HTTP script URL", () => {
    const a = answer(pxe(0, { [Opt.USER_CLASS]: bytes("iPXE") }), "dhcp", policy);
    expect(a.kind === "reply" && a.file).toBe("http://10.9.0.1:8080/boot/start.ipxe?mac=52:54:00:12:34:56");
  });

  test("on 4011 a REQUEST gets an ACK", () => {
    const req = pxe(7, { [Opt.MESSAGE_TYPE]: Uint8Array.of(MessageType.REQUEST) });
    req.ciaddr = "10.9.0.50";
    const a = answer(req, "pxe", policy);
    if (a.kind !== "reply") throw new Error(a.reason);
    expect([...a.packet.options.get(Opt.MESSAGE_TYPE)!]).toEqual([MessageType.ACK]);
    expect(a.packet.ciaddr).toBe("10.9.0.50");
  });

  test.each([
    ["a non-PXE client", request({ [Opt.MESSAGE_TYPE]: Uint8Array.of(1), [Opt.CLASS_ID]: bytes("MSFT 5.0") }), "dhcp", "not-pxe"],
    ["a reply", { ...pxe(0), op: 2 }, "dhcp", "not-request"],
    ["a REQUEST for another server on 67", pxe(0, { [Opt.MESSAGE_TYPE]: Uint8Array.of(3), [Opt.SERVER_ID]: Uint8Array.of(10, 9, 0, 2) }), "dhcp", "other-server"],
    ["a DISCOVER on 4011", pxe(0), "pxe", "message-type"],
    ["an architecture without a boot file", pxe(11), "dhcp", "no-boot-file"],
    ["a RELEASE", pxe(0, { [Opt.MESSAGE_TYPE]: Uint8Array.of(7) }), "dhcp", "message-type"],
  ] as const)("ignores %s", (_name, req, port, reason) => {
    const a = answer(req as DhcpPacket, port, policy);
    expect(a.kind === "ignored" && a.reason).toBe(reason);
  });
});

describe("captured packets (test/fixtures/dhcp)", () => {
  const dir = join(import.meta.dir, "../fixtures/dhcp");
  const files = readdirSync(dir).filter((f) => f.endsWith(".hex"));
  test("there are captures", () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    test(f, () => {
      const expected = JSON.parse(readFileSync(join(dir, f.replace(/\.hex$/, ".json")), "utf8"));
      const raw = Buffer.from(readFileSync(join(dir, f), "utf8").replace(/\s+/g, ""), "hex");
      const view = pxeView(decode(raw));
      expect(view).toMatchObject(expected.view);
      const a = answer(decode(raw), expected.port, { ...policy, serverIp: "10.77.0.1", nextServer: "10.77.0.1", ipxeUrl: () => "http://10.77.0.1:8080/boot/menu.ipxe" });
      expect(a.kind === "reply" ? a.file : a.reason).toBe(expected.answer);
    });
  }
});

describe("proxyDHCP sockets", () => {
  test("answers on both ports, survives garbage, reports every packet", async () => {
    const events: string[] = [];
    const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(_s, buf) { got.push(decode(new Uint8Array(buf))); } } });
    const got: DhcpPacket[] = [];
    const proxy = await startProxyDhcp({
      bind: "127.0.0.1", dhcpPort: 0, pxePort: 0, policy: () => policy,
      onEvent: (e) => events.push(`${e.port}:${e.outcome}:${e.reason ?? e.file}`),
      replyTarget: () => ({ address: "127.0.0.1", port: client.port }),
    });
    try {
      client.send(new Uint8Array(10), proxy.ports.dhcp, "127.0.0.1");
      client.send(encode(pxe(0)), proxy.ports.dhcp, "127.0.0.1");
      client.send(encode(pxe(7, { [Opt.MESSAGE_TYPE]: Uint8Array.of(3) })), proxy.ports.pxe, "127.0.0.1");
      const deadline = Date.now() + 5000;
      while (got.length < 2 && Date.now() < deadline) await Bun.sleep(10);
      expect(got.map((p) => p.file).sort()).toEqual(["snponly.efi", "undionly.kpxe"]);
      expect(events.some((e) => e.startsWith("dhcp:malformed:truncated"))).toBe(true);
    } finally {
      client.close();
      await proxy.stop();
    }
  });
});
