/**
 * @module agent/inventory/windows/network
 * Network parts from Win32_NetworkAdapterConfiguration (IP-enabled bindings: addresses
 * with their masks in parallel arrays, IPv6 prefixes written as numbers), joined by Index
 * with Win32_NetworkAdapter (physical adapters: connection name, status, speed). A
 * binding without a physical adapter behind it (Hyper-V switch, VPN) is virtual. Wi-Fi
 * link speed is left out: it changes from one minute to the next.
 */
import { isVirtualInterface, normalizeMac } from "../../facts/net.ts";
import type { Network } from "../format.ts";
import { ipv4Prefix, ipv4Subnet, ipv6Mask, ipv6Subnet } from "../addresses.ts";
import { compact, str } from "../values.ts";
import { list, num, strings, type Obj } from "./ps-json.ts";

const WIFI = /wi-?fi|wireless|wlan|802\.11/i;

function status(code: number | undefined): Network["status"] {
  if (code === 2) return "up";
  if (code === 0 || code === 7) return "down";
  return code === undefined ? undefined : "unknown";
}

export function windowsNetworks(doc: Obj): Network[] {
  const adapters = new Map(list(doc.NetworkAdapters).map((a) => [num(a.Index), a]));
  const out: Network[] = [];
  for (const c of list(doc.NetworkConfigs).sort((a, b) => (num(a.Index) ?? 0) - (num(b.Index) ?? 0))) {
    const a = adapters.get(num(c.Index));
    const description = str(c.Description) ?? str(a?.Name) ?? `adapter ${num(c.Index)}`;
    const mac = str(c.MACAddress) ? normalizeMac(str(c.MACAddress)!) : undefined;
    const wifi = WIFI.test(`${description} ${str(a?.NetConnectionID) ?? ""}`);
    const speed = num(a?.Speed);
    const base = compact<Network>({
      description,
      mac,
      type: wifi ? "wifi" : "ethernet",
      // The connection name ("vEthernet (Default Switch)"), not the driver's: a Hyper-V guest's own NIC is
      // a "Microsoft Hyper-V Network Adapter" and is real for that guest.
      virtualdev: !a || isVirtualInterface(str(a.NetConnectionID) ?? description, mac ?? "00:00:00:00:00:00", false),
      status: status(num(a?.NetConnectionStatus)) ?? "up",
      speed: !wifi && speed && speed < 1e13 ? String(Math.round(speed / 1e6)) : undefined,
      manufacturer: str(a?.Manufacturer),
      pnpdeviceid: str(a?.PNPDeviceID),
      ipdhcp: c.DHCPEnabled === true ? str(c.DHCPServer) : undefined,
    });
    const ips = strings(c.IPAddress);
    const masks = strings(c.IPSubnet);
    const gateway = strings(c.DefaultIPGateway).find((g) => g.includes("."));
    ips.forEach((ip, i) => {
      const mask = masks[i];
      if (ip.includes(":")) {
        const prefix = Number(mask ?? 64);
        out.push(compact<Network>({ ...base, ipaddress6: ip, ipmask6: ipv6Mask(prefix), ipsubnet6: ipv6Subnet(ip, prefix) }));
      } else {
        const prefix = mask ? ipv4Prefix(mask) : undefined;
        out.push(compact<Network>({ ...base, ipaddress: ip, ipmask: mask, ipsubnet: prefix === undefined ? undefined : ipv4Subnet(ip, prefix), ipgateway: gateway }));
      }
    });
    if (!ips.length) out.push(base);
  }
  return out;
}

/** DNS servers and the default gateway of the first binding that has them. */
export function windowsDnsAndGateway(doc: Obj): { dns?: string; defaultgateway?: string } {
  const configs = list(doc.NetworkConfigs).sort((a, b) => (num(a.Index) ?? 0) - (num(b.Index) ?? 0));
  const dns = configs.map((c) => strings(c.DNSServerSearchOrder)).find((d) => d.length);
  const gateway = configs.map((c) => strings(c.DefaultIPGateway).find((g) => g.includes("."))).find(Boolean);
  return compact({ dns: dns?.join("/"), defaultgateway: gateway });
}
