/**
 * @module net/dhcp/codec
 * A pure DHCP (RFC 2131/2132) packet codec with the PXE options a proxyDHCP needs
 * (PXE 2.1, RFC 4578: 43 vendor sub-options, 60 class identifier, 77 user class, 93 client
 * architecture, 94 network interface identifier, 97 machine UUID, 175 iPXE encapsulated).
 * Why not the `dhcp` npm package: it knows none of 93/94/97 (43 stays raw), always hands out an
 * address, cannot answer on port 4011, replies by broadcast only and mis-parses padding
 * (FIELD-NOTES "Network boot"). Decoding never throws anything but `DhcpError`, honours option
 * overload (52) and RFC 3396 concatenation of repeated options, and refuses oversize input.
 */

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC = 0x63825363;
/** Largest datagram we accept or build (an Ethernet MTU's UDP payload is 1472). */
export const MAX_PACKET = 1500;
const FIXED = 236;

export const MessageType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

export const Opt = {
  PAD: 0,
  HOSTNAME: 12,
  VENDOR: 43,
  REQUESTED_IP: 50,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMS: 55,
  MAX_SIZE: 57,
  CLASS_ID: 60,
  CLIENT_ID: 61,
  USER_CLASS: 77,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  UUID: 97,
  IPXE: 175,
  END: 255,
} as const;

export class DhcpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DhcpError";
  }
}

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client hardware address, `hlen` bytes (16 at most). */
  chaddr: Uint8Array;
  sname: string;
  file: string;
  /** Options by code, repeated ones concatenated (RFC 3396), in the order first seen. */
  options: Map<number, Uint8Array>;
}

const ipOf = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

function ipBytes(ip: string): number[] {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new DhcpError(`bad IPv4 address "${ip}"`);
  return parts.map(Number);
}

/** A NUL-terminated (or full-length) ASCII field; bytes outside printable ASCII are dropped. */
function cString(b: Uint8Array, at: number, len: number): string {
  let s = "";
  for (let i = at; i < at + len; i++) {
    const c = b[i]!;
    if (c === 0) break;
    if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
  }
  return s;
}

