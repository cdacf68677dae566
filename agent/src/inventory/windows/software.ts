/**
 * @module agent/inventory/windows/software
 * Installed programs as "Programs and Features" shows them: the uninstall registry keys of
 * the 64-bit and 32-bit views and of each loaded user hive, without system components and
 * without updates filed under a parent program (ParentKeyName); hotfixes from Get-HotFix
 * (as GLPI agents list them: name KB…, from "WMI", release type "hotfix"); antivirus
 * products from SecurityCenter2 (client Windows only) and Defender's own status, which is
 * all a Windows Server has.
 */
import type { Antivirus, Software } from "../format.ts";
import { compact, str } from "../values.ts";
import { list, num, one, psDate, psDay, type Obj } from "./ps-json.ts";

const GUID = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

export function windowsPrograms(doc: Obj, offsetMinutes: number): Software[] {
  const owners = (doc.SoftwareOwners && typeof doc.SoftwareOwners === "object" ? doc.SoftwareOwners : {}) as Record<string, unknown>;
  const out: Software[] = [];
  const seen = new Set<string>();
  for (const a of list(doc.Software)) {
    const name = str(a.DisplayName);
    if (!name || num(a.SystemComponent) === 1 || str(a.ParentKeyName)) continue;
    const sid = str(a.UserSid);
    const arch = str(a.Arch) === "64" ? "x86_64" : str(a.Arch) === "32" ? "i686" : undefined;
    const key = [name, str(a.DisplayVersion), arch, sid].join("\0");
    if (seen.has(key)) continue;
    seen.add(key);
    const kb = num(a.EstimatedSize);
    const owner = sid ? str(owners[sid]) : undefined;
    out.push(
      compact<Software>({
        name,
        version: str(a.DisplayVersion),
        publisher: str(a.Publisher),
        arch,
        install_date: psDay(a.InstallDate, offsetMinutes),
        filesize: kb === undefined ? undefined : kb * 1024,
        guid: GUID.test(str(a.PSChildName) ?? "") ? str(a.PSChildName) : undefined,
        folder: str(a.InstallLocation),
        uninstall_string: str(a.UninstallString),
        url_info_about: str(a.URLInfoAbout),
        helplink: str(a.HelpLink),
        release_type: str(a.ReleaseType),
        no_remove: num(a.NoRemove) === 1 ? true : undefined,
        username: owner?.replace(/^.*\\/, ""),
        userid: sid,
        from: "registry",
      }),
    );
  }
  return out;
}

export function windowsHotfixes(doc: Obj, offsetMinutes: number): Software[] {
  return list(doc.Hotfixes)
    .filter((h) => /^KB\d+$/i.test(str(h.HotFixID) ?? ""))
    .map((h) =>
      compact<Software>({
        name: str(h.HotFixID)!,
        comments: str(h.Description),
        install_date: psDay(h.InstalledOn, offsetMinutes),
        publisher: "Microsoft Corporation",
        release_type: "hotfix",
        from: "WMI",
      }),
    );
}

/**
 * SecurityCenter2's productState packs three bytes: the product type, whether real-time
 * protection is on (0x10 or 0x11), and whether signatures are up to date (0x00) or not (0x10).
 */
export function decodeProductState(state: number): { enabled: boolean; uptodate: boolean } {
  const hex = state.toString(16).padStart(6, "0");
  return { enabled: ["10", "11"].includes(hex.slice(2, 4)), uptodate: hex.slice(4, 6) === "00" };
}

const DEFENDER = /defender/i;
const SIGNATURES_STALE_MS = 7 * 86_400_000;

export function windowsAntivirus(doc: Obj, now: Date): Antivirus[] {
  const mp = one(doc.Defender);
  const hasMp = Object.keys(mp).length > 0;
  const defender = compact<Antivirus>({
    version: str(mp.AMProductVersion),
    base_version: str(mp.AntivirusSignatureVersion),
    base_creation: psDay(mp.AntivirusSignatureLastUpdated),
  });
  const products = list(doc.Antivirus).map((p) => {
    const state = num(p.productState);
    const name = str(p.displayName);
    return compact<Antivirus>({
      name,
      guid: str(p.instanceGuid),
      ...(state === undefined ? {} : decodeProductState(state)),
      ...(name && DEFENDER.test(name) ? { company: "Microsoft Corporation", ...defender } : {}),
    });
  });
  if (products.length || !hasMp) return products;
  // No Security Center (Windows Server): Defender's own status is the only source.
  const updated = psDate(mp.AntivirusSignatureLastUpdated);
  const age = updated && now.getTime() - updated.getTime();
  return [
    compact<Antivirus>({
      name: "Microsoft Defender Antivirus",
      company: "Microsoft Corporation",
      enabled: mp.AntivirusEnabled === true && mp.RealTimeProtectionEnabled !== false,
      uptodate: age !== undefined ? age < SIGNATURES_STALE_MS : undefined,
      ...defender,
    }),
  ];
}
