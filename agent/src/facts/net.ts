/**
 * @module agent/facts/net
 * Network facts from `os.networkInterfaces()`: every address is reported, and each MAC is
 * classified. Identity MACs (what the server matches machines on, DESIGN.md "Machines")
 * skip loopback, all-zero, locally administered addresses (containers, VPNs, randomised
 * Wi-Fi) and interfaces whose names say they are virtual (docker0, veth…, vEthernet (…),
 * VMware/VirtualBox host adapters, tunnels). A VM's own NIC is real for that VM and stays
 * (including QEMU/KVM's locally administered 52:54:00 prefix).
 */
export interface NicAddress {
  address: string;
  family: string | number;
  mac: string;
  internal: boolean;
  cidr?: string | null;
}

export interface Interface {
  name: string;
  mac: string;
  ips: string[];
  virtual: boolean;
}

export interface NetworkFacts {
  ips: string[];
  /** MACs that identify the machine. */
  macs: string[];
  interfaces: Interface[];
}

const VIRTUAL_NAME =
  /^(lo\d*$|docker|veth|br-|virbr|vnet|vmnet|vboxnet|tun|tap|wg|zt|tailscale|utun|awdl|llw|anpi|gif|stf|bridge|ap\d|cni|flannel|cali|kube|lxc|lxdbr|podman|isatap|teredo)|vethernet|virtualbox|vmware|hyper-v|loopback|pseudo-interface|bluetooth|npcap|tap-windows|wireguard|openvpn/i;

export function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ":");
}

export function isLocallyAdministered(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x02) !== 0;
}

/** QEMU/KVM guests' NICs use 52:54:00, a locally administered prefix: for the guest it is its real NIC. */
const KVM_GUEST = /^52:54:00:/;

export function isVirtualInterface(name: string, mac: string, internal: boolean): boolean {
  const m = normalizeMac(mac);
  return internal || /^(00:){5}00$/.test(m) || (isLocallyAdministered(m) && !KVM_GUEST.test(m)) || VIRTUAL_NAME.test(name);
}

export function networkFacts(ifaces: Record<string, NicAddress[] | undefined>): NetworkFacts {
  const interfaces: Interface[] = [];
  const ips: string[] = [];
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (!addrs?.length) continue;
    const mac = normalizeMac(addrs[0]!.mac);
    const internal = addrs.every((a) => a.internal);
    const own = addrs.filter((a) => !a.internal).map((a) => a.address.replace(/%.*$/, ""));
    ips.push(...own.filter((ip) => !ip.startsWith("fe80:")));
    interfaces.push({ name, mac, ips: own, virtual: isVirtualInterface(name, mac, internal) });
  }
  const macs = [...new Set(interfaces.filter((i) => !i.virtual).map((i) => i.mac))].sort();
  return { ips: [...new Set(ips)], macs, interfaces: interfaces.filter((i) => !/^(00:){5}00$/.test(i.mac) || i.ips.length) };
}
