/**
 * @module agent/inventory/windows/devices
 * Batteries (root/wmi BatteryStaticData and BatteryFullChargedCapacity, joined by
 * instance, with Win32_Battery's design voltage), monitors (WmiMonitorID, whose strings
 * are arrays of UTF-16 code units padded with zeros), printers (Win32_Printer), the people
 * signed in (owners of explorer.exe, console and remote desktop alike) and the enabled
 * local accounts (Win32_UserAccount).
 */
import { pnpVendor } from "../edid.ts";
import type { Battery, LocalUser, Monitor, Printer, User } from "../format.ts";
import { compact, str } from "../values.ts";
import { list, num, type Obj } from "./ps-json.ts";

/** BatteryStaticData.Chemistry is four ASCII letters packed little-endian ("LION", "LiP "). */
function chemistry(v: unknown): string | undefined {
  const n = num(v);
  if (!n) return str(v);
  const code = String.fromCharCode(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255).trim().toUpperCase();
  return ({ LION: "lithium-ion", "LI-I": "lithium-ion", LIP: "lithium-polymer", LIPO: "lithium-polymer", NIMH: "nickel-metal-hydride", PBAC: "lead-acid" } as Record<string, string>)[code] ?? (/^[A-Z -]+$/.test(code) ? code : undefined);
}

export function windowsBatteries(doc: Obj): Battery[] {
  const full = new Map(list(doc.BatteryCapacities).map((c) => [str(c.InstanceName), num(c.FullChargedCapacity)]));
  const voltage = num(list(doc.BatteryVoltages)[0]?.DesignVoltage);
  return list(doc.Batteries).map((b) =>
    compact<Battery>({
      name: str(b.DeviceName),
      manufacturer: str(b.ManufactureName),
      serial: str(b.SerialNumber),
      chemistry: chemistry(b.Chemistry),
      capacity: num(b.DesignedCapacity) || undefined,
      real_capacity: full.get(str(b.InstanceName)) || undefined,
      voltage: voltage || undefined,
    }),
  );
}

/** WmiMonitorID strings: arrays of character codes ending in zeros. */
function codes(v: unknown): string | undefined {
  if (typeof v === "string") return str(v);
  if (!Array.isArray(v)) return undefined;
  return str(String.fromCharCode(...v.filter((c): c is number => typeof c === "number" && c > 0 && c < 0xffff)));
}

export function windowsMonitors(doc: Obj): Monitor[] {
  return list(doc.Monitors).map((m) => {
    const name = codes(m.UserFriendlyName);
    const week = num(m.WeekOfManufacture);
    const year = num(m.YearOfManufacture);
    return compact<Monitor>({
      name,
      caption: name,
      manufacturer: pnpVendor(codes(m.ManufacturerName)),
      serial: codes(m.SerialNumberID)?.replace(/^0$/, ""),
      description: year ? (week && week <= 54 ? `${week}/${year}` : String(year)) : undefined,
    });
  });
}

export function windowsPrinters(doc: Obj): Printer[] {
  return list(doc.Printers)
    .filter((p) => str(p.Name))
    .map((p) =>
      compact<Printer>({
        name: str(p.Name)!,
        driver: str(p.DriverName),
        port: str(p.PortName),
        network: typeof p.Network === "boolean" ? p.Network : undefined,
        shared: typeof p.Shared === "boolean" ? p.Shared : undefined,
        sharename: str(p.ShareName),
        servername: str(p.ServerName),
        comment: str(p.Comment),
      }),
    );
}

export function windowsUsers(doc: Obj): User[] {
  const seen = new Set<string>();
  const out: User[] = [];
  for (const u of list(doc.SignedIn)) {
    const login = str(u.User);
    const domain = str(u.Domain);
    if (!login || seen.has(`${domain}\\${login}`.toLowerCase())) continue;
    seen.add(`${domain}\\${login}`.toLowerCase());
    out.push(compact<User>({ login, domain }));
  }
  return out;
}

export function windowsLocalUsers(doc: Obj): LocalUser[] {
  return list(doc.LocalUsers)
    .filter((u) => str(u.SID) && u.Disabled !== true)
    .map((u) => compact<LocalUser>({ id: str(u.SID)!, login: str(u.Name), name: str(u.FullName) }));
}
