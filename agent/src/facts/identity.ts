/**
 * @module agent/facts/identity
 * SMBIOS values as firmware leaves them are often placeholders ("To be filled by O.E.M.",
 * all-zero UUIDs). Reporting them would merge unrelated machines on the server, so they
 * are dropped here; the server applies the same rule (DESIGN.md "Machines").
 */
const PLACEHOLDER =
  /^(|none|null|n\/a|na|unknown|default string|to be filled by o\.?e\.?m\.?|system serial number|system product name|not specified|not applicable|chassis serial number|serial|0+|1234567890|0123456789|123456789|x+|base board serial number|invalid)$/i;

export function cleanIdentity(value: string | null | undefined): string | undefined {
  const v = (value ?? "").replace(/\0/g, "").trim();
  return PLACEHOLDER.test(v) ? undefined : v;
}

const BAD_UUID = new Set(["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "03000200-0400-0500-0006-000700080009"]);

/** A SMBIOS UUID in lowercase 8-4-4-4-12 form, or undefined when absent or a placeholder. */
export function cleanUuid(value: string | null | undefined): string | undefined {
  const v = (value ?? "").trim().toLowerCase().replace(/^\{|\}$/g, "");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)) return undefined;
  return BAD_UUID.has(v) ? undefined : v;
}
