/**
 * @module views/inventory/parts-tabs
 * The panels of a machine's inventory that show its parts as they are: the summary, the
 * hardware (processors, memory modules, BIOS, disks), the network interfaces with their
 * addresses, and the file systems with a usage bar (an SVG: the CSP forbids inline styles).
 */
import type { T } from "../../src/i18n/index.ts";
import type { BiosPart, CpuPart, DiskPart, HardwarePart, MemoryPart, NetworkPart, OsPart, PartitionPart, UserPart } from "../../src/features/inventory/read.ts";
import { when } from "../shell/layout.tsx";
import { mbps, mhz, orDash, sizeMb, usedPct, type Lang } from "./format.ts";
import { Nothing } from "./inventory-page.tsx";

function Facts(props: { rows: [string, string][] }) {
  return (
    <dl class="facts">
      {props.rows.map(([label, value]) => (
        <>
          <dt safe>{label}</dt>
          <dd safe>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** A table with a header row, or the empty note. */
function Table(props: { t: T; heads: string[]; rows: string[][]; class?: string }) {
  if (props.rows.length === 0) return <Nothing t={props.t} />;
  return (
    <div class="table-scroll">
      <table class={`data ${props.class ?? ""}`}>
        <thead>
          <tr>
            {props.heads.map((h) => (
              <th scope="col" safe>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              {r.map((c) => (
                <td safe>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export const osLabel = (os: OsPart | null) => (os ? os.fullName || [os.name, os.version].filter(Boolean).join(" ") : "");

export function cpuLabel(cpus: CpuPart[]): string {
  if (cpus.length === 0) return "";
  const first = cpus[0]!;
  const cores = first.cores ? ` (${first.cores}C${first.threads ? `/${first.threads}T` : ""})` : "";
  return `${cpus.length > 1 ? `${cpus.length} × ` : ""}${first.name || first.manufacturer}${cores}`;
}

export interface SummaryData {
  lang: Lang;
  os: OsPart | null;
  hardware: HardwarePart | null;
  bios: BiosPart | null;
  cpus: CpuPart[];
  memoryMb: number | null;
  disksMb: number | null;
  date: string;
  source: string;
  softwareCount: number;
  users: UserPart[];
}

export function SummaryTab(props: { t: T; data: SummaryData }) {
  const { t, data: d } = props;
  const model = [d.bios?.manufacturer, d.bios?.model].filter(Boolean).join(" ");
  const accounts = d.users.map((u) => (u.domain ? `${u.domain}\\${u.login}` : u.login)).join(", ");
  return (
    <div class="grid-2 align-start">
      <section class="card">
        <Facts
          rows={[
            [t("inv.sum.os"), orDash(osLabel(d.os))],
            [t("inv.sum.kernel"), orDash(d.os?.kernel)],
            [t("inv.sum.arch"), orDash(d.os?.arch)],
            [t("inv.sum.model"), orDash(model)],
            [t("inv.sum.serial"), orDash(d.bios?.serial)],
            [t("inv.sum.cpu"), orDash(cpuLabel(d.cpus))],
            [t("inv.sum.ram"), sizeMb(d.memoryMb, d.lang)],
            [t("inv.sum.disks"), sizeMb(d.disksMb, d.lang)],
          ]}
        />
      </section>
      <section class="card">
        <Facts
          rows={[
            [t("inv.sum.date"), d.date],
            [t("inv.sum.source"), d.source],
            [t("inv.sum.user"), orDash(d.hardware?.lastUser)],
            [t("inv.sum.accounts"), orDash(accounts)],
            [t("inv.sum.workgroup"), orDash(d.hardware?.workgroup)],
            [t("inv.sum.software"), String(d.softwareCount)],
            [t("inv.sum.uuid"), orDash(d.hardware?.uuid)],
          ]}
        />
      </section>
    </div>
  );
}

export function HardwareTab(props: { t: T; lang: Lang; cpus: CpuPart[]; memories: MemoryPart[]; bios: BiosPart | null; disks: DiskPart[] }) {
  const { t, lang, bios: b } = props;
  return (
    <div class="stack">
      <section>
        <h2 safe>{t("inv.hw.cpus")}</h2>
        <Table
          t={t}
          heads={[t("inv.col.name"), t("inv.col.manufacturer"), t("inv.col.arch"), t("inv.col.cores"), t("inv.col.threads"), t("inv.col.speed")]}
          rows={props.cpus.map((c) => [orDash(c.name), orDash(c.manufacturer), orDash(c.arch), orDash(c.cores), orDash(c.threads), mhz(c.speedMhz, lang)])}
        />
      </section>
      <section>
        <h2 safe>{t("inv.hw.memories")}</h2>
        <Table
          t={t}
          heads={[t("inv.col.slot"), t("inv.col.capacity"), t("inv.col.type"), t("inv.col.speed"), t("inv.col.manufacturer"), t("inv.col.serial")]}
          rows={props.memories.map((m) => [orDash(m.slot), sizeMb(m.capacityMb, lang), orDash(m.type), mhz(m.speedMhz, lang), orDash(m.manufacturer), orDash(m.serial)])}
        />
      </section>
      <section>
        <h2 safe>{t("inv.hw.bios")}</h2>
        {b ? (
          <div class="card">
            <Facts
              rows={[
                [t("inv.col.manufacturer"), orDash(b.manufacturer)],
                [t("inv.col.model"), orDash(b.model)],
                [t("inv.col.serial"), orDash(b.serial)],
                [t("inv.bios.vendor"), orDash(b.biosVendor)],
                [t("inv.bios.version"), orDash(b.biosVersion)],
                [t("inv.bios.date"), orDash(b.biosDate)],
                [t("inv.bios.board"), orDash(b.boardSerial)],
                [t("inv.bios.asset"), orDash(b.assetTag)],
              ]}
            />
          </div>
        ) : (
          <Nothing t={t} />
        )}
      </section>
      <section>
        <h2 safe>{t("inv.hw.disks")}</h2>
        <Table
          t={t}
          heads={[t("inv.col.name"), t("inv.col.model"), t("inv.col.manufacturer"), t("inv.col.serial"), t("inv.col.interface"), t("inv.col.type"), t("inv.col.size")]}
          rows={props.disks.map((d) => [orDash(d.name), orDash(d.model), orDash(d.manufacturer), orDash(d.serial), orDash(d.interface), orDash(d.type), sizeMb(d.sizeMb, lang)])}
        />
      </section>
    </div>
  );
}

/** Interfaces in the order given, each with its addresses (one inventory row per address). */
export function groupInterfaces(rows: NetworkPart[]): { nic: NetworkPart; addresses: NetworkPart[] }[] {
  const out = new Map<string, { nic: NetworkPart; addresses: NetworkPart[] }>();
  for (const r of rows) {
    const key = `${r.description}\u0000${r.mac}`;
    const entry = out.get(key) ?? { nic: r, addresses: [] };
    if (r.ip) entry.addresses.push(r);
    out.set(key, entry);
  }
  return [...out.values()];
}

export function NetworkTab(props: { t: T; lang: Lang; networks: NetworkPart[] }) {
  const { t } = props;
  const nics = groupInterfaces(props.networks);
  if (nics.length === 0) return <Nothing t={t} />;
  return (
    <div class="table-scroll">
      <table class="data inventory-network">
        <thead>
          <tr>
            {[t("inv.col.nic"), t("inv.col.mac"), t("inv.col.ip"), t("inv.col.netmask"), t("inv.col.gateway"), t("inv.col.type"), t("inv.col.speed"), t("inv.col.status")].map((h) => (
              <th scope="col" safe>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {nics.map(({ nic, addresses }) => (
            <tr>
              <td>
                <span safe>{orDash(nic.description)}</span>
                {when(nic.isVirtual, () => (
                  <span class="badge" safe>
                    {t("inv.net.virtual")}
                  </span>
                ))}
              </td>
              <td class="mono" safe>
                {orDash(nic.mac)}
              </td>
              <td class="mono">
                {addresses.map((a) => (
                  <div safe>{a.ip}</div>
                ))}
              </td>
              <td class="mono">
                {addresses.map((a) => (
                  <div safe>{orDash(a.netmask)}</div>
                ))}
              </td>
              <td class="mono">
                {addresses.map((a) => (
                  <div safe>{orDash(a.gateway)}</div>
                ))}
              </td>
              <td safe>{orDash(nic.type)}</td>
              <td safe>{mbps(nic.speedMbps, props.lang)}</td>
              <td safe>{orDash(nic.status)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A horizontal bar: the used share drawn in SVG (attributes, not styles), coloured by level. */
export function UsageBar(props: { t: T; pct: number | null }) {
  if (props.pct === null) return <span class="muted">—</span>;
  const level = props.pct >= 90 ? "high" : props.pct >= 75 ? "mid" : "low";
  const label = props.t("inv.usage", { pct: props.pct });
  return (
    <span class="usage">
      <svg class="usage-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label={label}>
        <rect class="usage-track" x="0" y="0" width="100" height="8" rx="2" />
        <rect class={`usage-used usage-${level}`} x="0" y="0" width={String(props.pct)} height="8" rx="2" />
      </svg>
      <span class="small" safe>
        {label}
      </span>
    </span>
  );
}

export function StorageTab(props: { t: T; lang: Lang; partitions: PartitionPart[] }) {
  const { t, lang } = props;
  if (props.partitions.length === 0) return <Nothing t={t} />;
  return (
    <div class="table-scroll">
      <table class="data inventory-storage">
        <thead>
          <tr>
            {[t("inv.col.mount"), t("inv.col.device"), t("inv.col.filesystem"), t("inv.col.total"), t("inv.col.free"), t("inv.col.usage")].map((h) => (
              <th scope="col" safe>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.partitions.map((p) => (
            <tr>
              <td>
                <span class="mono" safe>
                  {orDash(p.mount)}
                </span>
                {when(p.label, () => (
                  <span class="muted small" safe>
                    {` ${p.label}`}
                  </span>
                ))}
              </td>
              <td class="mono" safe>
                {orDash(p.device)}
              </td>
              <td safe>{orDash(p.filesystem)}</td>
              <td safe>{sizeMb(p.totalMb, lang)}</td>
              <td safe>{sizeMb(p.freeMb, lang)}</td>
              <td>
                <UsageBar t={t} pct={usedPct(p.totalMb, p.freeMb)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
