/**
 * @module machines/identity
 * What identifies a machine (DESIGN.md "Machines: one owner, one merge rule"): the agent
 * id, then the SMBIOS UUID unless it is a placeholder (all zeros, all F), then manufacturer
 * + serial unless the serial is a vendor placeholder, then any MAC that is not virtual.
 * "Virtual" means an address no network card burnt in: locally administered (Docker, bridges,
 * VPN taps, randomised Wi-Fi MACs), multicast, or all zeros. A VM's NIC is that VM's identity
 * and counts: VMware's and Hyper-V's are globally administered, and QEMU/KVM's 52:54:00
 * prefix (libvirt, Proxmox), although locally administered, is kept by name.
 */

export function normalizeMac(input: string): string | null {
  const hex = input.toLowerCase().replace(/[^0-9a-f]/g, "");
  if (hex.length !== 12) return null;
  return hex.match(/../g)!.join(":");
}

export function isVirtualMac(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  if (mac === "00:00:00:00:00:00" || mac === "ff:ff:ff:ff:ff:ff") return true;
  if (mac.startsWith("52:54:00:")) return false;
  return (first & 0x02) !== 0 || (first & 0x01) !== 0;
}

export function normalizeUuid(input: string | undefined | null): string | null {
  if (!input) return null;
  const hex = input.toLowerCase().replace(/[^0-9a-f]/g, "");
  if (hex.length !== 32 || /^0+$/.test(hex) || /^f+$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const PLACEHOLDER_SERIALS = new Set([
  "", "0", "00000000", "0000000000", "none", "n/a", "na", "default string", "to be filled by o.e.m.", "system serial number",
  "not specified", "not applicable", "unknown", "123456789", "chassis serial number", "invalid", "oem", "o.e.m.",
]);

export function usableSerial(serial: string | undefined | null): string | null {
  const s = (serial ?? "").trim();
  if (PLACEHOLDER_SERIALS.has(s.toLowerCase()) || /^0+$/.test(s) || /^x+$/i.test(s)) return null;
  return s;
}
