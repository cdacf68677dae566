/**
 * @module agent/inventory/linux/dmi
 * SMBIOS on Linux, two ways: the files of /sys/class/dmi/id (always there on x86, serials
 * and UUID readable by root only) for `bios` and parts of `hardware`, and `dmidecode`
 * (root, when installed) for what sysfs does not show: memory modules, processor sockets,
 * ECC. Placeholders such as "To Be Filled By O.E.M." are dropped (facts/identity.ts).
 */
import { cleanIdentity, cleanUuid } from "../../facts/identity.ts";
import type { Bios, Cpu, Hardware, Memory, Warn } from "../format.ts";
import { assetTag, chassisName, memoryMaker, vmSystem } from "../names.ts";
import { compact, int, parseJsonOr, sizeToMib, str, ymd } from "../values.ts";

/** "MM/DD/YYYY" as SMBIOS writes dates → "YYYY-MM-DD". */
export function smbiosDate(v: string | undefined): string | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec((v ?? "").trim());
  if (!m) return undefined;
  const y = Number(m[3]!.length === 2 ? `20${m[3]}` : m[3]);
  return ymd(y, Number(m[1]), Number(m[2]));
}

/** `dmi` is `{ "<file>": "<content>" }` for the files of /sys/class/dmi/id. */
export function parseSysDmi(json: string | undefined, warn: Warn, hasHypervisorFlag = false): { bios: Bios; hardware: Hardware } {
  const f = parseJsonOr<Record<string, string>>(json, {}, warn, "dmi");
  const id = (k: string) => cleanIdentity(typeof f[k] === "string" ? f[k] : undefined);
  const bios = compact<Bios>({
    bmanufacturer: id("bios_vendor"),
    bversion: id("bios_version"),
    bdate: smbiosDate(f.bios_date),
    smanufacturer: id("sys_vendor"),
    smodel: id("product_name"),
    ssn: id("product_serial"),
    skunumber: id("product_sku"),
    mmanufacturer: id("board_vendor"),
    mmodel: id("board_name"),
    msn: id("board_serial"),
    assettag: assetTag(f.chassis_asset_tag),
    enclosureserial: id("chassis_serial"),
  });
  const hardware = compact<Hardware>({
    uuid: cleanUuid(f.product_uuid),
    chassis_type: chassisName(int(f.chassis_type)),
    vmsystem: vmSystem(bios.smanufacturer, bios.smodel, hasHypervisorFlag),
  });
  return { bios, hardware };
}

export interface DmiRecord {
  type: number;
  title: string;
  props: Record<string, string>;
}

/** dmidecode's text: "Handle 0x…, DMI type N, …" then a title line and tab-indented "Key: Value" lines. */
export function parseDmidecode(text: string): DmiRecord[] {
  const records: DmiRecord[] = [];
  let cur: DmiRecord | undefined;
  let wantTitle = false;
  for (const line of text.split(/\r?\n/)) {
    const handle = /^Handle 0x[0-9A-Fa-f]+, DMI type (\d+)/.exec(line);
    if (handle) {
      cur = { type: Number(handle[1]), title: "", props: {} };
      records.push(cur);
      wantTitle = true;
      continue;
    }
    if (!cur) continue;
    if (wantTitle) {
      cur.title = line.trim();
      wantTitle = false;
      continue;
    }
    // One tab: a property; two tabs: an item of a list property (flags, characteristics), skipped.
    const prop = /^\t([^\t:][^:]*):\s*(.*)$/.exec(line);
    if (prop) cur.props[prop[1]!.trim()] = prop[2]!.trim();
  }
  return records;
}

const of = (records: DmiRecord[], type: number) => records.filter((r) => r.type === type);

export function dmidecodeBios(records: DmiRecord[]): Bios {
  const [b, s, m, c] = [0, 1, 2, 3].map((t) => of(records, t)[0]?.props ?? {}) as Record<string, string>[];
  return compact<Bios>({
    bmanufacturer: cleanIdentity(b!.Vendor),
    bversion: cleanIdentity(b!.Version),
    bdate: smbiosDate(b!["Release Date"]),
    smanufacturer: cleanIdentity(s!.Manufacturer),
    smodel: cleanIdentity(s!["Product Name"]),
    ssn: cleanIdentity(s!["Serial Number"]),
    skunumber: cleanIdentity(s!["SKU Number"]),
    mmanufacturer: cleanIdentity(m!.Manufacturer),
    mmodel: cleanIdentity(m!["Product Name"]),
    msn: cleanIdentity(m!["Serial Number"]),
    assettag: assetTag(c!["Asset Tag"]),
    enclosureserial: cleanIdentity(c!["Serial Number"]),
  });
}

export function dmidecodeHardware(records: DmiRecord[]): Hardware {
  const s = of(records, 1)[0]?.props ?? {};
  const c = of(records, 3)[0]?.props ?? {};
  return compact<Hardware>({ uuid: cleanUuid(s.UUID), chassis_type: cleanIdentity(c.Type) });
}

/** Memory modules: populated type-17 entries, numbered by slot in SMBIOS order. */
export function dmidecodeMemories(records: DmiRecord[]): Memory[] {
  const ecc = str(of(records, 16)[0]?.props["Error Correction Type"]);
  const out: Memory[] = [];
  of(records, 17).forEach((r, i) => {
    const p = r.props;
    const capacity = sizeToMib(p.Size);
    if (!capacity) return;
    out.push(
      compact<Memory>({
        capacity,
        caption: cleanIdentity(p.Locator),
        description: cleanIdentity(p["Form Factor"]),
        type: cleanIdentity(p.Type),
        speed: str(/^(\d+)/.exec(p.Speed ?? "")?.[1]),
        manufacturer: memoryMaker(p.Manufacturer),
        serialnumber: cleanIdentity(p["Serial Number"]),
        model: cleanIdentity(p["Part Number"]),
        numslots: i + 1,
        memorycorrection: ecc,
      }),
    );
  });
  return out;
}

/** Processor sockets that hold a CPU (type 4, "Populated"). */
export function dmidecodeCpus(records: DmiRecord[]): Cpu[] {
  return of(records, 4)
    .filter((r) => /populated/i.test(r.props.Status ?? "") && !/unpopulated/i.test(r.props.Status ?? ""))
    .map((r) => {
      const p = r.props;
      return compact<Cpu>({
        name: cleanIdentity(p.Version),
        manufacturer: cleanIdentity(p.Manufacturer),
        familyname: cleanIdentity(p.Family),
        id: cleanIdentity(p.ID),
        core: int(p["Core Count"]),
        thread: int(p["Thread Count"]),
        speed: int(/^(\d+)\s*MHz/.exec(p["Current Speed"] ?? "")?.[1]),
      });
    });
}
