/**
 * @module agent/inventory/macos/software
 * Software, people and peripherals on macOS: applications from SPApplicationsDataType
 * (without the helpers buried in /System/Library or inside other bundles; the publisher
 * from the code signature), package receipts from `pkgutil --pkgs` (Apple's own left out:
 * they are parts of the OS), local accounts from `dscl . -list /Users UniqueID`, and
 * batteries, displays and printers from SPPowerDataType, SPDisplaysDataType and
 * SPPrintersDataType.
 */
import type { Battery, LocalUser, Monitor, Printer, Software } from "../format.ts";
import { compact, int, isoDay, str } from "../values.ts";
import { spList, type Sp } from "./hardware.ts";

const ARCH: Record<string, string> = { arch_arm: "aarch64", arch_i64: "x86_64", arch_arm_i64: "universal", arch_i32_i64: "x86_64", arch_i32: "i686" };
const HIDDEN = /^(\/System\/Library\/|\/Library\/Apple\/|\/usr\/|\/private\/)|\.app\/.+\.app$/;

/** "Developer ID Application: Google LLC (EQHXZ8M8AV)" → "Google LLC". */
function signer(app: Sp): string | undefined {
  if (app.obtained_from === "apple") return "Apple Inc.";
  const first = Array.isArray(app.signed_by) ? str(app.signed_by[0]) : undefined;
  const m = /^(?:Developer ID Application|Apple Development|Mac Developer): (.*?)(?: \([A-Z0-9]{10}\))?$/.exec(first ?? "");
  return m ? m[1] : undefined;
}

export function macApplications(doc: Sp): Software[] {
  return spList(doc, "SPApplicationsDataType")
    .filter((a) => str(a._name) && !HIDDEN.test(str(a.path) ?? ""))
    .map((a) => {
      const modified = str(a.lastModified);
      return compact<Software>({
        name: str(a._name)!,
        version: str(a.version),
        publisher: signer(a),
        arch: ARCH[String(a.arch_kind)],
        install_date: modified ? isoDay(new Date(modified)) : undefined,
        folder: str(a.path),
        comments: str(a.info),
        from: "system_profiler",
      });
    });
}

export function parsePkgutil(text: string | undefined): Software[] {
  return (text ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((id) => /^[\w.-]+$/.test(id) && !id.startsWith("com.apple."))
    .map((id) => ({ name: id, from: "pkgutil" }));
}

/** `dscl . -list /Users UniqueID`: "name uid" lines; people have uid 501 and up (and root). */
export function parseDsclUsers(text: string | undefined): LocalUser[] {
  const out: LocalUser[] = [];
  for (const line of (text ?? "").split(/\r?\n/)) {
    const m = /^(\S+)\s+(-?\d+)\s*$/.exec(line.trim());
    if (!m || m[1]!.startsWith("_")) continue;
    const uid = Number(m[2]);
    if (uid === 0 || (uid >= 500 && uid < 60000)) out.push({ id: String(uid), login: m[1]! });
  }
  return out;
}

export function macBatteries(doc: Sp): Battery[] {
  return spList(doc, "SPPowerDataType")
    .map((p) => p.sppower_battery_model_info as Sp | undefined)
    .filter((m): m is Sp => !!m && typeof m === "object")
    .map((m) =>
      compact<Battery>({
        name: str(m.sppower_battery_device_name),
        manufacturer: str(m.sppower_battery_manufacturer),
        serial: str(m.sppower_battery_serial_number),
        chemistry: "lithium-ion",
      }),
    );
}

/** Display vendor ids as system_profiler prints them (hex EDID maker codes). */
const DISPLAY_VENDORS: Record<string, string> = { "610": "Apple", "10ac": "Dell", "4c2d": "Samsung", "1e6d": "LG Electronics", "22f0": "HP", "30ae": "Lenovo", "5a63": "ViewSonic", "9d1": "BenQ", "5e3": "AOC", "4d10": "Sharp", "34ac": "MSI", "41c": "Philips" };

export function macMonitors(doc: Sp): Monitor[] {
  const out: Monitor[] = [];
  for (const gpu of spList(doc, "SPDisplaysDataType")) {
    for (const d of Array.isArray(gpu.spdisplays_ndrvs) ? (gpu.spdisplays_ndrvs as Sp[]) : []) {
      const vendor = str(d["_spdisplays_display-vendor-id"])?.toLowerCase();
      const year = int(d["_spdisplays_display-year"]);
      const week = int(d["_spdisplays_display-week"]);
      const serial = str(d["_spdisplays_display-serial-number"]) ?? str(d.spdisplays_display_serial_number);
      out.push(
        compact<Monitor>({
          name: str(d._name),
          caption: str(d._name),
          manufacturer: vendor ? (DISPLAY_VENDORS[vendor] ?? vendor) : undefined,
          serial: serial && !/^0+$/.test(serial) ? serial : undefined,
          description: year ? (week ? `${week}/${year}` : String(year)) : undefined,
          port: str(d.spdisplays_connection_type)?.replace(/^spdisplays_/, ""),
        }),
      );
    }
  }
  return out;
}

export function macPrinters(doc: Sp): Printer[] {
  return spList(doc, "SPPrintersDataType")
    .filter((p) => str(p._name) && str(p.status) !== "no_info_found")
    .map((p) => {
      const uri = str(p.uri);
      return compact<Printer>({
        name: str(p._name)!,
        driver: str(p.ppd),
        port: uri,
        network: uri ? /^(ipps?|dnssd|lpd|socket|https?|smb):/i.test(uri) : undefined,
        shared: p.shared === "yes" ? true : p.shared === "no" ? false : undefined,
      });
    });
}
