/**
 * @module agent/inventory/hash
 * When is an inventory "the same as last time"? Its content hash is the SHA-256 of its
 * canonical JSON (keys sorted, lists sorted, so that two runs listing things in another
 * order agree) after dropping what moves by itself: the boot time, antivirus signature
 * versions (several a day), and free space and battery wear, which count only in coarse
 * steps (1 GiB, 1 Wh) so that a log file growing does not make a new inventory.
 * `bodyHash` is the SHA-256 of the exact JSON sent, which the server keeps: an
 * `{ "unchanged": … }` post names that one.
 */
import { createHash } from "node:crypto";
import type { InventoryContent, InventoryDocument } from "./format.ts";

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).sort().join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** The document without what changes on its own, and with measurements rounded to steps. */
export function stableView(doc: InventoryDocument): InventoryDocument {
  // Every part is read defensively: a document built elsewhere may lack some.
  const c: Partial<InventoryContent> = doc.content ?? {};
  const { boot_time: _boot, ...operatingsystem } = c.operatingsystem ?? {};
  return {
    ...doc,
    content: {
      ...c,
      operatingsystem,
      drives: (c.drives ?? []).map((d) => ({ ...d, free: d.free === undefined ? undefined : Math.floor(d.free / 1024) })),
      batteries: (c.batteries ?? []).map((b) => ({ ...b, real_capacity: b.real_capacity === undefined ? undefined : Math.round(b.real_capacity / 1000) })),
      antivirus: (c.antivirus ?? []).map(({ base_version: _v, base_creation: _c, ...a }) => a),
    } as InventoryContent,
  };
}

export function contentHash(doc: InventoryDocument): string {
  return sha256(canonicalJson(stableView(doc)));
}

export function bodyHash(json: string): string {
  return sha256(json);
}
