/**
 * @module views/dashboard/dashboard
 * The dashboard (SPEC G2): a grid of widgets, each movable (drag its title bar, or the
 * arrow keys on it), resizable (drag its corner, or shift + arrow keys) and hideable.
 * static/dashboard.js saves the layout; live bodies are filled over server-sent events.
 */
import type { T } from "../../src/i18n/index.ts";

export interface PlacedWidget {
  id: string;
  title: string;
  w: number;
  h: number;
  hidden: boolean;
  /** The body, already rendered (and escaped) by the widget's own view. */
  safeBody: string;
  live: boolean;
}

export function DashboardPage(props: { t: T; widgets: PlacedWidget[] }) {
  const { t } = props;
  const visible = props.widgets.filter((w) => !w.hidden);
  return (
    <section class="dashboard">
      <div class="page-head">
        <h1 safe>{t("dashboard.title")}</h1>
        <span class="live-status" id="live-status" data-offline={t("dashboard.offline")} data-online={t("dashboard.live")}></span>
        <details class="widget-menu">
          <summary safe>{t("dashboard.widgets")}</summary>
          <div class="menu-panel">
            {props.widgets.map((w) => (
              <label>
                <input type="checkbox" data-toggle-widget={w.id} checked={!w.hidden} /> <span safe>{w.title}</span>
              </label>
            ))}
            <button type="button" data-reset-layout safe>
              {t("dashboard.reset")}
            </button>
          </div>
        </details>
      </div>
      <p class="empty-state" id="dashboard-empty" hidden={visible.length > 0} safe>
        {t("dashboard.allHidden")}
      </p>
      <div class="widget-grid" id="widget-grid" data-saved={t("dashboard.saved")}>
        {props.widgets.map(({ safeBody, ...w }) => (
          <article class={`widget w-${w.w} h-${w.h}`} data-widget={w.id} hidden={w.hidden} aria-labelledby={`widget-${w.id}-title`}>
            <header class="widget-head" tabindex="0" title={t("dashboard.move")} data-drag-handle>
              <h2 id={`widget-${w.id}-title`} safe>
                {w.title}
              </h2>
              <button type="button" class="icon-button" data-hide-widget aria-label={`${t("dashboard.hide")} ${w.title}`}>
                ×
              </button>
            </header>
            <div class="widget-body" data-live={w.live ? `widget-${w.id}` : undefined}>
              {safeBody}
            </div>
            <span class="resize-handle" data-resize-handle title={t("dashboard.resize")} aria-hidden="true"></span>
          </article>
        ))}
      </div>
    </section>
  );
}
