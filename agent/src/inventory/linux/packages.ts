/**
 * @module agent/inventory/linux/packages
 * Installed software on Linux from each package manager present:
 *   dpkg-query -W -f '${Package}\t${Version}\t${Maintainer}\t${Architecture}\t${Installed-Size}\t${db:Status-Abbrev}\n'
 *   rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\t%{ARCH}\t%{SIZE}\t%{INSTALLTIME}\t%{SUMMARY}\n'
 *   flatpak list --columns=application,name,version,branch,arch,origin,installation
 *   snap list
 * dpkg's status column (an addition to the five asked for) drops packages removed but not
 * purged ("rc"), which dpkg-query still lists. Sizes become bytes (`filesize`).
 */
import type { Software, Warn } from "../format.ts";
import { compact, int, isoDay, str } from "../values.ts";

/** "Debian Adduser Developers <adduser@packages.debian.org>" → "Debian Adduser Developers". */
const withoutEmail = (s: string | undefined) => str(s?.replace(/\s*<[^>]*>\s*$/, ""));

/** The tab-separated rows of a query's output with at least `fields` fields; the others are counted in one warning. */
function rows(text: string | undefined, fields: number, warn: Warn, what: string): string[][] {
  const out: string[][] = [];
  let bad = 0;
  for (const line of (text ?? "").split(/\r?\n/)) {
    if (!line.trim()) continue;
    const f = line.split("\t");
    if (f.length < fields || !f[0]?.trim()) bad++;
    else out.push(f);
  }
  if (bad) warn(`${what}: ${bad} unreadable line(s) skipped`);
  return out;
}

export function parseDpkg(text: string | undefined, warn: Warn): Software[] {
  const out: Software[] = [];
  for (const f of rows(text, 5, warn, "dpkg")) {
    const status = f[5]?.trim();
    if (status && !/^[ih]i/.test(status)) continue;
    const kb = int(f[4]);
    out.push(compact<Software>({ name: f[0]!.trim(), version: str(f[1]), publisher: withoutEmail(f[2]), arch: str(f[3]), filesize: kb === undefined ? undefined : kb * 1024, from: "deb" }));
  }
  return out;
}

const none = (s: string | undefined) => (s === "(none)" ? undefined : str(s));

export function parseRpm(text: string | undefined, warn: Warn): Software[] {
  const out: Software[] = [];
  for (const f of rows(text, 7, warn, "rpm")) {
    // The keys rpm imported show up as packages; they are not software.
    if (f[0] === "gpg-pubkey") continue;
    const epoch = none(f[1]);
    const installed = int(f[6]);
    out.push(
      compact<Software>({
        name: f[0]!.trim(),
        version: str(epoch && epoch !== "0" ? `${epoch}:${f[2]}` : f[2]),
        publisher: none(f[3]),
        arch: none(f[4]),
        filesize: int(f[5]),
        install_date: installed ? isoDay(new Date(installed * 1000)) : undefined,
        comments: none(f.slice(7).join("\t")),
        from: "rpm",
      }),
    );
  }
  return out;
}

export function parseFlatpak(text: string | undefined): Software[] {
  const out: Software[] = [];
  for (const line of (text ?? "").split(/\r?\n/)) {
    const f = line.split("\t");
    // Piped output has no header; a terminal-like one starts with "Application ID".
    if (f.length < 2 || !f[0]?.trim() || /^application( id)?$/i.test(f[0].trim())) continue;
    const [app, name, version, branch, arch, origin, installation] = f.map((x) => x.trim());
    out.push(
      compact<Software>({
        name: name || app!,
        version: version || branch,
        arch,
        publisher: origin,
        guid: app,
        comments: installation ? `${installation} installation` : undefined,
        from: "flatpak",
      }),
    );
  }
  return out;
}

/** `snap list`: Name Version Rev Tracking Publisher Notes, aligned with spaces. */
export function parseSnap(text: string | undefined): Software[] {
  const out: Software[] = [];
  for (const line of (text ?? "").split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0] === "Name") continue;
    const [name, version, rev, , publisher, notes] = f;
    out.push(
      compact<Software>({
        name: name!,
        version,
        publisher: publisher === "-" ? undefined : publisher!.replace(/[✓✪*]+$/u, ""),
        comments: `revision ${rev}`,
        system_category: notes && notes !== "-" ? notes : undefined,
        from: "snap",
      }),
    );
  }
  return out;
}
