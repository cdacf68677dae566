/**
 * @module agent/inventory/edid
 * Monitors from their EDID (VESA E-EDID 1.3/1.4 base block): the three-letter PNP maker
 * code, the product name and serial number descriptors (or the numeric serial). Linux
 * exposes the raw block in /sys/class/drm/<connector>/edid; Windows' WmiMonitorID gives
 * the same fields already split, with the same PNP codes, named here.
 */
import type { Monitor } from "./format.ts";
import { compact } from "./values.ts";

const PNP: Record<string, string> = {
  ACR: "Acer", AOC: "AOC", APP: "Apple", AUO: "AU Optronics", AUS: "ASUS", BNQ: "BenQ", BOE: "BOE", CMN: "Chimei Innolux",
  DEL: "Dell", EIZ: "EIZO", FUS: "Fujitsu", GSM: "LG Electronics", HPN: "HP", HWP: "HP", IVM: "Iiyama", LEN: "Lenovo",
  LGD: "LG Display", MSI: "MSI", NEC: "NEC", PHL: "Philips", SAM: "Samsung", SDC: "Samsung Display", SHP: "Sharp",
  SNY: "Sony", VSC: "ViewSonic", RHT: "Red Hat",
};

export function pnpVendor(code: string | undefined): string | undefined {
  const c = (code ?? "").trim().toUpperCase();
  return c ? (PNP[c] ?? c) : undefined;
}

const HEADER = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

function descriptorText(b: Uint8Array, at: number): string {
  return String.fromCharCode(...b.subarray(at + 5, at + 18))
    .replace(/\n[\s\S]*$/, "")
    .replace(/[^\x20-\x7e]/g, "")
    .trim();
}

/** The monitor an EDID block describes, or undefined when the bytes are not an EDID. */
export function parseEdid(bytes: Uint8Array, port?: string): Monitor | undefined {
  if (bytes.length < 128 || HEADER.some((v, i) => bytes[i] !== v)) return undefined;
  const sum = bytes.subarray(0, 128).reduce((a, v) => (a + v) & 0xff, 0);
  if (sum !== 0) return undefined;
  const id = (bytes[8]! << 8) | bytes[9]!;
  const code = [10, 5, 0].map((s) => String.fromCharCode(64 + ((id >> s) & 0x1f))).join("");
  let name: string | undefined;
  let serial: string | undefined;
  for (const at of [54, 72, 90, 108]) {
    if (bytes[at] !== 0 || bytes[at + 1] !== 0) continue;
    if (bytes[at + 3] === 0xfc) name = descriptorText(bytes, at) || name;
    if (bytes[at + 3] === 0xff) serial = descriptorText(bytes, at) || serial;
  }
  const numeric = (bytes[12]! | (bytes[13]! << 8) | (bytes[14]! << 16) | (bytes[15]! << 24)) >>> 0;
  const year = bytes[17]! + 1990;
  return compact<Monitor>({
    name,
    caption: name,
    manufacturer: pnpVendor(code),
    serial: serial ?? (numeric ? String(numeric) : undefined),
    description: bytes[16]! >= 1 && bytes[16]! <= 54 ? `${bytes[16]}/${year}` : String(year),
    port,
  });
}
