/**
 * @module views/machines/widget
 * The dashboard's "Machines online" widget: a pie of online and offline machines.
 */
import type { T } from "../../src/i18n/index.ts";

export function MachinesWidget(props: { t: T; online: number; total: number }) {
  const { t, online, total } = props;
  if (total === 0) {
    return (
      <p class="muted" safe>
        {t("widget.machines.none")}
      </p>
    );
  }
  const pct = Math.round((online / total) * 100);
  // A pie drawn as one thick stroke: radius r, stroke 2r, circumference 50 units.
  const r = 7.9577;
  return (
    <figure class="ram-chart">
      <svg viewBox="0 0 36 36" width="110" height="110" role="img" aria-label={`${t("widget.machines.online")} ${online} / ${total}`}>
        <circle class="pie-off" cx="18" cy="18" r={String(r)} fill="none" stroke-width={String(2 * r)} />
        <circle class="pie-on" cx="18" cy="18" r={String(r)} fill="none" stroke-width={String(2 * r)} stroke-dasharray={`${pct / 2} ${50 - pct / 2}`} stroke-dashoffset="12.5" />
      </svg>
      <figcaption>
        <ul class="legend">
          <li>
            <span class="swatch on"></span>
            <span safe>{`${t("widget.machines.online")} ${online}`}</span>
          </li>
          <li>
            <span class="swatch off"></span>
            <span safe>{`${t("widget.machines.offline")} ${total - online}`}</span>
          </li>
        </ul>
      </figcaption>
    </figure>
  );
}
