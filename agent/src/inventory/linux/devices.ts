/**
 * @module agent/inventory/linux/devices
 * Batteries and monitors on Linux, from sysfs: the `uevent` file of each
 * /sys/class/power_supply entry whose type is Battery (energies in µWh, voltages in µV;
 * some batteries report charges in µAh instead, converted with the design voltage), and
 * the EDID of each connected /sys/class/drm connector.
 */
import { parseEdid } from "../edid.ts";
import type { Battery, Monitor, Warn } from "../format.ts";
import { compact, int, parseJsonOr, str } from "../values.ts";

function uevent(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^POWER_SUPPLY_([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const CHEMISTRY: Record<string, string> = { "Li-ion": "lithium-ion", "Li-poly": "lithium-polymer", NiMH: "nickel-metal-hydride", NiCd: "nickel-cadmium", LiFe: "lithium-iron-phosphate" };

/** `json` is `{ "<supply>": "<its uevent>" }`. */
export function parseBatteries(json: string | undefined, warn: Warn): Battery[] {
  const supplies = parseJsonOr<Record<string, string>>(json, {}, warn, "power_supply");
  const out: Battery[] = [];
  for (const [name, text] of Object.entries(supplies).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof text !== "string") continue;
    const u = uevent(text);
    if (u.TYPE !== "Battery" || u.PRESENT === "0" || u.SCOPE === "Device") continue;
    const voltageMv = int(u.VOLTAGE_MIN_DESIGN) !== undefined ? Math.round(int(u.VOLTAGE_MIN_DESIGN)! / 1000) : undefined;
    const mwh = (energy?: string, charge?: string) => {
      if (int(energy) !== undefined) return Math.round(int(energy)! / 1000);
      if (int(charge) !== undefined && voltageMv) return Math.round((int(charge)! / 1000) * (voltageMv / 1000));
      return undefined;
    };
    out.push(
      compact<Battery>({
        name: str(u.MODEL_NAME) ?? name,
        manufacturer: str(u.MANUFACTURER),
        serial: str(u.SERIAL_NUMBER),
        chemistry: u.TECHNOLOGY ? (CHEMISTRY[u.TECHNOLOGY] ?? str(u.TECHNOLOGY)) : undefined,
        capacity: mwh(u.ENERGY_FULL_DESIGN, u.CHARGE_FULL_DESIGN),
        real_capacity: mwh(u.ENERGY_FULL, u.CHARGE_FULL),
        voltage: voltageMv,
      }),
    );
  }
  return out;
}

/** `json` is `{ "<card-connector>": "<edid as base64>" }`; empty EDIDs are disconnected connectors. */
export function parseDrmMonitors(json: string | undefined, warn: Warn): Monitor[] {
  const edids = parseJsonOr<Record<string, string>>(json, {}, warn, "drm");
  const out: Monitor[] = [];
  for (const [connector, b64] of Object.entries(edids).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof b64 !== "string" || !b64) continue;
    const m = parseEdid(Buffer.from(b64, "base64"), connector.replace(/^card\d+-/, ""));
    if (m) out.push(m);
    else warn(`drm: ${connector}: not an EDID`);
  }
  return out;
}
