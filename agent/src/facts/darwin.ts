/**
 * @module agent/facts/darwin
 * Parsers for macOS: `sw_vers` and `system_profiler SPHardwareDataType -json` (the
 * hardware UUID, serial number and model; Apple is the manufacturer). `who` is shared
 * with Linux. Pure functions over captured output.
 */
import { cleanIdentity, cleanUuid } from "./identity.ts";

export function parseSwVers(text: string): { name: string; version: string; build: string } {
  const v: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\w+):\s*(.*?)\s*$/.exec(line);
    if (m) v[m[1]!] = m[2]!;
  }
  const product = v.ProductName || "macOS";
  const version = v.ProductVersion || "";
  return { name: [product, version].filter(Boolean).join(" "), version, build: v.BuildVersion || "" };
}

export interface MacHardware {
  uuid?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
}

export function parseSystemProfiler(json: string): MacHardware {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return {};
  }
  const item = (doc as { SPHardwareDataType?: Record<string, unknown>[] })?.SPHardwareDataType?.[0];
  if (!item || typeof item !== "object") return {};
  const str = (k: string) => (typeof item[k] === "string" ? (item[k] as string) : undefined);
  const model = [str("machine_name"), str("machine_model") && `(${str("machine_model")})`].filter(Boolean).join(" ");
  return {
    uuid: cleanUuid(str("platform_UUID")),
    serial: cleanIdentity(str("serial_number")),
    manufacturer: "Apple Inc.",
    model: model || undefined,
  };
}
