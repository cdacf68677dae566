/**
 * @module views/inventory/widget
 * The dashboard's Inventory widget (SPEC G2): a pie of the machines inventoried within 10
 * days, those not updated for more than 10 days, and those never inventoried, each legend
 * line linking to the list that shows them.
 */
import type { T } from "../../src/i18n/index.ts";

export function InventoryWidget(props: { t: T; fresh: number; stale: number; never: number }) {
  const { t, fresh, stale, never } = props;
  const total = fresh + stale + never;
  if (total === 0) {
    return (
      <p class="muted" safe>
        {t("widget.inventory.none")}
      </p>
    );
  }
  // A pie drawn as thick strokes on a circle of circumference 50: each slice is a dash
  // of its share, shifted by the slices before it (12.5 puts the start at the top).
  const r = 7.9577;
  const slices = [
    { kind: "fresh", n: fresh, label: t("widget.inventory.fresh"), href: "/inventory?age=fresh" },
    { kind: "stale", n: stale, label: t("widget.inventory.stale"), href: "/inventory?age=stale" },
    { kind: "never", n: never, label: t("widget.inventory.never"), href: "/computers/not-inventoried" },
  ];
  let start = 0;
  const arcs = slices.map((s) => {
    const len = (s.n / total) * 50;
    const arc = { kind: s.kind, len, offset: 12.5 - start };
    start += len;
    return arc;
  });
  const round = (n: number) => String(Math.round(n * 1000) / 1000);
  return (
    <figure class="ram-chart inventory-widget">
      <svg viewBox="0 0 36 36" width="90" height="90" role="img" aria-label={t("widget.inventory.label", { fresh, stale, never })}>
        {arcs
          .filter((a) => a.len > 0)
          .map((a) => (
            <circle class={`pie-${a.kind}`} cx="18" cy="18" r={String(r)} fill="none" stroke-width={String(2 * r)} stroke-dasharray={`${round(a.len)} ${round(50 - a.len)}`} stroke-dashoffset={round(a.offset)} />
          ))}
      </svg>
      <figcaption>
        <ul class="legend">
          {slices.map((s) => (
            <li>
              <span class={`swatch ${s.kind}`}></span>
              <a href={s.href} data-slice={s.kind} safe>
                {`${s.label} ${s.n}`}
              </a>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
