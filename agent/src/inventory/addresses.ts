/**
 * @module agent/inventory/addresses
 * IPv4 and IPv6 masks and subnets from prefix lengths (and back), written the way GLPI
 * inventories carry them: dotted masks for IPv4, RFC 5952 text for IPv6.
 */
export function ipv4Mask(prefix: number): string {
  const bits = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join(".");
}

export function ipv4Subnet(ip: string, prefix: number): string | undefined {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const mask = ipv4Mask(prefix).split(".").map(Number);
  return parts.map((p, i) => p & mask[i]!).join(".");
}

/** "255.255.255.0" → 24; a mask that is not contiguous → undefined. */
export function ipv4Prefix(mask: string): number | undefined {
  const parts = mask.split(".").map(Number);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(mask) || parts.some((p) => p > 255)) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, "0")).join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("1") < 0 ? 0 : bits.lastIndexOf("1") + 1 : undefined;
}

function ipv6Words(ip: string): number[] | undefined {
  const clean = ip.replace(/%.*$/, "").toLowerCase();
  const [head, tail, ...rest] = clean.split("::");
  if (rest.length) return undefined;
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const words = [...h, ...Array(tail === undefined ? 0 : missing).fill("0"), ...t].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : undefined;
}

function ipv6Text(words: number[]): string {
  // RFC 5952: the longest run of two or more zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function ipv6Mask(prefix: number): string {
  return ipv6Text(Array.from({ length: 8 }, (_, i) => (0xffff << (16 - Math.max(0, Math.min(16, prefix - i * 16)))) & 0xffff));
}

export function ipv6Subnet(ip: string, prefix: number): string | undefined {
  const words = ipv6Words(ip);
  if (!words) return undefined;
  const mask = Array.from({ length: 8 }, (_, i) => (0xffff << (16 - Math.max(0, Math.min(16, prefix - i * 16)))) & 0xffff);
  return ipv6Text(words.map((w, i) => w & mask[i]!));
}
