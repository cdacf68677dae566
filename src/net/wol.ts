/**
 * @module net/wol
 * Wake-on-LAN (SPEC C8), shared by the appliance and the agent: MAC parsing, the magic
 * packet (6 bytes 0xFF then the MAC 16 times, 102 bytes), subnet arithmetic to find the
 * directed broadcast of a machine's network, and sending over UDP to ports 9 and 7.
 */
import { createSocket } from "node:dgram";

export const WOL_PORTS = [9, 7] as const;

/** `aa:bb:cc:dd:ee:ff` from the usual spellings (colons, dashes, dots, none), or null. */
export function normalizeMac(input: string): string | null {
  if (typeof input !== "string" || input.length > 32) return null;
  const hex = input.trim().toLowerCase().replace(/[:\-.\s]/g, "");
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  if (hex === "000000000000" || hex === "ffffffffffff") return null;
  return hex.match(/../g)!.join(":");
}

export function magicPacket(mac: string): Buffer {
  const norm = normalizeMac(mac);
  if (!norm) throw new Error(`not a MAC address: ${JSON.stringify(mac).slice(0, 40)}`);
  const bytes = Buffer.from(norm.replace(/:/g, ""), "hex");
  const packet = Buffer.alloc(102, 0xff);
  for (let i = 0; i < 16; i++) bytes.copy(packet, 6 + i * 6);
  return packet;
}

/** The MAC a magic packet wakes, or null when `buf` is not one. */
export function parseMagicPacket(buf: Uint8Array): string | null {
  if (buf.length < 102) return null;
  for (let i = 0; i < 6; i++) if (buf[i] !== 0xff) return null;
  const mac = Buffer.from(buf.subarray(6, 12));
  for (let i = 1; i < 16; i++) if (!mac.equals(Buffer.from(buf.subarray(6 + i * 6, 12 + i * 6)))) return null;
  return normalizeMac(mac.toString("hex"));
}

export function ipv4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Prefix length from "255.255.255.0", "24" or "/24"; null when not a contiguous mask. */
export function prefixOf(mask: string): number | null {
  const t = mask.trim().replace(/^\//, "");
  if (/^\d{1,2}$/.test(t)) return Number(t) <= 32 ? Number(t) : null;
  const n = ipv4ToInt(t);
  if (n === null) return null;
  const prefix = Math.clz32(~n >>> 0);
  const rebuilt = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return rebuilt === n ? prefix : null;
}

export interface Subnet {
  /** Network address and prefix, e.g. "192.168.1.0/24". */
  cidr: string;
  broadcast: string;
}

/** The IPv4 subnet of `ip` with `mask`; null for IPv6, bad input, /31 and /32. */
export function subnetOf(ip: string, mask: string): Subnet | null {
  const addr = ipv4ToInt(ip);
  const prefix = prefixOf(mask);
  if (addr === null || prefix === null || prefix < 1 || prefix > 30) return null;
  const netmask = (0xffffffff << (32 - prefix)) >>> 0;
  const network = (addr & netmask) >>> 0;
  return { cidr: `${intToIpv4(network)}/${prefix}`, broadcast: intToIpv4((network | ~netmask) >>> 0) };
}

export function inSubnet(ip: string, cidr: string): boolean {
  const [net, p] = cidr.split("/");
  const s = subnetOf(ip, p ?? "");
  return s !== null && s.cidr === `${net}/${p}`;
}

/**
 * Sends one magic packet per MAC to `broadcast` on each port. Errors are collected per
 * packet, never thrown: one unreachable port must not stop the others.
 */
export async function sendMagicPackets(macs: string[], broadcast: string, ports: readonly number[] = WOL_PORTS): Promise<{ sent: number; errors: string[] }> {
  if (ipv4ToInt(broadcast) === null) return { sent: 0, errors: [`not an IPv4 broadcast address: ${broadcast.slice(0, 45)}`] };
  const socket = createSocket({ type: "udp4" });
  const errors: string[] = [];
  let sent = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    for (const mac of macs) {
      let packet: Buffer;
      try {
        packet = magicPacket(mac);
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
      for (const port of ports) {
        try {
          await new Promise<void>((resolve, reject) => socket.send(packet, port, broadcast, (err) => (err ? reject(err) : resolve())));
          sent++;
        } catch (e) {
          errors.push(`${mac} → ${broadcast}:${port}: ${(e as Error).message}`);
        }
      }
    }
  } catch (e) {
    errors.push(`cannot open a UDP socket: ${(e as Error).message}`);
  } finally {
    socket.close();
  }
  return { sent, errors };
}
