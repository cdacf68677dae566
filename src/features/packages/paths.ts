/**
 * @module packages/paths
 * What a file path inside a package may be: relative, forward slashes, no `.` or `..`
 * segment, no drive letter, no control characters, bounded length and depth. Every path
 * that comes from outside (zip entries, uploads, server directories) goes through
 * `cleanPackagePath` before anything is written.
 */
export const MAX_PATH = 400;
export const MAX_DEPTH = 32;

/** The normalised path, or null when it could escape the package folder or is unusable. */
export function cleanPackagePath(raw: string): string | null {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_PATH * 2) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return null;
  const p = raw.replace(/\\/g, "/");
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p) || p.startsWith("//")) return null;
  const segs = p.split("/").filter((s) => s !== "");
  if (segs.length === 0 || segs.length > MAX_DEPTH) return null;
  for (const s of segs) {
    if (s === "." || s === "..") return null;
    if (/[<>:"|?*]/.test(s)) return null; // not portable to Windows agents
    if (/[ .]$/.test(s)) return null; // Windows strips these: two names, one file
  }
  const out = segs.join("/");
  return out.length > MAX_PATH ? null : out;
}