/** Reads TLV options from `b[start, end)` into `into`; returns the overload value if option 52 was seen. */
function readOptions(b: Uint8Array, start: number, end: number, into: Map<number, Uint8Array>, where: string): number {
  let overload = 0;
  let i = start;
  while (i < end) {
    const code = b[i]!;
    if (code === Opt.PAD) {
      i++;
      continue;
    }
    if (code === Opt.END) return overload;
    if (i + 1 >= end) throw new DhcpError(`option ${code} truncated in ${where}`);
    const len = b[i + 1]!;
    if (i + 2 + len > end) throw new DhcpError(`option ${code} overflows ${where} (length ${len})`);
    const value = b.subarray(i + 2, i + 2 + len);
    const before = into.get(code);
    into.set(code, before ? concat(before, value) : value.slice());
    if (code === Opt.OVERLOAD) {
      if (len !== 1 || value[0]! < 1 || value[0]! > 3) throw new DhcpError("bad option overload (52)");
      overload = value[0]!;
    }
    i += 2 + len;
  }
  // A missing END is common in the wild (padding up to the end): tolerated.
  return overload;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function decode(buf: Uint8Array): DhcpPacket {
  if (buf.length > MAX_PACKET * 44) throw new DhcpError(`oversize packet (${buf.length} bytes)`);
  if (buf.length < FIXED + 4) throw new DhcpError(`truncated packet (${buf.length} bytes, at least 240 expected)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(FIXED) !== MAGIC) throw new DhcpError("no DHCP magic cookie");
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpError(`bad op ${op}`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpError(`bad hardware address length ${hlen}`);
  const options = new Map<number, Uint8Array>();
  const overload = readOptions(buf, FIXED + 4, buf.length, options, "options");
  // Overloaded fields are read after the main area (RFC 2131 §4.1): file first, then sname.
  if (overload & 1) readOptions(buf, 108, 236, options, "file field");
  if (overload & 2) readOptions(buf, 44, 108, options, "sname field");
  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: ipOf(buf, 12),
    yiaddr: ipOf(buf, 16),
    siaddr: ipOf(buf, 20),
    giaddr: ipOf(buf, 24),
    chaddr: buf.slice(28, 28 + hlen),
    sname: overload & 2 ? "" : cString(buf, 44, 64),
    file: overload & 1 ? "" : cString(buf, 108, 128),
    options,
  };
}

/**
 * Builds a packet. Options are written in map order, each longer than 255 bytes split into
 * repeated options (RFC 3396), then END; the result is padded to the BOOTP minimum of 300 bytes.
 */
export function encode(p: DhcpPacket): Uint8Array {
  const opts: number[] = [];
  for (const [code, value] of p.options) {
    if (code === Opt.PAD || code === Opt.END) continue;
    if (value.length === 0) opts.push(code, 0);
    for (let at = 0; at < value.length; at += 255) {
      const part = value.subarray(at, at + 255);
      opts.push(code, part.length, ...part);
    }
  }
  opts.push(Opt.END);
  const size = Math.max(300, FIXED + 4 + opts.length);
  if (size > MAX_PACKET) throw new DhcpError(`packet too large to send (${size} bytes)`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = p.op;
  out[1] = p.htype;
  out[2] = Math.min(p.hlen, 16);
  out[3] = p.hops;
  view.setUint32(4, p.xid >>> 0);
  view.setUint16(8, p.secs);
  view.setUint16(10, p.flags);
  out.set(ipBytes(p.ciaddr), 12);
  out.set(ipBytes(p.yiaddr), 16);
  out.set(ipBytes(p.siaddr), 20);
  out.set(ipBytes(p.giaddr), 24);
  out.set(p.chaddr.subarray(0, 16), 28);
  const sname = new TextEncoder().encode(p.sname);
  const file = new TextEncoder().encode(p.file);
  if (sname.length > 63) throw new DhcpError("server name longer than 63 bytes");
  if (file.length > 127) throw new DhcpError("boot file name longer than 127 bytes");
  out.set(sname, 44);
  out.set(file, 108);
  view.setUint32(FIXED, MAGIC);
  out.set(opts, FIXED + 4);
  return out;
}

// ---- PXE views of a request ----

export const Arch = {
  BIOS: 0,
  EFI_IA32: 6,
  EFI_BC: 7,
  EFI_X64: 9,
  EFI_ARM32: 10,
  EFI_ARM64: 11,
  HTTP_X64: 16,
  HTTP_ARM64: 19,
} as const;

export type ArchFamily = "bios" | "efi-x64" | "efi-ia32" | "efi-arm64" | "unknown";

export function archFamily(code: number | null): ArchFamily {
  switch (code) {
    case null:
    case Arch.BIOS:
      return "bios";
    case Arch.EFI_BC:
    case Arch.EFI_X64:
    case Arch.HTTP_X64:
      return "efi-x64";
    case Arch.EFI_IA32:
      return "efi-ia32";
    case Arch.EFI_ARM64:
    case Arch.HTTP_ARM64:
      return "efi-arm64";
    default:
      return "unknown";
  }
}

export interface PxeRequest {
  messageType: number | null;
  mac: string;
  /** Option 60 starts with "PXEClient". */
  isPxe: boolean;
  /** The client is already iPXE (user class "iPXE", or it sent option 175). */
  isIpxe: boolean;
  /** Option 93's first architecture, or null when absent. */
  arch: number | null;
  /** Option 94: interface type and UNDI version. */
  ndi: { type: number; major: number; minor: number } | null;
  /** Option 97 as a canonical UUID (the first three fields little-endian, as PXE clients send it). */
  uuid: string | null;
  /** Option 97's raw bytes, echoed back in replies. */
  uuidRaw: Uint8Array | null;
  classId: string;
  userClasses: string[];
}

const ascii = (b: Uint8Array | undefined) => (b ? cString(b, 0, b.length) : "");

/** RFC 3004 user classes (length-prefixed), or one raw string as iPXE and others send it. */
export function userClasses(b: Uint8Array | undefined): string[] {
  if (!b || b.length === 0) return [];
  const out: string[] = [];
  let i = 0;
  while (i < b.length) {
    const len = b[i]!;
    if (len === 0 || i + 1 + len > b.length) return [ascii(b)];
    out.push(ascii(b.subarray(i + 1, i + 1 + len)));
    i += 1 + len;
  }
  return out;
}

export function formatMac(chaddr: Uint8Array): string {
  return [...chaddr.subarray(0, 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** PXE sends the SMBIOS UUID with its first three fields little-endian (the "mixed-endian GUID"). */
export function guidToUuid(g: Uint8Array): string {
  const h = (i: number) => g[i]!.toString(16).padStart(2, "0");
  const a = [3, 2, 1, 0].map(h).join("");
  const b = [5, 4].map(h).join("");
  const c = [7, 6].map(h).join("");
  const d = [8, 9].map(h).join("");
  const e = [10, 11, 12, 13, 14, 15].map(h).join("");
  return `${a}-${b}-${c}-${d}-${e}`;
}

export function pxeView(p: DhcpPacket): PxeRequest {
  const o = p.options;
  const mt = o.get(Opt.MESSAGE_TYPE);
  const classId = ascii(o.get(Opt.CLASS_ID));
  const classes = userClasses(o.get(Opt.USER_CLASS));
  const archOpt = o.get(Opt.CLIENT_ARCH);
  const ndiOpt = o.get(Opt.CLIENT_NDI);
  const uuidOpt = o.get(Opt.UUID);
  // Option 97: type 0 followed by 16 bytes; anything else is ignored.
  const guid = uuidOpt && uuidOpt.length === 17 && uuidOpt[0] === 0 ? uuidOpt.subarray(1) : null;
  return {
    messageType: mt && mt.length === 1 ? mt[0]! : null,
    mac: p.htype === 1 && p.hlen === 6 ? formatMac(p.chaddr) : "",
    isPxe: classId.startsWith("PXEClient"),
    isIpxe: classes.includes("iPXE") || o.has(Opt.IPXE),
    arch: archOpt && archOpt.length >= 2 ? (archOpt[0]! << 8) | archOpt[1]! : null,
    ndi: ndiOpt && ndiOpt.length === 3 ? { type: ndiOpt[0]!, major: ndiOpt[1]!, minor: ndiOpt[2]! } : null,
    uuid: guid ? guidToUuid(guid) : null,
    uuidRaw: uuidOpt && uuidOpt.length === 17 ? uuidOpt : null,
    classId,
    userClasses: classes,
  };
}

/** Encodes PXE vendor sub-options (option 43) from code → bytes, ending with 255. */
export function encodeVendor(sub: Map<number, Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const [code, v] of sub) {
    if (v.length > 255) throw new DhcpError(`vendor sub-option ${code} too long`);
    out.push(code, v.length, ...v);
  }
  out.push(255);
  return Uint8Array.from(out);
}

export function decodeVendor(b: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  readOptions(b, 0, b.length, out, "vendor options (43)");
  return out;
}

export const bytes = (s: string) => new TextEncoder().encode(s);
export const ipv4 = (ip: string) => Uint8Array.from(ipBytes(ip));
