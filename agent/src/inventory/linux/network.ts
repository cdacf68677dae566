/**
 * @module agent/inventory/linux/network
 * Network interfaces from `ip -j addr` and the default gateway from `ip -j route`: one GLPI
 * `networks` entry per interface and address (IPv4 and IPv6 apart, as the format has it),
 * and one bare entry for an interface without addresses. Loopback is left out, and so are
 * temporary and deprecated IPv6 addresses (privacy addresses rotate daily and would make
 * every inventory differ). DNS servers come from /etc/resolv.conf.
 */
import { isVirtualInterface, normalizeMac } from "../../facts/net.ts";
import type { Network, Warn } from "../format.ts";
import { ipv4Mask, ipv4Subnet, ipv6Mask, ipv6Subnet } from "../addresses.ts";
import { compact, parseJsonOr } from "../values.ts";

interface IpAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
  temporary?: boolean;
  deprecated?: boolean;
}

interface IpLink {
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  addr_info?: IpAddr[];
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
}

/** The default IPv4 routes' gateways by interface, and the preferred one (lowest metric). */
export function parseIpRoute(json: string | undefined, warn: Warn): { byDev: Map<string, string>; gateway?: string } {
  const routes = parseJsonOr<IpRoute[]>(json, [], warn, "ip route");
  const byDev = new Map<string, string>();
  if (!Array.isArray(routes)) return { byDev };
  const defaults = routes.filter((r) => r?.dst === "default" && r.gateway && r.dev).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  for (const r of defaults) if (!byDev.has(r.dev!)) byDev.set(r.dev!, r.gateway!);
  return { byDev, gateway: defaults[0]?.gateway };
}

function linkType(l: IpLink): Network["type"] {
  const name = l.ifname ?? "";
  if (/^(wl|wlan|ath|ra)\d?/.test(name)) return "wifi";
  if (/^(br|virbr|docker|lxcbr|lxdbr|cni|vmbr)/.test(name)) return "bridge";
  if (/^bond/.test(name)) return "aggregate";
  if (l.link_type === "infiniband") return "infiniband";
  if (l.link_type === "ether") return "ethernet";
  return undefined;
}

function linkStatus(l: IpLink): Network["status"] {
  const s = (l.operstate ?? "").toLowerCase();
  if (s === "unknown") return l.flags?.includes("UP") && l.flags.includes("LOWER_UP") ? "up" : "unknown";
  return (["up", "down", "dormant", "notpresent", "lowerlayerdown", "testing"] as const).find((x) => x === s) ?? "unknown";
}

export function parseIpAddr(json: string | undefined, gateways: Map<string, string>, warn: Warn): Network[] {
  const links = parseJsonOr<IpLink[]>(json, [], warn, "ip addr");
  if (!Array.isArray(links)) {
    warn("ip addr: not a list of interfaces");
    return [];
  }
  const out: Network[] = [];
  for (const l of links) {
    if (!l?.ifname || l.link_type === "loopback") continue;
    const mac = l.address && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(l.address) ? normalizeMac(l.address) : undefined;
    const base = compact<Network>({
      description: l.ifname,
      mac,
      type: linkType(l),
      virtualdev: isVirtualInterface(l.ifname, mac ?? "00:00:00:00:00:00", false) || l.link_type === "none",
      status: linkStatus(l),
      mtu: typeof l.mtu === "number" ? l.mtu : undefined,
    });
    const addrs = (l.addr_info ?? []).filter((a) => a?.local && typeof a.prefixlen === "number" && !a.temporary && !a.deprecated);
    for (const a of addrs) {
      if (a.family === "inet") {
        out.push(compact<Network>({ ...base, ipaddress: a.local, ipmask: ipv4Mask(a.prefixlen!), ipsubnet: ipv4Subnet(a.local!, a.prefixlen!), ipgateway: gateways.get(l.ifname) }));
      } else if (a.family === "inet6") {
        out.push(compact<Network>({ ...base, ipaddress6: a.local, ipmask6: ipv6Mask(a.prefixlen!), ipsubnet6: ipv6Subnet(a.local!, a.prefixlen!) }));
      }
    }
    if (!addrs.length) out.push(base);
  }
  return out;
}

/** The name servers of /etc/resolv.conf, joined with "/" as GLPI agents do. */
export function parseResolvConf(text: string | undefined): string | undefined {
  const servers = (text ?? "")
    .split(/\r?\n/)
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s);
  return servers.length ? servers.join("/") : undefined;
}
