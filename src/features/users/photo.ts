/**
 * @module users/photo
 * Checks an uploaded photo by its bytes, not its name or declared type: PNG, JPEG, GIF or
 * WebP, at most 512 KiB and 4096 pixels a side. Anything else is refused. The photo is
 * served back with its checked type, `nosniff` and a CSP that forbids everything, so even
 * a crafted file cannot run as a page.
 */
export const MAX_PHOTO_BYTES = 512 * 1024;
const MAX_SIDE = 4096;

export type PhotoCheck = { ok: true; type: string; width: number; height: number } | { ok: false; reason: "type" | "size" | "dimensions" };

const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
const le16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const starts = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

function dimensions(b: Uint8Array): { type: string; width: number; height: number } | null {
  if (starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) && b.length >= 24 && starts(b, [0x49, 0x48, 0x44, 0x52], 12)) {
    return { type: "image/png", width: be32(b, 16), height: be32(b, 20) };
  }
  if (starts(b, [0x47, 0x49, 0x46, 0x38]) && b.length >= 10) return { type: "image/gif", width: le16(b, 6), height: le16(b, 8) };
  if (starts(b, [0x52, 0x49, 0x46, 0x46]) && starts(b, [0x57, 0x45, 0x42, 0x50], 8) && b.length >= 30) {
    const kind = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
    if (kind === "VP8 ") return { type: "image/webp", width: le16(b, 26) & 0x3fff, height: le16(b, 28) & 0x3fff };
    if (kind === "VP8L") {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return { type: "image/webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    if (kind === "VP8X") return { type: "image/webp", width: 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16)), height: 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16)) };
    return null;
  }
  if (starts(b, [0xff, 0xd8, 0xff])) {
    // Walk the JPEG segments to the first start-of-frame marker, which holds the size.
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1]!;
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      const len = be16(b, i + 2);
      if (len < 2) return null;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: "image/jpeg", width: be16(b, i + 7), height: be16(b, i + 5) };
      }
      i += 2 + len;
    }
    return null;
  }
  return null;
}

export function checkPhoto(bytes: Uint8Array): PhotoCheck {
  if (bytes.length > MAX_PHOTO_BYTES) return { ok: false, reason: "size" };
  const d = dimensions(bytes);
  if (!d) return { ok: false, reason: "type" };
  if (d.width < 1 || d.height < 1 || d.width > MAX_SIDE || d.height > MAX_SIDE) return { ok: false, reason: "dimensions" };
  return { ok: true, ...d };
}
