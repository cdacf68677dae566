/**
 * @module views/dashboard/general-widget
 * The General widget's body: server name, system, version, uptime, load, and memory as a
 * ring chart with its figures.
 */
import type { T } from "../../src/i18n/index.ts";

export interface GeneralStats {
  hostname: string;
  os: string;
  version: string;
  uptimeSeconds: number;
  load: number[];
  ram: { total: number; free: number; used: number };
}

export function formatBytes(n: number, lang: "fr" | "en"): string {
  const units = lang === "fr" ? ["o", "Kio", "Mio", "Gio", "Tio"] : ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString(lang, { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}

export function formatUptime(seconds: number, t: T): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const parts = [];
  if (d) parts.push(t("duration.days", { n: d }));
  if (d || h) parts.push(t("duration.hours", { n: h }));
  parts.push(t("duration.minutes", { n: m }));
  return parts.join(" ");
}

export function GeneralWidget(props: { t: T; lang: "fr" | "en"; stats: GeneralStats }) {
  const { t, stats, lang } = props;
  const usedPct = stats.ram.total ? Math.round((stats.ram.used / stats.ram.total) * 100) : 0;
  // Ring chart: a circle of circumference 100 so the dash length is the percentage.
  const r = 15.9155;
  return (
    <div class="general-widget">
      <dl class="facts">
        <dt safe>{t("widget.general.server")}</dt>
        <dd safe>{stats.hostname}</dd>
        <dt safe>{t("widget.general.os")}</dt>
        <dd safe>{stats.os}</dd>
        <dt safe>{t("widget.general.version")}</dt>
        <dd safe>{stats.version}</dd>
        <dt safe>{t("widget.general.uptime")}</dt>
        <dd data-uptime safe>{formatUptime(stats.uptimeSeconds, t)}</dd>
        <dt safe>{t("widget.general.load")}</dt>
        <dd safe>{stats.load.map((l) => l.toFixed(2)).join(" · ")}</dd>
      </dl>
      <figure class="ram-chart">
        <svg viewBox="0 0 36 36" width="110" height="110" role="img" aria-label={`${t("widget.general.ram")} ${usedPct} %`}>
          <circle class="ring-bg" cx="18" cy="18" r={String(r)} fill="none" stroke-width="4" />
          <circle class="ring-used" cx="18" cy="18" r={String(r)} fill="none" stroke-width="4" stroke-dasharray={`${usedPct} ${100 - usedPct}`} stroke-dashoffset="25" />
          <text x="18" y="20.5" text-anchor="middle" class="ring-label" safe>
            {`${usedPct}%`}
          </text>
        </svg>
        <figcaption>
          <strong safe>{t("widget.general.ram")}</strong>
          <ul class="legend">
            <li>
              <span class="swatch used"></span>
              <span safe>{t("widget.general.ramUsed")}</span> <span data-ram-used safe>{formatBytes(stats.ram.used, lang)}</span>
            </li>
            <li>
              <span class="swatch free"></span>
              <span safe>{t("widget.general.ramFree")}</span> <span data-ram-free safe>{formatBytes(stats.ram.free, lang)}</span>
            </li>
            <li>
              <span safe>{t("widget.general.ramTotal")}</span> <span data-ram-total safe>{formatBytes(stats.ram.total, lang)}</span>
            </li>
          </ul>
        </figcaption>
      </figure>
    </div>
  );
}
