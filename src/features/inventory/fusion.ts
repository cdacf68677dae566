/**
 * @module inventory/fusion
 * FusionInventory's (and OCS Inventory's) XML messages: `<REQUEST><DEVICEID>…<QUERY>PROLOG`
 * asks whether to send, `<QUERY>INVENTORY` carries `<CONTENT>` with upper-case sections
 * (`<HARDWARE>`, `<SOFTWARES>` repeated once per package, …). An inventory is turned into
 * the GLPI JSON format the way GLPI's own converter does it (glpi-project/inventory_format,
 * `Converter::convertTo01`): keys in lower case, repeated sections as lists, empty fields
 * dropped, a few renames (`MACADDR` → `mac`, storages' `SERIALNUMBER` → `serial`), numbers
 * and booleans typed. Then `normalize` of ./glpi.ts reads it like any other, and the
 * converted document is what is stored. Parsing is ./xml.ts (no DTD, no entities).
 */
import { checkGlpi, type GlpiInventory } from "./glpi.ts";
import { InventoryError } from "./normalized.ts";
import { parseXml, type XmlNode } from "./xml.ts";

export type FusionMessage =
  | { query: "PROLOG"; deviceId: string }
  | { query: "INVENTORY"; deviceId: string; document: GlpiInventory; encoding: string; isRecovered: boolean };

/** Sections GLPI always holds as lists, even when the XML has only one. */
const LISTS = new Set([
  "antivirus", "batteries", "cameras", "controllers", "cpus", "drives", "envs", "firewall", "firmwares", "inputs", "licenseinfos", "local_groups", "local_users",
  "logical_volumes", "memories", "modems", "monitors", "networks", "physical_volumes", "ports", "powersupplies", "printers", "processes", "remote_mgmt",
  "sensors", "simcards", "slots", "softwares", "sounds", "storages", "usbdevices", "users", "videos", "virtualmachines", "volume_groups",
]);

const INTEGERS: Record<string, string[]> = {
  hardware: ["memory", "swap"],
  cpus: ["core", "corecount", "speed", "stepping", "thread", "external_clock"],
  drives: ["free", "total"],
  storages: ["disksize"],
  memories: ["capacity", "numslots"],
  networks: ["mtu"],
  softwares: ["filesize"],
  processes: ["pid", "virtualmemory"],
};

const BOOLEANS: Record<string, string[]> = {
  networks: ["virtualdev", "management"],
  drives: ["systemdrive"],
  softwares: ["no_remove"],
  antivirus: ["enabled", "uptodate"],
  printers: ["network", "shared"],
  memories: ["removable"],
};

type Json = string | number | boolean | Json[] | { [k: string]: Json };

/** An element as JSON: its text when it has no children, else an object (repeated children become lists). */
function toJson(node: XmlNode): Json | undefined {
  if (node.children.length === 0) {
    const text = node.text.trim();
    return text === "" ? undefined : text;
  }
  const values = new Map<string, Json[]>();
  for (const child of node.children) {
    const value = toJson(child);
    if (value === undefined) continue;
    const key = child.name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return Object.fromEntries([...values].map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

const childText = (node: XmlNode, name: string) => node.children.find((c) => c.name === name)?.text.trim() ?? "";

function typed(section: string, entry: Record<string, Json>): Record<string, Json> {
  for (const k of INTEGERS[section] ?? []) {
    const v = entry[k];
    if (typeof v === "string" && /^-?\d+$/.test(v.trim())) entry[k] = Number(v.trim());
  }
  for (const k of BOOLEANS[section] ?? []) {
    const v = entry[k];
    if (typeof v === "string") entry[k] = /^(1|true|yes)$/i.test(v.trim());
  }
  if (section === "networks" && entry.macaddr !== undefined) {
    entry.mac ??= entry.macaddr;
    delete entry.macaddr;
  }
  if (section === "storages" && entry.serialnumber !== undefined) {
    entry.serial ??= entry.serialnumber;
    delete entry.serialnumber;
  }
  if (section === "softwares" && entry.installdate !== undefined) {
    entry.install_date ??= entry.installdate;
    delete entry.installdate;
  }
  return entry;
}

/** `<CONTENT>` as GLPI's `content`. */
export function convertContent(node: XmlNode): Record<string, Json> {
  const content: Record<string, Json> = {};
  for (const child of node.children) {
    const key = child.name.toLowerCase();
    let value = toJson(child) ?? (child.children.length ? {} : undefined);
    if (value === undefined) continue;
    if (value && typeof value === "object" && !Array.isArray(value)) value = typed(key, value);
    if (LISTS.has(key)) content[key] = [...((content[key] as Json[] | undefined) ?? []), value];
    else if (key in content) content[key] = [...(Array.isArray(content[key]) ? content[key] : [content[key]!]), value];
    else content[key] = value;
  }
  const hw = content.hardware;
  if (hw && typeof hw === "object" && !Array.isArray(hw)) {
    if (hw.versionclient !== undefined) content.versionclient ??= hw.versionclient;
    // OCS agents older than FusionInventory 2.2 had no <OPERATINGSYSTEM>: GLPI read the OS from <HARDWARE>.
    if (content.operatingsystem === undefined && typeof hw.osname === "string") {
      const os: Record<string, Json> = { name: hw.osname, full_name: hw.osname };
      if (typeof hw.osversion === "string") os.version = hw.osversion;
      if (typeof hw.oscomments === "string") os.service_pack = hw.oscomments;
      if (typeof hw.archname === "string") os.arch = hw.archname;
      content.operatingsystem = os;
    }
  }
  return content;
}

/** Parses a FusionInventory / OCS message. */
export function parseFusion(bytes: Uint8Array): FusionMessage {
  const { root, decoded } = parseXml(bytes);
  if (root.name !== "REQUEST") throw new InventoryError("invalid", `the root element must be <REQUEST>, not <${root.name.slice(0, 64)}>`);
  const query = childText(root, "QUERY").toUpperCase();
  const deviceId = childText(root, "DEVICEID").slice(0, 255);
  if (query === "PROLOG") return { query, deviceId };
  if (query !== "INVENTORY") throw new InventoryError("unsupported", query ? `query ${query.slice(0, 32)} is not supported (only PROLOG and INVENTORY)` : "<QUERY> is missing");
  const content = root.children.find((c) => c.name === "CONTENT");
  if (!content) throw new InventoryError("invalid", "<CONTENT> is missing");
  const document = checkGlpi({ deviceid: deviceId, action: "inventory", itemtype: "Computer", content: convertContent(content) });
  return { query, deviceId, document, encoding: decoded.encoding, isRecovered: decoded.isRecovered };
}
