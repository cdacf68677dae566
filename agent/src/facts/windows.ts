/**
 * @module agent/facts/windows
 * Windows facts come from one PowerShell call (`WINDOWS_FACTS_SCRIPT`, CIM classes
 * Win32_ComputerSystem, Win32_OperatingSystem, Win32_ComputerSystemProduct, Win32_BIOS,
 * printed as JSON) and from `query user` for the signed-in users (Win32_ComputerSystem's
 * UserName shows only the console user). Pure parsers over captured output.
 */
import { cleanIdentity, cleanUuid } from "./identity.ts";

export const WINDOWS_FACTS_SCRIPT = [
  "$ErrorActionPreference = 'SilentlyContinue'",
  "$cs = Get-CimInstance Win32_ComputerSystem",
  "$os = Get-CimInstance Win32_OperatingSystem",
  "$p = Get-CimInstance Win32_ComputerSystemProduct",
  "$b = Get-CimInstance Win32_BIOS",
  "[pscustomobject]@{",
  "  ComputerSystem = $cs | Select-Object Name, Domain, Manufacturer, Model, UserName",
  "  OperatingSystem = $os | Select-Object Caption, Version, BuildNumber, OSArchitecture",
  "  Product = $p | Select-Object UUID, IdentifyingNumber, Vendor, Name",
  "  Bios = $b | Select-Object SerialNumber",
  "} | ConvertTo-Json -Depth 3 -Compress",
].join("\n");

export interface WindowsFacts {
  osName?: string;
  osVersion?: string;
  osBuild?: string;
  uuid?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
  /** DOMAIN\user of the console session, when someone is signed in there. */
  consoleUser?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : Array.isArray(v) && v[0] && typeof v[0] === "object" ? (v[0] as Obj) : {});
const str = (o: Obj, k: string) => (typeof o[k] === "string" ? (o[k] as string).trim() : undefined);

export function parseWindowsFacts(json: string): WindowsFacts {
  let doc: Obj;
  try {
    // PowerShell 5.1 may prefix a BOM.
    doc = obj(JSON.parse(json.replace(/^\uFEFF/, "")));
  } catch {
    return {};
  }
  const cs = obj(doc.ComputerSystem);
  const os = obj(doc.OperatingSystem);
  const p = obj(doc.Product);
  const b = obj(doc.Bios);
  return {
    osName: str(os, "Caption")?.replace(/^Microsoft\s+/, "") || undefined,
    osVersion: str(os, "Version"),
    osBuild: str(os, "BuildNumber"),
    uuid: cleanUuid(str(p, "UUID")),
    serial: cleanIdentity(str(p, "IdentifyingNumber")) ?? cleanIdentity(str(b, "SerialNumber")),
    manufacturer: cleanIdentity(str(cs, "Manufacturer")) ?? cleanIdentity(str(p, "Vendor")),
    model: cleanIdentity(str(cs, "Model")) ?? cleanIdentity(str(p, "Name")),
    consoleUser: str(cs, "UserName") || undefined,
  };
}

export interface WindowsSession {
  user: string;
  session: string;
  id: number;
  state: string;
}

/**
 * `query user` prints fixed-width columns: USERNAME SESSIONNAME ID STATE IDLE LOGON TIME,
 * with `>` before the caller's own session and an empty SESSIONNAME for disconnected ones.
 * Active sessions come first, the console before remote ones.
 */
export function parseQueryUser(text: string): WindowsSession[] {
  const sessions: WindowsSession[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^[ >]/, "");
    if (!line.trim() || /^\s*USERNAME\s+SESSIONNAME/i.test(line)) continue;
    // user, optional session name, numeric id, state
    const m = /^(\S+)\s+(?:(\S+)\s+)?(\d+)\s+(\S+)/.exec(line);
    if (!m) continue;
    sessions.push({ user: m[1]!, session: m[2] ?? "", id: Number(m[3]), state: m[4]! });
  }
  const rank = (s: WindowsSession) => (/^(active|actif|aktiv|activo|attivo|actief)$/i.test(s.state) ? 0 : 2) + (/^console$/i.test(s.session) ? 0 : 1);
  return sessions.sort((a, b) => rank(a) - rank(b));
}
