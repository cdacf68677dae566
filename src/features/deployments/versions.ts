/**
 * @module deployments/versions
 * Orders version strings the way people read them: numeric parts as numbers
 * (1.10 after 1.9), other parts as text.
 */
export function compareVersionsLoose(a: string, b: string): number {
  const pa = a.split(/[.\-+~_]/);
  const pb = b.split(/[.\-+~_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}
