/**
 * @module agent/inventory/macos/network
 * Network interfaces on macOS from `ifconfig` (every interface: MAC, IPv4 with hex
 * netmask, IPv6 with prefix length, status, media), typed with SPNetworkDataType's
 * services (Wi-Fi, Ethernet) and their DNS servers, and the default gateway from
 * `route -n get default`. Loopback, interfaces with neither MAC nor address (gif0, stf0),
 * and temporary or deprecated IPv6 addresses are left out.
 */
import { isVirtualInterface, normalizeMac } from "../../facts/net.ts";
import type { Network } from "../format.ts";
import { ipv4Prefix, ipv4Subnet, ipv6Mask, ipv6Subnet } from "../addresses.ts";
import { compact, str } from "../values.ts";
import { spList, type Sp } from "./hardware.ts";

interface Iface {
  name: string;
  flags: string[];
  mtu?: number;
  mac?: string;
  v4: { ip: string; mask: string }[];
  v6: { ip: string; prefix: number }[];
  status?: string;
  media?: string;
}

export function parseIfconfig(text: string | undefined): Iface[] {
  const out: Iface[] = [];
  let cur: Iface | undefined;
  for (const line of (text ?? "").split(/\r?\n/)) {
    const head = /^([a-z0-9]+): flags=[0-9a-f]+<([^>]*)>(?: mtu (\d+))?/i.exec(line);
    if (head) {
      cur = { name: head[1]!, flags: head[2]!.split(",").filter(Boolean), mtu: head[3] ? Number(head[3]) : undefined, v4: [], v6: [] };
      out.push(cur);
      continue;
    }
    if (!cur || !/^\s/.test(line)) continue;
    const t = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^ether ([0-9a-f:]{17})/i.exec(t))) cur.mac = normalizeMac(m[1]!);
    else if ((m = /^inet (\d+\.\d+\.\d+\.\d+) netmask 0x([0-9a-f]{8})/i.exec(t))) {
      const n = Number.parseInt(m[2]!, 16);
      cur.v4.push({ ip: m[1]!, mask: [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".") });
    } else if ((m = /^inet6 ([0-9a-f:]+)(?:%\S+)? prefixlen (\d+)(.*)$/i.exec(t))) {
      if (!/\b(temporary|deprecated)\b/.test(m[3]!)) cur.v6.push({ ip: m[1]!, prefix: Number(m[2]) });
    } else if ((m = /^status: (\w+)/.exec(t))) cur.status = m[1];
    else if ((m = /^media: (.*)$/.exec(t))) cur.media = m[1];
  }
  return out;
}

/** `route -n get default`: "gateway: 192.168.1.1" and "interface: en0". */
export function parseRouteDefault(text: string | undefined): { gateway?: string; interface?: string } {
  const gw = /^\s*gateway:\s*(\S+)/m.exec(text ?? "")?.[1];
  const dev = /^\s*interface:\s*(\S+)/m.exec(text ?? "")?.[1];
  return compact({ gateway: gw, interface: dev });
}

/** "autoselect (1000baseT <full-duplex>)" → "1000"; "10Gbase-T" → "10000". */
function mediaSpeed(media: string | undefined): string | undefined {
  const m = /\((\d+)(G?)base/i.exec(media ?? "") ?? /^(\d+)(G?)base/i.exec(media ?? "");
  return m ? String(Number(m[1]) * (m[2] ? 1000 : 1)) : undefined;
}

export function macNetworks(ifconfig: string | undefined, doc: Sp, route: { gateway?: string; interface?: string }): Network[] {
  const services = new Map(spList(doc, "SPNetworkDataType").map((s) => [str(s.interface), s]));
  const out: Network[] = [];
  for (const i of parseIfconfig(ifconfig)) {
    if (i.flags.includes("LOOPBACK") || (!i.mac && !i.v4.length && !i.v6.length)) continue;
    const service = services.get(i.name);
    const kind = `${str(service?.type) ?? ""} ${str(service?.hardware) ?? ""}`;
    const type: Network["type"] = /airport|wi-?fi/i.test(kind) ? "wifi" : /ethernet/i.test(kind) ? "ethernet" : /^bridge/.test(i.name) ? "bridge" : undefined;
    const base = compact<Network>({
      description: i.name,
      mac: i.mac,
      type,
      // A Wi-Fi or Ethernet service is hardware even with a private (locally administered) Wi-Fi address.
      virtualdev: type === "wifi" || type === "ethernet" ? false : isVirtualInterface(i.name, i.mac ?? "00:00:00:00:00:00", false),
      status: i.status === "active" ? "up" : i.status === "inactive" ? "down" : i.flags.includes("UP") ? "up" : "down",
      mtu: i.mtu,
      speed: type === "wifi" ? undefined : mediaSpeed(i.media),
    });
    for (const a of i.v4) {
      const prefix = ipv4Prefix(a.mask);
      out.push(compact<Network>({ ...base, ipaddress: a.ip, ipmask: a.mask, ipsubnet: prefix === undefined ? undefined : ipv4Subnet(a.ip, prefix), ipgateway: route.interface === i.name ? route.gateway : undefined }));
    }
    for (const a of i.v6) out.push(compact<Network>({ ...base, ipaddress6: a.ip, ipmask6: ipv6Mask(a.prefix), ipsubnet6: ipv6Subnet(a.ip, a.prefix) }));
    if (!i.v4.length && !i.v6.length) out.push(base);
  }
  return out;
}

/** The DNS servers of the first network service (in service order) that has any. */
export function macDns(doc: Sp): string | undefined {
  const services = spList(doc, "SPNetworkDataType").sort((a, b) => Number(a.spnetwork_service_order ?? 99) - Number(b.spnetwork_service_order ?? 99));
  for (const s of services) {
    const dns = (s.DNS as { ServerAddresses?: unknown } | undefined)?.ServerAddresses;
    if (Array.isArray(dns) && dns.length) return dns.map(String).join("/");
  }
  return undefined;
}
